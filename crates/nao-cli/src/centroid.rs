//! `nao centroid`: the centroid of several seeds.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use nao_centroid::{centroid, path_plan, CentroidMethod, CentroidOptions, NormTarget};
use nao_fs::Outputs;
use nao_geodesic::{FramePlan, Frames};
use nao_npy::{DType, NpyStream};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{emit, num, spinner};
use crate::prior::prior_for;
use crate::seeds::{load_seeds, output_dtype, shape_text, FloatArray};

/// Arguments of `nao centroid`.
#[derive(Debug, Args)]
pub struct CentroidArgs {
    /// Seeds (.npy files of one shape, float32 or float64); at least two.
    #[arg(required = true, num_args = 2..)]
    seeds: Vec<PathBuf>,
    /// Centroid method.
    #[arg(long, value_enum, default_value = "nao")]
    method: CentroidMethod,
    /// Norm the centroid is scaled to, for methods that rescale (default: the method's own).
    #[arg(long, value_enum)]
    normalize_to: Option<NormTarget>,
    /// Output .npy for the centroid (the seeds' shape and dtype).
    #[arg(short, long)]
    output: PathBuf,
    /// Also write the path from each seed to the centroid (seed first, centroid last) in the
    /// method's geometry: shape (k, frames, seed shape…).
    #[arg(long)]
    paths_out: Option<PathBuf>,
    /// Frames per path for --paths-out, endpoints included [default: 50]. For nao-reference the
    /// paths are the optimiser's own, so it runs with that many points per path (at least 3).
    #[arg(long, requires = "paths_out")]
    frames: Option<usize>,
}

#[derive(Debug, Serialize)]
struct CentroidReport {
    method: &'static str,
    dim: usize,
    k: usize,
    seconds: f64,
    objective: f64,
    frechet_objective: f64,
    iterations: usize,
    /// Why the iterative method stopped (`converged`, `iteration-cap`, `no-progress`); absent
    /// for closed forms.
    #[serde(skip_serializing_if = "Option::is_none")]
    termination: Option<&'static str>,
    /// nao-reference: the official joint loss of the centroid and paths it returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    official_loss: Option<f64>,
    norm: f64,
    log_chi: f64,
    percentile: f64,
    output: String,
    shape: Vec<usize>,
    dtype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    paths_out: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paths_shape: Option<Vec<usize>>,
}

/// The path from seed `i` to the centroid, made frame by frame, or held (nao-reference).
enum SeedPath<'a> {
    Plan(FramePlan),
    Held(&'a Frames),
}

/// Stream the paths (seed first, centroid last) into a staged `.npy` of `shape`, one frame in
/// memory at a time for the planned methods.
fn write_paths(
    out: &mut Outputs,
    file: &std::path::Path,
    paths: &[SeedPath<'_>],
    shape: &[usize],
    dtype: DType,
    dim: usize,
) -> Result<(), CliError> {
    let n = shape[1];
    out.write_with(file, |w| {
        let mut stream = NpyStream::new(w, dtype, shape, file)?;
        let mut buf = vec![0.0; dim];
        for (i, path) in paths.iter().enumerate() {
            // The library's paths run from the centroid to the seed; write seed → centroid.
            for j in (0..n).rev() {
                let frame: &[f64] = match path {
                    SeedPath::Plan(p) => {
                        p.frame_into(j, &mut buf);
                        &buf
                    }
                    SeedPath::Held(f) => f.frame(j),
                };
                if let Some(e) = frame.iter().position(|v| !v.is_finite()) {
                    return Err(CliError::compute(
                        "centroid",
                        format!(
                            "path {i} has a non-finite value (frame {j}, element {e}); nothing \
                             written"
                        ),
                    ));
                }
                stream.push_f64(frame)?;
            }
            nao_fs::signals::check()?;
        }
        stream.finish()?;
        Ok(())
    })
}

/// Check the centroid a method returned: `d` finite values, not the zero vector.
fn check_centroid(method: CentroidMethod, c: &[f64], dim: usize) -> Result<(), CliError> {
    if c.len() != dim || c.iter().any(|v| !v.is_finite()) {
        return Err(CliError::compute(
            "centroid",
            format!(
                "method {method} returned an invalid centroid ({} values, finite: {}); nothing \
                 written",
                c.len(),
                c.iter().all(|v| v.is_finite())
            ),
        ));
    }
    if c.iter().all(|&v| v == 0.0) {
        return Err(CliError::compute(
            "centroid",
            format!(
                "the {method} centroid of these seeds is the zero vector (they cancel out, e.g. \
                 antipodal seeds): it has no direction and lies outside the χ prior's support; \
                 nothing written (the nao and spherical methods do not collapse this way)"
            ),
        ));
    }
    Ok(())
}

/// Run `nao centroid`.
pub fn run(args: &CentroidArgs, json: bool) -> Result<(), CliError> {
    let method = args.method;
    let path_frames = match (&args.paths_out, args.frames) {
        (Some(_), frames) => {
            let n = frames.unwrap_or(50);
            if n < 2 {
                return Err(CliError::input(format!(
                    "--frames {n}: a path needs at least 2 frames (its endpoints)"
                )));
            }
            if method == CentroidMethod::NaoReference && n < 3 {
                return Err(CliError::input(format!(
                    "--frames {n}: nao-reference optimises the frames between a seed and the \
                     centroid, so it needs at least 3"
                )));
            }
            Some(n)
        }
        (None, _) => None,
    };
    // Every output is claimed before any work: a bad target or two options naming one file
    // (after normalising the paths) fail at once, and nothing is written unless all are.
    let mut out = Outputs::new();
    for seed in &args.seeds {
        out.input(seed, "SEED")?;
    }
    out.claim_file(&args.output, "-o/--output")?;
    if let Some(p) = &args.paths_out {
        out.claim_file(p, "--paths-out")?;
    }
    let seeds = load_seeds(&args.seeds)?;
    let first = &seeds[0];
    let dim = first.dim();
    let k = seeds.len();
    if let Some(n) = path_frames {
        let total = k.checked_mul(n).and_then(|kn| kn.checked_mul(dim));
        if total.is_none_or(|t| t > crate::seeds::MAX_ELEMENTS) {
            return Err(CliError::input(format!(
                "--frames {n} × k {k} × d {dim} is more than {} elements for --paths-out",
                crate::seeds::MAX_ELEMENTS
            )));
        }
    }
    let prior = prior_for(dim, &first.path.display().to_string())?;
    let mut options = CentroidOptions::default();
    if let Some(target) = args.normalize_to {
        options.norm_target = target;
    }

    let views: Vec<&[f64]> = seeds.iter().map(|s| s.values.as_slice()).collect();
    let pb = spinner(json, &format!("{method} centroid of {k} seeds"));
    let start = Instant::now();
    // The library holds paths only for nao-reference (its optimiser's own); the others are
    // planned below and streamed to disk.
    let held_paths = path_frames.filter(|_| method == CentroidMethod::NaoReference);
    let result = centroid(method, &views, &options, held_paths);
    let seconds = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let result = result.map_err(|e| CliError::compute("centroid", e))?;
    let c = &result.centroid;
    check_centroid(method, c, dim)?;
    let dtype = output_dtype(&seeds);

    out.write_with(&args.output, |w| {
        let mut stream = NpyStream::new(w, dtype, &first.shape, &args.output)?;
        stream.push_f64(c)?;
        stream.finish()?;
        Ok::<(), CliError>(())
    })?;
    let paths_shape = match (&args.paths_out, path_frames) {
        (Some(p), Some(n)) => {
            let paths = seed_paths(method, c, &seeds, n, result.paths.as_deref())?;
            let mut shape = vec![k, n];
            shape.extend_from_slice(&first.shape);
            write_paths(&mut out, p, &paths, &shape, dtype, dim)?;
            Some(shape)
        }
        _ => None,
    };
    out.commit()?;

    let norm = nao_prior::norm(c);
    let log_chi = prior.log_pdf(norm);
    let report = CentroidReport {
        method: method.as_str(),
        dim,
        k,
        seconds,
        objective: result.objective,
        frechet_objective: result.frechet_objective,
        iterations: result.termination.map_or(0, |t| t.iterations),
        termination: result.termination.map(|t| t.reason.as_str()),
        official_loss: result.reference_loss,
        norm,
        log_chi,
        percentile: 100.0 * prior.cdf(norm),
        output: args.output.display().to_string(),
        shape: first.shape.clone(),
        dtype: dtype.name(),
        paths_out: args.paths_out.as_ref().map(|p| p.display().to_string()),
        paths_shape,
    };
    emit(json, &report, || {
        let mut s = format!(
            "wrote {}: {} centroid of {k} seeds, shape {} ({})\n  objective   {}\n  norm        {} (χ mode {}, percentile {})\n  time        {:.3} s",
            report.output,
            report.method,
            shape_text(&report.shape),
            report.dtype,
            num(report.objective),
            num(report.norm),
            num(prior.mode()),
            num(report.percentile),
            report.seconds
        );
        if let Some(t) = report.termination {
            s += &format!("\n  optimiser   {t} after {} iterations", report.iterations);
        }
        if let Some(l) = report.official_loss {
            s += &format!(
                "\n  official loss of the centroid and paths written: {}",
                num(l)
            );
        }
        if let (Some(p), Some(shape)) = (&report.paths_out, &report.paths_shape) {
            s += &format!("\nwrote {p}: paths of shape {}", shape_text(shape));
        }
        s
    })
}

/// The path of every seed: planned (the library's geometry for the method), or the optimiser's
/// own (nao-reference), checked against the expected frame count.
fn seed_paths<'a>(
    method: CentroidMethod,
    c: &[f64],
    seeds: &[FloatArray],
    n: usize,
    held: Option<&'a [Frames]>,
) -> Result<Vec<SeedPath<'a>>, CliError> {
    let dim = c.len();
    seeds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            match path_plan(method, c, &s.values, n)
                .map_err(|e| CliError::compute("centroid", e))?
            {
                Some(plan) => Ok(SeedPath::Plan(plan)),
                None => match held.and_then(|h| h.get(i)) {
                    Some(f) if f.dim == dim && f.len() == n => Ok(SeedPath::Held(f)),
                    _ => Err(CliError::compute(
                        "centroid",
                        format!(
                            "method {method} returned no path of {n} frames for seed {i}; \
                             nothing written"
                        ),
                    )),
                },
            }
        })
        .collect()
}
