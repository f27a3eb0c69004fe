#!/usr/bin/env python3
"""Reference outputs of diffusers' schedulers for nao-sampling's samplers.

Writes `crates/nao-sampling/tests/fixtures/schedulers/`:

- `tiny-sd1/<name>_gs<g>.npy`: the final latents of diffusers' `StableDiffusionPipeline` on the
  shared tiny SD 1.x model (`../shared/fixtures/tiny-sd1/diffusers`) with each scheduler
  (`Class.from_config(pipe.scheduler.config, **options)`, as a user switches schedulers), 10
  steps, from the shared `initial_latents.npy`, prompt 0 of `reference.json`, the empty negative
  prompt, guidance 7.5 and 1, `output_type="latent"`.
- `sd2-v/<name>_gs7.5.npy`: the same on nao-sd's own v-prediction fixture
  (`crates/nao-sd/tests/fixtures/sd2-v`, fp16 weights computed in f32), 10 steps, guidance 7.5,
  from its `initial_latents.npy`.
- `synthetic/<case>.npy`: each scheduler driven as the pipeline drives it, without a UNet: the
  "model" is `0.25·x + 0.1·cos(t/97)` of its (scaled) input x and timestep t, exactly
  computable in float32 by nao, so these check the scheduler arithmetic alone (also for
  options and configs the real-model references do not cover).
- `euler-ancestral_noise.npy` [10, 1, 4, 8, 8]: the noise Euler ancestral drew at each of its 10
  steps (a `torch.Generator` seeded with 0; the same for every run above), which nao is given
  to reproduce the runs.
- `cases.json`: what each file is (sampler name, diffusers class, options, config changes,
  steps, guidance).
- `schedules.json`: the timesteps, σs and `init_noise_sigma` of every sampler for several
  configs and step counts, one per line (float32 values in their shortest decimal form).

Re-run (from the repository root; needs ../shared beside it):

    python3 -m venv /work/venv-diffusers
    /work/venv-diffusers/bin/pip install torch diffusers==0.42.1 transformers safetensors numpy scipy
    /work/venv-diffusers/bin/python scripts/make_scheduler_fixtures.py

Deterministic (CPU, float32, one thread); made with diffusers 0.42.1, torch 2.15.0. It replaces
the files it writes (the folder's README.md stays).
"""

import inspect
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

import diffusers
from diffusers import (
    DDIMScheduler,
    DEISMultistepScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    HeunDiscreteScheduler,
    LMSDiscreteScheduler,
    PNDMScheduler,
    StableDiffusionPipeline,
    UniPCMultistepScheduler,
)
from diffusers.schedulers import scheduling_euler_ancestral_discrete as ea_module

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT.parent / "shared" / "fixtures" / "tiny-sd1"
SD2V = ROOT / "crates" / "nao-sd" / "tests" / "fixtures" / "sd2-v"
OUT = ROOT / "crates" / "nao-sampling" / "tests" / "fixtures" / "schedulers"
STEPS = 10

# nao's name → (diffusers class, options passed to from_config)
SAMPLERS = {
    "ddim": (DDIMScheduler, {}),
    "pndm": (PNDMScheduler, {}),
    "plms": (PNDMScheduler, {"skip_prk_steps": True}),
    "euler": (EulerDiscreteScheduler, {}),
    "euler-karras": (EulerDiscreteScheduler, {"use_karras_sigmas": True}),
    "euler-ancestral": (EulerAncestralDiscreteScheduler, {}),
    "heun": (HeunDiscreteScheduler, {}),
    "dpm++2m": (DPMSolverMultistepScheduler, {}),
    "dpm++2m-karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
    "deis": (DEISMultistepScheduler, {}),
    "unipc": (UniPCMultistepScheduler, {}),
    "lms": (LMSDiscreteScheduler, {}),
}

# extra synthetic cases: (file name, sampler, options, config changes)
EXTRA_SYNTHETIC = [
    ("heun-karras", HeunDiscreteScheduler, {"use_karras_sigmas": True}, {}),
    ("lms-karras", LMSDiscreteScheduler, {"use_karras_sigmas": True}, {}),
    ("deis-karras", DEISMultistepScheduler, {"use_karras_sigmas": True}, {}),
    ("unipc-karras", UniPCMultistepScheduler, {"use_karras_sigmas": True}, {}),
    ("dpm++3m", DPMSolverMultistepScheduler, {"solver_order": 3}, {}),
    ("dpm++2m-heun", DPMSolverMultistepScheduler, {"solver_type": "heun"}, {}),
    ("dpm2m-sigma-min", DPMSolverMultistepScheduler,
     {"algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min"}, {}),
    ("dpm++2m-euler-at-final", DPMSolverMultistepScheduler,
     {"euler_at_final": True, "lower_order_final": False}, {}),
    ("deis-order3", DEISMultistepScheduler, {"solver_order": 3}, {}),
    ("unipc-order3", UniPCMultistepScheduler, {"solver_order": 3}, {}),
    ("unipc-bh1", UniPCMultistepScheduler, {"solver_type": "bh1"}, {}),
    ("unipc-noise", UniPCMultistepScheduler, {"predict_x0": False, "disable_corrector": [2]}, {}),
    ("euler-linspace", EulerDiscreteScheduler, {}, {"timestep_spacing": "linspace"}),
    ("heun-trailing", HeunDiscreteScheduler, {}, {"timestep_spacing": "trailing"}),
    ("lms-linspace", LMSDiscreteScheduler, {}, {"timestep_spacing": "linspace"}),
    ("dpm++2m-linspace", DPMSolverMultistepScheduler, {}, {"timestep_spacing": "linspace"}),
    ("unipc-trailing", UniPCMultistepScheduler, {}, {"timestep_spacing": "trailing"}),
    ("pndm-linspace", PNDMScheduler, {}, {"timestep_spacing": "linspace"}),
    ("euler-zero-snr", EulerDiscreteScheduler, {},
     {"timestep_spacing": "trailing", "rescale_betas_zero_snr": True}),
]

V_PRED = {"prediction_type": "v_prediction"}

# configs of the schedule (timestep/σ) references: changes to the tiny model's config
SCHEDULE_CONFIGS = {
    "sd1": {},
    "linspace": {"timestep_spacing": "linspace"},
    "cosine": {"beta_schedule": "squaredcos_cap_v2", "timestep_spacing": "trailing",
               "steps_offset": 0},
    "zero-snr": {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing"},
}
# step counts per config: the fixture's 10, and an odd count that rounds
SCHEDULE_STEPS = {"sd1": [10, 7], "linspace": [7], "cosine": [7], "zero-snr": [7]}


class NoiseRecorder:
    """Wraps Euler ancestral's `randn_tensor` to keep what it draws."""

    def __init__(self):
        self.original = ea_module.randn_tensor
        self.drawn = []

    def __enter__(self):
        def record(*args, **kwargs):
            t = self.original(*args, **kwargs)
            self.drawn.append(t.detach().clone())
            return t

        ea_module.randn_tensor = record
        return self

    def __exit__(self, *exc):
        ea_module.randn_tensor = self.original


def save(path: Path, array) -> None:
    a = array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    np.save(path, np.ascontiguousarray(a.astype(np.float32)))


def load_pipe(folder: Path, **kwargs) -> StableDiffusionPipeline:
    pipe = StableDiffusionPipeline.from_pretrained(folder, torch_dtype=torch.float32,
                                                   safety_checker=None,
                                                   requires_safety_checker=False, **kwargs)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_pipe(pipe, base_config, cls, options, prompt, size, latents, gs, noises):
    pipe.scheduler = cls.from_config(base_config, **options)
    generator = torch.Generator().manual_seed(0)
    with NoiseRecorder() as rec:
        lat = pipe(prompt, height=size[0], width=size[1], num_inference_steps=STEPS,
                   guidance_scale=gs, negative_prompt="", latents=latents.clone(),
                   generator=generator, output_type="latent").images
    if rec.drawn:
        check_noise(noises, rec.drawn)
    return lat


def check_noise(noises, drawn):
    stacked = torch.stack(drawn)
    if "ea" in noises:
        assert torch.equal(noises["ea"], stacked), "Euler ancestral drew different noise"
    else:
        noises["ea"] = stacked


def synthetic(cls, config, options, latents, noises):
    """The pipeline's loop with the model 0.25·x + 0.1·cos(t/97)."""
    sched = cls.from_config(config, **options)
    sched.set_timesteps(STEPS)
    x = latents * sched.init_noise_sigma
    takes_generator = "generator" in inspect.signature(sched.step).parameters
    generator = torch.Generator().manual_seed(0)
    with NoiseRecorder() as rec:
        for t in sched.timesteps:
            xin = sched.scale_model_input(x, t)
            m = 0.25 * xin + 0.1 * math.cos(float(t) / 97.0)
            kwargs = {"generator": generator} if takes_generator else {}
            x = sched.step(m, t, x, return_dict=False, **kwargs)[0]
    if rec.drawn:
        check_noise(noises, rec.drawn)
    return x


def floats(t) -> str:
    """float32 values as a JSON list in their shortest round-trip decimal form."""
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return "[" + ", ".join(str(v) for v in a.astype(np.float32).reshape(-1)) + "]"


def schedules(base_config) -> list:
    """One JSON object per line (numbers written by `floats`)."""
    out = []
    variants = dict(SAMPLERS)
    for name, cls, options, _ in EXTRA_SYNTHETIC:
        if name.endswith("-karras"):
            variants[name] = (cls, options)
    for cname, change in SCHEDULE_CONFIGS.items():
        config = dict(base_config, **change)
        for name, (cls, options) in variants.items():
            for steps in SCHEDULE_STEPS[cname]:
                sched = cls.from_config(config, **options)
                sched.set_timesteps(steps)
                head = json.dumps({"config": cname, "sampler": name, "class": cls.__name__,
                                   "options": options, "steps": steps})[:-1]
                line = (f'{head}, "init_noise_sigma": {np.float32(sched.init_noise_sigma)}, '
                        f'"timesteps": {floats(sched.timesteps)}')
                if hasattr(sched, "sigmas") and sched.sigmas is not None:
                    line += f', "sigmas": {floats(sched.sigmas)}'
                out.append(line + "}")
    return out


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if not TINY.is_dir():
        sys.exit(f"{TINY} is missing: put the shared data beside the repository")
    # everything but the README, which describes the files
    if OUT.exists():
        for child in OUT.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            elif child.name != "README.md":
                child.unlink()
    for sub in ["tiny-sd1", "sd2-v", "synthetic"]:
        (OUT / sub).mkdir(parents=True)
    noises = {}
    cases = []

    # the real tiny SD 1.x model, guidance 7.5 and 1
    ref = json.loads((TINY / "reference" / "reference.json").read_text())
    prompt = ref["prompts"][0]
    init = torch.from_numpy(np.load(TINY / "reference" / "initial_latents.npy"))
    pipe = load_pipe(TINY / "diffusers")
    base = dict(pipe.scheduler.config)
    for name, (cls, options) in SAMPLERS.items():
        for gs in [7.5, 1.0]:
            lat = run_pipe(pipe, base, cls, options, prompt, (64, 64), init, gs, noises)
            file = f"tiny-sd1/{name}_gs{gs}.npy"
            save(OUT / file, lat)
            cases.append({"kind": "model", "model": "tiny-sd1", "sampler": name,
                          "class": cls.__name__, "options": options, "config": {},
                          "guidance": gs, "file": file})

    # v-prediction: nao-sd's sd2-v fixture
    meta = json.loads((SD2V / "reference" / "reference.json").read_text())
    init_v = torch.from_numpy(np.load(SD2V / "reference" / "initial_latents.npy"))
    pipe_v = load_pipe(SD2V, variant="fp16")
    base_v = dict(pipe_v.scheduler.config)
    assert base_v["prediction_type"] == "v_prediction"
    for name, (cls, options) in SAMPLERS.items():
        lat = run_pipe(pipe_v, base_v, cls, options, meta["prompts"][0], meta["image_size"],
                       init_v, 7.5, noises)
        file = f"sd2-v/{name}_gs7.5.npy"
        save(OUT / file, lat)
        cases.append({"kind": "model", "model": "sd2-v", "sampler": name,
                      "class": cls.__name__, "options": options, "config": {},
                      "guidance": 7.5, "file": file})

    # synthetic: every sampler, epsilon and v, and the extra options and configs
    synth = [(name, cls, options, {}) for name, (cls, options) in SAMPLERS.items()]
    synth += [(f"{name}-v", cls, options, V_PRED) for name, (cls, options) in SAMPLERS.items()]
    synth += EXTRA_SYNTHETIC
    for name, cls, options, change in synth:
        lat = synthetic(cls, dict(base, **change), options, init, noises)
        file = f"synthetic/{name}.npy"
        save(OUT / file, lat)
        cases.append({"kind": "synthetic", "sampler": name, "class": cls.__name__,
                      "options": options, "config": change, "file": file})

    save(OUT / "euler-ancestral_noise.npy", noises["ea"])
    manifest = {
        "made_by": "scripts/make_scheduler_fixtures.py",
        "diffusers": diffusers.__version__,
        "torch": torch.__version__,
        "steps": STEPS,
        "prompts": {"tiny-sd1": prompt, "sd2-v": meta["prompts"][0]},
        "negative_prompt": "",
        "synthetic_model": "0.25 * x + 0.1 * cos(t / 97)",
        "noise": "euler-ancestral_noise.npy",
        "base_config": {k: v for k, v in base.items() if not k.startswith("_")},
        "schedule_configs": SCHEDULE_CONFIGS,
    }
    head = json.dumps(manifest, indent=1)[:-2]
    rows = ",\n".join("  " + json.dumps(c) for c in cases)
    (OUT / "cases.json").write_text(f'{head},\n "cases": [\n{rows}\n ]\n}}\n')
    (OUT / "schedules.json").write_text("[\n" + ",\n".join(schedules(base)) + "\n]\n")
    files = sorted(p for p in OUT.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files)
    print(f"{len(files)} files, {total / 1024:.0f} KiB; largest "
          f"{max(files, key=lambda p: p.stat().st_size).name} "
          f"({max(p.stat().st_size for p in files) / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
