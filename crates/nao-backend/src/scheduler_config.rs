//! The scheduler configuration of a model, as diffusers writes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::BackendError;

/// How the model's output is parameterised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredictionType {
    /// The model predicts the noise ε (SD 1.x).
    Epsilon,
    /// The model predicts the velocity v (SD 2.x 768).
    VPrediction,
    /// The model predicts the clean sample x₀.
    Sample,
}

/// The β schedule of the forward process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetaSchedule {
    /// `linspace(beta_start, beta_end)`.
    Linear,
    /// `linspace(√beta_start, √beta_end)²` (Stable Diffusion).
    ScaledLinear,
    /// The cosine schedule (`betas_for_alpha_bar`, max β 0.999).
    SquaredcosCapV2,
}

/// How inference timesteps are spread over the training timesteps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestepSpacing {
    /// `(0..n) * (T / n) + steps_offset` (SD 1.x).
    Leading,
    /// `round(T, −T/n)` steps down from T.
    Trailing,
    /// `linspace(0, T − 1, n)` rounded.
    Linspace,
}

/// The most training timesteps a config may declare: real schedulers use 1000; the bound keeps
/// a hostile file from sizing the schedule's tables (8 bytes per step, several tables).
pub const MAX_TRAIN_TIMESTEPS: usize = 100_000;

/// A value of a scheduler config key that the typed fields of [`SchedulerConfig`] do not hold
/// (a sampler's own option, such as `use_karras_sigmas` or `solver_order`), as the JSON file
/// writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<ConfigValue>),
    /// `null`.
    Null,
    /// A JSON object, kept as its text (no scheduler option of nao's is one).
    Object(String),
}

impl ConfigValue {
    fn from_json(v: &Value) -> Self {
        match v {
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Self::String(s.clone()),
            Value::Array(a) => Self::List(a.iter().map(Self::from_json).collect()),
            Value::Null => Self::Null,
            Value::Object(_) => Self::Object(v.to_string()),
        }
    }
}

impl std::fmt::Display for ConfigValue {
    /// JSON-like: `true`, `2`, `"dpmsolver++"`, `[1, 2]`, `null`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(x) => write!(f, "{x}"),
            Self::String(s) => write!(f, "{s:?}"),
            Self::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Self::Null => f.write_str("null"),
            Self::Object(text) => f.write_str(text),
        }
    }
}

/// The keys of `scheduler_config.json` that [`SchedulerConfig`] holds as typed fields.
pub const TYPED_KEYS: [&str; 12] = [
    "num_train_timesteps",
    "beta_start",
    "beta_end",
    "beta_schedule",
    "trained_betas",
    "set_alpha_to_one",
    "steps_offset",
    "timestep_spacing",
    "prediction_type",
    "clip_sample",
    "clip_sample_range",
    "rescale_betas_zero_snr",
];

/// `scheduler/scheduler_config.json`, with diffusers' `DDIMScheduler` defaults for missing keys.
///
/// Besides the typed fields every scheduler of nao reads, it keeps what picking another
/// scheduler class needs, as diffusers' `OtherScheduler.from_config(pipe.scheduler.config)`
/// does: the file's class (`_class_name`), its other keys (`options`), and which typed keys the
/// file left out (`defaulted`), since another class takes its own default for those.
///
/// ```
/// use nao_backend::{ConfigValue, SchedulerConfig};
/// let c = SchedulerConfig::from_json(
///     r#"{"_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": true,
///         "beta_schedule": "scaled_linear"}"#,
/// ).unwrap();
/// assert_eq!(c.class_name.as_deref(), Some("DPMSolverMultistepScheduler"));
/// assert_eq!(c.options["use_karras_sigmas"], ConfigValue::Bool(true));
/// assert!(c.defaulted.contains("timestep_spacing") && !c.defaulted.contains("beta_schedule"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// Training timesteps `T` (1000).
    pub num_train_timesteps: usize,
    /// First β.
    pub beta_start: f64,
    /// Last β.
    pub beta_end: f64,
    /// β schedule.
    pub beta_schedule: BetaSchedule,
    /// Explicit βs, overriding the schedule.
    pub trained_betas: Option<Vec<f64>>,
    /// Whether the "previous" ᾱ of the last step is 1 (else ᾱ₀).
    pub set_alpha_to_one: bool,
    /// Offset added to the timesteps (1 for SD 1.x).
    pub steps_offset: usize,
    /// Timestep spacing.
    pub timestep_spacing: TimestepSpacing,
    /// Prediction type.
    pub prediction_type: PredictionType,
    /// Whether x₀ is clipped to `±clip_sample_range`.
    pub clip_sample: bool,
    /// The clipping range.
    pub clip_sample_range: f64,
    /// Rescale betas to zero terminal SNR.
    pub rescale_betas_zero_snr: bool,
    /// The scheduler class the file names (`_class_name`, e.g. `PNDMScheduler`); `None` for a
    /// config without one (nao then uses DDIM).
    pub class_name: Option<String>,
    /// The file's keys beyond the typed fields (sampler options such as `use_karras_sigmas`,
    /// `solver_order`, `skip_prk_steps`), as written; keys starting with `_` are left out.
    pub options: BTreeMap<String, ConfigValue>,
    /// The typed fields' keys the file left out or set to `null` (their values above are
    /// `DDIMScheduler`'s defaults). Empty for a config built in code, whose every field counts
    /// as given.
    pub defaulted: BTreeSet<String>,
}

impl Default for SchedulerConfig {
    /// diffusers' `DDIMScheduler()` defaults.
    fn default() -> Self {
        Self {
            num_train_timesteps: 1000,
            beta_start: 0.0001,
            beta_end: 0.02,
            beta_schedule: BetaSchedule::Linear,
            trained_betas: None,
            set_alpha_to_one: true,
            steps_offset: 0,
            timestep_spacing: TimestepSpacing::Leading,
            prediction_type: PredictionType::Epsilon,
            clip_sample: true,
            clip_sample_range: 1.0,
            rescale_betas_zero_snr: false,
            class_name: None,
            options: BTreeMap::new(),
            defaulted: BTreeSet::new(),
        }
    }
}

impl SchedulerConfig {
    /// Read a `scheduler_config.json` file.
    pub fn from_file(path: &Path) -> Result<Self, BackendError> {
        let text =
            nao_fs::input::read_text_limited(path, nao_fs::input::CONFIG_LIMIT).map_err(|e| {
                BackendError::Io {
                    path: path.display().to_string(),
                    message: match e {
                        nao_fs::FsError::Input { reason, .. } => reason,
                        other => other.to_string(),
                    },
                }
            })?;
        Self::from_json(&text).map_err(|message| BackendError::Config {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parse the JSON text of a scheduler config. Python's JSON extensions `NaN`, `Infinity`
    /// and `-Infinity` (diffusers saves `DPMSolverMultistepScheduler`'s default
    /// `lambda_min_clipped` as `-Infinity`) are read as the strings `"NaN"`, `"Infinity"` and
    /// `"-Infinity"`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let text = quote_nonfinite(text);
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
        let obj = v.as_object().ok_or("expected a JSON object")?;
        let mut c = Self::default();
        for key in TYPED_KEYS {
            if matches!(obj.get(key), None | Some(Value::Null)) {
                c.defaulted.insert(key.to_string());
            }
        }
        match obj.get("_class_name") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => c.class_name = Some(s.clone()),
            Some(other) => return Err(format!("'_class_name' must be a string, got {other}")),
        }
        for (k, v) in obj {
            if !k.starts_with('_') && !TYPED_KEYS.contains(&k.as_str()) {
                c.options.insert(k.clone(), ConfigValue::from_json(v));
            }
        }
        let num = |k: &str| -> Result<Option<f64>, String> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(x) => x
                    .as_f64()
                    .map(Some)
                    .ok_or_else(|| format!("'{k}' must be a number, got {x}")),
            }
        };
        let boolean = |k: &str| -> Result<Option<bool>, String> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(x) => x
                    .as_bool()
                    .map(Some)
                    .ok_or_else(|| format!("'{k}' must be true or false, got {x}")),
            }
        };
        let string = |k: &str| -> Result<Option<String>, String> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(x) => x
                    .as_str()
                    .map(|s| Some(s.to_string()))
                    .ok_or_else(|| format!("'{k}' must be a string, got {x}")),
            }
        };
        if let Some(t) = num("num_train_timesteps")? {
            if !(1.0..=MAX_TRAIN_TIMESTEPS as f64).contains(&t) || t.fract() != 0.0 {
                return Err(format!(
                    "num_train_timesteps = {} must be an integer from 1 to {MAX_TRAIN_TIMESTEPS}",
                    obj["num_train_timesteps"]
                ));
            }
            c.num_train_timesteps = t as usize;
        }
        let beta = |k: &str, x: f64| -> Result<f64, String> {
            if x.is_finite() && x > 0.0 && x < 1.0 {
                Ok(x)
            } else {
                Err(format!("{k} = {x} must be a number between 0 and 1"))
            }
        };
        if let Some(x) = num("beta_start")? {
            c.beta_start = beta("beta_start", x)?;
        }
        if let Some(x) = num("beta_end")? {
            c.beta_end = beta("beta_end", x)?;
        }
        if let Some(s) = string("beta_schedule")? {
            c.beta_schedule = match s.as_str() {
                "linear" => BetaSchedule::Linear,
                "scaled_linear" => BetaSchedule::ScaledLinear,
                "squaredcos_cap_v2" => BetaSchedule::SquaredcosCapV2,
                other => {
                    return Err(format!(
                        "beta_schedule '{other}' is not supported (linear, scaled_linear, squaredcos_cap_v2)"
                    ))
                }
            };
        }
        match obj.get("trained_betas") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                if a.len() != c.num_train_timesteps {
                    return Err(format!(
                        "trained_betas holds {} values; num_train_timesteps is {}",
                        a.len(),
                        c.num_train_timesteps
                    ));
                }
                let betas = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| match x.as_f64() {
                        Some(v) => beta(&format!("trained_betas[{i}]"), v),
                        None => Err(format!("trained_betas[{i}] = {x} is not a number")),
                    })
                    .collect::<Result<Vec<f64>, String>>()?;
                c.trained_betas = Some(betas);
            }
            Some(other) => {
                return Err(format!(
                    "trained_betas must be a list of numbers or null, got {other}"
                ))
            }
        }
        if let Some(b) = boolean("set_alpha_to_one")? {
            c.set_alpha_to_one = b;
        }
        if let Some(x) = num("steps_offset")? {
            if x < 0.0 || x.fract() != 0.0 || x >= c.num_train_timesteps as f64 {
                return Err(format!(
                    "steps_offset = {} must be an integer from 0 to num_train_timesteps − 1 ({})",
                    obj["steps_offset"],
                    c.num_train_timesteps - 1
                ));
            }
            c.steps_offset = x as usize;
        }
        if let Some(s) = string("timestep_spacing")? {
            c.timestep_spacing = match s.as_str() {
                "leading" => TimestepSpacing::Leading,
                "trailing" => TimestepSpacing::Trailing,
                "linspace" => TimestepSpacing::Linspace,
                other => {
                    return Err(format!(
                        "timestep_spacing '{other}' is not supported (leading, trailing, linspace)"
                    ))
                }
            };
        }
        if let Some(s) = string("prediction_type")? {
            c.prediction_type = match s.as_str() {
                "epsilon" => PredictionType::Epsilon,
                "v_prediction" => PredictionType::VPrediction,
                "sample" => PredictionType::Sample,
                other => {
                    return Err(format!(
                        "prediction_type '{other}' is not supported (epsilon, v_prediction, sample)"
                    ))
                }
            };
        }
        if let Some(b) = boolean("clip_sample")? {
            c.clip_sample = b;
        }
        if let Some(x) = num("clip_sample_range")? {
            if !(x.is_finite() && x > 0.0) {
                return Err(format!("clip_sample_range = {x} must be a positive number"));
            }
            c.clip_sample_range = x;
        }
        if let Some(b) = boolean("rescale_betas_zero_snr")? {
            c.rescale_betas_zero_snr = b;
        }
        if let Some(true) = boolean("thresholding")? {
            return Err("thresholding = true is not supported".into());
        }
        Ok(c)
    }
}

/// `text` with the bare tokens `NaN`, `Infinity` and `-Infinity` outside strings quoted, so
/// that a JSON parser reads the files Python's `json.dumps` writes.
fn quote_nonfinite(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if let Some(token) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            out.push('"');
            out.push_str(token);
            out.push('"');
            rest = &rest[token.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sd1_config_and_rejects_nonsense() {
        let sd1 = r#"{"_class_name": "DDIMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
            "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
            "prediction_type": "epsilon", "set_alpha_to_one": false, "steps_offset": 1, "thresholding": false,
            "timestep_spacing": "leading", "trained_betas": null}"#;
        let c = SchedulerConfig::from_json(sd1).unwrap();
        assert_eq!(c.beta_schedule, BetaSchedule::ScaledLinear);
        assert_eq!(c.steps_offset, 1);
        assert!(!c.set_alpha_to_one && !c.clip_sample);
        assert!(SchedulerConfig::from_json(r#"{"beta_schedule": "sigmoid"}"#).is_err());
        assert!(SchedulerConfig::from_json(r#"{"steps_offset": -1}"#).is_err());
        assert!(SchedulerConfig::from_json("[1]").is_err());
        for (bad, field) in [
            (
                r#"{"num_train_timesteps": 18446744073709551615}"#,
                "num_train_timesteps",
            ),
            (r#"{"num_train_timesteps": 1e9}"#, "num_train_timesteps"),
            (r#"{"num_train_timesteps": 0}"#, "num_train_timesteps"),
            (r#"{"trained_betas": "x"}"#, "trained_betas"),
            (
                r#"{"num_train_timesteps": 2, "trained_betas": [0.1, "a"]}"#,
                "trained_betas[1]",
            ),
            (
                r#"{"num_train_timesteps": 2, "trained_betas": [0.1]}"#,
                "trained_betas",
            ),
            (r#"{"beta_end": 2.0}"#, "beta_end"),
            (r#"{"beta_start": -1}"#, "beta_start"),
            (r#"{"steps_offset": 1000}"#, "steps_offset"),
            (r#"{"clip_sample_range": 0}"#, "clip_sample_range"),
        ] {
            let e = SchedulerConfig::from_json(bad).unwrap_err();
            assert!(e.contains(field), "{bad}: {e}");
        }
        let c = SchedulerConfig::from_json(
            r#"{"num_train_timesteps": 3, "trained_betas": [0.1, 0.2, 0.3]}"#,
        )
        .unwrap();
        assert_eq!(c.trained_betas, Some(vec![0.1, 0.2, 0.3]));
        let empty = SchedulerConfig::from_json("{}").unwrap();
        assert_eq!(empty.defaulted.len(), TYPED_KEYS.len());
        assert_eq!(
            SchedulerConfig {
                defaulted: Default::default(),
                ..empty
            },
            SchedulerConfig::default()
        );
        let c = SchedulerConfig::from_json(sd1).unwrap();
        assert_eq!(c.class_name.as_deref(), Some("DDIMScheduler"));
        assert!(c.defaulted.contains("trained_betas")); // null
        assert!(!c.defaulted.contains("steps_offset"));
        assert_eq!(c.options["thresholding"], ConfigValue::Bool(false));
        assert!(!c.options.contains_key("_class_name"));
        assert!(SchedulerConfig::from_json(r#"{"_class_name": 3}"#).is_err());
        // Python's json writes −∞ as -Infinity (DPM-Solver's lambda_min_clipped)
        let dpm = SchedulerConfig::from_json(
            r#"{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity,
                "note": "-Infinity \" NaN", "x": [NaN, Infinity]}"#,
        )
        .unwrap();
        assert_eq!(
            dpm.options["lambda_min_clipped"],
            ConfigValue::String("-Infinity".into())
        );
        assert_eq!(
            dpm.options["note"],
            ConfigValue::String("-Infinity \" NaN".into())
        );
        assert_eq!(
            dpm.options["x"],
            ConfigValue::List(vec![
                ConfigValue::String("NaN".into()),
                ConfigValue::String("Infinity".into())
            ])
        );
    }
}
