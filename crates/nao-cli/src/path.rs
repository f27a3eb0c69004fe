//! `nao path`: an interpolation path between two seeds.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use nao_fs::Outputs;
use nao_geodesic::reference::official_path;
use nao_geodesic::{plan, polyline_cost, resampled_reference_loss, Method, PathFrames, Spacing};
use nao_npy::NpyStream;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{emit, num, spinner};
use crate::prior::prior_for;
use crate::seeds::{load_seeds, output_dtype, shape_text};

/// Arguments of `nao path`.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// Start seed (.npy, float32 or float64).
    a: PathBuf,
    /// End seed (.npy, same shape as the start).
    b: PathBuf,
    /// Interpolation method.
    #[arg(long, value_enum, default_value = "nao")]
    method: Method,
    /// Number of frames, endpoints included (at least 2; at least 3 for nao-reference, whose
    /// optimiser then runs with that many points, the official 50 by default).
    #[arg(long, default_value_t = 50)]
    frames: usize,
    /// Spacing of the frames along the path.
    #[arg(long, value_enum, default_value = "euclidean")]
    spacing: Spacing,
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

/// The frames of `method`: a plan that makes them one at a time (every method but
/// nao-reference), or the reference optimiser's own points with its report.
fn compute(
    method: Method,
    a: &[f64],
    b: &[f64],
    frames: usize,
    spacing: Spacing,
) -> Result<(Box<dyn PathFrames>, Option<SolverRun>), nao_geodesic::GeodesicError> {
    if method != Method::NaoReference {
        return Ok((Box::new(plan(method, a, b, frames, spacing)?), None));
    }
    // The solver's own points, written as they are (resampling them would leave its optimum).
    let sol = official_path(a, b, frames)?;
    let run = SolverRun {
        official_loss: sol.final_loss.loss,
        segment_eps: sol.eps,
        iterations: sol.termination.iterations,
        termination: sol.termination.reason.as_str(),
    };
    Ok((Box::new(sol.to_frames()), Some(run)))
}

/// What the frames written measure, gathered as they stream to disk.
struct Written {
    min_norm: f64,
    max_norm: f64,
    euclidean_length: f64,
}

/// Stream the frames of `path` into a staged `.npy` of `shape`, checking each, one frame in
/// memory at a time.
fn write_frames(
    out: &mut Outputs,
    file: &std::path::Path,
    path: &dyn PathFrames,
    shape: &[usize],
    dtype: nao_npy::DType,
    method: Method,
) -> Result<Written, CliError> {
    let dim = path.width();
    let mut written = Written {
        min_norm: f64::INFINITY,
        max_norm: f64::NEG_INFINITY,
        euclidean_length: 0.0,
    };
    out.write_with(file, |w| {
        let mut stream = NpyStream::new(w, dtype, shape, file)?;
        let (mut buf, mut prev) = (vec![0.0; dim], vec![0.0; dim]);
        for i in 0..path.count() {
            let frame = path.frame_in(i, &mut buf);
            if let Some(j) = frame.iter().position(|v| !v.is_finite()) {
                return Err(CliError::compute(
                    "path",
                    format!(
                        "method {method} produced a non-finite value (frame {i}, element {j}); \
                         nothing written"
                    ),
                ));
            }
            let r = nao_prior::norm(frame);
            written.min_norm = written.min_norm.min(r);
            written.max_norm = written.max_norm.max(r);
            if i > 0 {
                written.euclidean_length += prev
                    .iter()
                    .zip(frame.iter())
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum::<f64>()
                    .sqrt();
            }
            stream.push_f64(frame)?;
            prev.copy_from_slice(frame);
            nao_fs::signals::check()?;
        }
        stream.finish()?;
        Ok(())
    })?;
    Ok(written)
}

/// Run `nao path`.
pub fn run(args: &PathArgs, json: bool) -> Result<(), CliError> {
    let method = args.method;
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
    // The output is claimed before any work: a bad target fails at once.
    let mut out = Outputs::new();
    out.input(&args.a, "A")?;
    out.input(&args.b, "B")?;
    out.claim_file(&args.output, "-o/--output")?;
    let seeds = load_seeds(&[args.a.clone(), args.b.clone()])?;
    let (a, b) = (&seeds[0], &seeds[1]);
    let dim = a.dim();
    if dim
        .checked_mul(args.frames)
        .is_none_or(|n| n > crate::seeds::MAX_ELEMENTS)
    {
        return Err(CliError::input(format!(
            "--frames {} × d {dim} is more than {} elements",
            args.frames,
            crate::seeds::MAX_ELEMENTS
        )));
    }
    let prior = prior_for(dim, &args.a.display().to_string())?;

    let pb = spinner(json, &format!("{method} path, {} frames", args.frames));
    let start = Instant::now();
    let result = compute(method, &a.values, &b.values, args.frames, args.spacing);
    let (frames, solver) = result.map_err(|e| CliError::compute("path", e))?;
    let nao_cost = polyline_cost(&prior, frames.as_ref());
    let resampled_reference_loss = resampled_reference_loss(&prior, frames.as_ref());
    let seconds = start.elapsed().as_secs_f64();

    let n = frames.count();
    let mut shape = vec![n];
    shape.extend_from_slice(&a.shape);
    let dtype = output_dtype(&seeds);
    let seed_shape = a.shape.clone();
    drop(seeds); // the plan holds its own copy of the endpoints
    let written = write_frames(
        &mut out,
        &args.output,
        frames.as_ref(),
        &shape,
        dtype,
        method,
    );
    pb.finish_and_clear();
    let written = written?;
    out.commit()?;

    let report = PathReport {
        method: method.as_str(),
        dim,
        frames: n,
        spacing: match args.spacing {
            Spacing::Euclidean => "euclidean",
            Spacing::NaoDistance => "nao",
        },
        seconds,
        nao_cost,
        resampled_reference_loss,
        solver,
        output: args.output.display().to_string(),
        shape,
        dtype: dtype.name(),
        min_norm: written.min_norm,
        max_norm: written.max_norm,
        euclidean_length: written.euclidean_length,
    };
    emit(json, &report, || {
        let mut s = format!(
            "wrote {}: {} path, {} frames of shape {} ({}), {} spacing\n  NAO cost                  {}\n  resampled reference loss  {}",
            report.output,
            report.method,
            report.frames,
            shape_text(&seed_shape),
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
