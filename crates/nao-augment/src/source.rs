//! Where the seeds of a class come from, given its inverted real images: the centroid and the
//! points on the paths from it to each image (`centroid-paths`, the paper's recipe), points at
//! random positions on the paths between random pairs of images (`pairs`), the centroids of
//! random subsets of them (`subsets`), or a mix of these in given proportions.

use std::fmt;
use std::str::FromStr;

/// One kind of seed source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// The class's centroid and the points at the path positions on the paths from it to each
    /// inverted image; past them, their perturbed copies (jitter).
    CentroidPaths,
    /// A point at a seeded random position `t ∈ (0, 1)` on the method's path between a seeded
    /// random pair of the class's inverted images.
    Pairs,
    /// The method's centroid of a seeded random subset of 2 to k of the class's inverted
    /// images.
    Subsets,
}

impl SourceKind {
    /// Every kind, in order.
    pub const ALL: [SourceKind; 3] = [Self::CentroidPaths, Self::Pairs, Self::Subsets];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::CentroidPaths => "centroid-paths",
            Self::Pairs => "pairs",
            Self::Subsets => "subsets",
        }
    }
}

/// Which sources a class's images come from, in what proportions (summing to 1).
///
/// ```
/// use nao_augment::{SourceKind, SourceMix};
/// let mix: SourceMix = "pairs:3,subsets:1".parse()?;
/// assert_eq!(mix.parts(), [(SourceKind::Pairs, 0.75), (SourceKind::Subsets, 0.25)]);
/// assert_eq!(mix.to_string(), "pairs:0.75,subsets:0.25");
/// assert_eq!("pairs".parse::<SourceMix>()?, SourceMix::only(SourceKind::Pairs));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SourceMix {
    parts: Vec<(SourceKind, f64)>,
}

impl Default for SourceMix {
    /// `centroid-paths` alone: the paper's recipe, and nao's before sources could be chosen.
    fn default() -> Self {
        Self::only(SourceKind::CentroidPaths)
    }
}

impl SourceMix {
    /// One source for every image.
    pub fn only(kind: SourceKind) -> Self {
        Self {
            parts: vec![(kind, 1.0)],
        }
    }

    /// The sources and their proportions (each > 0, summing to 1), in the order given.
    pub fn parts(&self) -> &[(SourceKind, f64)] {
        &self.parts
    }

    /// Whether every image comes from `kind`.
    pub fn is_only(&self, kind: SourceKind) -> bool {
        self.parts.len() == 1 && self.parts[0].0 == kind
    }

    /// Whether any image comes from `kind`.
    pub fn uses(&self, kind: SourceKind) -> bool {
        self.parts.iter().any(|(k, _)| *k == kind)
    }

    /// The source of an image whose uniform random number is `u ∈ [0, 1)`.
    pub fn pick(&self, u: f64) -> SourceKind {
        let mut acc = 0.0;
        for &(kind, p) in &self.parts {
            acc += p;
            if u < acc {
                return kind;
            }
        }
        self.parts[self.parts.len() - 1].0
    }
}

impl fmt::Display for SourceMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [(kind, _)] = self.parts.as_slice() {
            return f.write_str(kind.name());
        }
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|(k, p)| format!("{}:{p}", k.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for SourceMix {
    type Err = String;

    /// `KIND` or `KIND:WEIGHT,KIND:WEIGHT,…` (weights > 0, normalised to sum to 1; each kind
    /// at most once).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts: Vec<(SourceKind, f64)> = Vec::new();
        for item in s.split(',') {
            let (name, weight) = match item.split_once(':') {
                Some((n, w)) => (n.trim(), Some(w.trim())),
                None => (item.trim(), None),
            };
            let kind = SourceKind::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| {
                    format!(
                        "'{name}' is not a seed source (one of: {})",
                        SourceKind::ALL.map(SourceKind::name).join(", ")
                    )
                })?;
            let weight = match weight {
                Some(w) => w
                    .parse::<f64>()
                    .ok()
                    .filter(|w| w.is_finite() && *w > 0.0)
                    .ok_or_else(|| format!("'{item}': the weight must be a number > 0"))?,
                None => 1.0,
            };
            if parts.iter().any(|(k, _)| *k == kind) {
                return Err(format!("'{name}' is given twice"));
            }
            parts.push((kind, weight));
        }
        let total: f64 = parts.iter().map(|(_, w)| w).sum();
        if !(total.is_finite() && total > 0.0) {
            return Err("the weights must sum to a finite number > 0".into());
        }
        Ok(Self {
            parts: parts.into_iter().map(|(k, w)| (k, w / total)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_normalise_and_pick() {
        let m: SourceMix = "centroid-paths:1, pairs:1".parse().unwrap();
        assert_eq!(m.pick(0.2), SourceKind::CentroidPaths);
        assert_eq!(m.pick(0.7), SourceKind::Pairs);
        assert_eq!(m.pick(0.9999), SourceKind::Pairs);
        assert!(m.uses(SourceKind::Pairs) && !m.uses(SourceKind::Subsets));
        assert!(SourceMix::default().is_only(SourceKind::CentroidPaths));
        for bad in [
            "walks",
            "pairs:0",
            "pairs:-1",
            "pairs,pairs",
            "pairs:x",
            "pairs:inf",
        ] {
            assert!(bad.parse::<SourceMix>().is_err(), "{bad}");
        }
        assert_eq!(m.to_string().parse::<SourceMix>().unwrap(), m);
    }
}
