//! Bad folders are clear errors naming the file, the field or tensor and the value — never
//! panics — and weights files are chosen among variants as documented.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{copy_dir, device, own};
use nao_sd::{SdOptions, StableDiffusion};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::{json, Value};

/// A writable copy of the small `nonsquare` fixture.
fn copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&own("nonsquare"), tmp.path());
    tmp
}

fn load_err(dir: &Path, options: &SdOptions) -> String {
    match StableDiffusion::load(dir, &device(), options) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

/// Set (or, with `Value::Null` and `remove`, delete) a key of a component's config.
fn edit(dir: &Path, rel: &str, key: &str, value: Value) {
    let path = dir.join(rel);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v[key] = value;
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn config_values_outside_the_family_are_named() {
    let unet = "unet/config.json";
    let vae = "vae/config.json";
    let text = "text_encoder/config.json";
    for (file, key, value, needle) in [
        (
            unet,
            "addition_embed_type",
            json!("text_time"),
            "addition_embed_type",
        ),
        (
            unet,
            "class_embed_type",
            json!("timestep"),
            "class_embed_type",
        ),
        (unet, "time_cond_proj_dim", json!(256), "time_cond_proj_dim"),
        (unet, "num_attention_heads", json!(8), "num_attention_heads"),
        (unet, "act_fn", json!("mish"), "act_fn"),
        (
            unet,
            "down_block_types",
            json!(["SimpleCrossAttnDownBlock2D", "DownBlock2D"]),
            "SimpleCrossAttnDownBlock2D",
        ),
        (
            unet,
            "up_block_types",
            json!(["UpBlock2D"]),
            "up_block_types",
        ),
        (
            unet,
            "mid_block_type",
            json!("UNetMidBlock2DSimpleCrossAttn"),
            "mid_block_type",
        ),
        (
            unet,
            "resnet_time_scale_shift",
            json!("spatial"),
            "resnet_time_scale_shift",
        ),
        (
            unet,
            "only_cross_attention",
            json!(true),
            "only_cross_attention",
        ),
        (unet, "attention_type", json!("gated"), "attention_type"),
        (
            unet,
            "transformer_layers_per_block",
            json!([[1], [2]]),
            "list of lists",
        ),
        (
            unet,
            "attention_head_dim",
            json!([4, 4, 4]),
            "3 entries for 2 blocks",
        ),
        (unet, "attention_head_dim", json!(5), "5 heads"),
        (unet, "in_channels", json!(9), "inpainting"),
        (unet, "cross_attention_dim", json!(32), "hidden_size is 24"),
        (unet, "conv_in_kernel", json!(4), "odd"),
        (unet, "norm_num_groups", json!(5), "norm_num_groups"),
        (unet, "_class_name", json!("UNet2DModel"), "UNet2DModel"),
        (
            vae,
            "down_block_types",
            json!(["DownEncoderBlock2D", "Foo"]),
            "Foo",
        ),
        (vae, "latents_mean", json!([0.1, 0.2]), "latents_mean"),
        (vae, "scaling_factor", json!(-1), "scaling_factor"),
        (text, "hidden_act", json!("relu"), "hidden_act"),
        (
            text,
            "architectures",
            json!(["CLIPTextModelWithProjection"]),
            "CLIPTextModelWithProjection",
        ),
        (text, "num_attention_heads", json!(5), "does not divide"),
    ] {
        let tmp = copy();
        edit(tmp.path(), file, key, value.clone());
        let e = load_err(tmp.path(), &SdOptions::default());
        assert!(
            e.contains(file) && e.contains(needle),
            "{file} {key} = {value}: {e}"
        );
    }
}

#[test]
fn sizes_are_bounded_before_anything_is_allocated() {
    for (file, key, value) in [
        (
            "unet/config.json",
            "block_out_channels",
            json!([16, 1_000_000_000u64]),
        ),
        ("unet/config.json", "layers_per_block", json!(1_000_000)),
        (
            "unet/config.json",
            "transformer_layers_per_block",
            json!(100_000),
        ),
        (
            "unet/config.json",
            "down_block_types",
            json!(vec!["DownBlock2D"; 1000]),
        ),
        ("vae/config.json", "latent_channels", json!(1u64 << 40)),
        (
            "text_encoder/config.json",
            "num_hidden_layers",
            json!(1_000_000),
        ),
        ("text_encoder/config.json", "vocab_size", json!(1u64 << 40)),
        ("text_encoder/config.json", "hidden_size", json!(-3)),
    ] {
        let tmp = copy();
        edit(tmp.path(), file, key, value.clone());
        let e = load_err(tmp.path(), &SdOptions::default());
        assert!(e.contains(file) && e.contains(key), "{key} = {value}: {e}");
    }
    // a text encoder too small for the tokenizer's ids
    let tmp = copy();
    edit(
        tmp.path(),
        "text_encoder/config.json",
        "vocab_size",
        json!(500),
    );
    let e = load_err(tmp.path(), &SdOptions::default());
    assert!(
        e.contains("tokenizer") && e.contains("ids up to 913") && e.contains("vocab_size is 500"),
        "{e}"
    );
    // a sparse vocabulary (an id past the others) is refused when the tokenizer loads, naming
    // the token and its id
    let tmp = copy();
    let path = tmp.path().join("tokenizer/tokenizer.json");
    let mut tok: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    tok["model"]["vocab"]["a</w>"] = json!(5000);
    std::fs::write(&path, tok.to_string()).unwrap();
    let e = load_err(tmp.path(), &SdOptions::default());
    assert!(e.contains("a</w>") && e.contains("5000"), "{e}");
    // a size within the bounds but not that of the weights: the tensor and both shapes
    let tmp = copy();
    edit(
        tmp.path(),
        "unet/config.json",
        "block_out_channels",
        json!([12, 20]),
    );
    let e = load_err(tmp.path(), &SdOptions::default());
    assert!(
        e.contains("diffusion_pytorch_model.safetensors") && e.contains("has shape"),
        "{e}"
    );
}

/// The tensors of a safetensors file: name → (dtype, shape, bytes).
type Tensors = HashMap<String, (Dtype, Vec<usize>, Vec<u8>)>;

/// An edit of a file's tensors.
type Edit = Box<dyn FnOnce(&mut Tensors)>;

/// Rewrite a safetensors file through `change`.
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
    let out = safetensors::serialize(views, None).unwrap();
    std::fs::write(path, out).unwrap();
}

#[test]
fn weights_that_do_not_fit_the_config_are_named() {
    let unet_file = "unet/diffusion_pytorch_model.safetensors";
    let name = "down_blocks.0.attentions.0.proj_in.weight";
    let cases: Vec<(&str, Edit)> = vec![
        (
            "is missing",
            Box::new(|m: &mut Tensors| {
                m.remove(name);
            }),
        ),
        (
            "has shape [12, 12]",
            Box::new(|m: &mut Tensors| {
                m.get_mut(name).unwrap().1 = vec![12, 12];
            }),
        ),
        (
            "has dtype I32",
            Box::new(|m: &mut Tensors| {
                m.get_mut(name).unwrap().0 = Dtype::I32;
            }),
        ),
        (
            "1 unexpected tensor(s)",
            Box::new(|m: &mut Tensors| {
                m.insert("extra.weight".into(), (Dtype::F32, vec![1], vec![0; 4]));
            }),
        ),
    ];
    for (needle, change) in cases {
        let tmp = copy();
        rewrite(&tmp.path().join(unet_file), change);
        let e = load_err(tmp.path(), &SdOptions::default());
        assert!(e.contains(unet_file) && e.contains(needle), "{needle}: {e}");
        if needle != "1 unexpected tensor(s)" {
            assert!(e.contains(name), "{e}");
        } else {
            assert!(e.contains("extra.weight"), "{e}");
        }
    }
    // not a safetensors file at all
    let tmp = copy();
    std::fs::write(tmp.path().join(unet_file), b"not safetensors").unwrap();
    let e = load_err(tmp.path(), &SdOptions::default());
    assert!(
        e.contains(unet_file) && e.contains("not a valid safetensors"),
        "{e}"
    );
    // older transformers files: `text_model.` names and a position_ids buffer
    let tmp = copy();
    rewrite(&tmp.path().join("text_encoder/model.safetensors"), |m| {
        let old: Vec<String> = m.keys().cloned().collect();
        for k in old {
            let v = m.remove(&k).unwrap();
            m.insert(format!("text_model.{k}"), v);
        }
        let ids: Vec<u8> = (0..77i64).flat_map(|i| i.to_le_bytes()).collect();
        m.insert(
            "text_model.embeddings.position_ids".into(),
            (Dtype::I64, vec![1, 77], ids),
        );
    });
    let m = StableDiffusion::load(tmp.path(), &device(), &SdOptions::default()).unwrap();
    let fresh = common::load(&own("nonsquare"), &SdOptions::default());
    assert_eq!(
        m.encode_prompts(&["a cat"]).unwrap(),
        fresh.encode_prompts(&["a cat"]).unwrap()
    );
}

#[test]
fn variant_files_are_found() {
    // sd2-v has only fp16 files: they load without the option, and with it
    let sd2 = own("sd2-v");
    let m = StableDiffusion::load(&sd2, &device(), &SdOptions::default()).unwrap();
    assert!(m
        .weight_files()
        .iter()
        .all(|p| p.to_string_lossy().ends_with(".fp16.safetensors")));
    let e = load_err(&sd2, &SdOptions::default().with_variant("bf16"));
    assert!(
        e.contains("variant 'bf16'")
            && e.contains("text_encoder")
            && e.contains("model.fp16.safetensors"),
        "{e}"
    );
    // next to a file without a variant: the option chooses
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&sd2, tmp.path());
    let unet = tmp.path().join("unet");
    std::fs::write(unet.join("diffusion_pytorch_model.safetensors"), b"junk").unwrap();
    let e = load_err(tmp.path(), &SdOptions::default());
    assert!(
        e.contains("unet/diffusion_pytorch_model.safetensors") && e.contains("not a valid"),
        "without a variant the plain file is taken: {e}"
    );
    StableDiffusion::load(
        tmp.path(),
        &device(),
        &SdOptions::default().with_variant("fp16"),
    )
    .unwrap();
    // two variants and no choice: ambiguous, listing the candidates
    std::fs::remove_file(unet.join("diffusion_pytorch_model.safetensors")).unwrap();
    std::fs::copy(
        unet.join("diffusion_pytorch_model.fp16.safetensors"),
        unet.join("diffusion_pytorch_model.ema.safetensors"),
    )
    .unwrap();
    let e = load_err(tmp.path(), &SdOptions::default());
    assert!(
        e.contains("several variant weights files")
            && e.contains("diffusion_pytorch_model.ema.safetensors")
            && e.contains("diffusion_pytorch_model.fp16.safetensors"),
        "{e}"
    );
    // no safetensors at all, only a pickle
    for f in [
        "diffusion_pytorch_model.ema.safetensors",
        "diffusion_pytorch_model.fp16.safetensors",
    ] {
        std::fs::remove_file(unet.join(f)).unwrap();
    }
    std::fs::write(unet.join("diffusion_pytorch_model.bin"), b"pickle").unwrap();
    let e = load_err(tmp.path(), &SdOptions::default());
    assert!(e.contains("no *.safetensors") && e.contains(".bin"), "{e}");
}

#[test]
fn missing_parts_are_named() {
    let e = load_err(Path::new("/no/such/model"), &SdOptions::default());
    assert!(
        e.contains("/no/such/model") && e.contains("no such model folder"),
        "{e}"
    );
    for rel in [
        "unet/config.json",
        "vae/config.json",
        "text_encoder/config.json",
        "scheduler/scheduler_config.json",
        "tokenizer/tokenizer.json",
    ] {
        let tmp = copy();
        std::fs::remove_file(tmp.path().join(rel)).unwrap();
        let e = load_err(tmp.path(), &SdOptions::default());
        let expected = if rel.starts_with("tokenizer") {
            "tokenizer/vocab.json"
        } else {
            rel
        };
        assert!(e.contains(expected), "{rel}: {e}");
    }
}

#[cfg(unix)]
#[test]
fn hub_cache_snapshots_of_symlinks_are_recognised_and_load() {
    use std::os::unix::fs::symlink;
    // models--org--tiny/{blobs/<hash>, snapshots/<rev>/<files → ../../blobs/<hash>>, refs/main}
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("models--org--tiny");
    let blobs = repo.join("blobs");
    let snapshot = repo.join("snapshots").join("0123abcd");
    std::fs::create_dir_all(&blobs).unwrap();
    let src = own("nonsquare");
    let mut n = 0;
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap();
            if rel.starts_with("reference") {
                continue;
            }
            n += 1;
            let blob = blobs.join(format!("blob{n}"));
            std::fs::copy(&p, &blob).unwrap();
            let link = snapshot.join(rel);
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            let up = "../".repeat(rel.components().count() + 1);
            symlink(format!("{up}blobs/blob{n}"), &link).unwrap();
        }
    }
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "0123abcd").unwrap();
    assert!(std::fs::symlink_metadata(snapshot.join("model_index.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(nao_sd::is_diffusers_folder(&snapshot));
    assert!(nao_sd::is_diffusers_folder(&repo));
    assert!(!nao_sd::is_diffusers_folder(&blobs));
    for dir in [&snapshot, &repo] {
        let m = StableDiffusion::load(dir, &device(), &SdOptions::default()).unwrap();
        assert_eq!(nao_backend::Backend::info(&m).name, "org/tiny");
        assert_eq!(m.dir(), snapshot.as_path());
    }
}

/// VAE files converted by older diffusers name the mid-block attention projections
/// `query`, `key`, `value` and `proj_attn`; they load to the same model.
#[test]
fn older_vae_attention_names_load() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&own("sd2-v"), tmp.path());
    let mut renamed = 0;
    rewrite(
        &tmp.path()
            .join("vae/diffusion_pytorch_model.fp16.safetensors"),
        |m| {
            let names: Vec<String> = m.keys().cloned().collect();
            for n in names {
                if !n.contains("mid_block.attentions.0.") {
                    continue;
                }
                let old = n
                    .replace(".to_q.", ".query.")
                    .replace(".to_k.", ".key.")
                    .replace(".to_v.", ".value.")
                    .replace(".to_out.0.", ".proj_attn.");
                if old != n {
                    let v = m.remove(&n).unwrap();
                    m.insert(old, v);
                    renamed += 1;
                }
            }
        },
    );
    assert_eq!(
        renamed, 16,
        "4 projections × weight and bias × encoder and decoder"
    );
    let m = common::load(tmp.path(), &SdOptions::default());
    let z0 =
        nao_backend::Backend::encode_image(&m, &common::own_reference("sd2-v", "vae_image.npy"))
            .unwrap();
    common::assert_abs(
        "VAE encode with legacy attention names",
        &z0,
        &common::own_reference("sd2-v", "vae_z0.npy"),
        1e-5,
    );
}
