//! The public building blocks (`clip::ClipTextModel`, `unet::Unet`, `vae::Vae`), each loaded
//! from its component folder alone, against the outputs diffusers computed on the shared tiny
//! SD 1.x fixture and against the same parts inside a loaded `StableDiffusion`.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use burn::tensor::{DType, Tensor as Burn, TensorData};
use common::{assert_abs, assert_close, copy_dir, device, load, own, tiny_sd1};
use common::{own_reference, tiny_sd1_reference as reference};
use nao_backend::{Backend, Precision, Tensor};
use nao_sd::clip::ClipTextModel;
use nao_sd::unet::Unet;
use nao_sd::vae::Vae;
use nao_sd::{SdError, SdOptions, StableDiffusion};

fn model() -> &'static StableDiffusion {
    static MODEL: OnceLock<StableDiffusion> = OnceLock::new();
    MODEL.get_or_init(|| load(&tiny_sd1(), &SdOptions::default()))
}

fn text_encoder() -> &'static ClipTextModel {
    static PART: OnceLock<ClipTextModel> = OnceLock::new();
    PART.get_or_init(|| {
        ClipTextModel::load(
            tiny_sd1().join("text_encoder"),
            &device(),
            &Default::default(),
        )
        .unwrap()
    })
}

fn unet() -> &'static Unet {
    static PART: OnceLock<Unet> = OnceLock::new();
    PART.get_or_init(|| {
        Unet::load(tiny_sd1().join("unet"), &device(), &Default::default()).unwrap()
    })
}

fn vae() -> &'static Vae {
    static PART: OnceLock<Vae> = OnceLock::new();
    PART.get_or_init(|| Vae::load(tiny_sd1().join("vae"), &device(), &Default::default()).unwrap())
}

/// A host tensor on the CPU device, f32.
fn upload<const D: usize>(t: &Tensor) -> Burn<D> {
    let shape: [usize; D] = t.shape.clone().try_into().unwrap();
    Burn::from_data(TensorData::new(t.data.clone(), shape), &device())
}

/// A burn tensor on the host, as f32.
fn download<const D: usize>(t: Burn<D>) -> Tensor {
    let shape = t.dims().to_vec();
    let data = t.cast(DType::F32).into_data().try_to_vec::<f32>().unwrap();
    Tensor::new(shape, data).unwrap()
}

fn shape_error<T: std::fmt::Debug>(r: Result<T, SdError>) -> String {
    match r {
        Err(SdError::Shape(m)) => m,
        other => panic!("expected a shape error, got {other:?}"),
    }
}

#[test]
fn text_encoder_alone_matches_diffusers() {
    let ids: Vec<Vec<u32>> = reference("input_ids.npy")
        .data
        .chunks(77)
        .map(|row| row.iter().map(|&x| x as u32).collect())
        .collect();
    assert_eq!(ids.len(), 3);
    let got = download(text_encoder().forward(&ids).unwrap());
    assert_abs(
        "text encoder alone [3, 77, 32]",
        &got,
        &reference("text_embeddings.npy"),
        1e-4,
    );
    // the same as the pipeline's own, which tokenizes first
    let prompts = ["a photo of a cat", "A Tiger-Cat, sitting on a mat!", ""];
    assert_eq!(got, model().encode_prompts(&prompts).unwrap());
    let lent = download(model().text_encoder().forward(&ids).unwrap());
    assert_eq!(got, lent);
    assert_eq!(text_encoder().config().hidden_size, 32);

    // fewer tokens than the context: the first rows of the causal encoder's output
    let short: Vec<Vec<u32>> = ids.iter().map(|r| r[..5].to_vec()).collect();
    let first = download(text_encoder().forward(&short).unwrap());
    assert_eq!(first.shape, vec![3, 5, 32]);
    for i in 0..3 {
        let full = got.item(i).unwrap();
        assert_abs(
            "  5 tokens",
            &Tensor::new(vec![5, 32], full.data[..5 * 32].to_vec()).unwrap(),
            &Tensor::new(vec![5, 32], first.item(i).unwrap().data).unwrap(),
            1e-5,
        );
    }
}

#[test]
fn text_encoder_refuses_ids_that_do_not_fit() {
    let t = text_encoder();
    let e = shape_error(t.forward(&[]));
    assert!(e.contains("no token ids"), "{e}");
    let e = shape_error(t.forward(&[vec![]]));
    assert!(e.contains("1 to 77"), "{e}");
    let e = shape_error(t.forward(&[vec![0; 78]]));
    assert!(e.contains("78") && e.contains("1 to 77"), "{e}");
    let e = shape_error(t.forward(&[vec![0; 4], vec![0; 3]]));
    assert!(e.contains("row 1 has 3"), "{e}");
    let vocab = t.config().vocab_size as u32;
    let e = shape_error(t.forward(&[vec![0, vocab]]));
    assert!(e.contains(&format!("{vocab}")), "{e}");
    assert!(t.forward(&[vec![0, vocab - 1]]).is_ok());
}

#[test]
fn unet_alone_matches_diffusers() {
    let latents = reference("initial_latents.npy");
    let emb = reference("text_embeddings.npy");
    let expected = reference("unet_t500_prompt0.npy");
    let got = unet()
        .forward(upload(&latents), &[500], upload(&emb.item(0).unwrap()))
        .unwrap();
    let got = download(got);
    assert_abs("UNet alone t=500 [1, 4, 8, 8]", &got, &expected, 1e-4);
    let host = model()
        .predict_noise(&latents, &[500], &emb.item(0).unwrap())
        .unwrap();
    assert_eq!(got, host);
    let lent = model()
        .unet()
        .forward(upload(&latents), &[500], upload(&emb.item(0).unwrap()))
        .unwrap();
    assert_eq!(got, download(lent));

    // a batch with per-item timesteps
    let both = Tensor::concat(&[latents.clone(), latents]).unwrap();
    let ctx = Tensor::concat(&[emb.item(0).unwrap(), emb.item(2).unwrap()]).unwrap();
    let batch = download(
        unet()
            .forward(upload(&both), &[500, 1], upload(&ctx))
            .unwrap(),
    );
    assert_abs("  batch item 0", &batch.item(0).unwrap(), &expected, 1e-4);
}

#[test]
fn unet_refuses_shapes_that_do_not_fit() {
    let u = unet();
    let d = device();
    let ctx = || Burn::<3>::zeros([1, 77, 32], &d);
    let e = shape_error(u.forward(Burn::zeros([1, 3, 8, 8], &d), &[1], ctx()));
    assert!(
        e.contains("[1, 3, 8, 8]") && e.contains("[batch, 4,"),
        "{e}"
    );
    shape_error(u.forward(Burn::zeros([1, 4, 0, 8], &d), &[1], ctx()));
    shape_error(u.forward(
        Burn::zeros([0, 4, 8, 8], &d),
        &[],
        Burn::zeros([0, 77, 32], &d),
    ));
    let e = shape_error(u.forward(Burn::zeros([1, 4, 8, 8], &d), &[1, 2], ctx()));
    assert!(e.contains("2 timesteps for a batch of 1"), "{e}");
    let e = shape_error(u.forward(Burn::zeros([2, 4, 8, 8], &d), &[1, 2], ctx()));
    assert!(e.contains("[2, tokens, 32]"), "{e}");
    let e = shape_error(u.forward(
        Burn::zeros([1, 4, 8, 8], &d),
        &[1],
        Burn::zeros([1, 77, 16], &d),
    ));
    assert!(e.contains("[1, 77, 16]"), "{e}");
    shape_error(u.forward(
        Burn::zeros([1, 4, 8, 8], &d),
        &[1],
        Burn::zeros([1, 0, 32], &d),
    ));
}

#[test]
fn vae_alone_matches_diffusers() {
    let v = vae();
    assert_eq!(v.downsample(), 8);
    let image = reference("inversion_input_image.npy");
    let mean = v.encode(upload(&image)).unwrap();
    assert_eq!(mean.dims(), [1, 4, 8, 8]);
    let z0 = download(v.scale_latents(mean.clone()));
    assert_abs(
        "VAE alone: encode, scaled",
        &z0,
        &reference("inversion_z0.npy"),
        1e-4,
    );
    // the pipeline scales in f64 on the host: the same up to the last bit
    assert_abs(
        "  against the pipeline",
        &z0,
        &model().encode_image(&image).unwrap(),
        1e-6,
    );
    let lent = model().vae().encode(upload(&image)).unwrap();
    assert_eq!(download(mean), download(lent));

    let latents = Tensor::concat(&[
        reference("sample_10steps_gs1.0_latents.npy"),
        reference("sample_10steps_gs7.5_latents.npy"),
    ])
    .unwrap();
    let raw = download(v.decode(v.unscale_latents(upload(&latents))).unwrap());
    assert_eq!(raw.shape, vec![2, 3, 64, 64]);
    for (i, g) in ["1.0", "7.5"].iter().enumerate() {
        assert_abs(
            &format!("VAE alone: decode gs {g}"),
            &raw.item(i).unwrap(),
            &reference(&format!("sample_10steps_gs{g}_decoded.npy")),
            1e-4,
        );
    }
    assert_abs(
        "  against the pipeline",
        &raw,
        &model().decode_latents_raw(&latents).unwrap(),
        1e-5,
    );
    // scaling there and back
    let back = download(v.scale_latents(v.unscale_latents(upload(&latents))));
    assert_close("  scale ∘ unscale", &back, &latents, 2e-7);
}

#[test]
fn vae_refuses_shapes_that_do_not_fit() {
    let v = vae();
    let d = device();
    let e = shape_error(v.encode(Burn::zeros([1, 3, 60, 64], &d)));
    assert!(
        e.contains("[1, 3, 60, 64]") && e.contains("multiple of 8"),
        "{e}"
    );
    shape_error(v.encode(Burn::zeros([1, 1, 64, 64], &d)));
    shape_error(v.encode(Burn::zeros([0, 3, 64, 64], &d)));
    let e = shape_error(v.decode(Burn::zeros([1, 3, 8, 8], &d)));
    assert!(
        e.contains("[1, 3, 8, 8]") && e.contains("[batch, 4,"),
        "{e}"
    );
    shape_error(v.decode(Burn::zeros([1, 4, 0, 8], &d)));
}

/// A part loaded in reduced precision takes f32 inputs (cast on the way in) and answers in its
/// precision, near the f32 reference.
#[test]
fn parts_cast_their_inputs_to_the_compute_precision() {
    let dir = own("sd2-v");
    let options = SdOptions::default().with_precision(Precision::F16);
    let u = Unet::load(dir.join("unet"), &device(), &options).unwrap();
    let timesteps: Vec<i64> = common::own_meta("sd2-v")["unet_timesteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    let emb = own_reference("sd2-v", "text_embeddings.npy");
    let ctx = Tensor::concat(&[emb.item(0).unwrap(), emb.item(2).unwrap()]).unwrap();
    let out = u
        .forward(
            upload(&own_reference("sd2-v", "unet_latents.npy")),
            &timesteps,
            upload(&ctx),
        )
        .unwrap();
    assert_eq!(out.dtype(), DType::F16);
    assert_close(
        "f16 UNet alone",
        &download(out),
        &own_reference("sd2-v", "unet_out.npy"),
        5e-3,
    );
    let v = Vae::load(dir.join("vae"), &device(), &options).unwrap();
    let mean = v
        .encode(upload(&own_reference("sd2-v", "vae_image.npy")))
        .unwrap();
    assert_eq!(mean.dtype(), DType::F16);
    assert_close(
        "f16 VAE alone",
        &download(v.scale_latents(mean)),
        &own_reference("sd2-v", "vae_z0.npy"),
        5e-3,
    );
}

fn load_err<T: std::fmt::Debug>(r: Result<T, SdError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn part_folders_are_checked_like_the_whole_model() {
    let d = device();
    let o = SdOptions::default();
    // a missing folder names its config
    let e = load_err(Unet::load("/no/such/unet", &d, &o));
    assert!(e.contains("config.json"), "{e}");
    // the wrong component's folder: its config is refused by class name
    let e = load_err(Vae::load(tiny_sd1().join("unet"), &d, &o));
    assert!(e.contains("unet/config.json"), "{e}");
    // variants are chosen as for the whole model
    let sd2 = own("sd2-v");
    let e = load_err(ClipTextModel::load(
        sd2.join("text_encoder"),
        &d,
        &o.clone().with_variant("bf16"),
    ));
    assert!(e.contains("variant 'bf16'"), "{e}");
    ClipTextModel::load(
        sd2.join("text_encoder"),
        &d,
        &o.clone().with_variant("fp16"),
    )
    .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("unet");
    copy_dir(&tiny_sd1().join("unet"), &copy);
    // one text embedding conditions every block
    edit_cross_attention_dim(&copy, serde_json::json!([32, 16]));
    let e = load_err(Unet::load(&copy, &d, &o));
    assert!(
        e.contains("'cross_attention_dim'") && e.contains("differs"),
        "{e}"
    );
    // a config that the weights do not fit: the file is named
    edit_cross_attention_dim(&copy, serde_json::json!(16));
    let e = load_err(Unet::load(&copy, &d, &o));
    assert!(e.contains("diffusion_pytorch_model.safetensors"), "{e}");
    assert!(e.contains("implies"), "{e}");
}

fn edit_cross_attention_dim(dir: &Path, value: serde_json::Value) {
    let path = dir.join("config.json");
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    c["cross_attention_dim"] = value;
    std::fs::write(&path, serde_json::to_string_pretty(&c).unwrap()).unwrap();
}
