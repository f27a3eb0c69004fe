//! `nao invert`, `nao sample`, `nao reconstruct`: run the built binary on the tiny-sd1 fixture
//! — its ONNX export on ONNX Runtime, and its diffusers folder on burn's cpu device — and compare
//! with what diffusers computed on it (`shared/fixtures/tiny-sd1/reference`).
//!
//! The ONNX route needs ONNX Runtime: `ORT_DYLIB_PATH` (`cargo xtask setup-ort`; `cargo xtask
//! ci` sets it); both need `shared/` beside the repository. Without them these tests fail with
//! a message; they never skip.

mod common;

use std::path::{Path, PathBuf};

use common::{num, read, Work};
use nao_npy::{DType, NpyArray};
use serde_json::Value;

/// Prompt 0 of the fixture's `reference.json`.
const PROMPT: &str = "a photo of a cat";

/// `shared/fixtures/tiny-sd1` beside the repository.
fn fixture() -> PathBuf {
    nao_test_support::shared("fixtures/tiny-sd1")
}

/// The fixture's ONNX model folder, as an argument.
fn model() -> String {
    fixture().join("onnx").display().to_string()
}

/// One of the fixture's two folders of the same model, and where `nao` runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `onnx/` on ONNX Runtime (its default device, onnx-cpu).
    Onnx,
    /// `diffusers/` on burn's cpu device (nao-sd).
    Diffusers,
}

impl Route {
    /// A workspace for a test of this route (the ONNX route checks ONNX Runtime first).
    fn work(self) -> Work {
        match self {
            Route::Onnx => work(),
            Route::Diffusers => Work::new(),
        }
    }

    /// `--model DIR` and, for the diffusers folder, `--device cpu`.
    fn model_args(self) -> Vec<String> {
        match self {
            Route::Onnx => vec!["--model".into(), model()],
            Route::Diffusers => vec![
                "--model".into(),
                fixture().join("diffusers").display().to_string(),
                "--device".into(),
                "cpu".into(),
            ],
        }
    }
}

/// `nao COMMAND FIRST --model … [--device …] REST… --json` on `route`, which must succeed.
fn run_json(w: &Work, route: Route, command: &str, first: &str, rest: &[&str]) -> Value {
    let model = route.model_args();
    let mut args = vec![command, first];
    args.extend(model.iter().map(String::as_str));
    args.extend_from_slice(rest);
    args.push("--json");
    w.json(&args)
}

/// A reference file of the fixture, as an argument.
fn reference(name: &str) -> String {
    fixture().join("reference").join(name).display().to_string()
}

/// `$ORT_DYLIB_PATH`, checked: these tests fail (they do not skip) without ONNX Runtime. The
/// `nao` processes inherit it.
fn ort_library() -> PathBuf {
    nao_test_support::ort_library()
}

/// A workspace for a model test (checks ONNX Runtime first).
fn work() -> Work {
    ort_library();
    Work::new()
}

/// Largest absolute difference of two arrays of the same shape.
fn max_abs_diff(got: &NpyArray, expected: &NpyArray) -> f64 {
    assert_eq!(got.shape(), expected.shape(), "shapes differ");
    got.to_f64_vec()
        .iter()
        .zip(expected.to_f64_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// A string field of a JSON object.
fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field {field} missing or not a string in {v}"))
}

/// Copy a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `nao invert` of the reference image, 10 steps, into `seeds.npy`: the seeds diffusers
/// inverted, with their norms under the χ prior.
fn invert_matches_the_reference(w: &Work, route: Route) -> NpyArray {
    let png = reference("inversion_input.png");
    let v = run_json(
        w,
        route,
        "invert",
        &png,
        &["--prompt", PROMPT, "--steps", "10", "-o", "seeds.npy"],
    );
    let seeds = read(&w.path("seeds.npy"));
    assert_eq!(
        (seeds.shape(), seeds.dtype()),
        (&[1, 4, 8, 8][..], DType::F32)
    );
    let expected = read(Path::new(&reference("inversion_10steps_latents.npy")));
    let err = max_abs_diff(&seeds, &expected);
    eprintln!("nao invert ({route:?}) vs diffusers (10 steps): max |Δ| = {err:e}");
    assert!(
        err <= 1e-4,
        "inverted seeds differ from diffusers' by {err:e}"
    );

    assert_eq!(v["images"], serde_json::json!([png]));
    assert_eq!(v["shape"], serde_json::json!([1, 4, 8, 8]));
    assert!(num(&v, "seconds") >= 0.0);
    assert_eq!(v["steps"], 10);
    let s = &v["seeds"][0];
    let prior = nao_prior::ChiPrior::new(256).unwrap();
    let norm = nao_prior::norm(&seeds.to_f64_vec());
    assert!((num(s, "norm") - norm).abs() < 1e-9, "{s}");
    assert!(
        (num(s, "log_chi") - prior.log_pdf(norm)).abs() < 1e-9,
        "{s}"
    );
    assert!(
        (num(s, "percentile") - 100.0 * prior.cdf(norm)).abs() < 1e-9,
        "{s}"
    );
    seeds
}

#[test]
fn invert_with_the_diffusers_folder_matches_diffusers() {
    let w = Route::Diffusers.work();
    invert_matches_the_reference(&w, Route::Diffusers);
}

#[test]
fn invert_matches_diffusers() {
    let w = work();
    let png = reference("inversion_input.png");
    let seeds = invert_matches_the_reference(&w, Route::Onnx);

    // Several images, one of them a JPEG and one of another size (centre-cropped): stacked
    // along the first axis, each inverted on its own.
    let img = image::open(&png).unwrap();
    img.to_rgb8().save(w.path("cat.jpg")).unwrap();
    image::imageops::resize(
        &img.to_rgb8(),
        96,
        64,
        image::imageops::FilterType::Lanczos3,
    )
    .save(w.path("wide.png"))
    .unwrap();
    let v = w.json(&[
        "invert",
        &png,
        "cat.jpg",
        "wide.png",
        "--model",
        &model(),
        "--prompt",
        PROMPT,
        "--steps",
        "10",
        "--threads",
        "1",
        "--resize",
        "center-crop",
        "-o",
        "three.npy",
        "--json",
    ]);
    assert_eq!(v["shape"], serde_json::json!([3, 4, 8, 8]));
    assert_eq!(v["seeds"].as_array().unwrap().len(), 3);
    assert_eq!(v["seeds"][1]["image"], "cat.jpg");
    let three = read(&w.path("three.npy")).to_f32_vec();
    let first = seeds.to_f32_vec();
    let spread = three[..256]
        .iter()
        .zip(&first)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        spread <= 1e-5,
        "other images changed the first seed by {spread:e}"
    );
    assert_ne!(three[256..512], three[..256], "the JPEG was not read");
    let out = w.run(&[
        "invert",
        "wide.png",
        "--model",
        &model(),
        "--prompt",
        PROMPT,
        "--steps",
        "2",
        "--resize",
        "stretch",
        "-o",
        "stretch.npy",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("stretch.npy"));
}

/// `nao sample` of the reference latents, 10 steps at guidance 7.5: diffusers' final latents
/// and, in the PNG, its decoded image.
fn sample_matches_the_reference(route: Route) {
    let w = route.work();
    let v = run_json(
        &w,
        route,
        "sample",
        &reference("initial_latents.npy"),
        &[
            "--prompt",
            PROMPT,
            "--steps",
            "10",
            "--guidance",
            "7.5",
            "--save-latents",
            "final.npy",
            "-o",
            "out",
        ],
    );
    let latents = read(&w.path("final.npy"));
    assert_eq!(
        (latents.shape(), latents.dtype()),
        (&[1, 4, 8, 8][..], DType::F32)
    );
    let expected = read(Path::new(&reference("sample_10steps_gs7.5_latents.npy")));
    let err = max_abs_diff(&latents, &expected);
    eprintln!("nao sample ({route:?}) vs diffusers (10 steps, guidance 7.5): max |Δ| = {err:e}");
    assert!(
        err <= 1e-4,
        "final latents differ from diffusers' by {err:e}"
    );

    let png = w.path("out/000.png");
    // Paths as given (-o out is relative).
    assert_eq!(v["images"], serde_json::json!(["out/000.png"]));
    assert_eq!(text(&v, "sheet"), "out/sheet.png");
    assert_eq!(v["steps"], 10);
    assert_eq!(num(&v, "guidance"), 7.5);
    assert!(num(&v, "seconds") >= 0.0);
    assert_eq!(text(&v, "latents"), "final.npy");

    // The PNG is diffusers' decoded image, in 8 bits.
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (64, 64));
    let decoded = read(Path::new(&reference("sample_10steps_gs7.5_decoded.npy"))).to_f32_vec();
    let n = 64 * 64;
    let worst = img
        .pixels()
        .enumerate()
        .flat_map(|(i, p)| (0..3).map(move |c| (i, c, p.0[c])))
        .map(|(i, c, got)| {
            let want = ((decoded[c * n + i] + 1.0) / 2.0).clamp(0.0, 1.0) * 255.0;
            (f32::from(got) - want).abs()
        })
        .fold(0.0, f32::max);
    eprintln!("000.png ({route:?}) vs diffusers' decoded image: max |Δ| = {worst} levels of 255");
    assert!(
        worst <= 0.51,
        "the PNG differs from diffusers' image by {worst} levels"
    );
    let sheet = image::open(w.path("out/sheet.png")).unwrap().to_rgb8();
    assert_eq!(sheet, img, "the sheet of one image is that image");
    assert_eq!(w.files(), vec!["final.npy", "out"]);
}

#[test]
fn sample_matches_diffusers() {
    sample_matches_the_reference(Route::Onnx);
}

#[test]
fn sample_with_the_diffusers_folder_matches_diffusers() {
    sample_matches_the_reference(Route::Diffusers);
}

/// `--scheduler` on both routes: the final latents of a few samplers equal diffusers'
/// `StableDiffusionPipeline` with the same scheduler (the references of
/// `scripts/make_scheduler_fixtures.py`), and the report names the sampler.
#[test]
fn sample_with_a_scheduler_matches_diffusers() {
    for route in [Route::Onnx, Route::Diffusers] {
        let w = route.work();
        for (name, calls) in [("dpm++2m-karras", 10), ("heun", 19), ("plms", 11)] {
            let latents = format!("{name}.npy");
            let v = run_json(
                &w,
                route,
                "sample",
                &reference("initial_latents.npy"),
                &[
                    "--prompt",
                    PROMPT,
                    "--steps",
                    "10",
                    "--scheduler",
                    name,
                    "--save-latents",
                    &latents,
                    "-o",
                    name,
                ],
            );
            assert_eq!(text(&v, "scheduler"), name);
            assert_eq!(v["model_calls"], calls, "{name}");
            let expected = read(
                &nao_test_support::schedulers::dir().join(format!("tiny-sd1/{name}_gs7.5.npy")),
            );
            let err = max_abs_diff(&read(&w.path(&latents)), &expected);
            eprintln!("nao sample --scheduler {name} ({route:?}) vs diffusers: max |Δ| = {err:e}");
            assert!(err <= 1e-4, "{name} ({route:?}): {err:e}");
        }
        // the model's own scheduler (DDIM) by default
        let v = run_json(
            &w,
            route,
            "sample",
            &reference("initial_latents.npy"),
            &["--prompt", PROMPT, "--steps", "3", "-o", "own"],
        );
        assert_eq!(text(&v, "scheduler"), "ddim");
    }
}

/// Euler ancestral draws its noise from `--seed`: the same seed, the same image; another seed,
/// another image; the report names the noise seed.
#[test]
fn euler_ancestral_noise_comes_from_the_seed() {
    let w = Work::new();
    let route = Route::Diffusers;
    let run = |seed: &str, out: &str| {
        let v = run_json(
            &w,
            route,
            "sample",
            &reference("initial_latents.npy"),
            &[
                "--prompt",
                PROMPT,
                "--steps",
                "4",
                "--scheduler",
                "euler_a",
                "--seed",
                seed,
                "--save-latents",
                &format!("{out}.npy"),
                "-o",
                out,
            ],
        );
        assert_eq!(text(&v, "scheduler"), "euler-ancestral");
        assert_eq!(v["noise_seed"], seed.parse::<u64>().unwrap());
        read(&w.path(&format!("{out}.npy")))
    };
    let a = run("1", "a");
    assert_eq!(max_abs_diff(&a, &run("1", "b")), 0.0);
    assert!(max_abs_diff(&a, &run("2", "c")) > 1e-3);
}

#[test]
fn scheduler_errors_name_the_culprit() {
    let w = Work::new();
    let route = Route::Diffusers;
    let model = route.model_args();
    let initial = reference("initial_latents.npy");
    let png = reference("inversion_input.png");
    let before = w.files();
    let check = |args: &[&str], needles: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(model.iter().map(String::as_str));
        let msg = w.fails(&all);
        for n in needles {
            assert!(msg.contains(n), "nao {all:?}: {msg:?} lacks {n:?}");
        }
        assert_eq!(w.files(), before, "nao {all:?} left files behind");
    };
    let sample = ["sample", initial.as_str(), "--prompt", PROMPT, "-o", "out"];
    let with = |extra: &[&'static str]| {
        let mut v = sample.to_vec();
        v.extend_from_slice(extra);
        v
    };
    check(
        &with(&["--scheduler", "ddpm"]),
        &["--scheduler", "'ddpm'", "euler"],
    );
    check(
        &with(&["--scheduler", "pndm", "--steps", "3"]),
        &["--steps 3", "at least 4"],
    );
    check(
        &with(&["--scheduler", "euler", "--steps", "1001"]),
        &["--steps 1001", "1..=1000"],
    );
    check(
        &with(&["--scheduler", "heun", "--eta", "0.5"]),
        &["--scheduler heun", "eta", "DDIM"],
    );
    check(
        &with(&["--scheduler", "pndm-karras"]),
        &["--scheduler", "PNDMScheduler", "Karras"],
    );
    check(
        &[
            "invert",
            png.as_str(),
            "--prompt",
            PROMPT,
            "--scheduler",
            "euler",
            "-o",
            "s.npy",
        ],
        &["--scheduler euler", "DDIM"],
    );
    // a model folder whose scheduler class nao lacks
    copy_tree(&fixture().join("diffusers"), &w.path("kdpm2"));
    let cfg = w.path("kdpm2/scheduler/scheduler_config.json");
    let config = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        config.replace("DDIMScheduler", "KDPM2DiscreteScheduler"),
    )
    .unwrap();
    let before = w.files();
    let folder = w.path("kdpm2").display().to_string();
    let msg = w.fails(&[
        "sample", &initial, "--model", &folder, "--device", "cpu", "--prompt", PROMPT, "-o", "out",
    ]);
    assert!(
        msg.contains("KDPM2DiscreteScheduler") && msg.contains("--scheduler"),
        "{msg}"
    );
    assert_eq!(w.files(), before);
    // which --scheduler overrides
    let v = w.json(&[
        "sample",
        &initial,
        "--model",
        &folder,
        "--device",
        "cpu",
        "--prompt",
        PROMPT,
        "--steps",
        "2",
        "--scheduler",
        "unipc",
        "-o",
        "out",
        "--json",
    ]);
    assert_eq!(text(&v, "scheduler"), "unipc");
}

#[test]
fn sample_takes_paths_and_eta() {
    let w = work();
    let initial = reference("initial_latents.npy");
    w.json(&[
        "seed", "--shape", "1,4,8,8", "--seed", "5", "-o", "b.npy", "--json",
    ]);
    w.json(&[
        "path", &initial, "b.npy", "--frames", "3", "-o", "path.npy", "--json",
    ]);
    let common = ["--model", &model(), "--prompt", PROMPT, "--steps", "2"];
    let run = |seeds: &str, extra: &[&str]| {
        let mut args = vec!["sample", seeds];
        args.extend_from_slice(&common);
        args.extend_from_slice(extra);
        args.push("--json");
        w.json(&args)
    };
    // A path of shape (3, 1, 4, 8, 8): three seeds, latents saved in the same shape.
    let v = run(
        "path.npy",
        &[
            "--guidance",
            "1",
            "-o",
            "frames",
            "--save-latents",
            "frames.npy",
        ],
    );
    assert_eq!(v["count"], 3);
    let names: Vec<&str> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names[2].ends_with("002.png"), "{names:?}");
    let mut files: Vec<String> = std::fs::read_dir(w.path("frames"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["000.png", "001.png", "002.png", "sheet.png"]);
    let sheet = image::open(w.path("frames/sheet.png")).unwrap();
    assert_eq!((sheet.width(), sheet.height()), (128, 128));
    assert_eq!(v["sheet_grid"], serde_json::json!([2, 2]));
    let frames = read(&w.path("frames.npy"));
    assert_eq!(frames.shape(), &[3, 1, 4, 8, 8]);

    // One seed of shape (4, 8, 8): each seed's result does not depend on the others.
    let first: Vec<f32> = read(&w.path("path.npy")).to_f32_vec()[..256].to_vec();
    w.f32_seed("one.npy", &[4, 8, 8], &first);
    run(
        "one.npy",
        &[
            "--guidance",
            "1",
            "-o",
            "one",
            "--save-latents",
            "one_final.npy",
        ],
    );
    let one = read(&w.path("one_final.npy"));
    assert_eq!(one.shape(), &[4, 8, 8]);
    assert_eq!(one.to_f32_vec()[..], frames.to_f32_vec()[..256]);

    // η > 0: the noise follows --seed.
    let eta = |seed: &str, name: &str| {
        let (dir, file) = (format!("{name}_images"), format!("{name}.npy"));
        run(
            "one.npy",
            &[
                "--eta",
                "0.5",
                "--seed",
                seed,
                "-o",
                &dir,
                "--save-latents",
                &file,
            ],
        )
    };
    let v = eta("3", "e3");
    assert_eq!(v["noise_seed"], 3);
    eta("3", "e3_again");
    eta("4", "e4");
    let (a, b, c) = (
        read(&w.path("e3.npy")),
        read(&w.path("e3_again.npy")),
        read(&w.path("e4.npy")),
    );
    assert_eq!(a, b, "the same --seed gave different results");
    assert_ne!(a, c, "--seed does not change the variance noise");
    assert_ne!(a.to_f32_vec(), one.to_f32_vec(), "--eta had no effect");

    // Text output.
    let out = w.run(&[
        "sample",
        "one.npy",
        "--model",
        &model(),
        "--prompt",
        PROMPT,
        "--steps",
        "1",
        "-o",
        "txt",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sheet.png"));
}

/// `nao reconstruct` of the reference image, 10 steps: finite errors, diffusers' inverted
/// seed, the input and the reconstruction as 64×64 PNGs.
fn reconstruct_matches_the_reference(w: &Work, route: Route) {
    let v = run_json(
        w,
        route,
        "reconstruct",
        &reference("inversion_input.png"),
        &["--prompt", PROMPT, "--steps", "10", "-o", "rec"],
    );
    for f in [
        "latent_mse",
        "latent_max_abs_error",
        "image_mse",
        "psnr_db",
        "seed_norm",
    ] {
        let x = num(&v, f);
        assert!(x.is_finite() && x >= 0.0, "{f} = {x} in {v}");
    }
    eprintln!(
        "nao reconstruct ({route:?}, 10 steps): latent MSE {}, max {}, image MSE {}, PSNR {} dB",
        v["latent_mse"], v["latent_max_abs_error"], v["image_mse"], v["psnr_db"]
    );
    assert!(num(&v, "latent_max_abs_error") >= num(&v, "latent_mse").sqrt());
    let psnr = -10.0 * num(&v, "image_mse").log10();
    assert!((num(&v, "psnr_db") - psnr).abs() < 1e-9);
    // The seed is the inverted seed of `nao invert` / diffusers.
    let seed = read(&w.path("rec/seed.npy"));
    let expected = read(Path::new(&reference("inversion_10steps_latents.npy")));
    let err = max_abs_diff(&seed, &expected);
    assert!(err <= 1e-4, "the seed differs from diffusers' by {err:e}");
    for name in ["reconstruction.png", "input.png"] {
        let img = image::open(w.path("rec").join(name)).unwrap();
        assert_eq!((img.width(), img.height()), (64, 64), "{name}");
    }
    // The input as the model saw it is the PNG itself (64×64, no resizing).
    let input = image::open(w.path("rec/input.png")).unwrap().to_rgb8();
    let original = image::open(reference("inversion_input.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(input, original);
}

#[test]
fn reconstruct_with_the_diffusers_folder_matches_diffusers() {
    let w = Route::Diffusers.work();
    reconstruct_matches_the_reference(&w, Route::Diffusers);
}

#[test]
fn reconstruct_reports_finite_errors() {
    let w = work();
    reconstruct_matches_the_reference(&w, Route::Onnx);
    // Guidance on both sides runs and differs.
    let g = w.json(&[
        "reconstruct",
        &reference("inversion_input.png"),
        "--model",
        &model(),
        "--prompt",
        PROMPT,
        "--steps",
        "3",
        "--guidance-invert",
        "2",
        "--guidance-sample",
        "3",
        "-o",
        "rec_g",
        "--json",
    ]);
    assert!(num(&g, "latent_mse").is_finite());
    assert_eq!(num(&g, "guidance_sample"), 3.0);
}

#[test]
fn model_command_errors_are_clear_and_leave_no_output() {
    let w = work();
    let m = model();
    let png = reference("inversion_input.png");
    let initial = reference("initial_latents.npy");
    w.f32_seed("c3.npy", &[3, 8, 8], &[0.5; 192]);
    w.f32_seed("flat.npy", &[256], &[0.5; 256]);
    let mut nan = vec![0.5f32; 256];
    nan[9] = f32::NAN;
    w.f32_seed("nan.npy", &[4, 8, 8], &nan);
    // The fixture's UNet downsamples once: a 7×7 latent fails inside the sampling loop, after
    // the output folder was set up (it must disappear again).
    w.f32_seed("odd.npy", &[4, 7, 7], &[0.5; 196]);
    std::fs::write(w.path("bad.png"), b"not an image").unwrap();
    let img = image::open(&png).unwrap();
    image::imageops::resize(
        &img.to_rgb8(),
        80,
        64,
        image::imageops::FilterType::Triangle,
    )
    .save(w.path("wide.png"))
    .unwrap();
    // A model copy without its VAE decoder, and one without its UNet.
    copy_tree(Path::new(&m), &w.path("no_decoder"));
    std::fs::remove_file(w.path("no_decoder/vae_decoder/model.onnx")).unwrap();
    copy_tree(Path::new(&m), &w.path("no_unet"));
    std::fs::remove_file(w.path("no_unet/unet/model.onnx")).unwrap();
    // A model copy without a VAE encoder folder at all.
    copy_tree(Path::new(&m), &w.path("no_encoder"));
    std::fs::remove_dir_all(w.path("no_encoder/vae_encoder")).unwrap();
    let before = w.files();

    let check = |args: &[&str], needles: &[&str]| {
        let msg = w.fails(args);
        for n in needles {
            assert!(msg.contains(n), "nao {args:?}: {msg:?} lacks {n:?}");
        }
        assert_eq!(w.files(), before, "nao {args:?} left files behind");
    };
    let sample = |seeds: &str, model: &str, extra: &[&str]| {
        let mut v = vec![
            "sample",
            seeds,
            "--model",
            model,
            "--prompt",
            PROMPT,
            "-o",
            "out",
            "--save-latents",
            "final.npy",
        ];
        if !extra.contains(&"--steps") {
            v.extend(["--steps", "2"]);
        }
        v.extend_from_slice(extra);
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let sample_fails = |seeds: &str, model: &str, extra: &[&str], needles: &[&str]| {
        let args = sample(seeds, model, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        check(&args, needles);
    };

    // Latent shapes: the file, its shape and the expected [c, h, w].
    sample_fails("c3.npy", &m, &[], &["c3.npy", "(3, 8, 8)", "[4, h, w]"]);
    sample_fails(
        "flat.npy",
        &m,
        &["--json"],
        &["flat.npy", "(256,)", "[4, h, w]"],
    );
    sample_fails("nan.npy", &m, &[], &["nan.npy", "flat index 9", "NaN"]);
    sample_fails("missing.npy", &m, &[], &["missing.npy"]);
    sample_fails("odd.npy", &m, &[], &["odd.npy", "multiples of 2"]);
    // Missing model files are named.
    sample_fails(
        &initial,
        "no_decoder",
        &[],
        &["no_decoder/vae_decoder/model.onnx"],
    );
    sample_fails(&initial, "no_unet", &[], &["no_unet/unet/model.onnx"]);
    sample_fails(&initial, "no_such_model", &[], &["no_such_model"]);
    // Options.
    sample_fails(&initial, &m, &["--threads", "0"], &["--threads"]);
    sample_fails(&initial, &m, &["--steps", "0"], &["--steps"]);
    sample_fails(&initial, &m, &["--steps", "5000"], &["--steps", "1000"]);
    sample_fails(&initial, &m, &["--eta=-1"], &["--eta"]);
    sample_fails(&initial, &m, &["--guidance", "nan"], &["--guidance"]);
    sample_fails(
        &initial,
        &m,
        &["--ort-lib", "no/such/libonnxruntime.so"],
        &["no/such/libonnxruntime.so"],
    );
    check(
        &[
            "sample", &initial, "--model", &m, "--prompt", PROMPT, "-o", "c3.npy",
        ],
        &["c3.npy", "not a folder"],
    );
    check(
        &[
            "sample",
            &initial,
            "--model",
            &m,
            "--prompt",
            PROMPT,
            "-o",
            "out",
            "--save-latents",
            "nodir/final.npy",
        ],
        &["nodir"],
    );

    // Images: unreadable, missing, of the wrong size under --resize exact.
    let invert = |image: &str, model: &str, extra: &[&str], needles: &[&str]| {
        let mut args = vec![
            "invert",
            image,
            "--model",
            model,
            "--prompt",
            PROMPT,
            "--steps",
            "2",
            "-o",
            "seeds.npy",
        ];
        args.extend_from_slice(extra);
        check(&args, needles);
    };
    invert("bad.png", &m, &[], &["bad.png"]);
    invert("missing.png", &m, &["--json"], &["missing.png"]);
    invert(
        "wide.png",
        &m,
        &["--resize", "exact"],
        &["wide.png", "64×80"],
    );
    invert(
        &png,
        "no_encoder",
        &[],
        &["no_encoder/vae_encoder/model.onnx"],
    );
    invert(&png, &m, &["--guidance", "inf"], &["--guidance"]);
    check(
        &[
            "invert",
            &png,
            "bad.png",
            "--model",
            &m,
            "--prompt",
            PROMPT,
            "--steps",
            "2",
            "-o",
            "seeds.npy",
        ],
        &["bad.png"],
    );
    check(
        &[
            "reconstruct",
            "bad.png",
            "--model",
            &m,
            "--prompt",
            PROMPT,
            "--steps",
            "2",
            "-o",
            "rec",
        ],
        &["bad.png"],
    );
    check(
        &[
            "reconstruct",
            &png,
            "--model",
            "no_decoder",
            "--prompt",
            PROMPT,
            "-o",
            "rec",
        ],
        &["vae_decoder/model.onnx"],
    );
    // --prompt is required.
    check(
        &["sample", &initial, "--model", &m, "-o", "out"],
        &["--prompt"],
    );
}

#[test]
fn the_onnx_runtime_library_comes_from_ort_lib_or_ort_dylib_path() {
    let w = work();
    let lib = ort_library().display().to_string();
    let args = |extra: &[&'static str]| {
        let mut v = vec![
            "sample".to_string(),
            reference("initial_latents.npy"),
            "--model".into(),
            model(),
            "--prompt".into(),
            PROMPT.into(),
            "--steps".into(),
            "1".into(),
            "-o".into(),
            "out".into(),
            "--json".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // Neither: a clear error naming both ways, and nothing written.
    let a = args(&[]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = w.run_without_env(&a, "ORT_DYLIB_PATH");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && out.status.code() != Some(101),
        "{stderr}"
    );
    common::check_failure_stdout(&a, &out, &stderr);
    assert!(
        stderr.contains("--ort-lib") && stderr.contains("ORT_DYLIB_PATH"),
        "{stderr}"
    );
    assert!(w.files().is_empty(), "{:?}", w.files());
    // --ort-lib alone.
    let mut a = args(&[]);
    a.extend(["--ort-lib".to_string(), lib]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = w.run_without_env(&a, "ORT_DYLIB_PATH");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = common::one_json_object(&out);
    assert_eq!(v["count"], 1);
}
