//! The keyframes of a walk: seeds, and images (inverted with the model), in order; checked
//! before the model runs so that a bad keyframe fails in seconds.

use std::path::PathBuf;

use nao_backend::{ModelInfo, Tensor};
use nao_inversion::{load_image, ImageSpec, ResizePolicy};

use crate::{ModelId, Result, WalkError};

/// One keyframe of a walk.
#[derive(Debug, Clone, PartialEq)]
pub enum Keyframe {
    /// A seed: one latent `[c, h, w]` of the model, flattened (finite, not all zero).
    Seed {
        /// Where it came from, for reports and errors (a file, `FILE[row]` for a row of a
        /// stack).
        source: String,
        /// Its shape `[c, h, w]`.
        latent: [usize; 3],
        /// Its `c·h·w` values.
        values: Vec<f64>,
    },
    /// An image as the model sees it, to be inverted: `[1, channels, height, width]` in
    /// `[−1, 1]` at the model's image size (what [`nao_inversion::load_image`] makes).
    Image {
        /// Where it came from, for reports and errors.
        source: String,
        /// Its pixels.
        pixels: Tensor,
    },
    /// A PNG or JPEG file, read once the model says its image size and brought to it by
    /// [`WalkSpec::resize`](crate::WalkSpec::resize), then inverted.
    ImageFile(PathBuf),
}

impl Keyframe {
    /// Where it came from.
    pub fn source(&self) -> String {
        match self {
            Self::Seed { source, .. } | Self::Image { source, .. } => source.clone(),
            Self::ImageFile(p) => p.display().to_string(),
        }
    }

    /// `image` or `seed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Seed { .. } => "seed",
            Self::Image { .. } | Self::ImageFile(_) => "image",
        }
    }

    /// Whether it is an image (inverted with the model's VAE encoder).
    pub fn is_image(&self) -> bool {
        !matches!(self, Self::Seed { .. })
    }

    /// Check what can be checked without the model.
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Self::Seed {
                source,
                latent,
                values,
            } => {
                let n: usize = latent.iter().product();
                if n == 0 || values.len() != n {
                    return Err(WalkError::input(format!(
                        "{source}: {} values for a seed of shape {}",
                        values.len(),
                        shape_text(latent)
                    )));
                }
                if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                    return Err(WalkError::input(format!(
                        "{source}: element at flat index {i} is {}; seeds must be finite",
                        values[i]
                    )));
                }
                if values.iter().all(|&v| v == 0.0) {
                    return Err(WalkError::input(format!(
                        "{source}: seed is all zeros (norm 0): it has no direction and lies \
                         outside the χ prior's support"
                    )));
                }
                Ok(())
            }
            Self::Image { source, pixels } => {
                if pixels.shape.len() != 4
                    || pixels.shape[0] != 1
                    || pixels.data.len() != pixels.shape.iter().product::<usize>()
                {
                    return Err(WalkError::input(format!(
                        "{source}: an image keyframe is a tensor [1, channels, height, width] \
                         (nao_inversion::load_image), not {:?} with {} values",
                        pixels.shape,
                        pixels.data.len()
                    )));
                }
                if pixels.data.iter().any(|v| !v.is_finite()) {
                    return Err(WalkError::input(format!(
                        "{source}: the image has values that are not finite"
                    )));
                }
                Ok(())
            }
            Self::ImageFile(_) => Ok(()),
        }
    }
}

/// The image size `(height, width)` an image keyframe is inverted at: the model's default, or
/// under [`ResizePolicy::None`] its own (read from the file's header), checked to be a size
/// the model takes.
fn image_size(
    keyframe: &Keyframe,
    info: &ModelInfo,
    resize: ResizePolicy,
) -> Result<(usize, usize)> {
    let spec = ImageSpec::for_model(info);
    let own = match keyframe {
        _ if resize != ResizePolicy::None => return Ok((spec.height, spec.width)),
        Keyframe::ImageFile(p) => nao_inversion::image_file_size(p)
            .map_err(|e| WalkError::input(e.for_file(p).to_string()))?,
        Keyframe::Image { pixels, .. } => match pixels.shape[..] {
            [_, _, h, w] => (h, w),
            _ => (spec.height, spec.width),
        },
        Keyframe::Seed { .. } => (spec.height, spec.width),
    };
    spec.target_size(own, resize).map_err(|e| {
        WalkError::input(
            e.for_file(std::path::Path::new(&keyframe.source()))
                .to_string(),
        )
    })
}

/// Check that every keyframe is a latent of the model, of one shape: images become latents of
/// their image size (the model's, or their own under [`ResizePolicy::None`]), so every image
/// must give the same and seeds must then match it. Returns that shape.
pub(crate) fn latent_shape(
    keyframes: &[Keyframe],
    model: &ModelId,
    info: &ModelInfo,
    resize: ResizePolicy,
) -> Result<[usize; 3]> {
    let (h, w) = info.default_image_size;
    let native = info
        .latent_shape(h, w)
        .map_err(|e| WalkError::compute("the model's latent shape", e))?;
    let mut first_image: Option<((usize, usize), String)> = None;
    for k in keyframes.iter().filter(|k| k.is_image()) {
        let size = image_size(k, info, resize)?;
        match &first_image {
            None => first_image = Some((size, k.source())),
            Some((first, name)) if *first != size => {
                return Err(WalkError::input(format!(
                    "image keyframes of different sizes cannot share a walk (its seeds need \
                     one latent shape): {name} is {}×{} but {} is {}×{} (height × width); \
                     bring them to one size, or choose --resize center-crop",
                    first.0,
                    first.1,
                    k.source(),
                    size.0,
                    size.1
                )))
            }
            Some(_) => {}
        }
    }
    let mut chosen: Option<([usize; 3], String)> = match first_image {
        Some(((ih, iw), source)) => Some((
            info.latent_shape(ih, iw)
                .map_err(|e| WalkError::input(format!("{source}: {e}")))?,
            source,
        )),
        None => None,
    };
    for k in keyframes {
        let Keyframe::Seed { source, latent, .. } = k else {
            continue;
        };
        let fits = match &chosen {
            Some((c, _)) => c == latent,
            None => true,
        };
        if latent[0] != info.latent_channels || !fits {
            let expected = chosen.as_ref().map_or(native, |(c, _)| *c);
            let because = match &chosen {
                Some((_, first)) if latent[0] == info.latent_channels => format!(
                    "the keyframes before it ({first}) are latents of shape {}",
                    shape_text(&expected)
                ),
                _ => format!(
                    "the model {} makes latents of {} channels ({} for its {h}×{w} images)",
                    model.name,
                    info.latent_channels,
                    shape_text(&native)
                ),
            };
            return Err(WalkError::input(format!(
                "{source}: seeds of shape {} do not fit this walk: {because}; were they made \
                 with another model?",
                shape_text(latent)
            )));
        }
        chosen.get_or_insert((*latent, source.clone()));
    }
    Ok(chosen.map_or(native, |(c, _)| c))
}

/// The pixels of every image keyframe at the size [`latent_shape`] chose (`None` for seeds);
/// errors name the file.
pub(crate) fn load_images(
    keyframes: &[Keyframe],
    info: &ModelInfo,
    resize: ResizePolicy,
) -> Result<Vec<Option<Tensor>>> {
    let spec = ImageSpec::for_model(info);
    let mut out = Vec::with_capacity(keyframes.len());
    for k in keyframes {
        out.push(match k {
            Keyframe::ImageFile(p) => Some(
                load_image(p, &spec, resize)
                    .map_err(|e| WalkError::input(e.for_file(p).to_string()))?,
            ),
            Keyframe::Image { source, pixels } => {
                let (h, w) = image_size(k, info, resize)?;
                let want = [1, spec.channels, h, w];
                if pixels.shape != want {
                    return Err(WalkError::input(format!(
                        "{source}: an image of shape {:?}, but the model takes images of shape \
                         {want:?} (bring it to that size first, e.g. with \
                         nao_inversion::load_image)",
                        pixels.shape
                    )));
                }
                Some(pixels.clone())
            }
            Keyframe::Seed { .. } => None,
        });
    }
    Ok(out)
}

/// A shape as Python prints it: `(4, 7, 7)`, `(196,)`.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: ResizePolicy = ResizePolicy::CenterCrop;

    fn seed(source: &str, latent: [usize; 3], v: f64) -> Keyframe {
        Keyframe::Seed {
            source: source.into(),
            latent,
            values: vec![v; latent.iter().product()],
        }
    }

    #[test]
    fn seeds_are_checked_and_must_fit_the_model() {
        assert!(seed("a", [4, 7, 7], 0.5).check().is_ok());
        let zero = seed("z.npy", [4, 7, 7], 0.0)
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            zero.contains("z.npy") && zero.contains("all zeros"),
            "{zero}"
        );
        let nan = seed("n", [1, 1, 3], f64::NAN)
            .check()
            .unwrap_err()
            .to_string();
        assert!(nan.contains("finite"), "{nan}");

        let backend = nao_test_support::AnalyticBackend::new(); // latents (4, 8, 8)
        let info = nao_backend::Backend::info(&backend);
        let model = ModelId::new("analytic", "analytic");
        let ok = [seed("a", [4, 8, 8], 1.0), seed("b", [4, 8, 8], 2.0)];
        assert_eq!(latent_shape(&ok, &model, info, R).unwrap(), [4, 8, 8]);
        // seeds of another size are fine together, but not after an image
        let small = [seed("a", [4, 4, 4], 1.0), seed("b", [4, 4, 4], 2.0)];
        assert_eq!(latent_shape(&small, &model, info, R).unwrap(), [4, 4, 4]);
        let after_image = [
            Keyframe::ImageFile("cat.png".into()),
            seed("s.npy", [4, 4, 4], 1.0),
        ];
        let err = latent_shape(&after_image, &model, info, R)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("s.npy") && err.contains("(cat.png) are latents of shape (4, 8, 8)"),
            "{err}"
        );
        let rgb = [seed("a", [4, 8, 8], 1.0), seed("rgb.npy", [3, 8, 8], 1.0)];
        let err = latent_shape(&rgb, &model, info, R).unwrap_err().to_string();
        assert!(
            err.contains("rgb.npy: seeds of shape (3, 8, 8)")
                && err.contains("the model analytic makes latents of 4 channels ((4, 8, 8)")
                && err.contains("another model"),
            "{err}"
        );
        assert_eq!(shape_text(&[196]), "(196,)");
    }
}
