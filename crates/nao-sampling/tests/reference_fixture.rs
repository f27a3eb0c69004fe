//! Scheduler conformance against diffusers' own numbers for the tiny SD 1.x fixture
//! (`shared/fixtures/tiny-sd1/reference/reference.json`, written by diffusers 0.42.1).

use std::path::PathBuf;

use nao_backend::SchedulerConfig;
use nao_sampling::{DdimInverseScheduler, DdimScheduler};
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    nao_test_support::shared(format!("fixtures/tiny-sd1/{rel}"))
}

fn config() -> SchedulerConfig {
    SchedulerConfig::from_file(&fixture("onnx/scheduler/scheduler_config.json")).unwrap()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(fixture("reference/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_i64().expect("an integer"))
        .collect()
}

#[test]
fn alphas_cumprod_match_diffusers_bit_for_bit() {
    let s = DdimScheduler::new(config()).unwrap();
    let r = reference();
    let expected = r["alphas_cumprod_0_1_500_999"].as_array().unwrap();
    for (&t, e) in [0usize, 1, 500, 999].iter().zip(expected) {
        let e = e.as_f64().unwrap();
        // diffusers' float32 values, reproduced exactly (torch f32 linspace, f64 cumprod). The
        // comparison is in f32: serde_json's default float parsing may be 1 f64 ulp off.
        let ours = s.alphas_cumprod()[t];
        assert_eq!(ours as f32, e as f32, "alphas_cumprod[{t}]");
        assert_eq!(
            ours, ours as f32 as f64,
            "stored values are diffusers' f32 values"
        );
    }
    // set_alpha_to_one = false: the last step lands on ᾱ₀.
    assert_eq!(s.final_alpha_cumprod(), s.alphas_cumprod()[0]);
    let inv = DdimInverseScheduler::new(config()).unwrap();
    assert_eq!(inv.alphas_cumprod(), s.alphas_cumprod());
    assert_eq!(inv.initial_alpha_cumprod(), s.alphas_cumprod()[0]);
}

#[test]
fn timesteps_for_10_and_50_steps_match_diffusers() {
    let r = reference();
    let mut s = DdimScheduler::new(config()).unwrap();
    assert_eq!(
        s.set_timesteps(10).unwrap(),
        ints(&r["timesteps_10"]).as_slice()
    );
    assert_eq!(
        s.set_timesteps(50).unwrap(),
        ints(&r["timesteps_50"]).as_slice()
    );
}

#[test]
fn inverse_timesteps_for_10_steps_match_diffusers() {
    let r = reference();
    let mut s = DdimInverseScheduler::new(config()).unwrap();
    assert_eq!(
        s.set_timesteps(10).unwrap(),
        ints(&r["inverse_timesteps_10"]).as_slice()
    );
    // The first inversion step starts from ᾱ₀ (set_alpha_to_one = false), the others from t − 100.
    assert_eq!(s.source_timestep(1).unwrap(), -99);
    assert_eq!(s.source_timestep(901).unwrap(), 801);
}
