//! Property-based fuzzing of the scheduler config reader: configs with the real keys and
//! arbitrary values, arbitrary JSON, and mutated copies of a real config never panic, and
//! whatever is accepted lies within the documented bounds. Case counts follow `PROPTEST_CASES`.

use nao_backend::{SchedulerConfig, MAX_TRAIN_TIMESTEPS};
use nao_test_support::fuzz::{config_object, json_value, mutated_bytes, with_one_field_changed};
use proptest::prelude::*;

const KEYS: &[&str] = &[
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

fn real() -> String {
    std::fs::read_to_string(nao_test_support::shared(
        "fixtures/tiny-sd1/onnx/scheduler/scheduler_config.json",
    ))
    .expect("the fixture's scheduler config")
}

fn check_accepted(c: &SchedulerConfig) -> Result<(), TestCaseError> {
    prop_assert!((1..=MAX_TRAIN_TIMESTEPS).contains(&c.num_train_timesteps));
    prop_assert!(c.steps_offset < c.num_train_timesteps);
    if let Some(b) = &c.trained_betas {
        prop_assert_eq!(b.len(), c.num_train_timesteps);
        prop_assert!(b.iter().all(|x| x.is_finite()));
    }
    Ok(())
}

proptest! {
    #[test]
    fn configs_with_arbitrary_values(v in config_object(KEYS)) {
        if let Ok(c) = SchedulerConfig::from_json(&v.to_string()) {
            check_accepted(&c)?;
        }
    }

    #[test]
    fn a_real_config_with_one_field_changed(
        v in with_one_field_changed(serde_json::from_str(&real()).unwrap())
    ) {
        if let Ok(c) = SchedulerConfig::from_json(&v.to_string()) {
            check_accepted(&c)?;
        }
    }

    #[test]
    fn arbitrary_json(v in json_value(3)) {
        let _ = SchedulerConfig::from_json(&v.to_string());
    }

    #[test]
    fn mutated_text(bytes in mutated_bytes(real().into_bytes())) {
        let _ = SchedulerConfig::from_json(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn the_real_config_reads() {
    let c = SchedulerConfig::from_json(&real()).unwrap();
    assert_eq!(c.num_train_timesteps, 1000);
}
