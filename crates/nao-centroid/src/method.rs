//! Choosing a centroid method, and its options.

use std::fmt;
use std::str::FromStr;

use crate::error::CentroidError;
use crate::nao::NaoCentroidConfig;
use crate::reference::ReferenceCentroidConfig;

/// A centroid method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum CentroidMethod {
    /// NAO centroid, official objective `Σ d_NAO(c, xᵢ) − log χ(‖c‖)` (default).
    #[default]
    Nao,
    /// NAO Fréchet mean, `Σ d_NAO(c, xᵢ)²`.
    #[cfg_attr(feature = "clap", value(alias = "nao-fréchet"))]
    NaoFrechet,
    /// Port of the official joint optimisation (centroid + one 50-point path per seed, Adam).
    NaoReference,
    /// Euclidean mean.
    Euclidean,
    /// Euclidean mean rescaled to a norm ([`NormTarget`]).
    Normalized,
    /// Spherical (Karcher) mean of the directions at a norm ([`NormTarget`]).
    Spherical,
    /// Gaussian-preserving mean `Σ xᵢ/√k`.
    Gaussian,
}

impl CentroidMethod {
    /// Every method.
    pub const ALL: [CentroidMethod; 7] = [
        Self::Nao,
        Self::NaoFrechet,
        Self::NaoReference,
        Self::Euclidean,
        Self::Normalized,
        Self::Spherical,
        Self::Gaussian,
    ];

    /// Command-line name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Nao => "nao",
            Self::NaoFrechet => "nao-frechet",
            Self::NaoReference => "nao-reference",
            Self::Euclidean => "euclidean",
            Self::Normalized => "normalized",
            Self::Spherical => "spherical",
            Self::Gaussian => "gaussian",
        }
    }
}

impl fmt::Display for CentroidMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CentroidMethod {
    type Err = CentroidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "nao-fréchet" {
            return Ok(Self::NaoFrechet);
        }
        Self::ALL
            .iter()
            .find(|m| m.as_str() == s)
            .copied()
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|m| m.as_str()).collect();
                CentroidError::InvalidConfig(format!(
                    "unknown centroid method '{s}' (known: {}, nao-fréchet)",
                    known.join(", ")
                ))
            })
    }
}

/// The norm given to normalised and spherical centroids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum NormTarget {
    /// The χ mode `√(d−1)`.
    Mode,
    /// The mean norm of the input seeds (default: inverted seeds keep their typical norm).
    #[default]
    #[cfg_attr(feature = "clap", value(name = "mean-norm"))]
    MeanInputNorm,
}

impl FromStr for NormTarget {
    type Err = CentroidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mode" => Ok(Self::Mode),
            "mean-norm" | "mean" => Ok(Self::MeanInputNorm),
            _ => Err(CentroidError::InvalidConfig(format!(
                "unknown norm target '{s}' (known: mode, mean-norm)"
            ))),
        }
    }
}

/// Options of [`centroid`](crate::centroid).
#[derive(Debug, Clone, Default)]
pub struct CentroidOptions {
    /// Norm of normalised and spherical centroids.
    pub norm_target: NormTarget,
    /// Settings of the NAO optimiser.
    pub nao: NaoCentroidConfig,
    /// Settings of the reference-mode solver.
    pub reference: ReferenceCentroidConfig,
}
