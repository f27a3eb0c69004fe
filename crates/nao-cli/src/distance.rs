//! `nao distance`: the NAO distance between two seeds.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use nao_geodesic::Nao;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{emit, num};
use crate::seeds::load_seeds;

/// Arguments of `nao distance`.
#[derive(Debug, Args)]
pub struct DistanceArgs {
    /// First seed (.npy, float32 or float64).
    a: PathBuf,
    /// Second seed (.npy, same shape).
    b: PathBuf,
}

#[derive(Debug, Serialize)]
struct DistanceReport {
    distance: f64,
    dim: usize,
    seconds: f64,
    euclidean: f64,
    norm_a: f64,
    norm_b: f64,
}

/// Run `nao distance`.
pub fn run(args: &DistanceArgs, json: bool) -> Result<(), CliError> {
    let seeds = load_seeds(&[args.a.clone(), args.b.clone()])?;
    let (a, b) = (&seeds[0], &seeds[1]);
    let dim = a.dim();
    let start = Instant::now();
    let distance = Nao::new(dim)
        .and_then(|nao| nao.distance(&a.values, &b.values))
        .map_err(|e| CliError::compute("NAO distance", e))?;
    let seconds = start.elapsed().as_secs_f64();
    let euclidean = a
        .values
        .iter()
        .zip(&b.values)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    let report = DistanceReport {
        distance,
        dim,
        seconds,
        euclidean,
        norm_a: nao_prior::norm(&a.values),
        norm_b: nao_prior::norm(&b.values),
    };
    emit(json, &report, || {
        format!(
            "NAO distance {} (d = {dim}; Euclidean {}; norms {} and {}; {:.3} s)",
            num(report.distance),
            num(report.euclidean),
            num(report.norm_a),
            num(report.norm_b),
            report.seconds
        )
    })
}
