//! Weight files: one safetensors file per network and a `model.json` card with the sizes and
//! the latent scaling factor.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::autoencoder::AutoencoderConfig;
use crate::classifier::ClassifierConfig;
use crate::denoiser::DenoiserConfig;
use crate::error::BurnModelError;

/// File name of the autoencoder weights.
pub const AUTOENCODER_FILE: &str = "autoencoder.safetensors";
/// File name of the noise-predictor weights.
pub const DENOISER_FILE: &str = "denoiser.safetensors";
/// File name of the classifier weights.
pub const CLASSIFIER_FILE: &str = "classifier.safetensors";
/// File name of the model card.
pub const CARD_FILE: &str = "model.json";

/// What a weight folder holds besides the tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Autoencoder sizes.
    pub autoencoder: AutoencoderConfig,
    /// Noise-predictor sizes.
    pub denoiser: DenoiserConfig,
    /// Classifier sizes.
    pub classifier: ClassifierConfig,
    /// Latent scaling factor: scaled latent = posterior mean × this (unit variance).
    pub scaling_factor: f64,
    /// The class names, in label order.
    pub class_names: Vec<String>,
    /// The classes kept at 1 % for the noise predictor.
    pub rare_classes: Vec<usize>,
    /// Seed of the training run.
    pub train_seed: u64,
}

impl ModelCard {
    /// Parse a card from JSON text; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, BurnModelError> {
        let card: ModelCard = serde_json::from_str(text)
            .map_err(|e| BurnModelError::format(origin, format!("bad model card: {e}")))?;
        if !(card.scaling_factor.is_finite() && card.scaling_factor > 0.0) {
            return Err(BurnModelError::format(
                origin,
                format!("scaling_factor {} must be positive", card.scaling_factor),
            ));
        }
        Ok(card)
    }
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BurnModelError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| BurnModelError::io(dir, e))?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).map_err(|e| BurnModelError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        BurnModelError::io(path, e)
    })
}

/// Serialise a module's parameters as safetensors bytes.
pub fn module_bytes<M: Module>(module: &M) -> Result<Vec<u8>, BurnModelError> {
    let mut store = SafetensorsStore::from_bytes(None);
    module
        .save_into(&mut store)
        .map_err(|e| BurnModelError::Invalid(format!("cannot serialise weights: {e}")))?;
    store
        .get_bytes()
        .map_err(|e| BurnModelError::Invalid(format!("cannot serialise weights: {e}")))
}

/// Save a module's parameters to a safetensors file, atomically.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<(), BurnModelError> {
    write_atomic(path, &module_bytes(module)?)
}

/// Load parameters from safetensors bytes into a freshly built `module`; every tensor must be
/// present with the module's shape. `origin` names the source in errors.
pub fn load_module<M: Module>(
    mut module: M,
    bytes: Vec<u8>,
    origin: &str,
) -> Result<M, BurnModelError> {
    let mut store = SafetensorsStore::from_bytes(Some(bytes)).allow_partial(false);
    let result = module
        .load_from(&mut store)
        .map_err(|e| BurnModelError::format(origin, format!("cannot load weights: {e}")))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(BurnModelError::format(
            origin,
            format!(
                "weights do not fit the model: {} errors ({:?}), missing {:?}",
                result.errors.len(),
                result.errors.first(),
                result.missing
            ),
        ));
    }
    Ok(module)
}
