//! Property-based fuzzing of the model card (`model.json`): arbitrary values in every field,
//! arbitrary JSON and mutated text never panic; an accepted card has every size within
//! `CARD_BOUNDS`, and a card written and read back is the same card.

use nao_burn::{ModelCard, CARD_BOUNDS};
use nao_test_support::fuzz::{json_value, mutated_bytes, with_one_field_changed};
use proptest::prelude::*;

const CARD: &str = include_str!("../weights/model.json");

fn sizes(c: &ModelCard) -> [usize; 8] {
    [
        c.autoencoder.base_channels,
        c.autoencoder.latent_channels,
        c.denoiser.latent_dim,
        c.denoiser.hidden,
        c.denoiser.blocks,
        c.denoiser.time_features,
        c.classifier.channels,
        c.classifier.hidden,
    ]
}

proptest! {
    #[test]
    fn one_field_changed(v in with_one_field_changed(serde_json::from_str(CARD).unwrap())) {
        if let Ok(card) = ModelCard::from_json(&v.to_string(), "model.json") {
            for ((field, lo, hi), size) in CARD_BOUNDS.iter().zip(sizes(&card)) {
                prop_assert!((*lo..=*hi).contains(&size), "{field} = {size}");
            }
            let back = ModelCard::from_json(&serde_json::to_string(&card).unwrap(), "back")
                .unwrap();
            prop_assert_eq!(back, card);
        }
    }

    #[test]
    fn arbitrary_json(v in json_value(3)) {
        let _ = ModelCard::from_json(&v.to_string(), "model.json");
    }

    #[test]
    fn mutated_text(bytes in mutated_bytes(CARD.as_bytes().to_vec())) {
        let _ = ModelCard::from_json(&String::from_utf8_lossy(&bytes), "model.json");
    }
}
