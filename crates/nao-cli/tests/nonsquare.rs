//! Images at their own size: `nao invert`, `sample`, `reconstruct`, `walk` and `augment` on a
//! 96×64 (width × height) picture with the tiny SD 1.x fixture (its ONNX export and its
//! diffusers folder), against diffusers inverting the same picture at its own size
//! (`crates/nao-inversion/tests/data/nonsquare/`, made by
//! `scripts/make_nonsquare_inversion_reference.py`); the sizes that cannot be kept are clear
//! errors.
//!
//! Needs ONNX Runtime (`ORT_DYLIB_PATH`) and `shared/`; fails, never skips, without them.

mod common;

use std::path::{Path, PathBuf};

use common::{read, Work};
use image::{imageops, DynamicImage};

const PROMPT: &str = "a photo of a cat";

/// A file of nao-inversion's non-square reference.
fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nao-inversion/tests/data/nonsquare")
        .join(name)
}

/// `--model DIR` (and `--device cpu` for the diffusers folder) of the tiny fixture.
fn model_args(kind: &str) -> Vec<String> {
    nao_test_support::ort_library();
    let dir = nao_test_support::shared("fixtures/tiny-sd1").join(kind);
    let mut args = vec!["--model".to_string(), dir.display().to_string()];
    if kind == "diffusers" {
        args.extend(["--device".to_string(), "cpu".to_string()]);
    }
    args
}

fn args<'a>(first: &[&'a str], model: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    let mut a = first.to_vec();
    a.extend(model.iter().map(String::as_str));
    a.extend_from_slice(rest);
    a
}

fn max_abs_diff(got: &nao_npy::NpyArray, expected: &nao_npy::NpyArray) -> f64 {
    assert_eq!(got.shape(), expected.shape());
    got.to_f64_vec()
        .iter()
        .zip(expected.to_f64_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// Save `img` as a PNG in the work folder.
fn save(w: &Work, name: &str, img: &DynamicImage) -> String {
    img.save(w.path(name)).unwrap();
    name.to_string()
}

fn picture() -> DynamicImage {
    image::open(data("input.png")).unwrap()
}

#[test]
fn invert_sample_and_reconstruct_keep_the_image_size_and_match_diffusers() {
    for kind in ["onnx", "diffusers"] {
        let w = Work::new();
        let model = model_args(kind);
        let png = data("input.png").display().to_string();
        // no --resize: a Stable Diffusion model keeps the image's own size
        let v = w.json(&args(
            &["invert", &png],
            &model,
            &[
                "--prompt",
                PROMPT,
                "--steps",
                "10",
                "-o",
                "seeds.npy",
                "--json",
            ],
        ));
        assert_eq!(v["shape"], serde_json::json!([1, 4, 8, 12]), "{kind}");
        assert_eq!(v["image_size"], serde_json::json!([64, 96]), "{kind}");
        assert_eq!(v["resize"], "none", "{kind}");
        let seeds = read(&w.path("seeds.npy"));
        let err = max_abs_diff(&seeds, &read(&data("inverted_10steps.npy")));
        eprintln!("nao invert ({kind}) of a 64×96 image vs diffusers: max |Δ| = {err:e}");
        assert!(err <= 1e-4, "{kind}: {err:e}");

        let v = w.json(&args(
            &["sample", "seeds.npy"],
            &model,
            &[
                "--prompt",
                PROMPT,
                "--steps",
                "10",
                "--guidance",
                "1",
                "-o",
                "back",
                "--save-latents",
                "back.npy",
                "--json",
            ],
        ));
        assert_eq!(v["image_size"], serde_json::json!([64, 96]), "{kind}");
        let err = max_abs_diff(
            &read(&w.path("back.npy")),
            &read(&data("sampled_back_10steps.npy")),
        );
        eprintln!("nao sample ({kind}) of the 64×96 seed vs diffusers: max |Δ| = {err:e}");
        assert!(err <= 1e-4, "{kind}: {err:e}");
        let img = image::open(w.path("back/000.png")).unwrap();
        assert_eq!((img.width(), img.height()), (96, 64));

        let v = w.json(&args(
            &["reconstruct", &png],
            &model,
            &["--prompt", PROMPT, "--steps", "3", "-o", "rec", "--json"],
        ));
        assert_eq!(v["seed_shape"], serde_json::json!([1, 4, 8, 12]), "{kind}");
        assert_eq!(v["image_size"], serde_json::json!([64, 96]), "{kind}");
        for name in ["reconstruction.png", "input.png"] {
            let img = image::open(w.path("rec").join(name)).unwrap();
            assert_eq!((img.width(), img.height()), (96, 64), "{kind} {name}");
        }
        // the input as the model saw it is the picture itself
        assert_eq!(
            image::open(w.path("rec/input.png")).unwrap().to_rgb8(),
            picture().to_rgb8()
        );
    }
}

#[test]
fn sizes_that_cannot_be_kept_are_clear_errors() {
    let w = Work::new();
    let model = model_args("onnx");
    let wide = save(&w, "wide.png", &picture());
    let tall = save(&w, "tall.png", &picture().rotate90());
    let odd = save(&w, "odd.png", &picture().crop_imm(0, 0, 92, 60));
    let e = w.fails(&args(
        &["invert", &wide, &tall],
        &model,
        &["--prompt", PROMPT, "--steps", "2", "-o", "s.npy"],
    ));
    assert!(
        e.contains("wide.png is 64×96") && e.contains("tall.png is 96×64"),
        "{e}"
    );
    assert!(!w.path("s.npy").exists());
    let e = w.fails(&args(
        &["invert", &odd],
        &model,
        &["--prompt", PROMPT, "--steps", "2", "-o", "s.npy"],
    ));
    assert!(
        e.contains("odd.png") && e.contains("60×92") && e.contains("multiples of 8"),
        "{e}"
    );
    // centre-crop still brings every image to the model's 64×64
    let v = w.json(&args(
        &["invert", &wide, &tall, &odd],
        &model,
        &[
            "--prompt",
            PROMPT,
            "--steps",
            "2",
            "--resize",
            "center-crop",
            "-o",
            "s.npy",
            "--json",
        ],
    ));
    assert_eq!(v["shape"], serde_json::json!([3, 4, 8, 8]));

    // the embedded model takes 28×28 images only: none refuses another size, naming it
    let small = save(
        &w,
        "small.png",
        &DynamicImage::ImageLuma8(image::GrayImage::new(56, 28)),
    );
    let e = w.fails(&[
        "invert", &small, "--prompt", "bag", "--steps", "2", "--resize", "none", "-o", "e.npy",
    ]);
    assert!(
        e.contains("small.png") && e.contains("28×56") && e.contains("28×28 images only"),
        "{e}"
    );
    // and its default stays center-crop
    let v = w.json(&[
        "invert", &small, "--prompt", "bag", "--steps", "2", "-o", "e.npy", "--json",
    ]);
    assert_eq!(v["resize"], "center-crop");
    assert_eq!(v["shape"], serde_json::json!([1, 4, 7, 7]));
}

#[test]
fn walk_and_augment_run_at_the_images_own_size_with_resize_none() {
    let w = Work::new();
    let model = model_args("onnx");
    let a = save(&w, "a.png", &picture());
    let b = save(&w, "b.png", &picture().fliph());
    let v = w.json(&args(
        &["walk", &a, &b],
        &model,
        &[
            "--prompt", PROMPT, "--steps", "2", "--frames", "3", "--resize", "none", "-o",
            "walk.gif", "--json",
        ],
    ));
    assert_eq!(v["size"], serde_json::json!([64, 96]), "{v}");
    let gif = image::open(w.path("walk.gif")).unwrap();
    assert_eq!((gif.width(), gif.height()), (96, 64));
    // a keyframe of another size is refused, naming both
    let c = save(&w, "c.png", &picture().crop_imm(0, 0, 64, 64));
    let e = w.fails(&args(
        &["walk", &a, &c],
        &model,
        &[
            "--prompt", PROMPT, "--steps", "2", "--frames", "3", "--resize", "none", "-o",
            "bad.gif",
        ],
    ));
    assert!(
        e.contains("a.png is 64×96") && e.contains("c.png is 64×64"),
        "{e}"
    );

    // augment: each class's images at their own size (one class wide, one tall)
    for (class, img) in [("wide", picture()), ("tall", picture().rotate90())] {
        std::fs::create_dir_all(w.path("real").join(class)).unwrap();
        img.save(w.path("real").join(class).join("0.png")).unwrap();
        imageops::flip_vertical(&img)
            .save(w.path("real").join(class).join("1.png"))
            .unwrap();
    }
    let r = w.json(&args(
        &["augment", "real", "-o", "aug", "--per-class", "2"],
        &model,
        &[
            "--steps",
            "2",
            "--path-positions",
            "1",
            "--resize",
            "none",
            "--json",
        ],
    ));
    assert_eq!(r["generated"], 4, "{r}");
    for (class, size) in [("wide", (96u32, 64u32)), ("tall", (64, 96))] {
        let seeds = nao_npy::read_npy(w.path("aug/seeds").join(format!("{class}.npy"))).unwrap();
        let latent = [4, size.1 as usize / 8, size.0 as usize / 8];
        assert_eq!(&seeds.shape()[1..], &latent, "{class}");
        for i in 0..2 {
            let img = image::open(w.path("aug").join(class).join(format!("{i:03}.png"))).unwrap();
            assert_eq!((img.width(), img.height()), size, "{class} {i}");
        }
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("aug/run.json")).unwrap()).unwrap();
    assert_eq!(run["config"]["resize"], "none");
}
