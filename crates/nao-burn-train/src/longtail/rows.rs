//! The rows of the experiment: each a named training set, described by what it adds to the
//! long-tailed set and how it balances the classes.
//!
//! A row is data, not code: the seed method, the seed source, the number of real images
//! inverted (shots) and the refinement are fields of [`Generation`]; how the classes are
//! balanced is a [`Balance`]. The training pool, the aggregation and the conclusion read the
//! rows and need no change for a new one.

use std::fmt;
use std::str::FromStr;

use nao_augment::{SeedMethod, SourceKind};

/// The name of the row trained on the long-tailed set alone: the reference of every table.
pub const LONG_TAIL: &str = "long-tail";

/// The name of the row with the real rare images oversampled to the common classes' size: the
/// standard remedy, which generated images have to beat. It is the fair protocol with `M = 0`
/// generated images.
pub const OVERSAMPLE: &str = "oversample";

/// What is done to each drawn seed before it is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refine {
    /// Nothing: the seed as the method and source drew it.
    None,
    /// SeedSelect (`nao augment --refine seedselect`) with its official settings: those for
    /// inverted seeds, or for random ones with prompt-only.
    SeedSelect,
}

impl Refine {
    /// Every refinement, in the report's order.
    pub const ALL: [Refine; 2] = [Self::None, Self::SeedSelect];

    /// The name on the command line and in folder names.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SeedSelect => "seedselect",
        }
    }
}

impl fmt::Display for Refine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Refine {
    type Err = String;

    /// `none` or `seedselect`.
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("'{s}' is not a refinement (one of: none, seedselect)"))
    }
}

/// A generated set: what `nao augment` makes from the real images of each rare class. Two rows
/// with the same generation share its images (made once, in one folder).
///
/// Built by [`Generation::new`], which normalises what does not change the images: prompt-only
/// inverts nothing, so it has no source, and without a refinement it does not read the real
/// images either, so it has no shots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Generation {
    /// How the seeds of a class are chosen.
    pub method: SeedMethod,
    /// Where each seed comes from (`None` for prompt-only).
    pub source: Option<SourceKind>,
    /// Real images per rare class inverted (`AugmentSpec.shots`), a seeded choice among the
    /// real folder's; `None` when the generation reads none (unrefined prompt-only).
    pub shots: Option<usize>,
    /// What is done to each seed before it is sampled.
    pub refine: Refine,
}

impl Generation {
    /// The set `method` makes from `shots` real images per class with seeds from `source`,
    /// refined by `refine`, normalised (see the type's documentation).
    ///
    /// ```
    /// use nao_augment::{SeedMethod, SourceKind};
    /// use nao_burn_train::longtail::{Generation, Refine};
    /// let g = Generation::new(SeedMethod::Nao, SourceKind::Pairs, 5, Refine::SeedSelect);
    /// assert_eq!(g.folder(), "nao-pairs-5shot-seedselect");
    /// let p = Generation::new(SeedMethod::PromptOnly, SourceKind::Pairs, 5, Refine::None);
    /// assert_eq!((p.source, p.shots, p.folder().as_str()), (None, None, "prompt-only"));
    /// ```
    pub fn new(method: SeedMethod, source: SourceKind, shots: usize, refine: Refine) -> Self {
        let inverts = method.inverts();
        Self {
            method,
            source: inverts.then_some(source),
            // SeedSelect's target is the chosen real images, even for random seeds
            shots: (inverts || refine != Refine::None).then_some(shots),
            refine,
        }
    }

    /// Its folder's name under the working folder's `generated/`, and its row's name after a
    /// `+`: every field that decides the images, so two different sets never share a folder
    /// (`nao-pairs-5shot`, `normalized-subsets-60shot-seedselect`, `prompt-only`,
    /// `prompt-only-5shot-seedselect`).
    pub fn folder(&self) -> String {
        let mut parts = vec![self.method.name().to_string()];
        parts.extend(self.source.map(|s| s.name().to_string()));
        parts.extend(self.shots.map(|n| format!("{n}shot")));
        if self.refine != Refine::None {
            parts.push(self.refine.name().to_string());
        }
        parts.join("-")
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.folder())
    }
}

/// How a row's rare classes are brought towards the common classes' size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Balance {
    /// Left as they are.
    AsIs,
    /// The rare classes' images, real and generated together, repeated (cycling) until each
    /// has as many as the smallest common class of the long-tailed set.
    OversampleRare,
}

/// One configuration of the experiment: the classifier is trained on its set over every seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The name in the table, the chart and the run files (`long-tail`, `+nao-pairs-5shot`, …).
    pub name: String,
    /// Generated images added per rare class, if any.
    pub generated: Option<Generation>,
    /// How the rare classes are balanced, after the generated images are added.
    pub balance: Balance,
}

impl Row {
    /// The long-tailed set alone ([`LONG_TAIL`]): the reference, not balanced.
    pub fn long_tail() -> Self {
        Self {
            name: LONG_TAIL.into(),
            generated: None,
            balance: Balance::AsIs,
        }
    }

    /// The real rare images oversampled ([`OVERSAMPLE`]): the fair protocol with no generated
    /// image.
    pub fn oversample() -> Self {
        Self {
            name: OVERSAMPLE.into(),
            generated: None,
            balance: Balance::OversampleRare,
        }
    }

    /// The fair protocol with `generation`'s images: the real and generated rare images
    /// oversampled together to the common classes' size; named `+FOLDER`.
    pub fn generated(generation: Generation) -> Self {
        Self {
            name: format!("+{}", generation.folder()),
            generated: Some(generation),
            balance: Balance::OversampleRare,
        }
    }

    /// Whether the row's images come from the same generation as `other`'s but for the seed
    /// method (same source, shots, refinement and balance): a comparison of methods alone.
    /// Prompt-only (no source) is never the same configuration as an inverting method.
    pub fn differs_only_in_method(&self, other: &Row) -> bool {
        match (self.generated, other.generated) {
            (Some(a), Some(b)) => {
                a.method != b.method
                    && self.balance == other.balance
                    && (a.source, a.shots, a.refine) == (b.source, b.shots, b.refine)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_encode_every_field_and_prompt_only_is_normalised() {
        use SeedMethod::*;
        let g = |m, s, n, r| Generation::new(m, s, n, r);
        assert_eq!(
            g(Normalized, SourceKind::CentroidPaths, 60, Refine::None).folder(),
            "normalized-centroid-paths-60shot"
        );
        assert_eq!(
            g(PromptOnly, SourceKind::Subsets, 60, Refine::SeedSelect).folder(),
            "prompt-only-60shot-seedselect"
        );
        // prompt-only without refinement is one set whatever the source and shots
        assert_eq!(
            g(PromptOnly, SourceKind::Pairs, 5, Refine::None),
            g(PromptOnly, SourceKind::Subsets, 60, Refine::None)
        );
        assert_eq!("seedselect".parse::<Refine>(), Ok(Refine::SeedSelect));
        assert!("select".parse::<Refine>().unwrap_err().contains("'select'"));
    }

    #[test]
    fn rows_differ_only_in_method_when_everything_else_is_the_same() {
        use SeedMethod::*;
        let row = |m, s, r| Row::generated(Generation::new(m, s, 5, r));
        let nao = row(Nao, SourceKind::Pairs, Refine::None);
        assert!(nao.differs_only_in_method(&row(Normalized, SourceKind::Pairs, Refine::None)));
        assert!(!nao.differs_only_in_method(&row(Normalized, SourceKind::Subsets, Refine::None)));
        assert!(!nao.differs_only_in_method(&row(
            Normalized,
            SourceKind::Pairs,
            Refine::SeedSelect
        )));
        assert!(!nao.differs_only_in_method(&nao));
        // prompt-only has no source: it is never "the same configuration" as an inverting one
        assert!(!nao.differs_only_in_method(&row(PromptOnly, SourceKind::Pairs, Refine::None)));
        assert!(!nao.differs_only_in_method(&Row::oversample()));
    }
}
