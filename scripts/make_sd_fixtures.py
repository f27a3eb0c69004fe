#!/usr/bin/env python3
"""Build the small reference fixtures of `crates/nao-sd/tests/fixtures/` with real diffusers.

Each fixture is a tiny random-weight Stable Diffusion model in diffusers folder format (the
layout `StableDiffusionPipeline.save_pretrained` writes) plus what diffusers / transformers
compute on it, so that nao-sd's tests check configurations the shared tiny-sd1 fixture lacks:

- `sd2-v/`: an SD 2.x-style model. OpenCLIP-style text encoder (`gelu`), tokenizer as
  vocab.json + merges.txt padding with "!", UNet with `use_linear_projection`,
  `upcast_attention`, a per-block `attention_head_dim` list, `layers_per_block` 2, three
  blocks (CrossAttnDown, CrossAttnDown, Down / Up, CrossAttnUp, CrossAttnUp), a 3-block VAE
  with `layers_per_block` 2, a v-prediction DDIM scheduler, and only fp16 variant weight
  files (`*.fp16.safetensors`). The f32 references are computed from the fp16-rounded weights.
- `nonsquare/`: an SD 1.x-style model (`quick_gelu`, hidden 24) whose tokenizer is
  tokenizer.json alone, text encoder weights in bf16, UNet with a non-square `sample_size`
  [8, 12], `transformer_layers_per_block` [1, 2], `resnet_time_scale_shift` "scale_shift",
  `flip_sin_to_cos` false, `freq_shift` 1, `time_embedding_dim` 48, `mid_block_scale_factor`
  1.5, a 2-block VAE without mid-block attention nor quant convs, scaling factor 0.5, and a
  linear-β epsilon DDIM scheduler with steps_offset 0 and set_alpha_to_one. Its UNet is also run on latents of 7×10,
  which the UNet cannot halve evenly (diffusers then upsamples to the skip connections' size).

The vocabularies are the first 512 + 400 entries of CLIP's BPE vocabulary (the byte symbols
and the first 400 merges) plus the two special tokens, taken from the shared tiny-sd1 fixture.

Re-run (from the repository root; needs ../shared beside it):

    python3 -m venv /work/venv-diffusers
    /work/venv-diffusers/bin/pip install torch diffusers transformers safetensors numpy
    /work/venv-diffusers/bin/python scripts/make_sd_fixtures.py

It is deterministic (seeded, one thread, CPU, float32); made with diffusers 0.42.1,
transformers 5.24.0, torch 2.15.0. It replaces the fixture folders it writes.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "nao-sd" / "tests" / "fixtures"
SHARED_TOKENIZER = ROOT.parent / "shared" / "fixtures" / "tiny-sd1" / "onnx" / "tokenizer"
MERGES_KEPT = 400

PROMPTS = [
    "a photo of a cat",
    "A Tiger-Cat, sitting on a mat!",
    "",
    # longer than the 77-token context: truncation keeps EOS
    " ".join(["an astronaut riding a horse on the moon, trending on artstation"] * 8),
]


def small_vocab(work: Path) -> Path:
    """vocab.json + merges.txt of a CLIP BPE cut to the byte symbols and the first merges."""
    vocab = json.loads((SHARED_TOKENIZER / "vocab.json").read_text(encoding="utf-8"))
    lines = (SHARED_TOKENIZER / "merges.txt").read_text(encoding="utf-8").split("\n")
    assert lines[0].startswith("#version")
    merges = [l for l in lines[1:] if l.strip()][:MERGES_KEPT]
    keep = 512 + MERGES_KEPT
    small = {t: i for t, i in vocab.items() if i < keep}
    assert len(small) == keep, "CLIP's vocabulary is 512 byte symbols, then one token per merge"
    for a, b in (m.split(" ") for m in merges):
        assert a in small and b in small and a + b in small
    small["<|startoftext|>"] = keep
    small["<|endoftext|>"] = keep + 1
    work.mkdir(parents=True, exist_ok=True)
    (work / "vocab.json").write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
    (work / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return work


def randomize(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Weights of unit-order effect (the default inits leave many layers near identity/zero)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim == 1:
                base = 1.0 if name.endswith("weight") else 0.0  # norm scales / biases
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=generator))
            else:
                fan_in = int(np.prod(p.shape[1:]))
                p.copy_(torch.randn(p.shape, generator=generator) / np.sqrt(fan_in))


def round_to(module: torch.nn.Module, dtype: torch.dtype) -> None:
    """Round the weights to `dtype` and back, so f32 references match the saved file exactly."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def save(path: Path, array) -> None:
    a = array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    np.save(path, np.ascontiguousarray(a))


def build(name: str, spec: dict) -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(spec["seed"])
    out = OUT / name
    if out.exists():
        shutil.rmtree(out)
    ref = out / "reference"
    ref.mkdir(parents=True)
    work = out / "_work"
    small_vocab(work)

    # tokenizer
    vocab = json.loads((work / "vocab.json").read_text(encoding="utf-8"))
    merges = [tuple(l.split(" ")) for l in
              (work / "merges.txt").read_text(encoding="utf-8").split("\n")[1:] if l]
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, pad_token=spec["pad_token"],
                              model_max_length=77)
    assert len(tokenizer) == len(vocab)
    tok_dir = out / "tokenizer"
    tokenizer.save_pretrained(tok_dir)
    if spec["tokenizer_files"] == "vocab+merges":
        for f in ("vocab.json", "merges.txt"):
            shutil.copy(work / f, tok_dir / f)
        (tok_dir / "tokenizer.json").unlink(missing_ok=True)
    else:
        for f in ("vocab.json", "merges.txt"):
            (tok_dir / f).unlink(missing_ok=True)
        assert (tok_dir / "tokenizer.json").is_file()
    (tok_dir / "special_tokens_map.json").unlink(missing_ok=True)
    shutil.rmtree(work)
    tokenizer = CLIPTokenizer.from_pretrained(tok_dir)  # as the pipeline reads it back
    assert len(tokenizer) == len(vocab)
    ids = tokenizer(PROMPTS, padding="max_length", max_length=77, truncation=True,
                    return_tensors="pt").input_ids
    save(ref / "input_ids.npy", ids.to(torch.int64))

    # text encoder
    te_cfg = CLIPTextConfig(vocab_size=len(tokenizer), max_position_embeddings=77,
                            bos_token_id=tokenizer.bos_token_id,
                            eos_token_id=tokenizer.eos_token_id,
                            pad_token_id=tokenizer.pad_token_id, **spec["text_encoder"])
    text_encoder = CLIPTextModel(te_cfg).eval()
    randomize(text_encoder, g)
    te_dtype = spec["text_encoder_dtype"]
    round_to(text_encoder, te_dtype)

    unet = UNet2DConditionModel(**spec["unet"]).eval()
    randomize(unet, g)
    round_to(unet, spec["unet_dtype"])
    vae = AutoencoderKL(**spec["vae"]).eval()
    randomize(vae, g)
    round_to(vae, spec["vae_dtype"])
    scheduler = DDIMScheduler(**spec["scheduler"])

    with torch.no_grad():
        emb = text_encoder(ids)[0]
        save(ref / "text_embeddings.npy", emb)

        context = emb[[0, 2]]
        lat = torch.randn((2, 4) + spec["latent_hw"], generator=g)
        save(ref / "unet_latents.npy", lat)
        t = torch.tensor(spec["unet_timesteps"], dtype=torch.int64)
        save(ref / "unet_out.npy", unet(lat, t, encoder_hidden_states=context).sample)
        if "odd_latent_hw" in spec:
            odd = torch.randn((2, 4) + spec["odd_latent_hw"], generator=g)
            save(ref / "unet_odd_latents.npy", odd)
            save(ref / "unet_odd_out.npy", unet(odd, t, encoder_hidden_states=context).sample)

        down = 2 ** (len(vae.config.block_out_channels) - 1)
        image_hw = (spec["latent_hw"][0] * down, spec["latent_hw"][1] * down)
        image = torch.rand((1, 3) + image_hw, generator=g) * 2 - 1
        save(ref / "vae_image.npy", image)
        z0 = vae.encode(image).latent_dist.mean * vae.config.scaling_factor
        save(ref / "vae_z0.npy", z0)

        init = torch.randn((1, 4) + spec["latent_hw"], generator=g)
        save(ref / "initial_latents.npy", init)

    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   unet=unet, scheduler=scheduler, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    samples = {}
    for gs in spec["guidance"]:
        lat = pipe(PROMPTS[0], height=image_hw[0], width=image_hw[1],
                   num_inference_steps=spec["steps"], guidance_scale=gs, latents=init.clone(),
                   eta=0.0, output_type="latent").images
        samples[gs] = lat
        save(ref / f"sample_{spec['steps']}steps_gs{gs}_latents.npy", lat)
    with torch.no_grad():
        last = samples[spec["guidance"][-1]]
        decoded = vae.decode(last / vae.config.scaling_factor).sample
        save(ref / f"sample_{spec['steps']}steps_gs{spec['guidance'][-1]}_decoded.npy", decoded)

    # save the model: components in the dtypes and file names of the spec
    variant = spec.get("variant")
    pipe.scheduler.save_pretrained(out / "scheduler")
    text_encoder.to(te_dtype).save_pretrained(out / "text_encoder", variant=variant)
    unet.to(spec["unet_dtype"]).save_pretrained(out / "unet", variant=variant)
    vae.to(spec["vae_dtype"]).save_pretrained(out / "vae", variant=variant)
    index = {
        "_class_name": "StableDiffusionPipeline",
        "_diffusers_version": __import__("diffusers").__version__,
        "feature_extractor": [None, None],
        "requires_safety_checker": False,
        "safety_checker": [None, None],
        "scheduler": ["diffusers", "DDIMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    (out / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")
    meta = {
        "made_by": "scripts/make_sd_fixtures.py",
        "diffusers": __import__("diffusers").__version__,
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "prompts": PROMPTS,
        "unet_timesteps": spec["unet_timesteps"],
        "unet_context_prompts": [0, 2],
        "steps": spec["steps"],
        "guidance": spec["guidance"],
        "sample_prompt": 0,
        "negative_prompt": "",
        "image_size": list(image_hw),
        "variant": variant,
    }
    (ref / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


SPECS = {
    "sd2-v": dict(
        seed=1,
        pad_token="!",
        tokenizer_files="vocab+merges",
        text_encoder=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                          num_attention_heads=4, hidden_act="gelu", projection_dim=32),
        text_encoder_dtype=torch.float16,
        unet=dict(
            sample_size=8, in_channels=4, out_channels=4,
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            block_out_channels=(16, 24, 32), layers_per_block=2, attention_head_dim=(2, 4, 8),
            cross_attention_dim=32, use_linear_projection=True, upcast_attention=True,
            norm_num_groups=8, flip_sin_to_cos=True, freq_shift=0,
        ),
        unet_dtype=torch.float16,
        vae=dict(
            in_channels=3, out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
            block_out_channels=(8, 16, 16), layers_per_block=2, latent_channels=4,
            norm_num_groups=4, sample_size=32, scaling_factor=0.18215,
        ),
        vae_dtype=torch.float16,
        variant="fp16",
        scheduler=dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                       clip_sample=False, set_alpha_to_one=False, steps_offset=1,
                       prediction_type="v_prediction", timestep_spacing="leading"),
        latent_hw=(8, 8),
        unet_timesteps=[981, 500],
        steps=4,
        guidance=[7.5],
    ),
    "nonsquare": dict(
        seed=2,
        pad_token="<|endoftext|>",
        tokenizer_files="tokenizer.json",
        text_encoder=dict(hidden_size=24, intermediate_size=40, num_hidden_layers=2,
                          num_attention_heads=3, hidden_act="quick_gelu", projection_dim=24),
        text_encoder_dtype=torch.bfloat16,
        unet=dict(
            sample_size=(8, 12), in_channels=4, out_channels=4,
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            block_out_channels=(12, 16), layers_per_block=1, transformer_layers_per_block=[1, 2],
            attention_head_dim=4, cross_attention_dim=24, norm_num_groups=4, norm_eps=1e-6,
            resnet_time_scale_shift="scale_shift", flip_sin_to_cos=False, freq_shift=1,
            time_embedding_dim=48, mid_block_scale_factor=1.5,
        ),
        unet_dtype=torch.float32,
        vae=dict(
            in_channels=3, out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
            block_out_channels=(8, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4,
            sample_size=16, scaling_factor=0.5, mid_block_add_attention=False,
            use_quant_conv=False, use_post_quant_conv=False,
        ),
        vae_dtype=torch.float32,
        variant=None,
        scheduler=dict(beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                       clip_sample=False, set_alpha_to_one=True, steps_offset=0,
                       prediction_type="epsilon", timestep_spacing="leading"),
        latent_hw=(8, 12),
        odd_latent_hw=(7, 10),
        unet_timesteps=[999, 250],
        steps=4,
        guidance=[1.0, 7.5],
    ),
}


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if not SHARED_TOKENIZER.is_dir():
        sys.exit(f"{SHARED_TOKENIZER} is missing: put the shared data beside the repository")
    names = sys.argv[1:] or list(SPECS)
    for name in names:
        build(name, SPECS[name])
        files = sorted(p for p in (OUT / name).rglob("*") if p.is_file())
        total = sum(p.stat().st_size for p in files)
        print(f"{name}: {len(files)} files, {total / 1024:.0f} KiB")
        for p in files:
            print(f"  {p.relative_to(OUT)}  {p.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
