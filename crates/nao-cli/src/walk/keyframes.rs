//! The keyframes of a walk: images (inverted with the model) and `.npy` seeds, in the order
//! given, checked before the model runs so that a bad file fails in seconds.

use std::path::{Path, PathBuf};

use nao_backend::{ModelInfo, Tensor};
use nao_inversion::{load_image, ImageSpec, ResizePolicy};

use crate::error::CliError;
use crate::model::{image_error, require_file};
use crate::seeds::{check_finite, check_nonzero, read_float_array, shape_text, FloatArray};

/// One input file of `nao walk`.
pub enum Input {
    /// An image, to be inverted.
    Image(PathBuf),
    /// A `.npy` of latents `[c, h, w]` or `[n, …, c, h, w]`: one keyframe per latent.
    Seeds {
        /// The array.
        array: FloatArray,
        /// How many latents it holds.
        count: usize,
        /// The shape of one latent.
        latent: [usize; 3],
    },
}

/// Where a keyframe came from, for reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Origin {
    /// `image` or `seed`.
    pub kind: &'static str,
    /// The file, with `[row]` for a row of a stack of seeds.
    pub source: String,
}

impl Input {
    /// Read a keyframe argument: a `.npy` file's seeds now (checked finite, non-zero and of
    /// latent rank), an image only checked to be a file (it is decoded once the model says
    /// its size).
    pub fn read(path: &Path) -> Result<Self, CliError> {
        let is_npy = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        require_file(
            path,
            if is_npy {
                "no such seed file"
            } else {
                "no such image file"
            },
        )?;
        if !is_npy {
            return Ok(Self::Image(path.to_path_buf()));
        }
        let array = read_float_array(path)?;
        let shape = array.shape.clone();
        if shape.len() < 3 {
            return Err(CliError::input(format!(
                "{}: seeds of shape {} are not latents: a keyframe seed is [c, h, w], or \
                 [n, c, h, w] for n keyframes (as `nao invert` and `nao seed` write them)",
                path.display(),
                shape_text(&shape)
            )));
        }
        let k = shape.len();
        let latent = [shape[k - 3], shape[k - 2], shape[k - 1]];
        let per: usize = latent.iter().product();
        let count = shape[..k - 3].iter().product();
        check_finite(&array, 0..array.dim())?;
        for row in 0..count {
            let label = if count > 1 {
                format!(" row {row}")
            } else {
                String::new()
            };
            check_nonzero(&array, row * per..(row + 1) * per, &label)?;
        }
        Ok(Self::Seeds {
            array,
            count,
            latent,
        })
    }

    /// How many keyframes the input gives.
    pub fn count(&self) -> usize {
        match self {
            Self::Image(_) => 1,
            Self::Seeds { count, .. } => *count,
        }
    }

    /// Whether it is an image.
    pub fn is_image(&self) -> bool {
        matches!(self, Self::Image(_))
    }

    fn path(&self) -> &Path {
        match self {
            Self::Image(p) => p,
            Self::Seeds { array, .. } => &array.path,
        }
    }
}

/// Check that every keyframe is a latent of the model, of one shape: images become latents of
/// the model's image size, so seed files must then match it. Returns that shape.
pub fn latent_shape(
    inputs: &[Input],
    model: &str,
    info: &ModelInfo,
) -> Result<[usize; 3], CliError> {
    let (h, w) = info.default_image_size;
    let native = info
        .latent_shape(h, w)
        .map_err(|e| CliError::compute("the model's latent shape", e))?;
    let mut chosen: Option<([usize; 3], &Path)> = inputs
        .iter()
        .find(|i| i.is_image())
        .map(|i| (native, i.path()));
    for input in inputs {
        let Input::Seeds { array, latent, .. } = input else {
            continue;
        };
        if latent[0] != info.latent_channels || chosen.is_some_and(|(c, _)| c != *latent) {
            let expected = chosen.map_or(native, |(c, _)| c);
            let because = match chosen {
                Some((_, p)) if latent[0] == info.latent_channels => format!(
                    "the keyframes before it ({}) are latents of shape {}",
                    p.display(),
                    shape_text(&expected)
                ),
                _ => format!(
                    "the model {model} makes latents of {} channels ({} for its {h}×{w} images)",
                    info.latent_channels,
                    shape_text(&native)
                ),
            };
            return Err(CliError::input(format!(
                "{}: seeds of shape {} (latents {}) do not fit this walk: {because}; were they \
                 made with another model?",
                array.path.display(),
                shape_text(&array.shape),
                shape_text(latent)
            )));
        }
        chosen.get_or_insert((*latent, &array.path));
    }
    Ok(chosen.map_or(native, |(c, _)| c))
}

/// Decode every image keyframe for the model (errors name the file).
pub fn load_images(
    inputs: &[Input],
    info: &ModelInfo,
    resize: ResizePolicy,
) -> Result<Vec<Option<Tensor>>, CliError> {
    let spec = ImageSpec::for_model(info);
    inputs
        .iter()
        .map(|input| match input {
            Input::Image(p) => load_image(p, &spec, resize)
                .map(Some)
                .map_err(|e| image_error(p, e)),
            Input::Seeds { .. } => Ok(None),
        })
        .collect()
}

/// The origins of the keyframes, one per keyframe, in order.
pub fn origins(inputs: &[Input]) -> Vec<Origin> {
    let mut out = Vec::new();
    for input in inputs {
        match input {
            Input::Image(p) => out.push(Origin {
                kind: "image",
                source: p.display().to_string(),
            }),
            Input::Seeds { array, count, .. } => {
                for row in 0..*count {
                    out.push(Origin {
                        kind: "seed",
                        source: if *count > 1 {
                            format!("{}[{row}]", array.path.display())
                        } else {
                            array.path.display().to_string()
                        },
                    });
                }
            }
        }
    }
    out
}

/// The seeds of a `.npy` input, one vector per latent.
pub fn seed_rows(input: &Input) -> Vec<Vec<f64>> {
    match input {
        Input::Image(_) => Vec::new(),
        Input::Seeds { array, latent, .. } => {
            let per: usize = latent.iter().product();
            array.values.chunks(per).map(<[f64]>::to_vec).collect()
        }
    }
}
