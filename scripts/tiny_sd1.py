"""What the inversion reference scripts share: the shared tiny SD 1.x fixture loaded as
diffusers loads it (one thread, float32, seeded), prompt 0 of its reference.json encoded as the
pipeline encodes prompts, and the denoising/inversion loop diffusers' pipelines run (the UNet's
output at t, then `scheduler.step`), without guidance.
"""

import json
from pathlib import Path

import torch
from diffusers import StableDiffusionPipeline

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT.parent / "shared" / "fixtures" / "tiny-sd1"
DATA = ROOT / "crates" / "nao-inversion" / "tests" / "data"


def load_pipeline() -> StableDiffusionPipeline:
    """The fixture's diffusers pipeline, on one CPU thread with torch's seed 0."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return StableDiffusionPipeline.from_pretrained(
        FIXTURE / "diffusers", torch_dtype=torch.float32, safety_checker=None
    )


def prompt_context(pipe: StableDiffusionPipeline) -> torch.Tensor:
    """The text encoder's hidden states of the fixture's prompt 0 (padded to the maximum)."""
    prompt = json.loads((FIXTURE / "reference" / "reference.json").read_text())["prompts"][0]
    ids = pipe.tokenizer(
        prompt,
        padding="max_length",
        max_length=pipe.tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    ).input_ids
    with torch.no_grad():
        return pipe.text_encoder(ids)[0]


def walk(pipe, scheduler, x: torch.Tensor, context: torch.Tensor, **step_options) -> torch.Tensor:
    """`x` walked over `scheduler.timesteps` (already set): the UNet's output at t, then
    `scheduler.step(…, **step_options)`."""
    with torch.no_grad():
        for t in scheduler.timesteps:
            eps = pipe.unet(x, t, encoder_hidden_states=context).sample
            x = scheduler.step(eps, t, x, **step_options).prev_sample
    return x
