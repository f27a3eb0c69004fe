//! `OUT_DIR/run.json`: the configuration of a dataset (every option that changes its images),
//! the model's identity and the tool version. Every process that writes into the output folder
//! compares its own configuration with this file first, and refuses to mix datasets, naming
//! the fields that differ.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AugmentError, Result};

/// The `format` of run.json files this version writes and reads.
pub const FORMAT: &str = "nao-augment/1";

/// The file name in the output folder.
pub const RUN_FILE: &str = "run.json";

/// The configuration: what decides the dataset's images. What only decides how or where the
/// work runs (the device, threads, the shard) is not part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The classes (the real images' class folders), in output order.
    pub classes: Vec<String>,
    /// A fingerprint of the real images (names and contents).
    pub real_images: String,
    /// The prompt template.
    pub prompt_template: String,
    /// The negative prompt.
    pub negative_prompt: String,
    /// The seed method.
    pub method: String,
    /// Images per class.
    pub per_class: usize,
    /// Points per path.
    pub path_positions: usize,
    /// Steps (inversion and sampling).
    pub steps: usize,
    /// The sampler (`euler`, `dpm++2m-karras`, …) when not the model's own scheduler; absent
    /// from datasets made with the model's own, as from those made before samplers could be
    /// chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    /// Guidance scale of sampling (inversion runs without guidance).
    pub guidance: f64,
    /// The jitter of repeated rounds.
    pub jitter: f64,
    /// The seed of the per-image random numbers.
    pub seed: u64,
    /// How real images are resized.
    pub resize: String,
    /// Whether unreadable real images are left out.
    pub skip_bad_images: bool,
    /// Real images inverted per class (absent: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shots: Option<usize>,
    /// Where the seeds come from (absent: `centroid-paths`, the only source before there was a
    /// choice, so older datasets keep their configuration).
    #[serde(default = "default_source", skip_serializing_if = "is_default_source")]
    pub source: String,
    /// How real images are inverted (absent: `ddim`, the only method before there was a
    /// choice, so older datasets keep their configuration).
    #[serde(
        default = "default_inversion",
        skip_serializing_if = "is_default_inversion"
    )]
    pub inversion: String,
    /// The refinement of each seed before sampling (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<String>,
    /// The model's identity (`nao_models::ModelSource::identity`).
    pub model_identity: String,
    /// The precision the model computes in.
    pub dtype: String,
    /// The weight-file variant.
    pub variant: Option<String>,
    /// The nao version that made the images.
    pub tool_version: String,
}

impl Config {
    /// Refuse counts no dataset of this version has: a run.json edited or damaged into a
    /// number that would size the work (`run_file` is named in the error).
    pub fn check(&self, run_file: &Path) -> Result<()> {
        use crate::spec::{MAX_IMAGES, MAX_PATH_POSITIONS, MAX_PER_CLASS, MAX_STEPS};
        let bad = |field: &str, value: usize, limit: usize| {
            AugmentError::input(format!(
                "{}: {field} is {value}, more than any dataset has (at most {limit}); the file \
                 is damaged",
                run_file.display()
            ))
        };
        if self.per_class == 0 || self.per_class > MAX_PER_CLASS {
            return Err(bad("per_class", self.per_class, MAX_PER_CLASS));
        }
        let images = self.classes.len().saturating_mul(self.per_class);
        if images > MAX_IMAGES {
            return Err(bad("classes × per_class", images, MAX_IMAGES));
        }
        if self.path_positions > MAX_PATH_POSITIONS {
            return Err(bad(
                "path_positions",
                self.path_positions,
                MAX_PATH_POSITIONS,
            ));
        }
        if self.steps > MAX_STEPS {
            return Err(bad("steps", self.steps, MAX_STEPS));
        }
        Ok(())
    }
}

fn default_inversion() -> String {
    nao_inversion::InversionMethod::Ddim.name()
}

fn is_default_inversion(s: &str) -> bool {
    s == default_inversion()
}

fn default_source() -> String {
    crate::SourceMix::default().to_string()
}

fn is_default_source(s: &str) -> bool {
    s == default_source()
}

/// The command-line option of each configuration field, for error messages.
fn option_of(field: &str) -> &'static str {
    match field {
        "classes" => "REAL_DIR's class folders",
        "real_images" => "REAL_DIR's images",
        "prompt_template" => "--prompt-template",
        "negative_prompt" => "--negative-prompt",
        "method" => "--method",
        "per_class" => "--per-class",
        "path_positions" => "--path-positions",
        "steps" => "--steps",
        "scheduler" => "--scheduler",
        "guidance" => "--guidance",
        "jitter" => "--jitter",
        "seed" => "--seed",
        "resize" => "--resize",
        "skip_bad_images" => "--skip-bad-images",
        "shots" => "--shots",
        "source" => "--source",
        "inversion" => "--inversion",
        "refine" => "--refine and its options",
        "model_identity" => "--model (its files)",
        "dtype" => "--dtype",
        "variant" => "--variant",
        "tool_version" => "the nao version",
        _ => "",
    }
}

/// What run.json holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// [`FORMAT`].
    pub format: String,
    /// What decides the images.
    pub config: Config,
    /// The model as given (`embedded` or its folder) and what kind of model it is; for people.
    pub model: ModelRecord,
    /// The real images' folder as given by the process that wrote the file; for people.
    pub real_dir: String,
    /// The SHA-256 of each class's seeds files, recorded when they were written: a resume or a
    /// merge refuses seeds that changed since (the images were made from the recorded ones).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seeds: BTreeMap<String, SeedsHash>,
}

/// The hashes of one class's seeds files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedsHash {
    /// `seeds/<class>.json`.
    pub json: String,
    /// `seeds/<class>.npy` (absent for prompt-only, which has no points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npy: Option<String>,
    /// `seeds/<class>.inverted.npy` (absent for prompt-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverted: Option<String>,
}

/// The model, for people (its identity is in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// `embedded` or the folder.
    pub name: String,
    /// What the folder holds.
    pub kind: String,
}

/// Read `OUT_DIR/run.json` if it exists.
pub fn read_run_file(out_dir: &Path) -> Result<Option<RunFile>> {
    let path = out_dir.join(RUN_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let text = nao_fs::input::read_text_limited(&path, 64 << 20)?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| AugmentError::input(format!("{}: not a JSON file: {e}", path.display())))?;
    let format = value.get("format").and_then(Value::as_str).unwrap_or("");
    if format != FORMAT {
        return Err(AugmentError::input(format!(
            "{}: format '{format}', this nao reads '{FORMAT}'; write into another OUT_DIR",
            path.display()
        )));
    }
    let run: RunFile = serde_json::from_value(value).map_err(|e| {
        AugmentError::input(format!(
            "{}: not a nao augment run file: {e}",
            path.display()
        ))
    })?;
    run.config.check(&path)?;
    Ok(Some(run))
}

/// The fields in which `now` differs from `recorded`, one line each with both values.
pub fn differences(recorded: &Config, now: &Config) -> Vec<String> {
    // the fields left out of run.json when they hold their defaults, compared as those
    let filled = |c: &Config| {
        serde_json::to_value(c).map(|mut v| {
            if let Value::Object(map) = &mut v {
                map.entry("source")
                    .or_insert(Value::String(default_source()));
                map.entry("inversion")
                    .or_insert(Value::String(default_inversion()));
            }
            v
        })
    };
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (filled(recorded), filled(now)) else {
        return vec!["the configuration cannot be compared".into()];
    };
    let mut out = Vec::new();
    // both sides' fields: an optional field (scheduler) is absent from either when unset
    let mut fields: Vec<&String> = new.keys().chain(old.keys()).collect();
    fields.sort();
    fields.dedup();
    for field in fields {
        let old_value = old.get(field).unwrap_or(&Value::Null);
        let new_value = new.get(field).unwrap_or(&Value::Null);
        if old_value != new_value {
            out.push(format!(
                "{field} ({}): {} in run.json, {} now",
                option_of(field),
                short(old_value),
                short(new_value)
            ));
        }
    }
    out
}

/// A value for an error message: long lists are cut.
fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 120 {
        let cut: String = text.chars().take(117).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Refuse `now` when run.json recorded another configuration.
pub fn check_same(out_dir: &Path, recorded: &Config, now: &Config) -> Result<()> {
    let diff = differences(recorded, now);
    if diff.is_empty() {
        return Ok(());
    }
    Err(AugmentError::input(format!(
        "{} holds a dataset made with another configuration; nothing was written. It differs \
         in {} field(s):\n  {}\nRun the same command as before to resume it, or give another \
         -o/--output for a new dataset.",
        out_dir.display(),
        diff.len(),
        diff.join("\n  ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            classes: vec!["bag".into(), "sneaker".into()],
            real_images: "sha256:00".into(),
            prompt_template: "{class}".into(),
            negative_prompt: String::new(),
            method: "nao".into(),
            per_class: 10,
            path_positions: 3,
            steps: 50,
            scheduler: None,
            guidance: 1.0,
            jitter: 0.1,
            seed: 0,
            resize: "center-crop".into(),
            skip_bad_images: false,
            shots: None,
            source: default_source(),
            inversion: default_inversion(),
            refine: None,
            model_identity: "sha256:11".into(),
            dtype: "f32".into(),
            variant: None,
            tool_version: "0.1.0".into(),
        }
    }

    #[test]
    fn differences_name_the_fields_and_options() {
        let a = config();
        assert!(differences(&a, &a).is_empty());
        let mut b = a.clone();
        b.per_class = 20;
        b.method = "euclidean".into();
        b.variant = Some("fp16".into());
        let d = differences(&a, &b);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d
            .iter()
            .any(|l| l == "per_class (--per-class): 10 in run.json, 20 now"));
        assert!(d
            .iter()
            .any(|l| l == "method (--method): \"nao\" in run.json, \"euclidean\" now"));
        assert!(d.iter().any(|l| l.starts_with("variant (--variant): null")));
        let e = check_same(Path::new("out"), &a, &b)
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 field(s)") && e.contains("--per-class"), "{e}");
        // another sampler is another dataset, whichever side names it
        let mut euler = a.clone();
        euler.scheduler = Some("euler".into());
        for (x, y) in [(&a, &euler), (&euler, &a)] {
            let d = differences(x, y);
            assert_eq!(d.len(), 1, "{d:?}");
            assert!(d[0].starts_with("scheduler (--scheduler)"), "{d:?}");
        }
        // run.json files without the field (the model's own scheduler) still read
        let mut value = serde_json::to_value(&a).unwrap();
        value.as_object_mut().unwrap().remove("scheduler");
        assert_eq!(serde_json::from_value::<Config>(value).unwrap(), a);
    }

    #[test]
    fn run_files_round_trip_and_other_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_run_file(dir.path()).unwrap().is_none());
        let run = RunFile {
            format: FORMAT.into(),
            config: config(),
            model: ModelRecord {
                name: "embedded".into(),
                kind: "the embedded model".into(),
            },
            real_dir: "real".into(),
            seeds: BTreeMap::from([(
                "bag".to_string(),
                SeedsHash {
                    json: "00".into(),
                    npy: None,
                    inverted: None,
                },
            )]),
        };
        std::fs::write(
            dir.path().join(RUN_FILE),
            serde_json::to_string_pretty(&run).unwrap(),
        )
        .unwrap();
        assert_eq!(read_run_file(dir.path()).unwrap(), Some(run));
        std::fs::write(dir.path().join(RUN_FILE), r#"{"format": "other/9"}"#).unwrap();
        let e = read_run_file(dir.path()).unwrap_err().to_string();
        assert!(e.contains("other/9"), "{e}");
    }
}
