//! The model facts of an optimum-layout folder, read from its component configs.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::OnnxError;

/// What the VAE config says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VaeConfig {
    pub scaling_factor: f64,
    /// `shift_factor` (null/absent for SD 1.x/2.x/XL): latents are `(mean − shift) · scale`.
    pub shift_factor: f64,
    pub latent_channels: usize,
    pub image_channels: usize,
    /// `2^(len(block_out_channels) − 1)`.
    pub downsample: usize,
}

/// What the UNet config says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UnetConfig {
    pub in_channels: usize,
    /// Latent `(height, width)` the model was trained for.
    pub sample_size: (usize, usize),
    /// Latent sizes must be multiples of this: `2^(len(block_out_channels) − 1)`.
    pub downsample: usize,
}

fn read_object(path: &Path) -> Result<Map<String, Value>, OnnxError> {
    // stat first, bounded: a FIFO or a device is refused, not read without end
    let text =
        nao_fs::input::read_text_limited(path, nao_fs::input::CONFIG_LIMIT).map_err(|e| {
            OnnxError::Io {
                path: path.to_path_buf(),
                message: e.detail(),
            }
        })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| OnnxError::Config {
        path: path.to_path_buf(),
        message: format!("invalid JSON: {e}"),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(OnnxError::Config {
            path: path.to_path_buf(),
            message: format!("expected a JSON object, got {other}"),
        }),
    }
}

/// Typed access to the keys of one config file, with errors naming file, key and value.
struct Keys<'a> {
    path: &'a Path,
    map: &'a Map<String, Value>,
}

impl Keys<'_> {
    fn err(&self, message: String) -> OnnxError {
        OnnxError::Config {
            path: self.path.to_path_buf(),
            message,
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn positive(&self, key: &str, default: Option<usize>) -> Result<usize, OnnxError> {
        match self.get(key) {
            None => default.ok_or_else(|| self.err(format!("'{key}' is missing"))),
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=1 << 20).contains(n))
                .map(|n| n as usize)
                .ok_or_else(|| self.err(format!("'{key}' = {v} is not a positive integer"))),
        }
    }

    fn number(&self, key: &str, default: f64) -> Result<f64, OnnxError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.err(format!("'{key}' = {v} is not a finite number"))),
        }
    }
}

/// The first of `candidates` that exists.
fn first_existing(candidates: &[PathBuf]) -> Option<&PathBuf> {
    candidates.iter().find(|p| p.is_file())
}

/// The VAE config: `vae_decoder/config.json`, `vae_encoder/config.json` or `vae/config.json`.
pub(crate) fn vae_config(dir: &Path) -> Result<(VaeConfig, PathBuf), OnnxError> {
    let candidates = [
        dir.join("vae_decoder").join("config.json"),
        dir.join("vae_encoder").join("config.json"),
        dir.join("vae").join("config.json"),
    ];
    let path = first_existing(&candidates).ok_or_else(|| OnnxError::Io {
        path: candidates[0].clone(),
        message: format!(
            "no VAE config (also looked for {} and {}); it gives the scaling factor, latent \
             channels and downsampling",
            candidates[1].display(),
            candidates[2].display()
        ),
    })?;
    let map = read_object(path)?;
    let keys = Keys { path, map: &map };
    // diffusers' AutoencoderKL defaults where a key is absent
    let scaling_factor = keys.number("scaling_factor", 0.18215)?;
    if scaling_factor <= 0.0 {
        return Err(keys.err(format!(
            "scaling_factor = {scaling_factor} must be positive"
        )));
    }
    let shift_factor = keys.number("shift_factor", 0.0)?;
    for key in ["latents_mean", "latents_std"] {
        if keys.get(key).is_some() {
            return Err(keys.err(format!(
                "'{key}' (per-channel latent statistics) is not supported"
            )));
        }
    }
    let blocks = match keys.get("block_out_channels") {
        None => 1,
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= 16 => a.len(),
        Some(v) => {
            return Err(keys.err(format!(
                "'block_out_channels' = {v} is not a non-empty list of channel counts"
            )))
        }
    };
    let cfg = VaeConfig {
        scaling_factor,
        shift_factor,
        latent_channels: keys.positive("latent_channels", Some(4))?,
        image_channels: keys.positive("in_channels", Some(3))?,
        downsample: 1 << (blocks - 1),
    };
    Ok((cfg, path.clone()))
}

/// `unet/config.json`: input channels and the latent sample size.
pub(crate) fn unet_config(dir: &Path) -> Result<(UnetConfig, PathBuf), OnnxError> {
    let path = dir.join("unet").join("config.json");
    let map = read_object(&path)?;
    let keys = Keys {
        path: &path,
        map: &map,
    };
    let sample_size = match keys.get("sample_size") {
        Some(Value::Array(a)) if a.len() == 2 => {
            let dim = |v: &Value| {
                v.as_u64()
                    .filter(|&n| n >= 1)
                    .map(|n| n as usize)
                    .ok_or_else(|| keys.err(format!("'sample_size' = {a:?} holds {v}")))
            };
            (dim(&a[0])?, dim(&a[1])?)
        }
        Some(Value::Array(a)) => {
            return Err(keys.err(format!(
                "'sample_size' = {a:?} is neither a size nor [height, width]"
            )))
        }
        _ => {
            let s = keys.positive("sample_size", None)?;
            (s, s)
        }
    };
    // diffusers' UNet2DConditionModel default: 4 blocks
    let blocks = match keys.get("block_out_channels") {
        None => 4,
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= 16 => a.len(),
        Some(v) => {
            return Err(keys.err(format!(
                "'block_out_channels' = {v} is not a non-empty list of channel counts"
            )))
        }
    };
    let cfg = UnetConfig {
        in_channels: keys.positive("in_channels", Some(4))?,
        sample_size,
        downsample: 1 << (blocks - 1),
    };
    Ok((cfg, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn vae_facts_come_from_the_config() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "vae_encoder/config.json",
            r#"{"scaling_factor": 0.13025, "latent_channels": 4, "block_out_channels": [128, 256, 512, 512]}"#,
        );
        let (c, path) = vae_config(tmp.path()).unwrap();
        assert!(path.ends_with("vae_encoder/config.json"));
        assert_eq!(
            (c.scaling_factor, c.latent_channels, c.downsample),
            (0.13025, 4, 8)
        );
        assert_eq!((c.image_channels, c.shift_factor), (3, 0.0));
        write(
            tmp.path(),
            "vae_decoder/config.json",
            r#"{"scaling_factor": 0.5, "latent_channels": 16, "block_out_channels": [1, 2, 3], "shift_factor": 0.1}"#,
        );
        let (c, path) = vae_config(tmp.path()).unwrap();
        assert!(path.ends_with("vae_decoder/config.json"));
        assert_eq!(
            (c.scaling_factor, c.latent_channels, c.downsample),
            (0.5, 16, 4)
        );
        assert_eq!(c.shift_factor, 0.1);
    }

    #[test]
    fn bad_configs_name_file_and_key() {
        let tmp = tempfile::tempdir().unwrap();
        let e = vae_config(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("vae_decoder/config.json") && e.contains("no VAE config"),
            "{e}"
        );
        for (text, needle) in [
            (r#"{"scaling_factor": -1}"#, "scaling_factor"),
            (r#"{"latent_channels": 0}"#, "latent_channels"),
            (r#"{"block_out_channels": []}"#, "block_out_channels"),
            (r#"{"latents_mean": [0.1]}"#, "latents_mean"),
            ("[]", "JSON object"),
            ("{", "invalid JSON"),
        ] {
            write(tmp.path(), "vae_decoder/config.json", text);
            let e = vae_config(tmp.path()).unwrap_err().to_string();
            assert!(
                e.contains(needle) && e.contains("config.json"),
                "{text}: {e}"
            );
        }
        let e = unet_config(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("unet/config.json"), "{e}");
        write(tmp.path(), "unet/config.json", r#"{"in_channels": 4}"#);
        let e = unet_config(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("'sample_size' is missing"), "{e}");
        write(
            tmp.path(),
            "unet/config.json",
            r#"{"sample_size": [96, 128]}"#,
        );
        assert_eq!(unet_config(tmp.path()).unwrap().0.sample_size, (96, 128));
        write(tmp.path(), "unet/config.json", r#"{"sample_size": 64}"#);
        let c = unet_config(tmp.path()).unwrap().0;
        assert_eq!(
            (c.sample_size, c.downsample, c.in_channels),
            ((64, 64), 8, 4)
        );
        write(
            tmp.path(),
            "unet/config.json",
            r#"{"sample_size": 8, "block_out_channels": [32, 64]}"#,
        );
        assert_eq!(unet_config(tmp.path()).unwrap().0.downsample, 2);
    }
}
