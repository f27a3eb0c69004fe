//! The keyframes' seeds: seeds as they are, images DDIM-inverted (without guidance, as the NAO
//! paper inverts), each inversion cached in the work folder.

use nao_backend::{Backend, Tensor};
use nao_inversion::InversionError;
use nao_npy::NpyArray;

use crate::progress::{report, Event, Progress};
use crate::workdir::{finish_key, key_builder, Kind};
use crate::{Keyframe, ModelId, Result, WalkError, WalkSpec, WorkDir};

/// A cached inverted keyframe larger than this is not one of ours.
const MAX_KEYFRAME_FILE: u64 = 1 << 30;

/// The cache key of an image's inversion.
fn key(model: &ModelId, spec: &WalkSpec, image: &Tensor) -> String {
    let mut h = key_builder(Kind::Keyframe);
    h.field(model.identity.as_bytes())
        .field(spec.prompt.as_bytes())
        .field(&(spec.steps as u64).to_le_bytes());
    // another method gives another seed: DDIM's keys stay those of walks made before there
    // was a choice, so their caches still resume
    if spec.inversion != nao_inversion::InversionMethod::Ddim {
        h.field(spec.inversion.name().as_bytes());
    }
    for &n in &image.shape {
        h.field(&(n as u64).to_le_bytes());
    }
    let bytes: Vec<u8> = image.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    h.field(&bytes);
    finish_key(h)
}

/// The seeds of `keyframes` in order (`images[i]` holds keyframe `i`'s pixels when it is an
/// image), as one stage of progress.
#[allow(clippy::too_many_arguments)]
pub(crate) fn keyframe_seeds(
    backend: &dyn Backend,
    model: &ModelId,
    spec: &WalkSpec,
    keyframes: &[Keyframe],
    images: Vec<Option<Tensor>>,
    latent: [usize; 3],
    work: &mut WorkDir,
    progress: &mut Progress<'_>,
) -> Result<Vec<Vec<f64>>> {
    let options = spec.inversion_options();
    let missing = images
        .iter()
        .flatten()
        .filter(|img| !work.contains(Kind::Keyframe, &key(model, spec, img)))
        .count();
    report(
        progress,
        Event::Stage {
            what: "inverting the image keyframes",
            steps: missing * spec.steps,
        },
    )?;
    let mut conditioning = None;
    let mut seeds = Vec::with_capacity(keyframes.len());
    for (keyframe, image) in keyframes.iter().zip(images) {
        let Some(image) = image else {
            if let Keyframe::Seed { values, .. } = keyframe {
                seeds.push(values.clone());
            }
            continue;
        };
        let k = key(model, spec, &image);
        match read_inverted(work, &k, latent) {
            Ok(Some(seed)) => {
                seeds.push(seed);
                continue;
            }
            Ok(None) => {}
            Err(why) => report(
                progress,
                Event::Note(&format!("{why}; inverting the keyframe again")),
            )?,
        }
        if conditioning.is_none() {
            conditioning = Some(
                nao_inversion::encode_prompt(backend, &spec.prompt, &options)
                    .map_err(|e| WalkError::input(format!("--prompt {:?}: {e}", spec.prompt)))?,
            );
        }
        let Some(cond) = &conditioning else { continue };
        let label = keyframe.source();
        let seed =
            nao_inversion::invert(backend, &image, cond, &options, |_| progress(Event::Step))
                .map_err(|e| match e {
                    InversionError::Cancelled => WalkError::Cancelled,
                    e => WalkError::compute("inverting a keyframe", format!("{label}: {e}")),
                })?;
        if let Some(i) = seed.data.iter().position(|v| !v.is_finite()) {
            return Err(WalkError::compute(
                "inverting a keyframe",
                format!("{label}: the seed has a non-finite value at flat index {i}"),
            ));
        }
        if seed.data.len() != latent.iter().product::<usize>() {
            return Err(WalkError::compute(
                "inverting a keyframe",
                format!(
                    "{label}: the seed has shape {:?}, not the latent shape {latent:?}",
                    seed.shape
                ),
            ));
        }
        let array = NpyArray::from_f32(&latent, seed.data.clone())?;
        work.store(Kind::Keyframe, &k, &array.to_bytes())?;
        seeds.push(seed.data.iter().map(|&v| f64::from(v)).collect());
    }
    report(progress, Event::StageDone)?;
    Ok(seeds)
}

/// An inverted keyframe from the work folder: `Ok(None)` when there is none, `Err(why)` when
/// its file does not read back as a seed of the latent shape.
fn read_inverted(
    work: &WorkDir,
    key: &str,
    latent: [usize; 3],
) -> Result<Option<Vec<f64>>, String> {
    let Some(bytes) = work.read(Kind::Keyframe, key, MAX_KEYFRAME_FILE)? else {
        return Ok(None);
    };
    let name = || {
        work.file(Kind::Keyframe, key)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let array = nao_npy::read_npy_bytes(&bytes).map_err(|e| format!("{}: {e}", name()))?;
    if array.shape() != latent {
        return Err(format!(
            "{}: a seed of shape {:?}, not {latent:?}",
            name(),
            array.shape()
        ));
    }
    let values = array.to_f64_vec();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(format!("{}: the seed is not finite", name()));
    }
    Ok(Some(values))
}
