//! The rows of the experiment: each a named training set, described by what it adds to the
//! long-tailed set and how it balances the classes.
//!
//! A row is data, not code: a later protocol (more real images per class for generation,
//! other seed sources, a refinement step, real and generated images oversampled together to the
//! common classes' size) is a new field of [`Generation`] or a new [`Balance`], and new rows in
//! the list, while the training pool, the aggregation and the conclusion stay as they are.

use std::fmt;

use nao_augment::SeedMethod;

/// The name of the row trained on the long-tailed set alone: the baseline of every comparison.
pub const LONG_TAIL: &str = "long-tail";

/// The name of the row with the rare classes oversampled: the standard remedy, which generated
/// images have to beat.
pub const OVERSAMPLE: &str = "oversample";

/// A generated set: what `nao augment` makes from the few real images of each rare class. Two
/// rows with the same generation share its images (made once, in one folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Generation {
    /// How the seeds of a class are chosen.
    pub method: SeedMethod,
}

impl Generation {
    /// The set `method` makes.
    pub fn new(method: SeedMethod) -> Self {
        Self { method }
    }

    /// Its folder's name under the working folder's `generated/` (the method's name, as the
    /// experiment has always named it, so that an old working folder resumes).
    pub fn folder(&self) -> String {
        self.method.name().to_string()
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method.name())
    }
}

/// How a row's rare classes are brought towards the common classes' size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Balance {
    /// Left as they are.
    AsIs,
    /// The rare classes' images repeated (cycling) until each has as many as the smallest
    /// common class of the long-tailed set.
    OversampleRare,
}

/// One configuration of the experiment: the classifier is trained on its set over every seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The name in the table, the chart and the run files (`long-tail`, `+nao`, …).
    pub name: String,
    /// Generated images added per rare class, if any.
    pub generated: Option<Generation>,
    /// How the rare classes are balanced, after the generated images are added.
    pub balance: Balance,
}

impl Row {
    /// The long-tailed set alone ([`LONG_TAIL`]).
    pub fn long_tail() -> Self {
        Self {
            name: LONG_TAIL.into(),
            generated: None,
            balance: Balance::AsIs,
        }
    }

    /// The rare classes oversampled ([`OVERSAMPLE`]).
    pub fn oversample() -> Self {
        Self {
            name: OVERSAMPLE.into(),
            generated: None,
            balance: Balance::OversampleRare,
        }
    }

    /// The long-tailed set plus `method`'s images, named `+method`.
    pub fn generated(method: SeedMethod) -> Self {
        Self {
            name: format!("+{}", method.name()),
            generated: Some(Generation::new(method)),
            balance: Balance::AsIs,
        }
    }

    /// The published experiment's rows: the two baselines, then one row per method, in the
    /// order given.
    ///
    /// ```
    /// use nao_augment::SeedMethod;
    /// use nao_burn_train::longtail::Row;
    /// let rows = Row::standard(&SeedMethod::ALL);
    /// let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    /// assert_eq!(names[..3], ["long-tail", "oversample", "+prompt-only"]);
    /// assert_eq!(rows.len(), 2 + SeedMethod::ALL.len());
    /// ```
    pub fn standard(methods: &[SeedMethod]) -> Vec<Self> {
        [Self::long_tail(), Self::oversample()]
            .into_iter()
            .chain(methods.iter().map(|&m| Self::generated(m)))
            .collect()
    }
}
