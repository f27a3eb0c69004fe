//! The CLIP vision tower (`clip_vision::ClipVisionModel`) and its image processor against what
//! transformers computes: the shared tiny fixture (quick_gelu) and this crate's own
//! (`tests/fixtures/clip-vision-*`, made by `scripts/make_clip_vision_fixtures.py`: gelu, the
//! tanh GELU with fp16 weights and an old-style processor config that pads, a whole CLIPModel);
//! bad configs, weights and inputs as errors naming the culprit; and the tower's gradient
//! against finite differences.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{DType, Tensor as Burn, TensorData};
use common::{assert_abs, copy_dir, device};
use nao_backend::Tensor;
use nao_sd::clip_vision::{
    find_image_encoder, find_image_processor, ClipImageProcessor, ClipVisionConfig,
    ClipVisionModel, Resample, ResizeTo,
};
use nao_sd::{Device, SdError, SdOptions};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::{json, Value};

/// Parity tolerance of every output (absolute).
const TOL: f64 = 1e-4;

/// The shared tiny fixture (`image_encoder/`, `feature_extractor/`, `reference/`).
fn shared_fixture() -> PathBuf {
    nao_test_support::shared("fixtures/tiny-clip-vision")
}

/// One of this crate's vision fixtures.
fn own(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    assert!(
        p.join("image_encoder/config.json").is_file(),
        "{} is missing: run scripts/make_clip_vision_fixtures.py",
        p.display()
    );
    p
}

fn reference(dir: &Path, file: &str) -> Tensor {
    nao_test_support::read_tensor(dir.join("reference").join(file))
}

fn upload<const D: usize>(t: &Tensor, device: &Device) -> Burn<D> {
    let shape: [usize; D] = t.shape.clone().try_into().unwrap();
    Burn::from_data(TensorData::new(t.data.clone(), shape), device)
}

fn download<const D: usize>(t: Burn<D>) -> Tensor {
    let shape = t.dims().to_vec();
    let data = t.cast(DType::F32).into_data().try_to_vec::<f32>().unwrap();
    Tensor::new(shape, data).unwrap()
}

fn load(dir: &Path) -> ClipVisionModel {
    ClipVisionModel::load(dir.join("image_encoder"), &device(), &SdOptions::default())
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

fn processor(dir: &Path) -> ClipImageProcessor {
    let path = find_image_processor(dir).expect("a preprocessor_config.json");
    ClipImageProcessor::from_file(&path).unwrap()
}

fn input_image(dir: &Path) -> image::RgbImage {
    image::open(dir.join("reference/input.png"))
        .unwrap()
        .to_rgb8()
}

/// Every output of a fixture: the processor on `input.png`, the decoded inputs through
/// `normalise_decoded`, and the tower on the batch of them, each against transformers.
fn check_fixture(name: &str, dir: &Path, decoded: &[&str]) {
    let model = load(dir);
    let proc = processor(dir);
    let dev = device();

    // the image processor, on the host
    let pixels = proc.pixel_values(&input_image(dir)).unwrap();
    let mut expected_pixels = reference(dir, "pixel_values.npy");
    expected_pixels.shape.remove(0);
    assert_abs(
        &format!("{name}: pixel_values of input.png"),
        &pixels,
        &expected_pixels,
        1e-6,
    );

    // the decoded images, on burn tensors
    let mut batch = vec![proc.preprocess(&[input_image(dir)], &dev).unwrap()];
    for suffix in decoded {
        let x = upload::<4>(
            &reference(dir, &format!("decoded_minus1_1{suffix}.npy")),
            &dev,
        );
        let got = proc.normalise_decoded(x).unwrap();
        let file = format!("decoded_pixel_values{suffix}.npy");
        if dir.join("reference").join(&file).is_file() {
            assert_abs(
                &format!("{name}: normalise_decoded{suffix}"),
                &download(got.clone()),
                &reference(dir, &file),
                1e-5,
            );
        }
        batch.push(got);
    }

    // the tower on the whole batch
    let out = model.forward(Burn::cat(batch, 0)).unwrap();
    let embeds = download(out.image_embeds);
    let last = download(out.last_hidden_state);
    assert_abs(
        &format!("{name}: image_embeds {:?}", embeds.shape),
        &embeds,
        &reference(dir, "image_embeds.npy"),
        TOL,
    );
    assert_abs(
        &format!("{name}: last_hidden_state {:?}", last.shape),
        &last,
        &reference(dir, "last_hidden_state.npy"),
        TOL,
    );
}

#[test]
fn shared_tiny_fixture_matches_transformers() {
    let dir = shared_fixture();
    // the shared fixture's decoded input is at the tower's size: normalise only
    check_fixture("tiny-clip-vision", &dir, &[""]);
    // the tower alone on transformers' own pixel_values gives the first row of each output
    let model = load(&dir);
    let px = upload::<4>(&reference(&dir, "pixel_values.npy"), &device());
    let out = model.forward(px).unwrap();
    let embeds = download(out.image_embeds);
    let expected = reference(&dir, "image_embeds.npy");
    let first = Tensor::new(vec![1, 24], expected.data[..24].to_vec()).unwrap();
    assert_abs(
        "tiny-clip-vision: image_embeds of pixel_values.npy",
        &embeds,
        &first,
        TOL,
    );
    let c = model.config();
    assert_eq!((c.hidden_size, c.tokens(), c.projection_dim), (32, 17, 24));
}

#[test]
fn gelu_fixture_matches_transformers() {
    // hidden 48, 3 layers of 6 heads, 48×48 in 16×16 patches; decoded 64×64 and 36×40 resized
    check_fixture("clip-vision-gelu", &own("clip-vision-gelu"), &["", "_2"]);
}

#[test]
fn tanh_gelu_fp16_fixture_matches_transformers() {
    // gelu_pytorch_tanh, fp16 weights, an old-style processor config whose crop pads
    let dir = own("clip-vision-tanh");
    check_fixture("clip-vision-tanh", &dir, &[""]);
    let p = processor(&dir);
    assert_eq!(p.resize, Some(ResizeTo::ShortestEdge(36)));
    assert_eq!((p.crop, p.resample), (Some((40, 40)), Resample::Bilinear));
}

#[test]
fn whole_clip_model_folder_loads_its_vision_half() {
    let dir = own("clip-vision-full");
    check_fixture("clip-vision-full", &dir, &[]);
    let model = load(&dir);
    assert!(model.config().full_model);
    assert_eq!(model.config().projection_dim, 12); // the whole model's, not vision_config's
                                                   // its processor config sits beside the model; it is CLIP's default for 28×28
    let p = processor(&dir);
    assert!(p
        .path
        .as_ref()
        .unwrap()
        .starts_with(dir.join("image_encoder")));
    let default = ClipImageProcessor::for_config(model.config());
    assert_eq!(ClipImageProcessor { path: None, ..p }, default);
}

#[test]
fn finds_the_encoder_and_processor_of_a_model_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    assert_eq!(find_image_encoder(root), None);
    assert_eq!(find_image_processor(root), None);
    copy_dir(
        &shared_fixture().join("image_encoder"),
        &root.join("image_encoder"),
    );
    copy_dir(
        &shared_fixture().join("feature_extractor"),
        &root.join("feature_extractor"),
    );
    assert_eq!(find_image_encoder(root), Some(root.join("image_encoder")));
    assert_eq!(
        find_image_processor(root),
        Some(root.join("feature_extractor/preprocessor_config.json"))
    );
    // without weights, no encoder
    std::fs::remove_file(root.join("image_encoder/model.safetensors")).unwrap();
    assert_eq!(find_image_encoder(root), None);
}

fn config_err(text: &str) -> String {
    match ClipVisionConfig::from_json(text, Path::new("enc/config.json")) {
        Ok(c) => panic!("accepted {text}: {c:?}"),
        Err(e @ SdError::Config { .. }) => e.to_string(),
        Err(e) => panic!("not a config error: {e}"),
    }
}

#[test]
fn configs_outside_the_family_are_named() {
    let base = json!({
        "architectures": ["CLIPVisionModelWithProjection"], "model_type": "clip_vision_model",
        "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
        "num_attention_heads": 4, "image_size": 32, "patch_size": 8, "projection_dim": 24,
    });
    let with = |key: &str, value: Value| {
        let mut v = base.clone();
        v[key] = value;
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (with("hidden_act", json!("relu")), "'hidden_act' = \"relu\""),
        (with("model_type", json!("siglip_vision_model")), "'model_type' = \"siglip_vision_model\""),
        (with("architectures", json!(["CLIPVisionModel"])), "no visual projection"),
        (with("num_attention_heads", json!(5)), "'num_attention_heads' = 5 does not divide"),
        (with("patch_size", json!(7)), "'image_size' = 32 is not a multiple of 'patch_size' = 7"),
        (with("image_size", json!(1_000_000)), "'image_size' = 1000000"),
        (with("image_size", json!([32, 48])), "is not square"),
        (with("patch_size", json!(64)), "'patch_size' = 64"),
        (with("num_hidden_layers", json!(0)), "'num_hidden_layers' = 0"),
        (with("projection_dim", json!(-1)), "'projection_dim' = -1"),
        (with("layer_norm_eps", json!(0.0)), "'layer_norm_eps' = 0"),
        (with("hidden_size", json!("wide")), "'hidden_size' = \"wide\""),
        // 4096 / 2: 2049² tokens is beyond the bound
        (
            with("image_size", json!(4096)).replace("\"patch_size\":8", "\"patch_size\":2"),
            "tokens",
        ),
        // a whole CLIP model's config without its vision part
        (
            json!({"model_type": "clip", "architectures": ["CLIPModel"]}).to_string(),
            "'vision_config' is missing",
        ),
        (
            json!({"model_type": "clip", "vision_config": {"hidden_act": "silu"}}).to_string(),
            "'hidden_act' = \"silu\" is not supported (CLIP vision towers use quick_gelu, gelu, gelu_new or gelu_pytorch_tanh) (in 'vision_config')",
        ),
    ];
    for (text, needle) in cases {
        let e = config_err(&text);
        assert!(
            e.contains("enc/config.json") && e.contains(needle),
            "{needle}: {e}"
        );
    }
    // transformers' defaults fill what is absent (a ViT-B/32), lists of two equal sides are
    // sides, and both tanh GELUs are the same activation
    let c = ClipVisionConfig::from_json("{}", Path::new("c.json")).unwrap();
    assert_eq!(
        (
            c.hidden_size,
            c.num_hidden_layers,
            c.image_size,
            c.patch_size
        ),
        (768, 12, 224, 32)
    );
    assert_eq!((c.projection_dim, c.tokens()), (512, 50));
    let c = ClipVisionConfig::from_json(
        &with("image_size", json!([32, 32])).replace(
            "\"hidden_size\"",
            "\"hidden_act\":\"gelu_new\",\"hidden_size\"",
        ),
        Path::new("c.json"),
    )
    .unwrap();
    assert_eq!(c.image_size, 32);
    assert_eq!(c.hidden_act, nao_sd::config::ClipActivation::GeluTanh);
}

/// IP-Adapter's `models/image_encoder/config.json` (OpenCLIP ViT-H/14 as transformers'
/// CLIPVisionModelWithProjection), the image encoder diffusers pipelines load.
const IP_ADAPTER_VIT_H: &str = r#"{
  "_name_or_path": "./image_encoder", "architectures": ["CLIPVisionModelWithProjection"],
  "attention_dropout": 0.0, "dropout": 0.0, "hidden_act": "gelu", "hidden_size": 1280,
  "image_size": 224, "initializer_factor": 1.0, "initializer_range": 0.02,
  "intermediate_size": 5120, "layer_norm_eps": 1e-05, "model_type": "clip_vision_model",
  "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 32, "patch_size": 14,
  "projection_dim": 1024, "torch_dtype": "float16", "transformers_version": "4.28.0.dev0"
}"#;

/// An older whole-CLIPModel config (openai/clip-vit-large-patch14 style, cut): the vision
/// tower's values in `vision_config_dict` override `vision_config`'s.
const CLIP_L14: &str = r#"{
  "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 768,
  "text_config": {"hidden_size": 768, "model_type": "clip_text_model"},
  "text_config_dict": {"hidden_size": 768},
  "vision_config": {"hidden_size": 768, "image_size": 224, "model_type": "clip_vision_model",
                    "num_attention_heads": 12, "num_hidden_layers": 12, "patch_size": 32},
  "vision_config_dict": {"hidden_size": 1024, "intermediate_size": 4096,
                         "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14}
}"#;

/// SD 1.5's `feature_extractor/preprocessor_config.json` (sizes as bare integers).
const SD15_PROCESSOR: &str = r#"{
  "crop_size": 224, "do_center_crop": true, "do_convert_rgb": true, "do_normalize": true,
  "do_resize": true, "feature_extractor_type": "CLIPFeatureExtractor",
  "image_mean": [0.48145466, 0.4578275, 0.40821073],
  "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224
}"#;

#[test]
fn released_configs_parse() {
    let c = ClipVisionConfig::from_json(IP_ADAPTER_VIT_H, Path::new("ip/config.json")).unwrap();
    assert_eq!(
        (c.hidden_size, c.num_hidden_layers, c.num_attention_heads),
        (1280, 32, 16)
    );
    assert_eq!(
        (c.tokens(), c.projection_dim, c.full_model),
        (257, 1024, false)
    );
    assert_eq!(c.hidden_act, nao_sd::config::ClipActivation::Gelu);
    let c = ClipVisionConfig::from_json(CLIP_L14, Path::new("l14/config.json")).unwrap();
    assert_eq!(
        (c.hidden_size, c.intermediate_size, c.num_hidden_layers),
        (1024, 4096, 24)
    );
    assert_eq!(
        (c.patch_size, c.tokens(), c.projection_dim, c.full_model),
        (14, 257, 768, true)
    );
    let p = ClipImageProcessor::from_json(SD15_PROCESSOR, Path::new("fe.json")).unwrap();
    assert_eq!(p.resize, Some(ResizeTo::ShortestEdge(224)));
    assert_eq!(
        (p.crop, p.resample, p.rescale),
        (Some((224, 224)), Resample::Bicubic, Some(1.0 / 255.0))
    );
    let vit_h = ClipVisionConfig::from_json(IP_ADAPTER_VIT_H, Path::new("c")).unwrap();
    assert_eq!(
        ClipImageProcessor { path: None, ..p },
        ClipImageProcessor::for_config(&vit_h)
    );
}

#[test]
fn processor_configs_outside_the_family_are_named() {
    let base: Value = serde_json::from_str(SD15_PROCESSOR).unwrap();
    let with = |key: &str, value: Value| {
        let mut v = base.clone();
        v[key] = value;
        v.to_string()
    };
    let cases = [
        (with("resample", json!(0)), "'resample' = 0"),
        (
            with("image_std", json!([0.5, 0.0, 0.5])),
            "'image_std' = [0.5,0.0,0.5]",
        ),
        (
            with("image_mean", json!([0.5, 0.5])),
            "'image_mean' = [0.5,0.5]",
        ),
        (
            with("size", json!({"longest_edge": 300})),
            "'size' = {\"longest_edge\":300}",
        ),
        (
            with("size", json!({"shortest_edge": 0})),
            "'size.shortest_edge' = 0",
        ),
        (
            with("crop_size", json!({"height": 224})),
            "'crop_size' has no 'width'",
        ),
        (with("crop_size", json!(100_000)), "'crop_size' = 100000"),
        (
            with("feature_extractor_type", json!("ViTFeatureExtractor")),
            "ViTFeatureExtractor",
        ),
        (
            with("do_convert_rgb", json!(false)),
            "'do_convert_rgb' = false",
        ),
    ];
    for (text, needle) in cases {
        match ClipImageProcessor::from_json(&text, Path::new("fe/preprocessor_config.json")) {
            Ok(p) => panic!("accepted {needle}: {p:?}"),
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains("fe/preprocessor_config.json") && e.contains(needle),
                    "{needle}: {e}"
                );
            }
        }
    }
}

/// The tensors of a safetensors file: name → (dtype, shape, bytes).
type Tensors = HashMap<String, (Dtype, Vec<usize>, Vec<u8>)>;

fn rewrite(path: &Path, change: impl FnOnce(&mut Tensors)) {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut map: Tensors = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, (v.dtype(), v.shape().to_vec(), v.data().to_vec())))
        .collect();
    change(&mut map);
    let views: Vec<(String, TensorView)> = map
        .iter()
        .map(|(n, (d, s, b))| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn load_err(dir: &Path) -> String {
    match ClipVisionModel::load(dir, &device(), &SdOptions::default()) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn weights_that_do_not_fit_the_config_are_named() {
    let copy = || {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&shared_fixture().join("image_encoder"), tmp.path());
        tmp
    };
    let file = "model.safetensors";
    let patch = "vision_model.embeddings.patch_embedding.weight";
    type Edit = Box<dyn FnOnce(&mut Tensors)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "'visual_projection.weight' is missing",
            Box::new(|m: &mut Tensors| {
                m.remove("visual_projection.weight");
            }),
        ),
        (
            "has shape [32, 3, 4, 16]",
            Box::new(move |m: &mut Tensors| {
                m.get_mut(patch).unwrap().1 = vec![32, 3, 4, 16];
            }),
        ),
        (
            "'vision_model.post_layernorm.weight' has dtype I32",
            Box::new(|m: &mut Tensors| {
                m.get_mut("vision_model.post_layernorm.weight").unwrap().0 = Dtype::I32;
            }),
        ),
        // a text tower belongs to a whole CLIPModel's file, not to this one
        (
            "unexpected tensor(s)",
            Box::new(|m: &mut Tensors| {
                m.insert(
                    "text_projection.weight".into(),
                    (Dtype::F32, vec![1], vec![0; 4]),
                );
            }),
        ),
    ];
    for (needle, change) in cases {
        let tmp = copy();
        rewrite(&tmp.path().join(file), change);
        let e = load_err(tmp.path());
        assert!(e.contains(file) && e.contains(needle), "{needle}: {e}");
    }
    // a config whose sizes the weights do not have: the first tensor that differs is named
    let tmp = copy();
    let path = tmp.path().join("config.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["image_size"] = json!(40);
    std::fs::write(&path, v.to_string()).unwrap();
    let e = load_err(tmp.path());
    assert!(
        e.contains("vision_model.embeddings.position_embedding.weight")
            && e.contains("[17, 32]")
            && e.contains("[26, 32]"),
        "{e}"
    );
    // older transformers files carry a position_ids buffer: it is skipped
    let tmp = copy();
    rewrite(&tmp.path().join(file), |m| {
        let ids: Vec<u8> = (0..17i64).flat_map(|i| i.to_le_bytes()).collect();
        m.insert(
            "vision_model.embeddings.position_ids".into(),
            (Dtype::I64, vec![1, 17], ids),
        );
    });
    ClipVisionModel::load(tmp.path(), &device(), &SdOptions::default()).unwrap();
}

#[test]
fn inputs_of_the_wrong_shape_are_named() {
    let dir = shared_fixture();
    let model = load(&dir);
    let proc = processor(&dir);
    let dev = device();
    let shape_err = |r: Result<_, SdError>| match r {
        Err(SdError::Shape(m)) => m,
        Err(e) => panic!("not a shape error: {e}"),
        Ok(_) => panic!("accepted"),
    };
    let zeros = |shape: [usize; 4]| Burn::<4>::zeros(shape, &dev);
    let e = shape_err(model.forward(zeros([1, 3, 40, 40])).map(|_| ()));
    assert!(
        e.contains("40×40") && e.contains("32×32") && e.contains("config.json"),
        "{e}"
    );
    let e = shape_err(model.forward(zeros([1, 4, 32, 32])).map(|_| ()));
    assert!(
        e.contains("4 channels") && e.contains("takes 3 channels"),
        "{e}"
    );
    let e = shape_err(model.forward(zeros([0, 3, 32, 32])).map(|_| ()));
    assert!(e.contains("batch of 0"), "{e}");
    let e = shape_err(proc.normalise_decoded(zeros([1, 1, 32, 32])).map(|_| ()));
    assert!(e.contains("[1, 1, 32, 32]"), "{e}");
    let e = shape_err(proc.pixel_values(&image::RgbImage::new(0, 5)).map(|_| ()));
    assert!(e.contains("0×5"), "{e}");
    let e = shape_err(proc.preprocess(&[], &dev).map(|_| ()));
    assert!(e.contains("no images"), "{e}");
    // an image so elongated that its resize to a shortest edge of 32 would be huge
    let e = shape_err(
        proc.pixel_values(&image::RgbImage::new(1, 4_000_000))
            .map(|_| ()),
    );
    assert!(e.contains("32×128000000"), "{e}");
}

/// ‖image_embeds‖² of decoded pixels `x` (through `normalise_decoded`), summed in f64.
fn energy(model: &ClipVisionModel, proc: &ClipImageProcessor, x: Burn<4>) -> f64 {
    let e = model
        .forward(proc.normalise_decoded(x).unwrap())
        .unwrap()
        .image_embeds;
    let v = e.cast(DType::F32).into_data().try_to_vec::<f32>().unwrap();
    v.iter().map(|&x| f64::from(x) * f64::from(x)).sum()
}

/// A reproducible pseudo-random vector in [−1, 1).
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

#[test]
fn the_tower_is_differentiable_to_the_decoded_pixels() {
    // ∇ₓ‖image_embeds(normalise_decoded(x))‖² on burn's autodiff device against central
    // differences in random directions; x is 40×40, so the bicubic resize to 32 is in the chain
    let dir = shared_fixture();
    let ad = device().autodiff();
    let model =
        ClipVisionModel::load(dir.join("image_encoder"), &ad, &SdOptions::default()).unwrap();
    let proc = processor(&dir);
    let shape = [1, 3, 40, 40];
    let n = 3 * 40 * 40;
    // inside (−0.8, 0.8): away from the clamp at ±1, where the gradient is cut
    let x0: Vec<f32> = noise(n, 7).iter().map(|v| 0.8 * v).collect();
    let x = Burn::<4>::from_data(TensorData::new(x0.clone(), shape), &ad).require_grad();
    let e = model
        .forward(proc.normalise_decoded(x.clone()).unwrap())
        .unwrap();
    let loss = e.image_embeds.powi_scalar(2).sum();
    let grads = loss.backward();
    let g = x.grad(&grads).expect("a gradient for the pixels");
    let g: Vec<f32> = g.cast(DType::F32).into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(g.len(), n);
    assert!(g.iter().all(|v| v.is_finite()));

    // a unit direction over 4800 pixels moves each by ~h/70: at h = 0.3 the f32 rounding of
    // the forward (~1e-7 of ‖e‖² ≈ 7.6) stays ~1e-4 of the derivative, the O(h²) error below it
    let h = 0.3f32;
    for k in 0..4u64 {
        let dir_v = noise(n, 100 + k);
        let norm = dir_v
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        let v: Vec<f32> = dir_v
            .iter()
            .map(|d| (f64::from(*d) / norm) as f32)
            .collect();
        let at = |s: f32| {
            let xs: Vec<f32> = x0.iter().zip(&v).map(|(x, d)| x + s * d).collect();
            energy(
                &model,
                &proc,
                Burn::from_data(TensorData::new(xs, shape), &ad),
            )
        };
        let fd = (at(h) - at(-h)) / (2.0 * f64::from(h));
        let ad_dir: f64 = g
            .iter()
            .zip(&v)
            .map(|(g, d)| f64::from(*g) * f64::from(*d))
            .sum();
        let rel = (fd - ad_dir).abs() / ad_dir.abs().max(1e-3);
        eprintln!(
            "direction {k}: autodiff {ad_dir:.6e}, central difference {fd:.6e}, relative {rel:.2e}"
        );
        assert!(
            rel < 1e-3,
            "direction {k}: autodiff {ad_dir}, finite differences {fd}"
        );
    }
}
