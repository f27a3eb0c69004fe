//! `nao norms`: norms of seeds and where they fall in the χ prior.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{bar, emit, num};
use crate::prior::{prior_for, NormStats};
use crate::seeds::{check_finite, check_nonzero, read_float_array, shape_text};

/// Arguments of `nao norms`.
#[derive(Debug, Args)]
pub struct NormsArgs {
    /// `.npy` files of float32/float64 seeds.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Treat each row along the first axis as a seed (e.g. a path of frames), not the whole file.
    #[arg(long)]
    rows: bool,
}

#[derive(Debug, Serialize)]
struct SeedReport {
    file: String,
    index: usize,
    norm: f64,
    log_chi: f64,
    percentile: f64,
    log_cdf: f64,
    log_sf: f64,
    z_score: f64,
}

#[derive(Debug, Serialize)]
struct NormsReport {
    dim: usize,
    mode: f64,
    mean: f64,
    std: f64,
    seeds: Vec<SeedReport>,
}

/// Run `nao norms`.
pub fn run(args: &NormsArgs, json: bool) -> Result<(), CliError> {
    let mut seeds = Vec::new();
    // (file, shape of one seed, prior) fixed by the first file; the rest must match its d.
    let mut first: Option<(PathBuf, Vec<usize>, nao_prior::ChiPrior)> = None;
    let pb = bar(args.files.len() as u64, json, "norms");
    for path in &args.files {
        let array = read_float_array(path)?;
        let (rows, seed_shape) = if args.rows {
            match array.shape.split_first() {
                Some((&n, rest)) => (n, rest.to_vec()),
                None => {
                    return Err(CliError::input(format!(
                        "{}: --rows needs an array with at least one axis, found a 0-d array",
                        path.display()
                    )))
                }
            }
        } else {
            (1, array.shape.clone())
        };
        let dim = array.dim() / rows;
        let prior = match &first {
            None => {
                let prior = prior_for(dim, &path.display().to_string())?;
                first = Some((path.clone(), seed_shape.clone(), prior));
                prior
            }
            Some((first_path, first_shape, prior)) => {
                if first_shape.iter().product::<usize>() != dim {
                    return Err(CliError::input(format!(
                        "seed dimensions differ: {} has seeds of shape {} (d = {}) but {} has seeds of shape {} (d = {dim}); the χ prior needs one d",
                        first_path.display(),
                        shape_text(first_shape),
                        first_shape.iter().product::<usize>(),
                        path.display(),
                        shape_text(&seed_shape),
                    )));
                }
                *prior
            }
        };
        for row in 0..rows {
            let range = row * dim..(row + 1) * dim;
            check_finite(&array, range.clone())?;
            let label = if args.rows {
                format!(" row {row}:")
            } else {
                String::new()
            };
            check_nonzero(&array, range.clone(), &label)?;
            let norm = nao_prior::norm(&array.values[range]);
            let stats = NormStats::new(&prior, norm);
            if !stats.log_pdf.is_finite() {
                return Err(CliError::input(format!(
                    "{}:{label} norm {} lies so far out in the χ tail (d = {dim}) that log χ is \
                     {} in f64: not a seed this prior can score",
                    path.display(),
                    num(norm),
                    stats.log_pdf
                )));
            }
            seeds.push(SeedReport {
                file: path.display().to_string(),
                index: row,
                norm,
                log_chi: stats.log_pdf,
                percentile: stats.percentile,
                log_cdf: stats.log_cdf,
                log_sf: stats.log_sf,
                z_score: stats.z_score,
            });
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let Some((_, _, prior)) = first else {
        return Err(CliError::input("no seed files given"));
    };
    let report = NormsReport {
        dim: prior.dim(),
        mode: prior.mode(),
        mean: prior.mean(),
        std: prior.std_dev(),
        seeds,
    };
    emit(json, &report, || {
        let mut s = format!(
            "d = {}: χ prior mode {}, mean {}, std {}\n{:<40} {:>14} {:>16} {:>12} {:>16}\n",
            report.dim,
            num(report.mode),
            num(report.mean),
            num(report.std),
            "seed",
            "norm",
            "log χ",
            "percentile",
            "log CDF"
        );
        for seed in &report.seeds {
            let name = if args.rows {
                format!("{}[{}]", seed.file, seed.index)
            } else {
                seed.file.clone()
            };
            s += &format!(
                "{name:<40} {:>14} {:>16} {:>12} {:>16}\n",
                num(seed.norm),
                num(seed.log_chi),
                num(seed.percentile),
                num(seed.log_cdf)
            );
        }
        s
    })
}
