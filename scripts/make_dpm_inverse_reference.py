#!/usr/bin/env python3
"""Build `crates/nao-inversion/tests/data/dpm_inverse/`: inversion with diffusers'
`DPMSolverMultistepInverseScheduler` on the shared tiny SD 1.x fixture, and sampling back with
`DPMSolverMultistepScheduler`.

The input latents are those of `tests/data/nonsquare/z0.npy` (the VAE mean × scaling factor of
that folder's 96×64 picture, made by scripts/make_nonsquare_inversion_reference.py), so this
reference needs no image of its own. The files:

- `timesteps_10steps.npy` [10] (int64) and `sigmas_10steps.npy` [11] (float32) — the inverse
  scheduler's grid after `set_timesteps(10)`;
- `inverted_10steps.npy` [1,4,8,12] — 10 steps of
  `DPMSolverMultistepInverseScheduler.from_config(pipe.scheduler.config)` (DPM-Solver++,
  order 2, midpoint, lower_order_final), prompt 0 of reference.json, no guidance: the loop
  diffusers' pipelines run (model output at t, then `step`);
- `sampled_back_10steps.npy` [1,4,8,12] — 10 steps of
  `DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)` from `inverted_10steps.npy`;
- `scheduler_{variant}.npy` [1,4,8,12] — the inverse scheduler alone (no network: the model
  output is `0.5·x`, exact in float32) for 10 steps from z0, with the fixture's config changed
  to `v_prediction` (leading), and to `linspace` and `trailing` spacing (ε).

Re-run from the repository root (needs ../shared beside it):

    /work/venv-diffusers/bin/python scripts/make_dpm_inverse_reference.py

Deterministic (one thread, CPU, float32); made with diffusers 0.42.1.
"""

import numpy as np
import torch
from diffusers import DPMSolverMultistepInverseScheduler, DPMSolverMultistepScheduler

from tiny_sd1 import DATA, load_pipeline, prompt_context, walk

OUT = DATA / "dpm_inverse"
STEPS = 10


def main() -> None:
    pipe = load_pipeline()
    OUT.mkdir(parents=True, exist_ok=True)
    z0 = torch.from_numpy(np.load(DATA / "nonsquare" / "z0.npy"))
    context = prompt_context(pipe)
    inverse = DPMSolverMultistepInverseScheduler.from_config(pipe.scheduler.config)
    inverse.set_timesteps(STEPS)
    timesteps = inverse.timesteps.clone()
    sigmas = inverse.sigmas.clone()
    inverted = walk(pipe, inverse, z0.clone(), context)
    forward = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)
    forward.set_timesteps(STEPS)
    x = walk(pipe, forward, inverted.clone(), context)
    for variant, changes in [
        ("v_prediction", {"prediction_type": "v_prediction"}),
        ("linspace", {"timestep_spacing": "linspace", "steps_offset": 0}),
        ("trailing", {"timestep_spacing": "trailing", "steps_offset": 0}),
    ]:
        s = DPMSolverMultistepInverseScheduler.from_config(pipe.scheduler.config, **changes)
        s.set_timesteps(STEPS)
        y = z0.clone()
        for t in s.timesteps:
            y = s.step(0.5 * y, t, y).prev_sample
        np.save(OUT / f"scheduler_{variant}.npy", y.numpy().astype(np.float32))
        print(variant, s.timesteps.tolist(), f"max |x| {float(y.abs().max()):.4g}")
    np.save(OUT / "timesteps_10steps.npy", timesteps.numpy().astype(np.int64))
    np.save(OUT / "sigmas_10steps.npy", sigmas.numpy().astype(np.float32))
    print("timesteps", timesteps.tolist())
    print("sigmas", sigmas.tolist())
    for name, t in [("inverted_10steps", inverted), ("sampled_back_10steps", x)]:
        np.save(OUT / f"{name}.npy", t.numpy().astype(np.float32))
        print(f"{name}: {tuple(t.shape)}, max |x| {float(t.abs().max()):.4g}")
    print(
        "round trip: max |z0' - z0|",
        float((x - z0).abs().max()),
        "relative",
        float((x - z0).norm() / z0.norm()),
    )


if __name__ == "__main__":
    main()
