#!/usr/bin/env python3
"""Build the CLIP vision tower fixtures of `crates/nao-sd/tests/fixtures/clip-vision-*/` with
real transformers.

Each fixture is a tiny random-weight CLIP vision tower with its image processor config, and what
transformers computes on them (`reference/`), so that nao-sd's `clip_vision` tests check what the
shared `tiny-clip-vision` fixture (quick_gelu, hidden 32, 32×32 images) does not:

- `clip-vision-gelu/`: `CLIPVisionModelWithProjection` with `hidden_act` "gelu", hidden 48, MLP 96,
  3 layers of 6 heads, 48×48 images in 16×16 patches, projection 16, `layer_norm_eps` 1e-6;
  a diffusers-style `image_encoder/` + `feature_extractor/` (shortest edge 48, bicubic, centre
  crop 48, CLIP's mean and std). Inputs: a 70×50 (w×h) RGB picture through the processor
  (landscape: the crop cuts the width); decoded pixels 64×64 (downsized) and 36×40 (w×h,
  enlarged, not square) given as 1.15·tanh(N(0, 1)), partly outside [−1, 1], mapped as
  SeedSelect's official code does (clamp((x + 1)/2, 0, 1), `F.interpolate(size=48,
  mode="bicubic")`, mean/std).
- `clip-vision-tanh/`: `hidden_act` "gelu_pytorch_tanh", hidden 40, MLP 64, 2 layers of 5 heads,
  40×40 images in 10×10 patches, projection 20, weights stored as float16 (the references are
  computed in float32 from the fp16-rounded weights); an old-style `preprocessor_config.json`
  (`CLIPFeatureExtractor`, `size` 36 and `crop_size` 40 as bare integers, bilinear, mean and std
  0.5), so the crop is larger than the resized image and pads it. Inputs: a 30×45 RGBA picture
  (alpha dropped), decoded pixels at the tower's size (no resize).
- `clip-vision-full/`: a whole `CLIPModel` (text tower too: vocabulary 64, hidden 16) whose vision
  half is quick_gelu, hidden 24, MLP 40, 2 layers of 2 heads, 28×28 images in 7×7 patches,
  projection 12; `image_encoder/` holds the model and a default `CLIPImageProcessor` config for
  28×28 (the layout of a transformers CLIP folder). Input: a 33×29 greyscale picture.

Every fixture's `reference/` has `input.png`, `pixel_values.npy` (the processor's output for it),
the decoded inputs and their normalised pixels where the fixture has them, and
`image_embeds.npy` / `last_hidden_state.npy` for the batch of all of them (processed picture
first), plus `reference.json`.

Re-run (from the repository root):

    python3 -m venv /work/venv-diffusers
    /work/venv-diffusers/bin/pip install torch transformers safetensors numpy pillow
    /work/venv-diffusers/bin/python scripts/make_clip_vision_fixtures.py

It is deterministic (seeded, one thread, CPU, float32); made with transformers 5.25.0, torch
2.15.0 and Pillow's image processor backend (`CLIPImageProcessorPil`, what `CLIPImageProcessor`
is without torchvision). It replaces the fixture folders it writes.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import PIL
import torch
import torch.nn.functional as F
import transformers
from PIL import Image
from transformers import (
    CLIPConfig,
    CLIPImageProcessor,
    CLIPModel,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "nao-sd" / "tests" / "fixtures"


def randomize(model: torch.nn.Module, g: torch.Generator) -> None:
    """Weights at scales that keep activations O(1) through the layers (not ~0, not saturated)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                fan_in = max(1, p[0].numel())
                p.copy_(torch.randn(p.shape, generator=g) * (0.6 / fan_in**0.5))
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))


def picture(width: int, height: int, mode: str) -> Image.Image:
    """A smooth, colourful picture with a sharp block (ringing for the cubic filters)."""
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.stack(
        [xx * 255 / (width - 1), yy * 255 / (height - 1), ((xx * 5 + yy * 3) % 64) * 4], -1
    ).astype(np.uint8)
    rgb[height // 3 : height // 2, width // 4 : width // 2] = [250, 10, 40]
    if mode == "RGB":
        return Image.fromarray(rgb)
    if mode == "RGBA":
        alpha = ((xx + yy) * 255 // (width + height - 2)).astype(np.uint8)[..., None]
        return Image.fromarray(np.concatenate([rgb, alpha], -1), "RGBA")
    return Image.fromarray(rgb).convert(mode)


def seedselect_pixels(decoded: torch.Tensor, proc, size: int) -> torch.Tensor:
    """SeedSelect's mapping of decoded images (its `decode_latents_tensors` and
    `transform_sd_tensors`): [−1, 1] to [0, 1] clamped, bicubic F.interpolate, mean/std."""
    x = (decoded / 2 + 0.5).clamp(0, 1)
    if tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=size, mode="bicubic")
    mean = torch.tensor(proc.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(proc.image_std).view(1, 3, 1, 1)
    return (x - mean) / std


def save(path: Path, array) -> None:
    np.save(path, np.ascontiguousarray(np.asarray(array, dtype=np.float32)))


def build(name: str, spec: dict) -> None:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    ref = out / "reference"
    ref.mkdir(parents=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(spec["seed"])
    vision = dict(spec["vision"], num_channels=3, attention_dropout=0.0)
    if spec.get("full"):
        config = CLIPConfig(
            text_config=dict(spec["text"], attention_dropout=0.0),
            vision_config=vision,
            projection_dim=spec["projection_dim"],
        )
        model = CLIPModel(config).eval()
        encoder_dir = out / "image_encoder"
    else:
        config = CLIPVisionConfig(projection_dim=spec["projection_dim"], **vision)
        model = CLIPVisionModelWithProjection(config).eval()
        encoder_dir = out / "image_encoder"
    randomize(model, g)
    if spec.get("fp16"):
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.half().float())
    # the processor: written by transformers, or a hand-written older config it reads back
    proc_dir = out / spec.get("processor_dir", "feature_extractor")
    proc_dir.mkdir(parents=True, exist_ok=True)
    if "processor_json" in spec:
        (proc_dir / "preprocessor_config.json").write_text(
            json.dumps(spec["processor_json"], indent=2) + "\n"
        )
    else:
        CLIPImageProcessor(**spec["processor"]).save_pretrained(proc_dir)
    proc = CLIPImageProcessor.from_pretrained(proc_dir)

    width, height, mode = spec["image"]
    picture(width, height, mode).save(ref / "input.png")
    pixels = proc(images=Image.open(ref / "input.png").convert("RGB"), return_tensors="pt").pixel_values
    save(ref / "pixel_values.npy", pixels)
    batch = [pixels]
    size = vision["image_size"]
    for i, (w, h) in enumerate(spec.get("decoded", [])):
        decoded = 1.15 * torch.tanh(torch.randn((1, 3, h, w), generator=g))
        suffix = "" if i == 0 else f"_{i + 1}"
        save(ref / f"decoded_minus1_1{suffix}.npy", decoded)
        normalised = seedselect_pixels(decoded, proc, size)
        save(ref / f"decoded_pixel_values{suffix}.npy", normalised)
        batch.append(normalised)
    batch = torch.cat(batch)
    with torch.no_grad():
        if spec.get("full"):
            v = model.vision_model(pixel_values=batch)
            last, embeds = v.last_hidden_state, model.visual_projection(v.pooler_output)
        else:
            o = model(pixel_values=batch)
            last, embeds = o.last_hidden_state, o.image_embeds
    save(ref / "image_embeds.npy", embeds)
    save(ref / "last_hidden_state.npy", last)

    if spec.get("fp16"):
        model = model.half()
    model.save_pretrained(encoder_dir, safe_serialization=True)
    (ref / "reference.json").write_text(
        json.dumps(
            {
                "fixture": name,
                "transformers": transformers.__version__,
                "torch": torch.__version__,
                "pillow": PIL.__version__,
                "image_processor": type(proc).__name__,
                "seed": spec["seed"],
                "input_image": [width, height, mode],
                "decoded": spec.get("decoded", []),
                "batch": ["input.png through the processor"]
                + [f"decoded {w}x{h} (w x h) mapped as SeedSelect" for w, h in spec.get("decoded", [])],
                "max_abs_image_embeds": float(embeds.abs().max()),
            },
            indent=1,
        )
        + "\n"
    )
    print("ok", name, tuple(embeds.shape), tuple(last.shape), float(embeds.abs().max()))


CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

FIXTURES = {
    "clip-vision-gelu": dict(
        seed=11,
        vision=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=6,
                    image_size=48, patch_size=16, hidden_act="gelu", layer_norm_eps=1e-6),
        projection_dim=16,
        processor=dict(size={"shortest_edge": 48}, crop_size={"height": 48, "width": 48}, resample=3,
                       do_resize=True, do_center_crop=True, do_rescale=True, do_normalize=True,
                       image_mean=CLIP_MEAN, image_std=CLIP_STD),
        image=(70, 50, "RGB"),
        decoded=[(64, 64), (36, 40)],
    ),
    "clip-vision-tanh": dict(
        seed=12,
        vision=dict(hidden_size=40, intermediate_size=64, num_hidden_layers=2, num_attention_heads=5,
                    image_size=40, patch_size=10, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-5),
        projection_dim=20,
        fp16=True,
        processor_json={
            "crop_size": 40, "do_center_crop": True, "do_normalize": True, "do_resize": True,
            "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5], "resample": 2, "size": 36,
        },
        image=(30, 45, "RGBA"),
        decoded=[(40, 40)],
    ),
    "clip-vision-full": dict(
        seed=13,
        full=True,
        text=dict(vocab_size=64, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                  num_attention_heads=2, max_position_embeddings=8),
        vision=dict(hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2,
                    image_size=28, patch_size=7, hidden_act="quick_gelu", layer_norm_eps=1e-5),
        projection_dim=12,
        processor_dir="image_encoder",
        processor=dict(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}),
        image=(33, 29, "L"),
    ),
}


def main() -> None:
    torch.set_num_threads(1)
    for name, spec in FIXTURES.items():
        build(name, spec)


if __name__ == "__main__":
    main()
