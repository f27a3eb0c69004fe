//! Weight files: one safetensors file per network and a `model.json` card with the sizes and
//! the latent scaling factor.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use nao_fs::input::{read_text_limited, CONFIG_LIMIT};
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

/// Whether `dir` holds weights of the embedded model's kind (`cargo xtask train`'s output:
/// [`CARD_FILE`] and the noise predictor's safetensors file).
pub fn is_weights_folder(dir: &Path) -> bool {
    dir.join(CARD_FILE).is_file() && dir.join(DENOISER_FILE).is_file()
}

impl ModelCard {
    /// Read a card from a file (at most a few MB of JSON).
    pub fn read(path: &Path) -> Result<Self, BurnModelError> {
        let text = read_text_limited(path, CONFIG_LIMIT)
            .map_err(|e| BurnModelError::format(path, e.to_string()))?;
        Self::from_json(&text, &path.display().to_string())
    }

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
        crate::card_check::check_sizes(&card, origin)?;
        Ok(card)
    }
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
