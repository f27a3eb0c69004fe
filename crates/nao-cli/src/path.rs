//! `nao path`: an interpolation path between two seeds.

use std::path::PathBuf;
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use nao_geodesic::reference::official_path;
use nao_geodesic::{interpolate, polyline_cost, resampled_reference_loss, Frames, Method, Spacing};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{emit, num, spinner};
use crate::prior::prior_for;
use crate::seeds::{check_output_path, load_seeds, output_dtype, shape_text, write_values};

/// The `--method` names `nao path` accepts.
const METHODS: &[&str] = &["nao", "nao-reference", "slerp", "lerp", "nlerp", "gaussian"];

/// How frames are spaced along the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpacingArg {
    /// Equal Euclidean steps between consecutive frames.
    Euclidean,
    /// Equal NAO (prior-weighted) length between consecutive frames.
    Nao,
}

/// Arguments of `nao path`.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// Start seed (.npy, float32 or float64).
    a: PathBuf,
    /// End seed (.npy, same shape as the start).
    b: PathBuf,
    /// Interpolation method.
    #[arg(long, default_value = "nao", value_parser = PossibleValuesParser::new(METHODS))]
    method: String,
    /// Number of frames, endpoints included (at least 2; at least 3 for nao-reference, whose
    /// optimiser then runs with that many points, the official 50 by default).
    #[arg(long, default_value_t = 50)]
    frames: usize,
    /// Spacing of the frames along the path.
    #[arg(long, value_enum, default_value = "euclidean")]
    spacing: SpacingArg,
    /// Output .npy: the frames stacked along a new first axis, in the inputs' dtype.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Debug, Serialize)]
struct PathReport {
    method: &'static str,
    dim: usize,
    frames: usize,
    spacing: &'static str,
    seconds: f64,
    nao_cost: f64,
    /// The official 50-point loss of the written path after resampling it uniformly in arc
    /// length (exact `f64` scalars): a yardstick for every method, not any solver's own loss.
    resampled_reference_loss: f64,
    /// The iterative method's own run (nao-reference), when there is one.
    #[serde(flatten)]
    solver: Option<SolverRun>,
    output: String,
    shape: Vec<usize>,
    dtype: &'static str,
    min_norm: f64,
    max_norm: f64,
    euclidean_length: f64,
}

/// What the reference optimiser did: its loss at the frames written, and how it stopped.
#[derive(Debug, Serialize)]
struct SolverRun {
    /// The official (`float32`-scalar) loss of exactly the frames written.
    official_loss: f64,
    /// The penalty's segment length `ε = 2‖a − b‖/frames` (official rule).
    segment_eps: f64,
    /// Adam steps taken.
    iterations: usize,
    /// Why the run stopped: `converged` (the official early-stop rule) or `iteration-cap`.
    termination: &'static str,
}

/// The frames of `method`, with the optimiser's own report for the iterative nao-reference.
fn compute(
    method: Method,
    a: &[f64],
    b: &[f64],
    frames: usize,
    spacing: Spacing,
) -> Result<(Frames, Option<SolverRun>), nao_geodesic::GeodesicError> {
    if method != Method::NaoReference {
        return Ok((interpolate(method, a, b, frames, spacing)?, None));
    }
    // The solver's own points, written as they are (resampling them would leave its optimum).
    let sol = official_path(a, b, frames)?;
    let run = SolverRun {
        official_loss: sol.final_loss.loss,
        segment_eps: sol.eps,
        iterations: sol.termination.iterations,
        termination: sol.termination.reason.as_str(),
    };
    Ok((sol.to_frames(), Some(run)))
}

/// Run `nao path`.
pub fn run(args: &PathArgs, json: bool) -> Result<(), CliError> {
    let method: Method = args
        .method
        .parse()
        .map_err(|e| CliError::input(format!("--method {}: {e}", args.method)))?;
    if args.frames < 2 {
        return Err(CliError::input(format!(
            "--frames {}: a path needs at least 2 frames (its endpoints)",
            args.frames
        )));
    }
    if method == Method::NaoReference && args.frames < 3 {
        return Err(CliError::input(format!(
            "--frames {}: nao-reference optimises the frames between the endpoints, so it needs \
             at least 3",
            args.frames
        )));
    }
    let seeds = load_seeds(&[args.a.clone(), args.b.clone()])?;
    let (a, b) = (&seeds[0], &seeds[1]);
    let dim = a.dim();
    if dim
        .checked_mul(args.frames)
        .is_none_or(|n| n > crate::seeds::MAX_ELEMENTS)
    {
        return Err(CliError::input(format!(
            "--frames {} × d {dim} is too many elements",
            args.frames
        )));
    }
    let prior = prior_for(dim, &args.a.display().to_string())?;
    check_output_path(&args.output, "-o/--output")?;
    let spacing = match args.spacing {
        SpacingArg::Euclidean => Spacing::Euclidean,
        SpacingArg::Nao => Spacing::NaoDistance,
    };

    let pb = spinner(
        json,
        &format!("{} path, {} frames", method.as_str(), args.frames),
    );
    let start = Instant::now();
    let result = compute(method, &a.values, &b.values, args.frames, spacing);
    let seconds = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let (frames, solver) = result.map_err(|e| CliError::compute("path", e))?;
    if let Some(i) = frames.data.iter().position(|v| !v.is_finite()) {
        return Err(CliError::compute(
            "path",
            format!(
                "method {} produced a non-finite value (frame {}, element {}); nothing written",
                method.as_str(),
                i / dim,
                i % dim
            ),
        ));
    }
    let nao_cost = polyline_cost(&prior, &frames);
    let resampled_reference_loss = resampled_reference_loss(&prior, &frames);

    let n = frames.len();
    let mut shape = vec![n];
    shape.extend_from_slice(&a.shape);
    let dtype = output_dtype(&seeds);
    write_values(&args.output, &shape, dtype, &frames.data)?;

    let norms: Vec<f64> = (0..n).map(|i| nao_prior::norm(frames.frame(i))).collect();
    let euclidean_length = (1..n)
        .map(|i| {
            let (p, q) = (frames.frame(i - 1), frames.frame(i));
            p.iter()
                .zip(q)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt()
        })
        .sum();
    let report = PathReport {
        method: method.as_str(),
        dim,
        frames: n,
        spacing: match args.spacing {
            SpacingArg::Euclidean => "euclidean",
            SpacingArg::Nao => "nao",
        },
        seconds,
        nao_cost,
        resampled_reference_loss,
        solver,
        output: args.output.display().to_string(),
        shape,
        dtype: dtype.name(),
        min_norm: norms.iter().copied().fold(f64::INFINITY, f64::min),
        max_norm: norms.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        euclidean_length,
    };
    emit(json, &report, || {
        let mut s = format!(
            "wrote {}: {} path, {} frames of shape {} ({}), {} spacing\n  NAO cost                  {}\n  resampled reference loss  {}",
            report.output,
            report.method,
            report.frames,
            shape_text(&a.shape),
            report.dtype,
            report.spacing,
            num(report.nao_cost),
            num(report.resampled_reference_loss),
        );
        if let Some(run) = &report.solver {
            s += &format!(
                "\n  official loss             {} (ε {})\n  optimiser                 {} after {} iterations",
                num(run.official_loss),
                num(run.segment_eps),
                run.termination,
                run.iterations
            );
        }
        s + &format!(
            "\n  frame norms               {} … {} (χ mode {})\n  Euclidean length          {}\n  time                      {:.3} s",
            num(report.min_norm),
            num(report.max_norm),
            num(prior.mode()),
            num(report.euclidean_length),
            report.seconds
        )
    })
}
