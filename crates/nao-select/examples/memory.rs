//! Peak memory of one SeedSelect iteration (one loss and gradient), measured: each
//! configuration runs in a fresh child process, which reports its peak resident memory
//! (`VmHWM`) after loading the model and the target, and again after the iteration. The
//! difference is what the iteration holds at its peak: the activations kept for the backward
//! pass, the gradients and the sampler's stored latents.
//!
//! ```text
//! cargo run --release -p nao-select --example memory -- [--model DIR] [--steps 5,10,20,40]
//!     [--latent 8,16] [--batch 1] [--guidance 1]
//! ```
//!
//! Without `--model`: the embedded model. With a diffusers folder (and its `image_encoder/`),
//! `--latent` lists the latents' sides to measure at. `--write-sd15 DIR` first writes Stable
//! Diffusion 1.5's architecture with random weights there (4.3 GB), with the tiny CLIP vision
//! tower of `../shared/fixtures/tiny-clip-vision` linked as its `image_encoder/`.
//! Prints one JSON object per line: the configuration, the megabytes after setup and the
//! megabytes the iteration added, with and without checkpointing.

use std::path::{Path, PathBuf};
use std::process::Command;

use nao_select::{open_model, OpenOptions, Problem, Schedule, SelectConfig, Target};

/// The process's peak resident memory so far, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

fn arg(args: &[String], name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn list(v: Option<String>, default: &str) -> Vec<usize> {
    v.unwrap_or_else(|| default.into())
        .split(',')
        .map(|s| s.trim().parse().expect("a list of integers"))
        .collect()
}

/// One measurement, in this process (the child).
fn child(
    model: Option<PathBuf>,
    steps: usize,
    latent: Option<usize>,
    batch: usize,
    guidance: f64,
    checkpointing: bool,
) {
    let device = nao_burn::Device::flex();
    let options = OpenOptions {
        latent_size: latent.map(|s| (s, s)),
        ..OpenOptions::default()
    };
    let prompt = if model.is_some() {
        "a photo of a bag"
    } else {
        "bag"
    };
    let net = open_model(model.as_deref(), &device, prompt, &options).expect("the model");
    let [c, h, w] = net.latent_shape();
    let s = if model.is_some() { 8 } else { 4 };
    let channels = if model.is_some() { 3 } else { 1 };
    let (ih, iw) = (h * s, w * s);
    let real: Vec<f32> = (0..2 * channels * ih * iw)
        .map(|i| (i as f32 * 0.37).sin() * 0.8)
        .collect();
    let real = nao_backend::Tensor::new(vec![2, channels, ih, iw], real).unwrap();
    let target = Target::from_images(&*net, &*net, &real).expect("the target");
    let mut config = SelectConfig::from_nao();
    config.steps = steps;
    config.guidance = guidance;
    config.checkpointing = checkpointing;
    let schedule = Schedule::new(net.scheduler(), steps).unwrap();
    let problem = Problem {
        net: &*net,
        encoder: &*net,
        target: &target,
        schedule: &schedule,
        config: &config,
    };
    let mut rng = nao_prior::GaussianSeeds::new(nao_prior::RngName::ChaCha20, 1);
    let seeds: Vec<Vec<f32>> = (0..batch).map(|_| rng.seed(c * h * w)).collect();
    let before = peak_mib();
    let start = std::time::Instant::now();
    problem.loss_and_grad(&seeds).expect("the iteration");
    let seconds = start.elapsed().as_secs_f64();
    let after = peak_mib();
    println!(
        "{{\"latent\": [{c}, {h}, {w}], \"steps\": {steps}, \"batch\": {batch}, \"guidance\": {guidance}, \
         \"checkpointing\": {checkpointing}, \"setup_mib\": {before:.1}, \"iteration_mib\": {:.1}, \
         \"iteration_seconds\": {seconds:.2}}}",
        after - before
    );
}

fn write_sd15(dir: &Path) {
    if !dir.join("model_index.json").is_file() {
        eprintln!(
            "writing SD 1.5's architecture with random weights to {}",
            dir.display()
        );
        nao_sd::RandomModel::sd15()
            .write(dir)
            .expect("writing the model");
    }
    let encoder = dir.join("image_encoder");
    if !encoder.exists() {
        let clip = nao_test_support::shared("fixtures/tiny-clip-vision");
        std::os::unix::fs::symlink(clip.join("image_encoder"), &encoder).unwrap();
        std::os::unix::fs::symlink(
            clip.join("feature_extractor"),
            dir.join("feature_extractor"),
        )
        .unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = arg(&args, "--model").map(PathBuf::from);
    let batch: usize = arg(&args, "--batch").map_or(1, |b| b.parse().unwrap());
    let guidance: f64 = arg(&args, "--guidance").map_or(1.0, |g| g.parse().unwrap());
    if std::env::var_os("NAO_SELECT_MEMORY_CHILD").is_some() {
        let steps = arg(&args, "--steps").unwrap().parse().unwrap();
        let latent = arg(&args, "--latent").map(|l| l.parse().unwrap());
        let checkpointing = arg(&args, "--checkpointing").unwrap() == "true";
        child(model, steps, latent, batch, guidance, checkpointing);
        return;
    }
    if let Some(dir) = arg(&args, "--write-sd15") {
        write_sd15(Path::new(&dir));
        return;
    }
    let steps = list(arg(&args, "--steps"), "5,10,20,40");
    let latents: Vec<Option<usize>> = match arg(&args, "--latent") {
        Some(l) => list(Some(l), "").into_iter().map(Some).collect(),
        None => vec![None],
    };
    let me = std::env::current_exe().unwrap();
    for latent in latents {
        for &k in &steps {
            for checkpointing in [true, false] {
                let mut cmd = Command::new(&me);
                cmd.env("NAO_SELECT_MEMORY_CHILD", "1").args([
                    "--steps",
                    &k.to_string(),
                    "--checkpointing",
                    &checkpointing.to_string(),
                    "--batch",
                    &batch.to_string(),
                    "--guidance",
                    &guidance.to_string(),
                ]);
                if let Some(m) = &model {
                    cmd.arg("--model").arg(m);
                }
                if let Some(l) = latent {
                    cmd.args(["--latent", &l.to_string()]);
                }
                let status = cmd.status().expect("the child");
                assert!(status.success(), "the measurement failed");
            }
        }
    }
}
