//! [`Plan`]: a spec and the rows it implies; the training set of each row.

use nao_burn::{CLASS_SLUGS, RARE_CLASSES};

use super::error::{LongtailError, Result};
use super::rows::{Balance, Generation, Row};
use super::sets::oversampled;
use super::spec::ExperimentSpec;
use crate::data::ImageSet;

/// A checked spec and its rows: what `Plan::run` makes, trains and reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    spec: ExperimentSpec,
    rows: Vec<Row>,
}

/// A row with its training set built.
#[derive(Debug, Clone)]
pub struct TrainingSet {
    /// The row's name.
    pub name: String,
    /// What the set is, in words, with its numbers (for the report).
    pub description: String,
    /// The images, repeats included.
    pub set: ImageSet,
}

impl Plan {
    /// The published rows for `spec` ([`Row::standard`] of its methods), after checking it.
    ///
    /// ```
    /// use nao_burn_train::longtail::{ExperimentSpec, Plan};
    /// let plan = Plan::new(ExperimentSpec::quick("data", "work"))?;
    /// assert_eq!(plan.rows().len(), 8);
    /// assert_eq!(plan.generations().len(), 6);
    /// # Ok::<(), nao_burn_train::longtail::LongtailError>(())
    /// ```
    pub fn new(spec: ExperimentSpec) -> Result<Self> {
        let rows = Row::standard(&spec.methods);
        Self::with_rows(spec, rows)
    }

    /// `rows` for `spec`: names must be unique and non-empty, and usable as file names.
    pub fn with_rows(spec: ExperimentSpec, rows: Vec<Row>) -> Result<Self> {
        spec.check()?;
        if rows.is_empty() {
            return Err(LongtailError::Invalid("no configuration to train".into()));
        }
        for (i, row) in rows.iter().enumerate() {
            let n = &row.name;
            if n.is_empty() || n.contains(['/', '\\']) || n.starts_with('.') {
                return Err(LongtailError::Invalid(format!(
                    "configuration name '{n}': give a non-empty name without '/' that does \
                     not start with '.' (it names the run files)"
                )));
            }
            if rows[..i].iter().any(|r| r.name == *n) {
                return Err(LongtailError::Invalid(format!(
                    "configuration '{n}' is listed twice"
                )));
            }
        }
        Ok(Self { spec, rows })
    }

    /// The spec.
    pub fn spec(&self) -> &ExperimentSpec {
        &self.spec
    }

    /// The rows, in the report's order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The generated sets the rows need, each once, in the rows' order.
    pub fn generations(&self) -> Vec<Generation> {
        let mut out: Vec<Generation> = Vec::new();
        for g in self.rows.iter().filter_map(|r| r.generated) {
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }

    /// Each row's training set, built from the long-tailed set: `generated(g, class)` gives
    /// the images of rare class `class` in generation `g` (its first
    /// [`ExperimentSpec::generated_per_class`] are taken, in order).
    pub fn training_sets(
        &self,
        long_tail: &ImageSet,
        generated: &mut dyn FnMut(Generation, usize) -> Result<ImageSet>,
    ) -> Result<Vec<TrainingSet>> {
        let per_class = self.spec.generated_per_class;
        let counts = long_tail.class_counts();
        // the oversampling target: the smallest common class, so no class outweighs the others
        let common = (0..counts.len())
            .filter(|c| !RARE_CLASSES.contains(c))
            .map(|c| counts[c])
            .min()
            .unwrap_or(0);
        let mut out = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let mut set = long_tail.clone();
            if let Some(g) = row.generated {
                for class in RARE_CLASSES {
                    let images = generated(g, class)?;
                    if images.len() < per_class {
                        return Err(LongtailError::Invalid(format!(
                            "{}: {} images of {}, {per_class} needed (--per-class)",
                            self.spec.generated_dir(g).display(),
                            images.len(),
                            CLASS_SLUGS[class],
                        )));
                    }
                    let first: Vec<usize> = (0..per_class).collect();
                    let images = images.subset(&first);
                    set.pixels.extend_from_slice(&images.pixels);
                    set.labels.extend_from_slice(&images.labels);
                }
            }
            if row.balance == Balance::OversampleRare {
                set = set.subset(&oversampled(&set.labels, &RARE_CLASSES, common));
            }
            let plus = |g: Generation| {
                format!("plus {per_class} `nao augment --method {g}` images per rare class")
            };
            let description = match (row.generated, row.balance) {
                (None, Balance::AsIs) => format!(
                    "the long-tailed set alone ({} images; {} per rare class)",
                    long_tail.len(),
                    RARE_CLASSES.map(|c| counts[c].to_string()).join(" and ")
                ),
                (None, Balance::OversampleRare) => format!(
                    "the rare classes' images repeated to {common} each (the smallest common class)"
                ),
                (Some(g), Balance::AsIs) => plus(g),
                (Some(g), Balance::OversampleRare) => format!(
                    "{}, the rare classes then repeated to {common} each",
                    plus(g)
                ),
            };
            out.push(TrainingSet {
                name: row.name.clone(),
                description,
                set,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use nao_augment::SeedMethod;

    use super::*;

    /// A long-tailed set: 10 images of each common class, 2 of each rare one (8 and 9).
    fn long_tail() -> ImageSet {
        let mut set = ImageSet::default();
        for c in 0..10u8 {
            let n = if c >= 8 { 2 } else { 10 };
            for i in 0..n {
                set.pixels.extend(std::iter::repeat_n(c * 10 + i, 784));
                set.labels.push(c);
            }
        }
        set
    }

    /// `n` generated images of `class`, their pixels 200 + the method's position.
    fn generated(g: Generation, class: usize, n: usize) -> ImageSet {
        let tag = 200 + SeedMethod::ALL.iter().position(|&m| m == g.method).unwrap() as u8;
        ImageSet {
            pixels: vec![tag; n * 784],
            labels: vec![class as u8; n],
        }
    }

    fn plan(per_class: usize) -> Plan {
        let mut spec = ExperimentSpec::quick("data", "work");
        spec.generated_per_class = per_class;
        Plan::new(spec).unwrap()
    }

    #[test]
    fn every_row_gets_its_set_and_description() {
        let plan = plan(3);
        let sets = plan
            .training_sets(&long_tail(), &mut |g, c| Ok(generated(g, c, 5)))
            .unwrap();
        let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "long-tail",
                "oversample",
                "+prompt-only",
                "+euclidean",
                "+normalized",
                "+spherical",
                "+gaussian",
                "+nao"
            ]
        );
        // 8 × 10 + 2 × 2; oversampled to 10 each; plus 3 generated per rare class
        let sizes: Vec<usize> = sets.iter().map(|s| s.set.len()).collect();
        assert_eq!(sizes, [84, 100, 90, 90, 90, 90, 90, 90]);
        let over = sets[1].set.class_counts();
        assert_eq!((over[0], over[8], over[9]), (10, 10, 10));
        let nao = &sets[7].set;
        assert_eq!(nao.class_counts()[8], 5);
        assert_eq!(
            nao.image(nao.len() - 1)[0],
            205,
            "the generated images come last"
        );
        assert_eq!(
            sets[0].description,
            "the long-tailed set alone (84 images; 2 and 2 per rare class)"
        );
        assert_eq!(
            sets[1].description,
            "the rare classes' images repeated to 10 each (the smallest common class)"
        );
        assert_eq!(
            sets[7].description,
            "plus 3 `nao augment --method nao` images per rare class"
        );
    }

    #[test]
    fn a_generated_set_too_small_is_named() {
        let e = plan(6)
            .training_sets(&long_tail(), &mut |g, c| Ok(generated(g, c, 5)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("generated/prompt-only") && e.contains("5 images of bag, 6 needed"),
            "{e}"
        );
    }

    #[test]
    fn rows_are_data_and_generations_are_shared() {
        let spec = ExperimentSpec::quick("data", "work");
        let both = Row {
            name: "+nao oversampled".into(),
            generated: Some(Generation::new(SeedMethod::Nao)),
            balance: Balance::OversampleRare,
        };
        let plan = Plan::with_rows(
            spec.clone(),
            vec![Row::long_tail(), Row::generated(SeedMethod::Nao), both],
        )
        .unwrap();
        assert_eq!(plan.generations(), [Generation::new(SeedMethod::Nao)]);
        let sets = plan
            .training_sets(&long_tail(), &mut |g, c| Ok(generated(g, c, 20)))
            .unwrap();
        // 2 real + 20 generated per rare class: more than the common classes already
        assert_eq!(sets[2].set.class_counts()[9], 22);
        assert!(sets[2].description.ends_with("then repeated to 10 each"));

        let twice = Plan::with_rows(spec.clone(), vec![Row::long_tail(), Row::long_tail()]);
        assert!(twice.unwrap_err().to_string().contains("listed twice"));
        let mut bad = Row::long_tail();
        bad.name = "a/b".into();
        assert!(Plan::with_rows(spec.clone(), vec![bad]).is_err());
        assert!(Plan::with_rows(spec, vec![]).is_err());
    }
}
