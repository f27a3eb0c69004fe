#!/usr/bin/env python3
"""Build `crates/nao-inversion/tests/data/nonsquare/`: DDIM inversion of a non-square image at
its own size on the shared tiny SD 1.x fixture, computed by diffusers.

diffusers inverts an image at its own size when its sides are multiples of the VAE factor
(`VaeImageProcessor.preprocess` with no height/width keeps them); nao's `--resize none` must
give the same latents. The files:

- `input.png` — a 96×64 (width × height) RGB picture, seeded noise over smooth bands;
- `image.npy` [1,3,64,96] — `VaeImageProcessor.preprocess(input.png)` (pixel/255·2−1);
- `z0.npy` [1,4,8,12] — `vae.encode(image).latent_dist.mean × scaling_factor`;
- `inverted_10steps.npy` [1,4,8,12] — 10 steps of `DDIMInverseScheduler` (the scheduler
  config of the fixture), prompt 0 of reference.json, no guidance;
- `sampled_back_10steps.npy` [1,4,8,12] — 10 steps of `DDIMScheduler` (η = 0, no guidance)
  from `inverted_10steps.npy`.

Re-run from the repository root (needs ../shared beside it and the venv of
scripts/make_sd_fixtures.py):

    /work/venv-diffusers/bin/python scripts/make_nonsquare_inversion_reference.py

Deterministic (seeded, one thread, CPU, float32); made with diffusers 0.42.1.
"""

import numpy as np
import torch
from diffusers import DDIMInverseScheduler, DDIMScheduler
from diffusers.image_processor import VaeImageProcessor
from PIL import Image

from tiny_sd1 import DATA, load_pipeline, prompt_context, walk

OUT = DATA / "nonsquare"
HEIGHT, WIDTH = 64, 96
STEPS = 10


def picture() -> Image.Image:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = np.stack([x * 255 / WIDTH, y * 255 / HEIGHT, (x + y) % 64 * 4], axis=-1)
    noisy = base + rng.normal(0, 20, size=base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def main() -> None:
    pipe = load_pipeline()
    OUT.mkdir(parents=True, exist_ok=True)
    picture().save(OUT / "input.png")
    processor = VaeImageProcessor(vae_scale_factor=pipe.vae_scale_factor)
    image = processor.preprocess(Image.open(OUT / "input.png"))
    assert tuple(image.shape) == (1, 3, HEIGHT, WIDTH), image.shape
    with torch.no_grad():
        z0 = pipe.vae.encode(image).latent_dist.mean * pipe.vae.config.scaling_factor
    context = prompt_context(pipe)
    inverse = DDIMInverseScheduler.from_config(pipe.scheduler.config)
    inverse.set_timesteps(STEPS)
    inverted = walk(pipe, inverse, z0.clone(), context)
    forward = DDIMScheduler.from_config(pipe.scheduler.config)
    forward.set_timesteps(STEPS)
    x = walk(pipe, forward, inverted.clone(), context, eta=0.0)
    for name, t in [
        ("image", image),
        ("z0", z0),
        ("inverted_10steps", inverted),
        ("sampled_back_10steps", x),
    ]:
        np.save(OUT / f"{name}.npy", t.numpy().astype(np.float32))
        print(f"{name}: {tuple(t.shape)}, max |x| {float(t.abs().max()):.4g}")


if __name__ == "__main__":
    main()
