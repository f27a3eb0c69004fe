#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Per-UNet-call cost of the ONNX backend (`nao_onnx::OnnxBackend::predict_noise`) on the
//! tiny-sd1 fixture, to compare with the same session called from Python's onnxruntime
//! (`scripts/onnx_overhead.py`, same inputs, same thread count). The tiny UNet makes the fixed
//! per-call costs (tensor creation, shape checks, output copy) as visible as they can be.
//!
//! Two modes:
//! - criterion (`ORT_DYLIB_PATH=… cargo bench --bench onnx_overhead`): the medians of
//!   `onnx_overhead/unet_b1_threadsN` (one latent) and `unet_b2_threadsN` (a batch of two, as
//!   classifier-free guidance runs it);
//! - lockstep (`NAO_OVERHEAD_SERVE=1`): reads `CASE N` lines on stdin (`CASE` is `b1` or `b2`),
//!   runs `N` calls and answers the seconds they took. `scripts/onnx_overhead.py` alternates
//!   such blocks with its own, so that both sides are timed under the same machine conditions.
//!
//! `cargo xtask onnx-overhead` runs both. `NAO_BENCH_THREADS` sets the intra-op threads
//! (default 1), `NAO_BENCH_SECONDS` the criterion measurement time per case (default 6) and
//! `NAO_SHARED_DIR` the folder holding `fixtures/`.

use std::hint::black_box;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use nao_backend::{Backend, Tensor};
use nao_onnx::{OnnxBackend, OnnxOptions};

/// `shared/fixtures/tiny-sd1` beside the repository root (or under `$NAO_SHARED_DIR`).
fn fixture() -> PathBuf {
    nao_test_support::shared("fixtures/tiny-sd1")
}

fn read(name: &str) -> Tensor {
    nao_test_support::read_tensor(fixture().join("reference").join(name))
}

/// Intra-op threads: `$NAO_BENCH_THREADS` or 1 (the Python script reads the same variable).
fn threads() -> usize {
    std::env::var("NAO_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// Seconds of criterion measurement per case: `$NAO_BENCH_SECONDS` or 6.
fn measurement_seconds() -> f64 {
    std::env::var("NAO_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s: &f64| s > 0.0)
        .unwrap_or(6.0)
}

/// The model and the inputs of the two cases.
struct Setup {
    model: OnnxBackend,
    threads: usize,
    /// Batch of one: the reference call (initial latents, prompt 0's embeddings, t = 500).
    b1: (Tensor, Vec<i64>, Tensor),
    /// Batch of two: the same latents twice, prompt 0 and the empty prompt.
    b2: (Tensor, Vec<i64>, Tensor),
}

impl Setup {
    fn new() -> Self {
        // the one rule for finding ONNX Runtime (ORT_DYLIB_PATH; `cargo xtask onnx-overhead`
        // sets it)
        nao_test_support::ort_library();
        let threads = threads();
        let model = OnnxBackend::load(
            fixture().join("onnx"),
            &OnnxOptions::default().with_threads(threads),
        )
        .unwrap_or_else(|e| panic!("loading the tiny-sd1 ONNX model: {e}"));
        let latents = read("initial_latents.npy");
        let embeddings = read("text_embeddings.npy");
        let cond = embeddings.item(0).expect("prompt 0");
        let uncond = embeddings.item(2).expect("the empty prompt");
        let latents2 = Tensor::concat(&[latents.clone(), latents.clone()]).expect("batch");
        let context2 = Tensor::concat(&[cond.clone(), uncond]).expect("batch");
        Self {
            model,
            threads,
            b1: (latents, vec![500], cond),
            b2: (latents2, vec![500, 500], context2),
        }
    }

    fn call(&self, case: &(Tensor, Vec<i64>, Tensor)) -> Tensor {
        self.model
            .predict_noise(black_box(&case.0), black_box(&case.1), black_box(&case.2))
            .expect("UNet call")
    }
}

fn bench(c: &mut Criterion) {
    let setup = Setup::new();
    eprintln!(
        "onnx_overhead: ONNX Runtime {}, {} intra-op thread(s)",
        nao_onnx::loaded_library()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        setup.threads
    );
    let mut group = c.benchmark_group("onnx_overhead");
    group
        .sample_size(100)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs_f64(measurement_seconds()));
    group.bench_function(format!("unet_b1_threads{}", setup.threads), |b| {
        b.iter(|| setup.call(&setup.b1))
    });
    group.bench_function(format!("unet_b2_threads{}", setup.threads), |b| {
        b.iter(|| setup.call(&setup.b2))
    });
    group.finish();
}

/// Lockstep mode: `CASE N` on stdin → `N` calls → their seconds on stdout; `quit` ends.
fn serve() {
    let setup = Setup::new();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").expect("stdout");
    out.flush().expect("stdout");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let mut words = line.split_whitespace();
        let (case, n) = match (
            words.next(),
            words.next().and_then(|n| n.parse::<u32>().ok()),
        ) {
            (Some("quit"), _) | (None, _) => return,
            (Some("b1"), Some(n)) => (&setup.b1, n),
            (Some("b2"), Some(n)) => (&setup.b2, n),
            _ => panic!("lockstep: expected `b1 N`, `b2 N` or `quit`, got {line:?}"),
        };
        let start = Instant::now();
        for _ in 0..n {
            black_box(setup.call(case));
        }
        writeln!(out, "{:.9}", start.elapsed().as_secs_f64()).expect("stdout");
        out.flush().expect("stdout");
    }
}

criterion_group!(benches, bench);

fn main() {
    if std::env::var_os("NAO_OVERHEAD_SERVE").is_some() {
        serve();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
