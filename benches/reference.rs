#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Benchmarks of the reference solver (the port of the official discretised NAO optimiser) on
//! the official cases of `shared/reference/nao-official/`: the full `d = 16384` interpolation
//! (10 000 iterations; the official implementation takes 163.81 s on one CPU core) and the two
//! `d = 64` cases, each from the official initial path.
//!
//! `cargo bench --bench reference`. Without the shared reference data the benchmarks use
//! seeded Gaussian endpoints of the same dimensions instead.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use nao_geodesic::reference::{ReferenceConfig, ReferenceSolver};
use nao_prior::{GaussianSeeds, RngName};

/// `shared/reference/nao-official` beside the repository root (or under `$NAO_SHARED_DIR`).
fn official_dir() -> Option<PathBuf> {
    nao_test_support::try_shared("reference/nao-official").ok()
}

/// Endpoints and initial free points of an official case (or a seeded stand-in).
fn case(name: &str, dim: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    if let Some(dir) = official_dir() {
        let read = |f: &str| {
            nao_npy::read_npy(dir.join(name).join(f))
                .unwrap_or_else(|e| panic!("{name}/{f}: {e}"))
                .to_f32_vec()
        };
        return (read("p1.npy"), read("p2.npy"), read("init_path.npy"));
    }
    eprintln!("no shared reference data: benchmarking seeded Gaussian endpoints for {name}");
    let mut g = GaussianSeeds::new(RngName::ChaCha20, dim as u64);
    let (a, b): (Vec<f32>, Vec<f32>) = (g.seed(dim), g.seed(dim));
    let solver = ReferenceSolver::new(dim, ReferenceConfig::default()).unwrap();
    let init = solver.initial_interior(&a, &b).unwrap();
    (a, b, init)
}

fn bench_case(c: &mut Criterion, name: &str, dim: usize, samples: usize, secs: u64) {
    let (a, b, init) = case(name, dim);
    let solver = ReferenceSolver::new(dim, ReferenceConfig::default()).unwrap();
    let mut group = c.benchmark_group("reference");
    group
        .sample_size(samples)
        .measurement_time(Duration::from_secs(secs))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function(name, |bench| {
        bench.iter(|| {
            let sol = solver
                .solve_from(black_box(&a), black_box(&b), black_box(&init))
                .unwrap();
            black_box(sol.termination.iterations)
        })
    });
    group.finish();
}

fn d64(c: &mut Criterion) {
    bench_case(c, "interp_d64_gauss", 64, 50, 5);
    bench_case(c, "interp_d64_scaled", 64, 50, 5);
}

fn d16384(c: &mut Criterion) {
    // A full run takes seconds: the minimum of 10 samples, one run each.
    bench_case(c, "interp_d16384_gauss", 16384, 10, 20);
}

criterion_group!(benches, d64, d16384);
criterion_main!(benches);
