//! Weight files: one safetensors file per network and a `model.json` card with the sizes and
//! the latent scaling factor.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use nao_fs::input::{read_text_limited, CONFIG_LIMIT};
use serde::{Deserialize, Serialize};

use crate::autoencoder::AutoencoderConfig;
use crate::classes::NUM_CLASSES;
use crate::classifier::ClassifierConfig;
use crate::denoiser::DenoiserConfig;
use crate::error::BurnModelError;

/// The largest weight file of the embedded model's kind that is read (the committed ones are
/// a few MB; a model card's sizes are bounded far below this).
pub(crate) const WEIGHTS_LIMIT: u64 = 1 << 30;

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
        check_sizes(&card, origin)?;
        Ok(card)
    }
}

/// The bounds of the card's sizes: `(field, smallest, largest)`. The embedded model uses
/// 16, 4, 196, 512, 3, 128, 32 and 128; the bounds leave room for larger trained models while
/// keeping every network a card can describe within a few GB.
pub const CARD_BOUNDS: [(&str, usize, usize); 8] = [
    ("autoencoder.base_channels", 1, 256),
    ("autoencoder.latent_channels", 1, 64),
    ("denoiser.latent_dim", 1, 65_536),
    ("denoiser.hidden", 1, 8_192),
    ("denoiser.blocks", 1, 64),
    ("denoiser.time_features", 2, 4_096),
    ("classifier.channels", 1, 512),
    ("classifier.hidden", 1, 8_192),
];

/// Side of the latent grid: 28×28 images downsampled twice.
pub(crate) const LATENT_SIDE: usize = 7;

/// Check every size of `card` against [`CARD_BOUNDS`] and against each other; `origin` names
/// the card in errors.
pub(crate) fn check_sizes(card: &ModelCard, origin: &str) -> Result<(), BurnModelError> {
    let values = [
        card.autoencoder.base_channels,
        card.autoencoder.latent_channels,
        card.denoiser.latent_dim,
        card.denoiser.hidden,
        card.denoiser.blocks,
        card.denoiser.time_features,
        card.classifier.channels,
        card.classifier.hidden,
    ];
    for ((field, lo, hi), value) in CARD_BOUNDS.iter().zip(values) {
        if !(*lo..=*hi).contains(&value) {
            return Err(BurnModelError::format(
                origin,
                format!("{field} is {value}; it must lie in {lo}..={hi}"),
            ));
        }
    }
    let latent = card.autoencoder.latent_channels * LATENT_SIDE * LATENT_SIDE;
    if card.denoiser.latent_dim != latent {
        return Err(BurnModelError::format(
            origin,
            format!(
                "denoiser.latent_dim is {} but autoencoder.latent_channels {} × {LATENT_SIDE} × \
                 {LATENT_SIDE} = {latent}",
                card.denoiser.latent_dim, card.autoencoder.latent_channels
            ),
        ));
    }
    if card.class_names.len() != NUM_CLASSES {
        return Err(BurnModelError::format(
            origin,
            format!(
                "class_names has {} names; the model has {NUM_CLASSES} classes",
                card.class_names.len()
            ),
        ));
    }
    if let Some(bad) = card.rare_classes.iter().find(|&&c| c >= NUM_CLASSES) {
        return Err(BurnModelError::format(
            origin,
            format!("rare_classes holds {bad}; classes are 0..{NUM_CLASSES}"),
        ));
    }
    if card.rare_classes.len() > NUM_CLASSES {
        return Err(BurnModelError::format(
            origin,
            format!(
                "rare_classes has {} entries; there are {NUM_CLASSES} classes",
                card.rare_classes.len()
            ),
        ));
    }
    Ok(())
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
