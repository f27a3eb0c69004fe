//! `nao centroid`: the centroid of several seeds.

use std::path::PathBuf;
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use nao_centroid::{centroid, CentroidMethod, CentroidOptions, NormTarget};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{emit, num, spinner};
use crate::prior::prior_for;
use crate::seeds::{check_output_path, load_seeds, output_dtype, shape_text, write_values};

/// The `--method` names `nao centroid` accepts.
const METHODS: &[&str] = &[
    "nao",
    "nao-frechet",
    "nao-fréchet",
    "nao-reference",
    "euclidean",
    "normalized",
    "spherical",
    "gaussian",
];

/// The norm a centroid is scaled to, for methods that rescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NormalizeArg {
    /// The χ mode √(d−1).
    Mode,
    /// The mean norm of the input seeds.
    MeanNorm,
}

/// Arguments of `nao centroid`.
#[derive(Debug, Args)]
pub struct CentroidArgs {
    /// Seeds (.npy files of one shape, float32 or float64); at least two.
    #[arg(required = true, num_args = 2..)]
    seeds: Vec<PathBuf>,
    /// Centroid method.
    #[arg(long, default_value = "nao", value_parser = PossibleValuesParser::new(METHODS))]
    method: String,
    /// Norm the centroid is scaled to, for methods that rescale (default: the method's own).
    #[arg(long, value_enum)]
    normalize_to: Option<NormalizeArg>,
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

/// Run `nao centroid`.
pub fn run(args: &CentroidArgs, json: bool) -> Result<(), CliError> {
    let method: CentroidMethod = args
        .method
        .parse()
        .map_err(|e| CliError::input(format!("--method {}: {e}", args.method)))?;
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
    let seeds = load_seeds(&args.seeds)?;
    let first = &seeds[0];
    let dim = first.dim();
    let k = seeds.len();
    if let Some(n) = path_frames {
        let total = k.checked_mul(n).and_then(|kn| kn.checked_mul(dim));
        if total.is_none_or(|t| t > crate::seeds::MAX_ELEMENTS) {
            return Err(CliError::input(format!(
                "--frames {n} × k {k} × d {dim} is too many elements for --paths-out"
            )));
        }
    }
    let prior = prior_for(dim, &first.path.display().to_string())?;
    check_output_path(&args.output, "-o/--output")?;
    if let Some(p) = &args.paths_out {
        check_output_path(p, "--paths-out")?;
        if p == &args.output {
            return Err(CliError::input(format!(
                "{}: --paths-out and -o/--output name the same file",
                p.display()
            )));
        }
    }
    let mut options = CentroidOptions::default();
    match args.normalize_to {
        Some(NormalizeArg::Mode) => options.norm_target = NormTarget::Mode,
        Some(NormalizeArg::MeanNorm) => options.norm_target = NormTarget::MeanInputNorm,
        None => {}
    }

    let views: Vec<&[f64]> = seeds.iter().map(|s| s.values.as_slice()).collect();
    let pb = spinner(json, &format!("{} centroid of {k} seeds", method.as_str()));
    let start = Instant::now();
    let result = centroid(method, &views, &options, path_frames);
    let seconds = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let result = result.map_err(|e| CliError::compute("centroid", e))?;

    let c = &result.centroid;
    if c.len() != dim || c.iter().any(|v| !v.is_finite()) {
        return Err(CliError::compute(
            "centroid",
            format!(
                "method {} returned an invalid centroid ({} values, finite: {}); nothing written",
                method.as_str(),
                c.len(),
                c.iter().all(|v| v.is_finite())
            ),
        ));
    }
    let dtype = output_dtype(&seeds);
    // Gather the paths before writing anything, so a failure leaves no output at all.
    let paths = match (&args.paths_out, path_frames) {
        (Some(p), Some(n)) => {
            let Some(paths) = &result.paths else {
                return Err(CliError::compute(
                    "centroid",
                    format!(
                        "method {} returned no paths for {}; nothing written",
                        method.as_str(),
                        p.display()
                    ),
                ));
            };
            let mut data = Vec::with_capacity(k * n * dim);
            for (i, path) in paths.iter().enumerate() {
                if path.dim != dim || path.len() != n || path.data.len() != n * dim {
                    return Err(CliError::compute(
                        "centroid",
                        format!("path {i} has {} frames, expected {n}", path.len()),
                    ));
                }
                // The library's paths run from the centroid to the seed; write seed → centroid.
                for j in (0..n).rev() {
                    data.extend_from_slice(path.frame(j));
                }
            }
            if paths.len() != k || data.iter().any(|v| !v.is_finite()) {
                return Err(CliError::compute(
                    "centroid",
                    format!(
                        "method {} returned {} paths for {k} seeds or non-finite values",
                        method.as_str(),
                        paths.len()
                    ),
                ));
            }
            let mut shape = vec![k, n];
            shape.extend_from_slice(&first.shape);
            Some((p, shape, data))
        }
        _ => None,
    };
    write_values(&args.output, &first.shape, dtype, c)?;
    if let Some((p, shape, data)) = &paths {
        write_values(p, shape, dtype, data)?;
    }

    let norm = nao_prior::norm(c);
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
        log_chi: prior.log_pdf(norm),
        percentile: 100.0 * prior.cdf(norm),
        output: args.output.display().to_string(),
        shape: first.shape.clone(),
        dtype: dtype.name(),
        paths_out: paths.as_ref().map(|(p, _, _)| p.display().to_string()),
        paths_shape: paths.as_ref().map(|(_, s, _)| s.clone()),
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
