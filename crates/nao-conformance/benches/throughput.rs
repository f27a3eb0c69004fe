#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Sampling throughput of the embedded model on every compiled backend, in one run:
//! 20-step DDIM sampling with classifier-free guidance (2 noise-predictor passes per step)
//! and decoding, for a batch of 16 seeds. Criterion reports images/s.
//!
//! `cargo xtask bench-backends` (all backends this machine can build) or
//! `cargo bench -p nao-conformance --features wgpu,onnx --bench throughput`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nao_backend::{Backend, Tensor};
use nao_conformance::{devices_under_test, open};
use nao_prior::{GaussianSeeds, RngName};
use nao_sampling::{no_progress, SampleOptions};

const BATCH: usize = 16;
const STEPS: usize = 20;

fn sample(backend: &dyn Backend, seeds: &Tensor) -> Tensor {
    let options = SampleOptions::new()
        .with_steps(STEPS)
        .with_guidance_scale(3.0);
    let cond = nao_sampling::encode_prompt(backend, "bag", &options).unwrap();
    let latents = nao_sampling::sample(backend, seeds, &cond, &options, no_progress).unwrap();
    backend.decode_latents(&latents).unwrap()
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("sampling");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, 5);
    let seeds = Tensor {
        shape: vec![BATCH, 4, 7, 7],
        data: rng.seed(BATCH * 196),
    };
    for device in devices_under_test().unwrap_or_else(|e| panic!("{e}")) {
        // a device that cannot start is a failed benchmark, not a skipped one
        let backend = open(device).unwrap_or_else(|e| panic!("{e}"));
        // warm-up outside the measurement: shader compilation, session set-up
        sample(&*backend, &seeds);
        group.bench_function(device.to_string(), |b| b.iter(|| sample(&*backend, &seeds)));
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
