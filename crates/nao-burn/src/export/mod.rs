//! The embedded model as ONNX: [`OnnxExport`] holds the VAE encoder, VAE decoder, noise
//! predictor and classifier as ONNX files (opset 17) written from a loaded [`BurnModel`], so ONNX Runtime
//! (and any other ONNX tool) runs the very same weights.
//!
//! The graphs are written by hand-rolled protobuf and a small builder (the `onnx_graph`
//! module); each network's export sits next to its `forward` and mirrors it, and
//! [`BurnModel::to_onnx`](crate::BurnModel::to_onnx) puts them together. The timestep features, the
//! prompt → class table and the latent scaling stay on the host, as they do for burn.

use std::path::Path;

use crate::error::BurnModelError;
use nao_fs::Outputs;

use crate::weights::{ModelCard, CARD_FILE};

/// The ONNX opset of the export.
pub const ONNX_OPSET: i64 = crate::onnx_graph::graph::OPSET;

/// File of the exported VAE encoder: `images [batch, 1, 28, 28]` in `[−1, 1]` → `mean
/// [batch, 4, 7, 7]` (unscaled posterior mean).
pub const ONNX_ENCODER_FILE: &str = "vae_encoder.onnx";
/// File of the exported VAE decoder: `latents [batch, 4, 7, 7]` (unscaled) → `images [batch,
/// 1, 28, 28]` about `[−1, 1]`.
pub const ONNX_DECODER_FILE: &str = "vae_decoder.onnx";
/// File of the exported noise predictor: `latents [batch, 196]`, `time [batch, 128]`
/// (sinusoidal features, [`timestep_features`](crate::timestep_features)), `classes [batch]`
/// (int64) → `noise [batch, 196]`.
pub const ONNX_DENOISER_FILE: &str = "denoiser.onnx";
/// File of the exported classifier: `images [batch, 1, 28, 28]` in `[−1, 1]` → `features
/// [batch, 128]` (penultimate layer, after its ReLU) and `logits [batch, 10]`.
pub const ONNX_CLASSIFIER_FILE: &str = "classifier.onnx";

/// Whether `dir` holds the embedded model's ONNX export (`nao export-onnx`): [`CARD_FILE`]
/// and [`ONNX_DENOISER_FILE`].
pub fn is_onnx_export_folder(dir: &Path) -> bool {
    dir.join(CARD_FILE).is_file() && dir.join(ONNX_DENOISER_FILE).is_file()
}

/// The embedded model's networks as ONNX files, with the model card.
///
/// ```
/// let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
/// let export = model.to_onnx()?;
/// assert!(export.denoiser.len() > 1_000_000); // the weights travel inside
/// # Ok::<(), nao_burn::BurnModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxExport {
    /// Sizes and the latent scaling factor.
    pub card: ModelCard,
    /// [`ONNX_ENCODER_FILE`]'s bytes.
    pub vae_encoder: Vec<u8>,
    /// [`ONNX_DECODER_FILE`]'s bytes.
    pub vae_decoder: Vec<u8>,
    /// [`ONNX_DENOISER_FILE`]'s bytes.
    pub denoiser: Vec<u8>,
    /// [`ONNX_CLASSIFIER_FILE`]'s bytes.
    pub classifier: Vec<u8>,
}

impl OnnxExport {
    /// Stage the three files and `model.json` in the folder `dir`, claimed in `out` for
    /// `option`; they appear together when the caller commits `out`.
    pub fn stage(&self, dir: &Path, option: &str, out: &mut Outputs) -> Result<(), BurnModelError> {
        let card = serde_json::to_string_pretty(&self.card)
            .map_err(|e| BurnModelError::Invalid(format!("cannot write the model card: {e}")))?;
        out.claim_folder(dir, option)?;
        for (name, bytes) in [
            (ONNX_ENCODER_FILE, self.vae_encoder.as_slice()),
            (ONNX_DECODER_FILE, &self.vae_decoder),
            (ONNX_DENOISER_FILE, &self.denoiser),
            (ONNX_CLASSIFIER_FILE, &self.classifier),
            (CARD_FILE, card.as_bytes()),
        ] {
            out.write(&dir.join(name), bytes)?;
        }
        Ok(())
    }

    /// Write the three files and `model.json` into `dir` (created when missing); they appear
    /// together, or not at all.
    pub fn save(&self, dir: &Path) -> Result<(), BurnModelError> {
        let mut out = Outputs::new();
        self.stage(dir, "the export folder", &mut out)?;
        Ok(out.commit()?)
    }

    /// Read an export written by [`OnnxExport::save`].
    pub fn load(dir: &Path) -> Result<Self, BurnModelError> {
        let read = |name: &str| {
            let p = dir.join(name);
            nao_fs::input::read_limited(&p, crate::weights::WEIGHTS_LIMIT)
                .map_err(|e| BurnModelError::format(&p, e.detail()))
        };
        Ok(Self {
            card: ModelCard::read(&dir.join(CARD_FILE))?,
            vae_encoder: read(ONNX_ENCODER_FILE)?,
            vae_decoder: read(ONNX_DECODER_FILE)?,
            denoiser: read(ONNX_DENOISER_FILE)?,
            classifier: read(ONNX_CLASSIFIER_FILE)?,
        })
    }
}
