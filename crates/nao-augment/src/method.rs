//! How the seeds of a class are chosen: the one list of methods that `nao augment`, `nao demo`
//! and the long-tail experiment compare.

use std::fmt;
use std::str::FromStr;

use nao_centroid::CentroidMethod;

/// How the seeds of a class are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum SeedMethod {
    /// Random Gaussian seeds with the class prompt alone (the baseline).
    PromptOnly,
    /// Euclidean mean of the inverted seeds; straight paths.
    Euclidean,
    /// Euclidean mean rescaled to the seeds' mean norm; NLERP paths.
    Normalized,
    /// Spherical (Karcher) mean at the seeds' mean norm; SLERP paths.
    Spherical,
    /// Gaussian-preserving mean Σxᵢ/√k; straight paths.
    Gaussian,
    /// NAO centroid (the paper's objective); NAO geodesic paths.
    Nao,
}

impl SeedMethod {
    /// Every method, in the order of the reports (the baseline first, NAO last).
    ///
    /// ```
    /// use nao_augment::SeedMethod;
    /// let names: Vec<&str> = SeedMethod::ALL.iter().map(|m| m.name()).collect();
    /// assert_eq!(names, ["prompt-only", "euclidean", "normalized", "spherical", "gaussian", "nao"]);
    /// ```
    pub const ALL: [SeedMethod; 6] = [
        Self::PromptOnly,
        Self::Euclidean,
        Self::Normalized,
        Self::Spherical,
        Self::Gaussian,
        Self::Nao,
    ];

    /// The centroid method, or `None` for the prompt-only baseline.
    pub fn centroid_method(self) -> Option<CentroidMethod> {
        Some(match self {
            Self::PromptOnly => return None,
            Self::Euclidean => CentroidMethod::Euclidean,
            Self::Normalized => CentroidMethod::Normalized,
            Self::Spherical => CentroidMethod::Spherical,
            Self::Gaussian => CentroidMethod::Gaussian,
            Self::Nao => CentroidMethod::Nao,
        })
    }

    /// The command-line name (`prompt-only`, `nao`, …).
    pub fn name(self) -> &'static str {
        match self.centroid_method() {
            Some(m) => m.as_str(),
            None => "prompt-only",
        }
    }

    /// The key of reports (`prompt_only`, `nao`, …).
    pub fn report_key(self) -> &'static str {
        match self {
            Self::PromptOnly => "prompt_only",
            other => other.name(),
        }
    }

    /// Whether the method starts from inverted real images (all but prompt-only).
    pub fn inverts(self) -> bool {
        self.centroid_method().is_some()
    }
}

impl fmt::Display for SeedMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SeedMethod {
    type Err = String;

    /// A name of [`SeedMethod::name`] or [`SeedMethod::report_key`].
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s || m.report_key() == s)
            .ok_or_else(|| {
                format!(
                    "unknown seed method '{s}' (one of: {})",
                    Self::ALL.map(Self::name).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_parsing_round_trip() {
        assert_eq!(SeedMethod::PromptOnly.name(), "prompt-only");
        assert_eq!(SeedMethod::PromptOnly.report_key(), "prompt_only");
        assert_eq!(SeedMethod::Nao.name(), "nao");
        for m in SeedMethod::ALL {
            assert_eq!(m.name().parse::<SeedMethod>(), Ok(m));
            assert_eq!(m.report_key().parse::<SeedMethod>(), Ok(m));
        }
        assert!("median"
            .parse::<SeedMethod>()
            .unwrap_err()
            .contains("prompt-only"));
    }
}
