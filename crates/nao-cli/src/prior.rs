//! `nao prior`: statistics of the χ prior, and where a norm falls in it.

use clap::Args;
use nao_prior::ChiPrior;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{emit, num};

/// Arguments of `nao prior`.
#[derive(Debug, Args)]
pub struct PriorArgs {
    /// Seed dimension d (number of elements; 16384 for Stable Diffusion's 4×64×64 latents).
    #[arg(long)]
    dim: usize,
    /// A seed norm ‖z‖ to locate in the prior (log-density, percentile, log-CDF).
    #[arg(long)]
    norm: Option<f64>,
}

/// Where a norm falls under the χ_d prior.
#[derive(Debug, Serialize)]
pub struct NormStats {
    /// `log χ_d(r)`.
    pub log_pdf: f64,
    /// `100·P(‖z‖ ≤ r)`.
    pub percentile: f64,
    /// `ln P(‖z‖ ≤ r)`, finite deep in the lower tail.
    pub log_cdf: f64,
    /// `ln P(‖z‖ > r)`, finite deep in the upper tail.
    pub log_sf: f64,
    /// `(r − mean)/std`.
    pub z_score: f64,
}

impl NormStats {
    /// The statistics of norm `r`.
    pub fn new(prior: &ChiPrior, r: f64) -> Self {
        Self {
            log_pdf: prior.log_pdf(r),
            percentile: 100.0 * prior.cdf(r),
            log_cdf: prior.log_cdf(r),
            log_sf: prior.log_sf(r),
            z_score: (r - prior.mean()) / prior.std_dev(),
        }
    }
}

#[derive(Debug, Serialize)]
struct PriorReport {
    dim: usize,
    mode: f64,
    mean: f64,
    std: f64,
    variance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    norm: Option<f64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    stats: Option<NormStats>,
}

/// Build the χ prior for `dim`, with a message naming where `dim` came from.
pub fn prior_for(dim: usize, source: &str) -> Result<ChiPrior, CliError> {
    ChiPrior::new(dim).map_err(|e| CliError::input(format!("{source}: {e}")))
}

/// Run `nao prior`.
pub fn run(args: &PriorArgs, json: bool) -> Result<(), CliError> {
    let prior = prior_for(args.dim, "--dim")?;
    if let Some(r) = args.norm {
        if !(r.is_finite() && r > 0.0) {
            return Err(CliError::input(format!(
                "--norm {r}: a norm must be a positive finite number"
            )));
        }
    }
    let report = PriorReport {
        dim: args.dim,
        mode: prior.mode(),
        mean: prior.mean(),
        std: prior.std_dev(),
        variance: prior.variance(),
        norm: args.norm,
        stats: args.norm.map(|r| NormStats::new(&prior, r)),
    };
    emit(json, &report, || {
        let mut s = format!(
            "χ prior of seed norms, d = {}\n  mode  √(d−1)  {}\n  mean           {}\n  std            {}\n",
            report.dim,
            num(report.mode),
            num(report.mean),
            num(report.std)
        );
        if let (Some(r), Some(st)) = (report.norm, &report.stats) {
            s += &format!(
                "norm r = {}\n  log χ_d(r)     {}\n  percentile     {} %  (100·P(‖z‖ ≤ r))\n  log P(‖z‖ ≤ r) {}\n  log P(‖z‖ > r) {}\n  z-score        {}\n",
                num(r),
                num(st.log_pdf),
                num(st.percentile),
                num(st.log_cdf),
                num(st.log_sf),
                num(st.z_score)
            );
        }
        s
    })
}
