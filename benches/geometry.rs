#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Geometry benchmarks: the exact NAO path and distance, and NAO centroids.
//!
//! Run with `cargo xtask bench` (or `cargo bench --bench geometry`). Results go to
//! docs/benchmarks.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nao_geodesic::{Nao, Spacing};
use nao_prior::{GaussianSeeds, RngName};

fn seeds(d: usize, k: usize, scale: f64, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = GaussianSeeds::new(RngName::ChaCha8, seed);
    (0..k)
        .map(|_| rng.seed::<f64>(d).into_iter().map(|x| x * scale).collect())
        .collect()
}

fn exact_path(c: &mut Criterion) {
    let d = 16384;
    let nao = Nao::new(d).unwrap();
    let mut group = c.benchmark_group("nao_exact_path_d16384_50frames");
    for (name, scale) in [("gaussian", 1.0), ("ddim_0.8", 0.8)] {
        let s = seeds(d, 2, scale, 1);
        group.bench_function(name, |b| {
            b.iter(|| {
                nao.path(black_box(&s[0]), black_box(&s[1]), 50, Spacing::Euclidean)
                    .unwrap()
            })
        });
    }
    let s = seeds(d, 2, 1.0, 2);
    group.bench_function("distance_only", |b| {
        b.iter(|| nao.distance(black_box(&s[0]), black_box(&s[1])).unwrap())
    });
    let s = seeds(d, 2, 1.0, 3);
    let b2: Vec<f64> = s[1].iter().map(|x| x * 1.05).collect();
    group.bench_function("gaussian_vs_1.05", |b| {
        b.iter(|| {
            nao.path(black_box(&s[0]), black_box(&b2), 50, Spacing::Euclidean)
                .unwrap()
        })
    });
    group.finish();
    let mut planar = c.benchmark_group("nao_planar_solve");
    for (name, ra, rb, th) in [
        ("mode_pi2", 128.0, 128.0, std::f64::consts::FRAC_PI_2),
        ("ddim_pi2", 102.4, 102.4, std::f64::consts::FRAC_PI_2),
        ("mixed", 102.4, 131.0, 0.7),
        ("d_near", 128.0, 128.5, 0.05),
    ] {
        planar.bench_function(name, |b| {
            b.iter(|| {
                nao.solve_planar(black_box(ra), black_box(rb), black_box(th))
                    .unwrap()
            })
        });
    }
    planar.finish();
}

fn nao_centroids(c: &mut Criterion) {
    use nao_centroid::{centroid, CentroidMethod, CentroidOptions};
    let d = 16384;
    let mut group = c.benchmark_group("nao_centroid_d16384");
    group.sample_size(10);
    for &(k, frames) in &[(10usize, None), (10, Some(50usize)), (1000, None)] {
        let s = seeds(d, k, 1.0, 7);
        let r: Vec<&[f64]> = s.iter().map(|v| v.as_slice()).collect();
        let name = if frames.is_some() {
            format!("k{k}_with_paths")
        } else {
            format!("k{k}")
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                centroid(
                    CentroidMethod::Nao,
                    black_box(&r),
                    &CentroidOptions::default(),
                    frames,
                )
                .unwrap()
            })
        });
    }
    // The centroid plus its 10 solved geodesic paths (frames drawn from them on demand).
    let s = seeds(d, 10, 1.0, 7);
    let r: Vec<&[f64]> = s.iter().map(|v| v.as_slice()).collect();
    group.bench_function("k10_with_geodesics", |b| {
        b.iter(|| {
            let c = centroid(
                CentroidMethod::Nao,
                black_box(&r),
                &CentroidOptions::default(),
                None,
            )
            .unwrap();
            nao_centroid::geodesics_to_seeds(&c.centroid, &r).unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(3))
        .warm_up_time(std::time::Duration::from_secs(1));
    targets = exact_path, nao_centroids
}
criterion_main!(benches);
