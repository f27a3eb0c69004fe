//! Property-based fuzzing of the diffusers config readers (UNet, VAE, CLIP text encoder): the
//! fixture's configs with one field set to an arbitrary value, arbitrary JSON and mutated text
//! never panic. (The safetensors header path is fuzzed by `weights.rs`'s unit tests.)

use std::path::Path;

use nao_sd::config::{ClipConfig, UnetConfig, VaeConfig};
use nao_test_support::fuzz::{json_value, mutated_bytes, with_one_field_changed};
use proptest::prelude::*;

fn config(component: &str) -> String {
    let p = nao_test_support::shared(format!(
        "fixtures/tiny-sd1/diffusers/{component}/config.json"
    ));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn all_readers(text: &str) {
    let p = Path::new("config.json");
    let _ = UnetConfig::from_json(text, p);
    let _ = VaeConfig::from_json(text, p);
    let _ = ClipConfig::from_json(text, p);
}

proptest! {
    #[test]
    fn unet_config_one_field_changed(
        v in with_one_field_changed(serde_json::from_str(&config("unet")).unwrap())
    ) {
        all_readers(&v.to_string());
    }

    #[test]
    fn vae_config_one_field_changed(
        v in with_one_field_changed(serde_json::from_str(&config("vae")).unwrap())
    ) {
        all_readers(&v.to_string());
    }

    #[test]
    fn clip_config_one_field_changed(
        v in with_one_field_changed(serde_json::from_str(&config("text_encoder")).unwrap())
    ) {
        all_readers(&v.to_string());
    }

    #[test]
    fn arbitrary_json(v in json_value(3)) {
        all_readers(&v.to_string());
    }

    #[test]
    fn mutated_unet_text(bytes in mutated_bytes(config("unet").into_bytes())) {
        all_readers(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn the_fixture_configs_read() {
    let p = Path::new("config.json");
    UnetConfig::from_json(&config("unet"), p).unwrap();
    VaeConfig::from_json(&config("vae"), p).unwrap();
    ClipConfig::from_json(&config("text_encoder"), p).unwrap();
}
