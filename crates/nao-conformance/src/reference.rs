//! The committed CPU reference and the comparison with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nao_backend::Tensor;

use crate::checks::{Check, Output};
use crate::ConformanceError;

/// Reference outputs, one `.npy` file per output in one folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    dir: PathBuf,
    tensors: BTreeMap<String, Tensor>,
}

/// How one output differs from its reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// The check.
    pub check: Check,
    /// `<check>.<what>`.
    pub name: String,
    /// Largest absolute difference.
    pub max_abs: f32,
    /// Root-mean-square difference.
    pub rms: f32,
    /// Largest absolute reference value (the scale the difference is measured against).
    pub reference_scale: f32,
}

impl Diff {
    /// The largest difference relative to the output's scale, `max_abs / max(1, scale)`:
    /// absolute for unit-scale outputs (noise, latents, images), relative for outputs that
    /// amplify (DDIM's x̂₀ divides by √ᾱₜ, up to ×14 early in the schedule).
    pub fn scaled(&self) -> f32 {
        self.max_abs / self.reference_scale.max(1.0)
    }
}

impl Reference {
    /// `reference/` of this crate.
    pub fn default_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("reference")
    }

    /// What diffusers computed on the tiny Stable Diffusion fixture
    /// (`shared/fixtures/tiny-sd1/reference`), under the names of its checks' outputs.
    pub fn tiny_sd1() -> Result<Self, ConformanceError> {
        let dir = crate::fixture::tiny_sd1("reference")?;
        let tensors = crate::sd_checks::reference_outputs().map_err(|message| {
            ConformanceError::Reference {
                path: dir.display().to_string(),
                message,
            }
        })?;
        Ok(Self {
            dir,
            tensors: tensors.into_iter().collect(),
        })
    }

    /// Load every `.npy` file of `dir`.
    pub fn load(dir: &Path) -> Result<Self, ConformanceError> {
        let err = |path: &Path, message: String| ConformanceError::Reference {
            path: path.display().to_string(),
            message,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| err(dir, e.to_string()))?;
        let mut tensors = BTreeMap::new();
        for entry in entries {
            let path = entry.map_err(|e| err(dir, e.to_string()))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("npy") {
                continue;
            }
            let array = nao_npy::read_npy(&path).map_err(|e| err(&path, e.to_string()))?;
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| err(&path, "file name is not UTF-8".into()))?
                .to_string();
            tensors.insert(
                name,
                Tensor {
                    shape: array.shape().to_vec(),
                    data: array.to_f32_vec(),
                },
            );
        }
        if tensors.is_empty() {
            return Err(err(
                dir,
                "no reference .npy files (cargo xtask conformance --write-reference)".into(),
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            tensors,
        })
    }

    /// Write outputs as the reference into `dir` (each file atomically).
    pub fn write(dir: &Path, outputs: &[Output]) -> Result<(), ConformanceError> {
        std::fs::create_dir_all(dir).map_err(|e| ConformanceError::Reference {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        for o in outputs {
            let path = dir.join(format!("{}.npy", o.name));
            nao_npy::write_npy_f32(&path, &o.tensor.shape, &o.tensor.data).map_err(|e| {
                ConformanceError::Reference {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }
            })?;
        }
        Ok(())
    }

    /// The reference of one output.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// Names of the reference outputs.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }
}

/// Compare outputs with the reference; an output without a reference or with another shape
/// is an error.
pub fn compare(outputs: &[Output], reference: &Reference) -> Result<Vec<Diff>, ConformanceError> {
    outputs
        .iter()
        .map(|o| {
            let path = reference.dir.join(format!("{}.npy", o.name));
            let r = reference
                .get(&o.name)
                .ok_or_else(|| ConformanceError::Reference {
                    path: path.display().to_string(),
                    message: "missing".into(),
                })?;
            if r.shape != o.tensor.shape {
                return Err(ConformanceError::Reference {
                    path: path.display().to_string(),
                    message: format!(
                        "reference shape {:?}, backend output shape {:?}",
                        r.shape, o.tensor.shape
                    ),
                });
            }
            if let Some(v) = o.tensor.data.iter().find(|v| !v.is_finite()) {
                return Err(ConformanceError::Run {
                    check: o.check.name(),
                    message: format!("{} holds a non-finite value {v}", o.name),
                });
            }
            let mut max_abs = 0f64;
            let mut sum_sq = 0f64;
            let mut scale = 0f64;
            for (&a, &b) in o.tensor.data.iter().zip(&r.data) {
                let d = (a as f64 - b as f64).abs();
                max_abs = max_abs.max(d);
                sum_sq += d * d;
                scale = scale.max((b as f64).abs());
            }
            Ok(Diff {
                check: o.check,
                name: o.name.clone(),
                max_abs: max_abs as f32,
                rms: (sum_sq / r.data.len().max(1) as f64).sqrt() as f32,
                reference_scale: scale as f32,
            })
        })
        .collect()
}
