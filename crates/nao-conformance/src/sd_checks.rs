//! The checks of the tiny Stable Diffusion 1.x fixture: the inputs diffusers was given (from
//! `shared/fixtures/tiny-sd1/reference`), the outputs to compare with what it computed.

use nao_backend::{Backend, Tensor};
use nao_inversion::InversionOptions;
use nao_sampling::{no_progress, SampleOptions};

use crate::fixture::tiny_sd1;

/// Named outputs of a check (the same shape as the embedded model's checks give).
type Named = Vec<(&'static str, Tensor)>;

/// The prompts of the fixture's `reference.json`.
pub(crate) const PROMPTS: [&str; 3] = ["a photo of a cat", "A Tiger-Cat, sitting on a mat!", ""];
/// The guidance scales of the fixture's two sampling runs, and their names in its files.
pub(crate) const GUIDANCE: [(f64, &str); 2] = [(1.0, "gs1.0"), (7.5, "gs7.5")];
/// Steps of the fixture's sampling and inversion runs.
pub(crate) const STEPS: usize = 10;

/// A reference file of the fixture (an input, or an output diffusers computed).
pub(crate) fn fixture_tensor(name: &str) -> Result<Tensor, String> {
    let path = tiny_sd1(&format!("reference/{name}")).map_err(|e| e.to_string())?;
    let a = nao_npy::read_npy(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Tensor::new(a.shape().to_vec(), a.to_f32_vec()).map_err(|e| format!("{}: {e}", path.display()))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The text encoder on the three prompts: `[3, 77, 32]`.
pub(crate) fn text(backend: &dyn Backend) -> Result<Named, String> {
    let each = PROMPTS
        .iter()
        .map(|p| Ok(backend.encode_prompt(p, "", false).map_err(err)?.cond))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(vec![("embeddings", Tensor::concat(&each).map_err(err)?)])
}

/// The UNet at t = 500 on the initial latents, conditioned on diffusers' embeddings of
/// prompt 0.
pub(crate) fn unet(backend: &dyn Backend) -> Result<Named, String> {
    let context = fixture_tensor("text_embeddings.npy")?
        .item(0)
        .map_err(err)?;
    let latents = fixture_tensor("initial_latents.npy")?;
    let noise = backend
        .predict_noise(&latents, &[500], &context)
        .map_err(err)?;
    Ok(vec![("t500", noise)])
}

/// The VAE encoder on the inversion input image, and the decoder on both sampling runs'
/// final latents (in `[0, 1]`, as the `Backend` trait decodes).
pub(crate) fn vae(backend: &dyn Backend) -> Result<Named, String> {
    let image = fixture_tensor("inversion_input_image.npy")?;
    let encoded = backend.encode_image(&image).map_err(err)?;
    let latents = GUIDANCE
        .iter()
        .map(|(_, g)| fixture_tensor(&format!("sample_{STEPS}steps_{g}_latents.npy")))
        .collect::<Result<Vec<_>, String>>()?;
    let decoded = backend
        .decode_latents(&Tensor::concat(&latents).map_err(err)?)
        .map_err(err)?;
    Ok(vec![("encoded", encoded), ("decoded", decoded)])
}

/// 10 DDIM steps from the initial latents on prompt 0, at guidance 1 and 7.5.
pub(crate) fn sampling(backend: &dyn Backend) -> Result<Named, String> {
    let seeds = fixture_tensor("initial_latents.npy")?;
    let mut out = Vec::new();
    for (g, name) in GUIDANCE {
        let options = SampleOptions::new()
            .with_steps(STEPS)
            .with_guidance_scale(g);
        let cond = nao_sampling::encode_prompt(backend, PROMPTS[0], &options).map_err(err)?;
        let latents =
            nao_sampling::sample(backend, &seeds, &cond, &options, no_progress).map_err(err)?;
        out.push((name, latents));
    }
    Ok(out)
}

/// 10-step DDIM inversion of diffusers' encoded inversion image on prompt 0.
pub(crate) fn inversion(backend: &dyn Backend) -> Result<Named, String> {
    let options = InversionOptions::default().with_steps(STEPS);
    let cond = nao_inversion::encode_prompt(backend, PROMPTS[0], &options).map_err(err)?;
    let seeds = nao_inversion::invert_latents(
        backend,
        &fixture_tensor("inversion_z0.npy")?,
        &cond,
        &options,
        no_progress,
    )
    .map_err(err)?;
    Ok(vec![("seeds", seeds)])
}

/// What diffusers computed, under the names of the checks' outputs.
pub(crate) fn reference_outputs() -> Result<Vec<(String, Tensor)>, String> {
    let mut out = vec![
        (
            "sd_text.embeddings".to_string(),
            fixture_tensor("text_embeddings.npy")?,
        ),
        (
            "sd_unet.t500".into(),
            fixture_tensor("unet_t500_prompt0.npy")?,
        ),
        ("sd_vae.encoded".into(), fixture_tensor("inversion_z0.npy")?),
        (
            "sd_inversion.seeds".into(),
            fixture_tensor(&format!("inversion_{STEPS}steps_latents.npy"))?,
        ),
    ];
    let mut decoded = Vec::new();
    for (_, g) in GUIDANCE {
        out.push((
            format!("sd_sampling.{g}"),
            fixture_tensor(&format!("sample_{STEPS}steps_{g}_latents.npy"))?,
        ));
        decoded.push(fixture_tensor(&format!(
            "sample_{STEPS}steps_{g}_decoded.npy"
        ))?);
    }
    // the decoder's raw output, mapped to [0, 1] as `Backend::decode_latents` maps it
    let mut decoded = Tensor::concat(&decoded).map_err(err)?;
    for v in &mut decoded.data {
        *v = ((*v + 1.0) / 2.0).clamp(0.0, 1.0);
    }
    out.push(("sd_vae.decoded".into(), decoded));
    Ok(out)
}
