#![allow(missing_docs)] // criterion_group! generates undocumented items
//! SeedSelect's speed on the embedded model at the defaults for NAO seeds (5 iterations of a
//! 20-step sampler, guidance 1), 64 seeds refined in batches of 16 (`--select-batch`'s default)
//! and of 64, with and without per-call checkpointing; criterion reports seeds per second (the
//! throughput).
//!
//! `cargo bench -p nao-select --bench select`

use std::ops::ControlFlow;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nao_select::{refine, EmbeddedNet, SelectConfig, Target};

const SEEDS: usize = 64;

fn bench(c: &mut Criterion) {
    let net = EmbeddedNet::embedded(&nao_burn::Device::flex(), 8).unwrap();
    let bags = nao_burn::bundled_images(8).unwrap();
    let real = nao_backend::Tensor::new(vec![5, 1, 28, 28], bags.data[..5 * 784].to_vec()).unwrap();
    let target = Target::from_images(&net, &net, &real).unwrap();
    let mut rng = nao_prior::GaussianSeeds::new(nao_prior::RngName::ChaCha20, 1);
    let seeds: Vec<Vec<f32>> = (0..SEEDS).map(|_| rng.seed(196)).collect();
    let mut group = c.benchmark_group("seedselect_embedded_5x20");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SEEDS as u64));
    for (batch, checkpointing) in [(16, true), (64, true), (16, false), (64, false)] {
        let mut config = SelectConfig::from_nao();
        config.batch = batch;
        config.checkpointing = checkpointing;
        let graph = if checkpointing {
            "checkpointed"
        } else {
            "whole_graph"
        };
        let name = format!("{graph}/batch_{batch}");
        group.bench_function(&name, |b| {
            b.iter(|| {
                refine(&net, &net, &target, &seeds, &config, &mut |_| {
                    ControlFlow::Continue(())
                })
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
