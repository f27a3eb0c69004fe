//! `nao seed`: reproducible Gaussian seeds.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use nao_fs::Outputs;
use nao_npy::{DType, NpyStream};
use nao_prior::{GaussianSeeds, RngName};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{bar, emit, num};
use crate::prior::prior_for;
use crate::seeds::{shape_text, MAX_ELEMENTS};

/// Values generated and written at a time (8 MB of f64).
const CHUNK: usize = 1 << 20;

/// Element type of written seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DtypeArg {
    /// float32 (what diffusion pipelines take).
    F32,
    /// float64.
    F64,
}

/// Arguments of `nao seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seed dimension d; optional when --shape is given (then it must equal the shape's product).
    #[arg(long)]
    dim: Option<usize>,
    /// Shape of one seed, comma-separated (e.g. 4,64,64); default (d,).
    #[arg(long, value_delimiter = ',')]
    shape: Option<Vec<usize>>,
    /// RNG seed: the same seed, RNG and shape always give the same numbers.
    #[arg(long)]
    seed: u64,
    /// Random number generator (chacha20 or chacha8).
    #[arg(long, default_value = "chacha20")]
    rng: String,
    /// Number of seeds; with more than one they are stacked along a new first axis.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Element type of the output file.
    #[arg(long, value_enum, default_value = "f32")]
    dtype: DtypeArg,
    /// Output `.npy` file.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Debug, Serialize)]
struct SeedReport {
    output: String,
    dim: usize,
    count: usize,
    shape: Vec<usize>,
    dtype: &'static str,
    rng: &'static str,
    seed: u64,
    norms: Vec<f64>,
    percentiles: Vec<f64>,
}

/// Run `nao seed`.
pub fn run(args: &SeedArgs, json: bool) -> Result<(), CliError> {
    let rng = RngName::parse(&args.rng).map_err(|e| CliError::input(format!("--rng: {e}")))?;
    let seed_shape = match (&args.shape, args.dim) {
        (Some(shape), dim) => {
            if shape.is_empty() || shape.contains(&0) {
                return Err(CliError::input(format!(
                    "--shape {}: every axis must be at least 1",
                    shape_text(shape)
                )));
            }
            let n = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
            match (n, dim) {
                (None, _) => {
                    return Err(CliError::input(format!(
                        "--shape {}: too many elements",
                        shape_text(shape)
                    )))
                }
                (Some(n), Some(d)) if n != d => {
                    return Err(CliError::input(format!(
                        "--shape {} has {n} elements but --dim is {d}",
                        shape_text(shape)
                    )))
                }
                _ => shape.clone(),
            }
        }
        (None, Some(d)) => vec![d],
        (None, None) => return Err(CliError::input("give --dim or --shape")),
    };
    let dim: usize = seed_shape.iter().product();
    let prior = prior_for(dim, "--dim")?;
    if args.count == 0 {
        return Err(CliError::input("--count must be at least 1"));
    }
    if dim.checked_mul(args.count).is_none_or(|n| n > MAX_ELEMENTS) {
        return Err(CliError::input(format!(
            "--count {} × d {dim} is more than {MAX_ELEMENTS} elements",
            args.count
        )));
    }
    let mut out = Outputs::new();
    out.claim_file(&args.output, "-o/--output")?;
    let (dtype, dtype_name) = match args.dtype {
        DtypeArg::F32 => (DType::F32, "float32"),
        DtypeArg::F64 => (DType::F64, "float64"),
    };
    let mut shape = seed_shape.clone();
    if args.count > 1 {
        shape.insert(0, args.count);
    }
    let pb = bar(args.count as u64, json, "seeds");
    let mut norms = Vec::with_capacity(args.count);
    // Streamed in chunks: memory stays a chunk's, whatever the size of the file.
    out.write_with(&args.output, |w| {
        let mut stream = NpyStream::new(w, dtype, &shape, &args.output)?;
        let mut generator = GaussianSeeds::new(rng, args.seed);
        let mut chunk = vec![0.0f64; dim.min(CHUNK)];
        for _ in 0..args.count {
            let mut sum_sq = 0.0f64;
            let mut left = dim;
            while left > 0 {
                let part = &mut chunk[..left.min(CHUNK)];
                generator.fill(part);
                // The norms reported are of the values as written (rounded to f32 if asked).
                if dtype == DType::F32 {
                    part.iter_mut().for_each(|v| *v = f64::from(*v as f32));
                }
                sum_sq += nao_prior::norm_sq(part);
                stream.push_f64(part)?;
                left -= part.len();
                nao_fs::signals::check()?;
            }
            norms.push(sum_sq.sqrt());
            pb.inc(1);
        }
        stream.finish()?;
        Ok::<(), CliError>(())
    })?;
    pb.finish_and_clear();
    out.commit()?;
    let report = SeedReport {
        output: args.output.display().to_string(),
        dim,
        count: args.count,
        percentiles: norms.iter().map(|&r| 100.0 * prior.cdf(r)).collect(),
        norms,
        shape,
        dtype: dtype_name,
        rng: rng.as_str(),
        seed: args.seed,
    };
    emit(json, &report, || {
        let norms: Vec<String> = report.norms.iter().take(8).map(|&r| num(r)).collect();
        let more = if report.count > 8 { ", …" } else { "" };
        format!(
            "wrote {}: {} {} seed(s) of d = {}, shape {}, {} seed {}\nnorms: {}{more} (χ mean {})",
            report.output,
            report.count,
            report.dtype,
            report.dim,
            shape_text(&report.shape),
            report.rng,
            report.seed,
            norms.join(", "),
            num(prior.mean())
        )
    })
}
