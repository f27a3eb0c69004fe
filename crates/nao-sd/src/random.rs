//! [`RandomModel`]: a Stable Diffusion model of a given architecture with random weights,
//! written as a diffusers folder — full-size measurements (time, memory) need the real
//! architecture, not trained weights, and no download.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use nao_backend::SchedulerConfig;
use nao_fs::Outputs;
use safetensors::tensor::{Metadata, TensorInfo};
use safetensors::Dtype;
use serde_json::{json, Value};

use crate::config::{ClipConfig, UnetConfig, VaeConfig};
use crate::model::{plan, Configs, Plans};
use crate::weights::Planned;
use crate::SdError;

/// A Stable Diffusion 1.x / 2.x model with random weights, to be written as a diffusers folder
/// that [`StableDiffusion::load`](crate::StableDiffusion::load) (and diffusers'
/// `from_pretrained`) read like a downloaded one.
///
/// The weights are f32, deterministic in the seed (each tensor's values depend on the seed and
/// its name only) and scaled like PyTorch's default initialisation: every matrix and
/// convolution kernel uniform in `±1/√fan_in`, norm scales 1, biases and norm shifts uniform in
/// `±0.02`. The tokenizer knows the special tokens and the printable ASCII characters, each a
/// token of its own. Values, not sizes, are random: a model of SD 1.5's configs
/// ([`RandomModel::sd15`]) has SD 1.5's 1 066 235 307 parameters and runs at its speed.
///
/// ```
/// use nao_backend::Backend;
/// let configs = nao_sd::RandomModel::sd15();
/// // the tensors SD 1.5's configs imply, without writing them
/// assert_eq!(configs.parameters()?, [123_060_480, 859_520_964, 83_653_863]);
///
/// // a small model of the same family, written and loaded
/// let tiny = nao_sd::RandomModel::new(
///     serde_json::json!({"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
///                        "num_attention_heads": 4, "vocab_size": 49408}),
///     serde_json::json!({"block_out_channels": [32, 64], "layers_per_block": 1,
///                        "cross_attention_dim": 32, "norm_num_groups": 8, "sample_size": 8,
///                        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
///                        "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"]}),
///     serde_json::json!({"block_out_channels": [16, 32], "layers_per_block": 1,
///                        "norm_num_groups": 8, "sample_size": 16,
///                        "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
///                        "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"]}),
/// )
/// .with_seed(7);
/// let dir = tempfile::tempdir()?;
/// tiny.write(&dir.path().join("tiny"))?;
/// let device = nao_sd::Device::flex();
/// let model = nao_sd::StableDiffusion::load(dir.path().join("tiny"), &device, &Default::default())?;
/// assert_eq!(model.info().default_image_size, (16, 16));
/// let text = model.encode_prompt("a cat", "", false)?;
/// assert_eq!(text.cond.shape, vec![1, 77, 32]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RandomModel {
    text_encoder: Value,
    unet: Value,
    vae: Value,
    scheduler: Value,
    seed: u64,
}

/// The component folders, in the order of [`Plans`].
const COMPONENTS: [(&str, &str); 3] = [
    ("text_encoder", "model.safetensors"),
    ("unet", "diffusion_pytorch_model.safetensors"),
    ("vae", "diffusion_pytorch_model.safetensors"),
];

/// The printable ASCII characters: the random tokenizer's vocabulary (each also as a word end).
const PRINTABLE: std::ops::RangeInclusive<u8> = b'!'..=b'~';
/// Ids of the special tokens: right after the characters and word ends, since vocabulary ids
/// must be dense (the tokenizer refuses a gap; CLIP's own 49406/49407 would need every id
/// below them).
const BOS_ID: u32 = 2 * (b'~' - b'!' + 1) as u32;
const EOS_ID: u32 = BOS_ID + 1;

impl RandomModel {
    /// The given component configs (the keys of `text_encoder/config.json`,
    /// `unet/config.json`, `vae/config.json`; absent keys take diffusers' and transformers'
    /// defaults, as when a folder is read) with SD's DDIM scheduler and seed 0. The class
    /// names are filled in.
    pub fn new(text_encoder: Value, unet: Value, vae: Value) -> Self {
        let named = |mut v: Value, key: &str, class: Value| {
            if let Some(map) = v.as_object_mut() {
                map.entry(key).or_insert(class);
            }
            v
        };
        let text_encoder = named(text_encoder, "architectures", json!(["CLIPTextModel"]));
        let text_encoder = named(text_encoder, "model_type", json!("clip_text_model"));
        let unet = named(unet, "_class_name", json!("UNet2DConditionModel"));
        let vae = named(vae, "_class_name", json!("AutoencoderKL"));
        Self {
            text_encoder,
            unet,
            vae,
            scheduler: json!({
                "_class_name": "DDIMScheduler",
                "beta_start": 0.00085,
                "beta_end": 0.012,
                "beta_schedule": "scaled_linear",
                "clip_sample": false,
                "num_train_timesteps": 1000,
                "prediction_type": "epsilon",
                "set_alpha_to_one": false,
                "steps_offset": 1,
                "timestep_spacing": "leading"
            }),
            seed: 0,
        }
    }

    /// Stable Diffusion 1.5's architecture, from its published configs: the CLIP ViT-L/14
    /// text encoder (12 layers of 768, `quick_gelu`), the UNet (blocks of 320, 640, 1280,
    /// 1280 channels, 2 ResNets each, 8 heads, cross-attention on 768), the VAE (blocks of
    /// 128, 256, 512, 512 channels, 4 latent channels), 512×512 images.
    pub fn sd15() -> Self {
        let cross = ["CrossAttnDownBlock2D"; 3];
        let (down, up) = (["DownEncoderBlock2D"; 4], ["UpDecoderBlock2D"; 4]);
        Self::new(
            json!({
                "hidden_act": "quick_gelu",
                "hidden_size": 768,
                "intermediate_size": 3072,
                "layer_norm_eps": 1e-5,
                "max_position_embeddings": 77,
                "num_attention_heads": 12,
                "num_hidden_layers": 12,
                "projection_dim": 768,
                "vocab_size": 49408,
                "bos_token_id": BOS_ID,
                "eos_token_id": EOS_ID,
                "pad_token_id": EOS_ID
            }),
            json!({
                "act_fn": "silu",
                "attention_head_dim": 8,
                "block_out_channels": [320, 640, 1280, 1280],
                "center_input_sample": false,
                "cross_attention_dim": 768,
                "down_block_types": [cross[0], cross[1], cross[2], "DownBlock2D"],
                "downsample_padding": 1,
                "flip_sin_to_cos": true,
                "freq_shift": 0,
                "in_channels": 4,
                "layers_per_block": 2,
                "mid_block_scale_factor": 1,
                "norm_eps": 1e-5,
                "norm_num_groups": 32,
                "out_channels": 4,
                "sample_size": 64,
                "up_block_types": [
                    "UpBlock2D",
                    "CrossAttnUpBlock2D",
                    "CrossAttnUpBlock2D",
                    "CrossAttnUpBlock2D"
                ]
            }),
            json!({
                "act_fn": "silu",
                "block_out_channels": [128, 256, 512, 512],
                "down_block_types": [down[0], down[1], down[2], down[3]],
                "in_channels": 3,
                "latent_channels": 4,
                "layers_per_block": 2,
                "norm_num_groups": 32,
                "out_channels": 3,
                "sample_size": 512,
                "scaling_factor": 0.18215,
                "up_block_types": [up[0], up[1], up[2], up[3]]
            }),
        )
    }

    /// With another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The configs, checked as a folder's are, with the paths they will have under `dir`.
    fn configs(&self, dir: &Path) -> Result<Configs, SdError> {
        let path = |component: &str, file: &str| dir.join(component).join(file);
        let text = |v: &Value| v.to_string();
        let scheduler_path = path("scheduler", "scheduler_config.json");
        let scheduler = SchedulerConfig::from_json(&text(&self.scheduler))
            .map_err(|m| SdError::config(&scheduler_path, m))?;
        Configs::fit(
            ClipConfig::from_json(
                &text(&self.text_encoder),
                &path("text_encoder", "config.json"),
            )?,
            UnetConfig::from_json(&text(&self.unet), &path("unet", "config.json"))?,
            VaeConfig::from_json(&text(&self.vae), &path("vae", "config.json"))?,
            scheduler,
        )
    }

    /// Parameters of the text encoder, the UNet and the VAE (what their weights files hold).
    pub fn parameters(&self) -> Result<[usize; 3], SdError> {
        let plans = plan(&self.configs(Path::new(""))?)?;
        Ok(plans.map(|p| p.iter().map(|(_, s)| s.iter().product::<usize>()).sum()))
    }

    /// Write the model as a diffusers folder `dir` (absent, or a folder whose files of these
    /// names are replaced): `model_index.json`, the four configs, the tokenizer and three f32
    /// safetensors files, streamed one tensor at a time. Every file is staged and the set is
    /// committed together, so a failure leaves no half-written model.
    pub fn write(&self, dir: &Path) -> Result<(), SdError> {
        let configs = self.configs(dir)?;
        let plans: Plans = plan(&configs)?;
        let mut out = Outputs::new();
        out.claim_folder(dir, "the random model's folder")?;
        let mut json_file = |path: PathBuf, value: &Value| -> Result<(), SdError> {
            let text = serde_json::to_string_pretty(value)
                .map_err(|e| SdError::config(&path, e.to_string()))?;
            Ok(out.write(&path, text.as_bytes())?)
        };
        json_file(
            dir.join("model_index.json"),
            &json!({
                "_class_name": "StableDiffusionPipeline",
                "scheduler": ["diffusers", "DDIMScheduler"],
                "text_encoder": ["transformers", "CLIPTextModel"],
                "tokenizer": ["transformers", "CLIPTokenizer"],
                "unet": ["diffusers", "UNet2DConditionModel"],
                "vae": ["diffusers", "AutoencoderKL"],
                "safety_checker": [null, null],
                "feature_extractor": [null, null],
                "requires_safety_checker": false
            }),
        )?;
        json_file(
            dir.join("scheduler").join("scheduler_config.json"),
            &self.scheduler,
        )?;
        for ((component, _), config) in
            COMPONENTS
                .iter()
                .zip([&self.text_encoder, &self.unet, &self.vae])
        {
            json_file(dir.join(component).join("config.json"), config)?;
        }
        let tokenizer = dir.join("tokenizer");
        json_file(tokenizer.join("vocab.json"), &vocabulary())?;
        json_file(
            tokenizer.join("tokenizer_config.json"),
            &json!({
                "tokenizer_class": "CLIPTokenizer",
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "model_max_length": configs.clip.max_position_embeddings.min(77)
            }),
        )?;
        out.write(&tokenizer.join("merges.txt"), b"#version: 0.2\n")?;
        for ((component, file), tensors) in COMPONENTS.iter().zip(&plans) {
            let path = dir.join(component).join(file);
            out.write_with(&path, |w| write_safetensors(w, tensors, self.seed, &path))?;
        }
        Ok(out.commit()?)
    }
}

/// `vocab.json`: every printable ASCII character alone (inside a word) and as a word's end
/// (`c</w>`), then the two special tokens: ids `0..190`, dense.
fn vocabulary() -> Value {
    let mut vocab = serde_json::Map::new();
    let n = PRINTABLE.len() as u32;
    for (i, c) in PRINTABLE.enumerate() {
        let c = char::from(c);
        vocab.insert(c.to_string(), json!(i as u32));
        vocab.insert(format!("{c}</w>"), json!(n + i as u32));
    }
    vocab.insert("<|startoftext|>".into(), json!(BOS_ID));
    vocab.insert("<|endoftext|>".into(), json!(EOS_ID));
    Value::Object(vocab)
}

/// Stream a safetensors file of random f32 tensors: the 8-byte header length, the header the
/// safetensors crate serialises (padded to 8 bytes, as it pads), then each tensor's values.
fn write_safetensors(
    w: &mut dyn Write,
    tensors: &[Planned],
    seed: u64,
    path: &Path,
) -> Result<(), SdError> {
    let err = |e: &dyn std::fmt::Display| SdError::weights(path, e.to_string());
    let mut sorted: Vec<&Planned> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut offset = 0;
    let infos: Vec<(String, TensorInfo)> = sorted
        .iter()
        .map(|(name, shape)| {
            let bytes = 4 * shape.iter().product::<usize>();
            let info = TensorInfo {
                dtype: Dtype::F32,
                shape: shape.clone(),
                data_offsets: (offset, offset + bytes),
            };
            offset += bytes;
            (name.clone(), info)
        })
        .collect();
    let format = HashMap::from([("format".to_string(), "pt".to_string())]);
    let metadata = Metadata::new(Some(format), infos).map_err(|e| err(&format!("{e:?}")))?;
    let mut header = serde_json::to_vec(&metadata).map_err(|e| err(&e))?;
    header.resize(header.len().next_multiple_of(8), b' ');
    w.write_all(&(header.len() as u64).to_le_bytes())
        .and_then(|()| w.write_all(&header))
        .map_err(|e| err(&e))?;
    let mut bytes = Vec::new();
    for (name, shape) in sorted {
        bytes.clear();
        bytes.extend(
            random_values(name, shape, seed)
                .into_iter()
                .flat_map(f32::to_le_bytes),
        );
        w.write_all(&bytes).map_err(|e| err(&e))?;
    }
    Ok(())
}

/// The values of one tensor: norm scales 1; vectors (biases, norm shifts) uniform in
/// `±0.02`; matrices and kernels uniform in `±1/√fan_in` (PyTorch's default bound), where
/// `fan_in` is the product of every dimension after the first.
fn random_values(name: &str, shape: &[usize], seed: u64) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let is_norm_scale = shape.len() == 1 && name.ends_with(".weight") && name.contains("norm");
    if is_norm_scale {
        return vec![1.0; n];
    }
    let bound = match shape {
        [_] => 0.02,
        [_, rest @ ..] => 1.0 / (rest.iter().product::<usize>().max(1) as f64).sqrt(),
        [] => 0.02,
    };
    // SplitMix64, seeded by the model's seed and the tensor's name (FNV-1a), so that each
    // tensor's values depend on nothing else
    let mut state = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64 ^ seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // 53 random bits → [0, 1) → [−bound, bound)
            let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
            ((2.0 * unit - 1.0) * bound) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_deterministic_bounded_and_differ_by_name_and_seed() {
        let a = random_values("unet.conv_in.weight", &[320, 4, 3, 3], 0);
        assert_eq!(a, random_values("unet.conv_in.weight", &[320, 4, 3, 3], 0));
        assert_ne!(a, random_values("unet.conv_in.bias2", &[320, 4, 3, 3], 0));
        assert_ne!(a, random_values("unet.conv_in.weight", &[320, 4, 3, 3], 1));
        let bound = 1.0 / 6.0; // fan_in 4·3·3 = 36
        assert!(a.iter().all(|&v| f64::from(v.abs()) <= bound));
        let mean = a.iter().map(|&v| f64::from(v)).sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / a.len() as f64;
        // uniform on ±b: mean 0, variance b²/3
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.05, "{var}");
        assert_eq!(random_values("x.norm1.weight", &[4], 3), [1.0; 4]);
        assert!(random_values("x.norm1.bias", &[64], 3)
            .iter()
            .all(|v| v.abs() <= 0.02 && *v != 0.0));
    }

    #[test]
    fn a_bad_config_is_named() {
        let mut m = RandomModel::sd15();
        m.unet["block_out_channels"] = json!([320, 640]);
        let e = m.parameters().unwrap_err().to_string();
        assert!(e.contains("unet/config.json"), "{e}");
    }
}
