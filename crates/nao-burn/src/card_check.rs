//! Checking weights against their model card before anything is built: the safetensors files
//! must hold exactly the tensors (names and shapes) the card implies (the card's own sizes are
//! bounded when it is read, in [`crate::weights`]).
//!
//! A hostile or careless `model.json` (`"blocks": 18446744073709551615`, a width of 10⁹) is
//! refused with the field and its value, and weights that do not fit the card are refused from
//! their headers alone — the networks are only built once both agree.

use std::collections::BTreeMap;

use safetensors::SafeTensors;

use crate::classes::NUM_CLASSES;
use crate::error::BurnModelError;
use crate::weights::{ModelCard, LATENT_SIDE};

type Shapes = BTreeMap<String, Vec<usize>>;

fn linear(out: &mut Shapes, name: &str, inputs: usize, outputs: usize) {
    out.insert(format!("{name}.weight"), vec![inputs, outputs]);
    out.insert(format!("{name}.bias"), vec![outputs]);
}

fn conv(out: &mut Shapes, name: &str, inputs: usize, outputs: usize) {
    out.insert(format!("{name}.weight"), vec![outputs, inputs, 3, 3]);
    out.insert(format!("{name}.bias"), vec![outputs]);
}

fn norm(out: &mut Shapes, name: &str, width: usize) {
    out.insert(format!("{name}.gamma"), vec![width]);
    out.insert(format!("{name}.beta"), vec![width]);
}

/// The tensors of the three networks a (size-checked) card describes, by file.
pub(crate) fn expected_tensors(card: &ModelCard) -> [Shapes; 3] {
    let (b, c) = (
        card.autoencoder.base_channels,
        card.autoencoder.latent_channels,
    );
    let mut ae = Shapes::new();
    conv(&mut ae, "enc_in", 1, b);
    conv(&mut ae, "enc_down1", b, 2 * b);
    conv(&mut ae, "enc_down2", 2 * b, 4 * b);
    conv(&mut ae, "enc_mid", 4 * b, 4 * b);
    conv(&mut ae, "enc_out", 4 * b, 2 * c); // mean and log-variance
    conv(&mut ae, "dec_in", c, 4 * b);
    conv(&mut ae, "dec_mid", 4 * b, 4 * b);
    conv(&mut ae, "dec_up1", 4 * b, 2 * b);
    conv(&mut ae, "dec_up2", 2 * b, b);
    conv(&mut ae, "dec_out", b, 1);

    let dn_cfg = &card.denoiser;
    let (h, l) = (dn_cfg.hidden, dn_cfg.latent_dim);
    let mut dn = Shapes::new();
    linear(&mut dn, "input", l, h);
    linear(&mut dn, "time1", dn_cfg.time_features, h);
    linear(&mut dn, "time2", h, h);
    dn.insert("class_embedding.weight".into(), vec![NUM_CLASSES + 1, h]);
    for i in 0..dn_cfg.blocks {
        norm(&mut dn, &format!("blocks.{i}.norm"), h);
        for layer in ["fc1", "emb", "fc2"] {
            linear(&mut dn, &format!("blocks.{i}.{layer}"), h, h);
        }
    }
    norm(&mut dn, "out_norm", h);
    linear(&mut dn, "output", h, l);

    let (ch, hid) = (card.classifier.channels, card.classifier.hidden);
    let mut cls = Shapes::new();
    conv(&mut cls, "conv1", 1, ch);
    conv(&mut cls, "conv2", ch, 2 * ch);
    linear(&mut cls, "fc1", 2 * ch * LATENT_SIDE * LATENT_SIDE, hid);
    linear(&mut cls, "fc2", hid, NUM_CLASSES);
    [ae, dn, cls]
}

/// Check a safetensors file's header against the tensors the card implies: the same names,
/// the same shapes. Only the header is parsed (its length is checked against the bytes by the
/// safetensors crate); nothing is built.
pub(crate) fn check_weights(
    bytes: &[u8],
    expected: &Shapes,
    origin: &str,
) -> Result<(), BurnModelError> {
    let err = |message: String| BurnModelError::format(origin, message);
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| err(format!("not a valid safetensors file: {e}")))?;
    let found: Shapes = metadata
        .tensors()
        .into_iter()
        .map(|(name, info)| (name, info.shape.clone()))
        .collect();
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !found.contains_key(*k))
        .collect();
    if let Some(first) = missing.first() {
        return Err(err(format!(
            "tensor {first} (and {} more) that model.json implies is missing: the weights do \
             not fit the card",
            missing.len() - 1
        )));
    }
    let extra: Vec<&String> = found
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    if let Some(first) = extra.first() {
        return Err(err(format!(
            "tensor {first} (and {} more) is not part of the network model.json describes",
            extra.len() - 1
        )));
    }
    for (name, shape) in expected {
        if &found[name] != shape {
            return Err(err(format!(
                "tensor {name} has shape {:?} but model.json implies {shape:?}",
                found[name]
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ModelCard {
        ModelCard::from_json(include_str!("../weights/model.json"), "model.json").unwrap()
    }

    #[test]
    fn the_embedded_weights_fit_their_card() {
        let names = ["autoencoder", "denoiser", "classifier"];
        let files: [&[u8]; 3] = [
            include_bytes!("../weights/autoencoder.safetensors"),
            include_bytes!("../weights/denoiser.safetensors"),
            include_bytes!("../weights/classifier.safetensors"),
        ];
        for ((name, bytes), shapes) in names.iter().zip(files).zip(expected_tensors(&card())) {
            check_weights(bytes, &shapes, name).unwrap();
        }
    }

    #[test]
    fn a_card_that_disagrees_with_the_weights_is_refused_before_building() {
        let mut c = card();
        c.denoiser.blocks = 4;
        let dn = include_bytes!("../weights/denoiser.safetensors");
        let e = check_weights(dn, &expected_tensors(&c)[1], "dn").unwrap_err();
        assert!(e.to_string().contains("blocks.3."), "{e}");
        c.denoiser.blocks = 2;
        let e = check_weights(dn, &expected_tensors(&c)[1], "dn").unwrap_err();
        assert!(e.to_string().contains("blocks.2."), "{e}");
        let mut c = card();
        c.denoiser.hidden = 256;
        let e = check_weights(dn, &expected_tensors(&c)[1], "dn").unwrap_err();
        assert!(
            e.to_string().contains("[512]") || e.to_string().contains("512"),
            "{e}"
        );
        let e = check_weights(b"\x08\0\0\0\0\0\0\0{}", &expected_tensors(&card())[1], "x");
        assert!(e.is_err());
    }

    #[test]
    fn sizes_out_of_bounds_name_the_field_and_value() {
        for (field, value) in [
            ("blocks", "18446744073709551615"),
            ("hidden", "0"),
            ("time_features", "100000"),
        ] {
            let text = include_str!("../weights/model.json").replace(
                &format!("\"{field}\": "),
                &format!("\"{field}\": {value}, \"_was\": "),
            );
            let e = ModelCard::from_json(&text, "model.json")
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("denoiser.{field} is {value}")), "{e}");
        }
    }
}
