//! Real Stable Diffusion UNets exceed protobuf's 2 GiB limit, so their exports keep the weights
//! in an external data file beside `model.onnx` (`model.onnx_data`). The fixture's UNet is
//! rewritten here into that layout (a minimal protobuf rewrite: each initializer's `raw_data`
//! moves to the data file and is replaced by `external_data` location/offset/length entries)
//! and must give the same outputs; without its data file the error names the model.

mod common;

use std::path::Path;

use common::{onnx_dir, reference};
use nao_backend::Backend;
use nao_onnx::{OnnxBackend, OnnxOptions};
use nao_test_support::{max_abs_diff, ort_library};

/// One protobuf field: number, wire type and payload (the varint value, or the raw bytes).
enum Field {
    Varint(u64, u64),
    Bytes(u64, Vec<u8>),
    Fixed(u64, u8, Vec<u8>),
}

fn read_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        value |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn parse(buf: &[u8]) -> Vec<Field> {
    let mut pos = 0;
    let mut fields = Vec::new();
    while pos < buf.len() {
        let key = read_varint(buf, &mut pos);
        let (number, wire) = (key >> 3, (key & 7) as u8);
        fields.push(match wire {
            0 => Field::Varint(number, read_varint(buf, &mut pos)),
            2 => {
                let len = read_varint(buf, &mut pos) as usize;
                pos += len;
                Field::Bytes(number, buf[pos - len..pos].to_vec())
            }
            1 | 5 => {
                let len = if wire == 1 { 8 } else { 4 };
                pos += len;
                Field::Fixed(number, wire, buf[pos - len..pos].to_vec())
            }
            w => panic!("unexpected wire type {w}"),
        });
    }
    fields
}

fn encode(fields: &[Field]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        match f {
            Field::Varint(n, v) => {
                write_varint(&mut out, n << 3);
                write_varint(&mut out, *v);
            }
            Field::Bytes(n, b) => {
                write_varint(&mut out, (n << 3) | 2);
                write_varint(&mut out, b.len() as u64);
                out.extend_from_slice(b);
            }
            Field::Fixed(n, w, b) => {
                write_varint(&mut out, (n << 3) | u64::from(*w));
                out.extend_from_slice(b);
            }
        }
    }
    out
}

/// `StringStringEntryProto { key = 1, value = 2 }`.
fn entry(key: &str, value: &str) -> Field {
    Field::Bytes(
        13,
        encode(&[
            Field::Bytes(1, key.as_bytes().to_vec()),
            Field::Bytes(2, value.as_bytes().to_vec()),
        ]),
    )
}

/// Move every initializer's `raw_data` (TensorProto field 9) of at least `min_bytes` into
/// `data_name` beside the model; returns (new model bytes, data bytes, tensors moved).
fn externalize(model: &[u8], data_name: &str, min_bytes: usize) -> (Vec<u8>, Vec<u8>, usize) {
    let mut data = Vec::new();
    let mut moved = 0;
    let mut model_fields = parse(model);
    for f in &mut model_fields {
        // ModelProto.graph = 7
        let Field::Bytes(7, graph) = f else { continue };
        let mut graph_fields = parse(graph);
        for g in &mut graph_fields {
            // GraphProto.initializer = 5
            let Field::Bytes(5, tensor) = g else { continue };
            let fields = parse(tensor);
            let raw = fields.iter().find_map(|t| match t {
                Field::Bytes(9, raw) if raw.len() >= min_bytes => Some(raw.clone()),
                _ => None,
            });
            let Some(raw) = raw else { continue };
            while data.len() % 64 != 0 {
                data.push(0);
            }
            let offset = data.len();
            data.extend_from_slice(&raw);
            let mut kept: Vec<Field> = fields
                .into_iter()
                .filter(|t| !matches!(t, Field::Bytes(9, _)))
                .collect();
            kept.push(entry("location", data_name));
            kept.push(entry("offset", &offset.to_string()));
            kept.push(entry("length", &raw.len().to_string()));
            kept.push(Field::Varint(14, 1)); // data_location = EXTERNAL
            *tensor = encode(&kept);
            moved += 1;
        }
        *graph = encode(&graph_fields);
    }
    (encode(&model_fields), data, moved)
}

fn copy_fixture(to: &Path) {
    let from = onnx_dir();
    // the VAE config in the diffusers place (`vae/`): no VAE model folder at all
    for (src, dest) in [
        ("unet/config.json", "unet/config.json"),
        ("unet/model.onnx", "unet/model.onnx"),
        ("vae_decoder/config.json", "vae/config.json"),
        (
            "scheduler/scheduler_config.json",
            "scheduler/scheduler_config.json",
        ),
    ] {
        let dest = to.join(dest);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(src), dest).unwrap();
    }
}

#[test]
fn a_unet_with_external_weights_loads_and_matches() {
    let options = OnnxOptions::default()
        .with_threads(1)
        .with_library_path(ort_library());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("external");
    copy_fixture(&dir);
    let unet = dir.join("unet/model.onnx");
    let original = std::fs::read(&unet).unwrap();
    let (model, data, moved) = externalize(&original, "model.onnx_data", 1024);
    assert!(moved > 10, "only {moved} initializers moved");
    assert!(
        model.len() < original.len() / 4,
        "{} → {}",
        original.len(),
        model.len()
    );
    std::fs::write(&unet, &model).unwrap();
    std::fs::write(dir.join("unet/model.onnx_data"), &data).unwrap();

    // a folder with only the UNet (and the configs) loads for noise prediction
    let backend = OnnxBackend::load(&dir, &options).unwrap();
    let caps = backend.capabilities();
    assert!(!caps.text_encoder && !caps.vae_encoder && !caps.vae_decoder);
    let out = backend
        .predict_noise(
            &reference("initial_latents.npy"),
            &[500],
            &reference("text_embeddings.npy").item(0).unwrap(),
        )
        .unwrap();
    let err = max_abs_diff(&out, &reference("unet_t500_prompt0.npy"));
    assert!(err <= 1e-5, "UNet with external data differs by {err}");
    drop(backend);

    // without its data file the model does not load, and the error names it
    std::fs::remove_file(dir.join("unet/model.onnx_data")).unwrap();
    let e = OnnxBackend::load(&dir, &options).unwrap_err().to_string();
    assert!(
        e.contains("unet/model.onnx") && e.contains("model.onnx_data"),
        "{e}"
    );
    eprintln!("without model.onnx_data: {e}");
}
