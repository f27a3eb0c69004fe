//! The scheduler references made with diffusers by `scripts/make_scheduler_fixtures.py`
//! (`crates/nao-sampling/tests/fixtures/schedulers/`): their manifest, configs and noise.

use std::path::PathBuf;

use nao_backend::{SchedulerConfig, Tensor};
use serde_json::Value;

/// The folder of the scheduler references.
pub fn dir() -> PathBuf {
    crate::workspace_root().join("crates/nao-sampling/tests/fixtures/schedulers")
}

fn json(file: &str) -> Value {
    let p = dir().join(file);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run scripts/make_scheduler_fixtures.py)",
            p.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `cases.json`: the manifest.
pub fn manifest() -> Value {
    json("cases.json")
}

/// `schedules.json`: timesteps, σs and `init_noise_sigma` per config, sampler and step count.
pub fn schedules() -> Vec<Value> {
    json("schedules.json")
        .as_array()
        .expect("schedules.json holds a list")
        .clone()
}

/// One reference run of `cases.json`.
#[derive(Debug, Clone)]
pub struct Case {
    /// `model` (a pipeline run on a real model) or `synthetic`.
    pub kind: String,
    /// For model runs: `tiny-sd1` or `sd2-v`.
    pub model: Option<String>,
    /// nao's name of the sampler (`euler`, `dpm++2m-karras`, …) or of the synthetic case.
    pub sampler: String,
    /// diffusers' class.
    pub class: String,
    /// The options given to `from_config`.
    pub options: Value,
    /// Changes to the model's config.
    pub config: Value,
    /// The guidance scale (model runs).
    pub guidance: f64,
    /// The reference latents.
    pub expected: Tensor,
}

/// The cases of `cases.json`, their references read.
pub fn cases() -> Vec<Case> {
    manifest()["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            kind: c["kind"].as_str().unwrap().to_string(),
            model: c["model"].as_str().map(str::to_string),
            sampler: c["sampler"].as_str().unwrap().to_string(),
            class: c["class"].as_str().unwrap().to_string(),
            options: c["options"].clone(),
            config: c["config"].clone(),
            guidance: c["guidance"].as_f64().unwrap_or(1.0),
            expected: crate::read_tensor(dir().join(c["file"].as_str().unwrap())),
        })
        .collect()
}

/// The steps of every reference run.
pub fn steps() -> usize {
    manifest()["steps"].as_u64().unwrap() as usize
}

/// The prompt of the runs on `model`.
pub fn prompt(model: &str) -> String {
    manifest()["prompts"][model].as_str().unwrap().to_string()
}

/// The tiny model's scheduler config with `changes` and `options` on top and `_class_name`
/// set to `class`, as the JSON text diffusers' `Class.from_config(config, **options)` would
/// have saved, parsed by nao.
pub fn config_with(base: &Value, class: &str, changes: &Value, options: &Value) -> SchedulerConfig {
    let mut c = base.as_object().expect("an object").clone();
    for extra in [changes, options] {
        if let Some(o) = extra.as_object() {
            for (k, v) in o {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    c.insert("_class_name".into(), Value::String(class.into()));
    SchedulerConfig::from_json(&Value::Object(c).to_string()).unwrap()
}

/// The config of a synthetic case (the tiny model's config, changed).
pub fn synthetic_config(case: &Case) -> SchedulerConfig {
    config_with(
        &manifest()["base_config"],
        &case.class,
        &case.config,
        &case.options,
    )
}

/// The noise Euler ancestral drew at each step of every reference run, one `[1, 4, 8, 8]`
/// tensor per step.
pub fn ancestral_noise() -> Vec<Tensor> {
    let all = crate::read_tensor(dir().join("euler-ancestral_noise.npy"));
    (0..all.shape[0])
        .map(|i| all.item(i).unwrap())
        .map(|t| Tensor {
            shape: t.shape[1..].to_vec(),
            data: t.data,
        })
        .collect()
}
