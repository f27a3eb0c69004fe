//! `tokenizer_config.json`: the special tokens and the context length.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::ClipError;

/// The longest context any CLIP text encoder of a diffusion model uses is 77 tokens; a config
/// asking for more than this is almost surely the "no limit" sentinel `1e30` of transformers.
const MAX_SANE_LENGTH: u64 = 1 << 16;

/// Special tokens and the context length of a CLIP tokenizer, as in `tokenizer_config.json`.
///
/// The defaults are those of Stable Diffusion 1.x (padding with `<|endoftext|>`); Stable
/// Diffusion 2.x configs pad with `!` instead, which changes the text embeddings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerConfig {
    /// Beginning of text, `<|startoftext|>`.
    pub bos_token: String,
    /// End of text, `<|endoftext|>`.
    pub eos_token: String,
    /// Padding token: `<|endoftext|>` (SD 1.x) or `!` (SD 2.x).
    pub pad_token: String,
    /// Token for text the vocabulary cannot express (never used by a byte-level vocabulary).
    pub unk_token: String,
    /// Tokens per encoded prompt, BOS and EOS included (77).
    pub model_max_length: usize,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            bos_token: "<|startoftext|>".into(),
            eos_token: "<|endoftext|>".into(),
            pad_token: "<|endoftext|>".into(),
            unk_token: "<|endoftext|>".into(),
            model_max_length: 77,
        }
    }
}

impl TokenizerConfig {
    /// Read a `tokenizer_config.json` file.
    ///
    /// Missing keys keep the [`Default`] values; a `null` `pad_token` means padding with EOS.
    pub fn from_file(path: &Path) -> Result<Self, ClipError> {
        let text = crate::read_text(path)?;
        Self::from_json_at(&text, path)
    }

    /// Parse the JSON text of a `tokenizer_config.json`.
    ///
    /// ```
    /// use nao_clip::TokenizerConfig;
    /// let sd2 = TokenizerConfig::from_json(r#"{"pad_token": "!", "model_max_length": 77}"#).unwrap();
    /// assert_eq!(sd2.pad_token, "!");
    /// assert_eq!(sd2.eos_token, "<|endoftext|>");
    /// ```
    pub fn from_json(text: &str) -> Result<Self, ClipError> {
        Self::from_json_at(text, Path::new("<memory>"))
    }

    fn from_json_at(text: &str, path: &Path) -> Result<Self, ClipError> {
        let err = |message: String| ClipError::Format {
            path: PathBuf::from(path),
            message,
        };
        let v: Value = serde_json::from_str(text).map_err(|e| err(format!("invalid JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| err("expected a JSON object".into()))?;
        let mut c = Self::default();
        let token = |key: &str| special_token(obj, key, &err);
        if let Some(t) = token("bos_token")? {
            c.bos_token = t;
        }
        if let Some(t) = token("eos_token")? {
            c.eos_token = t;
        }
        if let Some(t) = token("unk_token")? {
            c.unk_token = t;
        }
        c.pad_token = token("pad_token")?.unwrap_or_else(|| c.eos_token.clone());
        match obj.get("model_max_length") {
            None | Some(Value::Null) => {}
            Some(x) => {
                let n = x
                    .as_f64()
                    .ok_or_else(|| err(format!("'model_max_length' must be a number, got {x}")))?;
                if !(n >= 3.0 && n <= MAX_SANE_LENGTH as f64 && n.fract() == 0.0) {
                    return Err(err(format!(
                        "model_max_length = {x} is not a context length in 3..={MAX_SANE_LENGTH} \
                         (CLIP text encoders use 77)"
                    )));
                }
                c.model_max_length = n as usize;
            }
        }
        Ok(c)
    }
}

impl TokenizerConfig {
    /// These settings with the special tokens of a `special_tokens_map.json` over them (older
    /// exports keep `pad_token` there).
    pub fn with_special_tokens_map(mut self, path: &Path) -> Result<Self, ClipError> {
        let text = crate::read_text(path)?;
        let err = |message: String| ClipError::Format {
            path: PathBuf::from(path),
            message,
        };
        let v: Value =
            serde_json::from_str(&text).map_err(|e| err(format!("invalid JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| err("expected a JSON object".into()))?;
        for (key, slot) in [
            ("bos_token", &mut self.bos_token),
            ("eos_token", &mut self.eos_token),
            ("unk_token", &mut self.unk_token),
            ("pad_token", &mut self.pad_token),
        ] {
            if let Some(t) = special_token(obj, key, &err)? {
                *slot = t;
            }
        }
        Ok(self)
    }
}

/// A special token: a string or, in older files, an AddedToken object with a "content" key.
fn special_token(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    err: &dyn Fn(String) -> ClipError,
) -> Result<Option<String>, ClipError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Object(o)) => match o.get("content") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(err(format!(
                "'{key}' is an object without a string 'content'"
            ))),
        },
        Some(other) => Err(err(format!("'{key}' must be a string, got {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_objects_and_defaults() {
        let c = TokenizerConfig::from_json(
            r#"{"bos_token": {"__type": "AddedToken", "content": "<s>"}, "eos_token": "</s>",
                "pad_token": null, "model_max_length": 64}"#,
        )
        .unwrap();
        assert_eq!(c.bos_token, "<s>");
        assert_eq!(c.pad_token, "</s>", "a null pad token pads with EOS");
        assert_eq!(c.model_max_length, 64);
        assert_eq!(
            TokenizerConfig::from_json("{}").unwrap(),
            TokenizerConfig::default()
        );
    }

    #[test]
    fn a_special_tokens_map_overrides_the_config() {
        let tmp = std::env::temp_dir().join(format!("nao-clip-stm-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let map = tmp.join("special_tokens_map.json");
        std::fs::write(
            &map,
            r#"{"pad_token": {"content": "!"}, "eos_token": "<e>"}"#,
        )
        .unwrap();
        let c = TokenizerConfig::default()
            .with_special_tokens_map(&map)
            .unwrap();
        assert_eq!((c.pad_token.as_str(), c.eos_token.as_str()), ("!", "<e>"));
        assert_eq!(c.bos_token, "<|startoftext|>");
        std::fs::write(&map, r#"{"pad_token": 1}"#).unwrap();
        let e = TokenizerConfig::default()
            .with_special_tokens_map(&map)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pad_token") && e.contains("special_tokens_map.json"),
            "{e}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn rejects_nonsense_with_the_key() {
        for (text, needle) in [
            ("[1]", "JSON object"),
            ("{", "invalid JSON"),
            (r#"{"model_max_length": 1e30}"#, "model_max_length"),
            (r#"{"model_max_length": 76.5}"#, "model_max_length"),
            (r#"{"model_max_length": "77"}"#, "model_max_length"),
            (r#"{"pad_token": 3}"#, "pad_token"),
            (r#"{"bos_token": {"x": 1}}"#, "bos_token"),
        ] {
            let e = TokenizerConfig::from_json(text).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains("<memory>"), "{text}: {e}");
        }
    }
}
