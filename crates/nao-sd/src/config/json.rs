//! Typed, bounded reading of one diffusers / transformers `config.json`: every error names the
//! file, the field and the value.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::SdError;

/// One config file's keys.
pub(crate) struct ConfigFile {
    pub path: PathBuf,
    map: Map<String, Value>,
    /// The section of the file these keys are (`vision_config` of a whole CLIP model's
    /// config), named in errors; `None` for the file's top level.
    section: Option<String>,
}

impl ConfigFile {
    /// Read and parse a JSON object.
    pub fn read(path: &Path) -> Result<Self, SdError> {
        let text = nao_fs::input::read_text_limited(path, nao_fs::input::CONFIG_LIMIT)
            .map_err(|e| SdError::io(path, e.detail()))?;
        Self::parse(&text, path)
    }

    /// Parse JSON text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SdError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| SdError::config(path, format!("invalid JSON: {e}")))?;
        match value {
            Value::Object(map) => Ok(Self {
                path: path.to_path_buf(),
                map,
                section: None,
            }),
            other => Err(SdError::config(
                path,
                format!("expected a JSON object, got {}", short(&other)),
            )),
        }
    }

    pub fn err(&self, message: impl Into<String>) -> SdError {
        match &self.section {
            None => SdError::config(&self.path, message),
            Some(s) => SdError::config(&self.path, format!("{} (in '{s}')", message.into())),
        }
    }

    /// The object under `key` as a config of its own (errors name the file and the section);
    /// `None` when the key is absent or `null`.
    pub fn section(&self, key: &str) -> Result<Option<ConfigFile>, SdError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(ConfigFile {
                path: self.path.clone(),
                map: map.clone(),
                section: Some(key.to_string()),
            })),
            Some(v) => Err(self.bad(key, v, "is not a JSON object")),
        }
    }

    /// These keys with those of `other` over them (transformers' `vision_config_dict`, which
    /// overrides `vision_config`).
    pub fn merged(mut self, other: ConfigFile) -> ConfigFile {
        self.map.extend(other.map);
        self
    }

    /// Whether the key is present with the value `null`.
    pub fn map_has_null(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(Value::is_null)
    }

    /// The value of a key; `null` counts as absent (diffusers writes `null` for defaults).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn bad(&self, key: &str, v: &Value, what: &str) -> SdError {
        self.err(format!("'{key}' = {} {what}", short(v)))
    }

    /// An integer in `range`, or `default` when absent (an error when there is none).
    pub fn int(
        &self,
        key: &str,
        default: Option<usize>,
        range: RangeInclusive<usize>,
    ) -> Result<usize, SdError> {
        match self.get(key) {
            None => default.ok_or_else(|| self.err(format!("'{key}' is missing"))),
            Some(v) => self.int_value(key, v, &range),
        }
    }

    fn int_value(
        &self,
        key: &str,
        v: &Value,
        range: &RangeInclusive<usize>,
    ) -> Result<usize, SdError> {
        v.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                self.bad(
                    key,
                    v,
                    &format!(
                        "is not an integer in {}..={} (the range this loader accepts)",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// An integer or a list of `n` integers (one per block), each in `range`.
    pub fn per_block(
        &self,
        key: &str,
        n: usize,
        default: Option<usize>,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<usize>, SdError> {
        match self.get(key) {
            None => default
                .map(|d| vec![d; n])
                .ok_or_else(|| self.err(format!("'{key}' is missing"))),
            Some(Value::Array(a)) => {
                if a.len() != n {
                    return Err(self.err(format!(
                        "'{key}' = {} has {} entries for {n} blocks",
                        short(&Value::Array(a.clone())),
                        a.len()
                    )));
                }
                a.iter().map(|v| self.int_value(key, v, &range)).collect()
            }
            Some(v) => Ok(vec![self.int_value(key, v, &range)?; n]),
        }
    }

    /// A non-empty list of at most `max_len` integers in `range`.
    pub fn int_list(
        &self,
        key: &str,
        default: Option<&[usize]>,
        max_len: usize,
        range: RangeInclusive<usize>,
    ) -> Result<Vec<usize>, SdError> {
        match self.get(key) {
            None => default
                .map(<[usize]>::to_vec)
                .ok_or_else(|| self.err(format!("'{key}' is missing"))),
            Some(Value::Array(a)) if !a.is_empty() && a.len() <= max_len => {
                a.iter().map(|v| self.int_value(key, v, &range)).collect()
            }
            Some(v) => Err(self.bad(key, v, &format!("is not a list of 1 to {max_len} integers"))),
        }
    }

    /// A list of at most `max_len` strings.
    pub fn str_list(
        &self,
        key: &str,
        default: &[&str],
        max_len: usize,
    ) -> Result<Vec<String>, SdError> {
        match self.get(key) {
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(Value::Array(a)) if !a.is_empty() && a.len() <= max_len => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| self.bad(key, v, "holds a value that is not a string"))
                })
                .collect(),
            Some(v) => Err(self.bad(key, v, &format!("is not a list of 1 to {max_len} names"))),
        }
    }

    /// A finite number, or `default`.
    pub fn number(&self, key: &str, default: f64) -> Result<f64, SdError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.bad(key, v, "is not a finite number")),
        }
    }

    /// A finite number in `(0, max]`, or `default`.
    pub fn positive(&self, key: &str, default: f64, max: f64) -> Result<f64, SdError> {
        let x = self.number(key, default)?;
        if x > 0.0 && x <= max {
            Ok(x)
        } else {
            Err(self.err(format!("'{key}' = {x} is not a number in (0, {max}]")))
        }
    }

    /// A boolean, or `default`.
    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, SdError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.bad(key, v, "is not true or false")),
        }
    }

    /// A string among `allowed` (or `default` when absent); other values are outside the
    /// family this loader runs.
    pub fn choice(&self, key: &str, default: &str, allowed: &[&str]) -> Result<String, SdError> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(s.clone()),
            Some(v) => Err(self.bad(
                key,
                v,
                &format!(
                    "is not supported (Stable Diffusion 1.x/2.x use {})",
                    allowed.join(", ")
                ),
            )),
        }
    }

    /// The key must be absent, `null`, or one of the `neutral` values (features of other
    /// model families: SDXL's added embeddings, LCM's guidance embedding, …).
    pub fn absent(&self, key: &str, neutral: &[Value], why: &str) -> Result<(), SdError> {
        match self.get(key) {
            Some(v) if !neutral.contains(v) => {
                Err(self.bad(key, v, &format!("is not supported ({why})")))
            }
            _ => Ok(()),
        }
    }

    /// When present, `_class_name` (diffusers) must be one of `names`.
    pub fn class_name(&self, key: &str, names: &[&str]) -> Result<(), SdError> {
        match self.get(key) {
            None => Ok(()),
            Some(Value::String(s)) if names.contains(&s.as_str()) => Ok(()),
            Some(v) => Err(self.bad(
                key,
                v,
                &format!(
                    "is not a model this loader runs (expected {})",
                    names.join(" or ")
                ),
            )),
        }
    }
}

/// A value for an error message, cut to a readable length.
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}
