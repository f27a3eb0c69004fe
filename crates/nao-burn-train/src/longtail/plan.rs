//! [`Plan`]: a spec and the rows it implies; the training set of each row.

use nao_augment::SourceKind;
use nao_burn::{CLASS_SLUGS, RARE_CLASSES};

use super::error::{LongtailError, Result};
use super::rows::{Balance, Generation, Row};
use super::sets::oversampled;
use super::spec::ExperimentSpec;
use crate::data::ImageSet;

/// A checked spec and its rows: what `Plan::run` makes, trains and reports.
///
/// The rows at [`Grid::best_source_shots`](super::Grid::best_source_shots) are known only once
/// the best source is: [`Plan::rows`] are the rows known at the start, [`Plan::all_rows`] adds
/// those.
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
    /// The published rows for `spec` ([`Grid::first_rows`](super::Grid::first_rows)), after
    /// checking it.
    ///
    /// ```
    /// use nao_augment::SourceKind;
    /// use nao_burn_train::longtail::{ExperimentSpec, Plan};
    /// let plan = Plan::new(ExperimentSpec::quick("data", "work"))?;
    /// // long-tail, oversample; prompt-only, normalized and nao from pairs at 5 shots, without
    /// // and with SeedSelect (prompt-only's unrefined set has no shots)
    /// assert_eq!(plan.rows().len(), 2 + 3 + 3);
    /// // at 60 shots, the best source: normalized and nao, without and with SeedSelect
    /// assert_eq!(plan.all_rows(Some(SourceKind::Pairs)).len(), 8 + 4);
    /// # Ok::<(), nao_burn_train::longtail::LongtailError>(())
    /// ```
    pub fn new(spec: ExperimentSpec) -> Result<Self> {
        spec.check()?;
        let rows = spec.grid.first_rows();
        Self::with_rows(spec, rows)
    }

    /// `rows` for `spec`: names must be unique and non-empty, and usable as file names.
    pub fn with_rows(spec: ExperimentSpec, rows: Vec<Row>) -> Result<Self> {
        spec.check()?;
        if rows.is_empty() {
            return Err(LongtailError::Invalid("no configuration to train".into()));
        }
        check_names(&rows)?;
        Ok(Self { spec, rows })
    }

    /// The spec.
    pub fn spec(&self) -> &ExperimentSpec {
        &self.spec
    }

    /// The rows known at the start, in the report's order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Every row once the best source is known (`None`: not chosen, no row at
    /// [`Grid::best_source_shots`](super::Grid::best_source_shots)).
    pub fn all_rows(&self, best: Option<SourceKind>) -> Vec<Row> {
        let mut rows = self.rows.clone();
        if let Some(best) = best {
            let more = self.spec.grid.best_source_rows(best, &rows);
            rows.extend(more);
        }
        rows
    }

    /// Whether the plan has rows that wait for the best source.
    pub fn needs_best_source(&self) -> bool {
        !self.spec.grid.best_source_shots.is_empty()
    }

    /// The generated sets `rows` need, each once, in the rows' order.
    pub fn generations(rows: &[Row]) -> Vec<Generation> {
        let mut out: Vec<Generation> = Vec::new();
        for g in rows.iter().filter_map(|r| r.generated) {
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }

    /// Each row's training set, built from the long-tailed set: `generated(g, class)` gives
    /// the images of rare class `class` in generation `g` (its first
    /// [`ExperimentSpec::generated_per_class`] are taken, in order).
    ///
    /// Every balanced row has the same number of images of every class: the smallest common
    /// class's. Its real rare images and its generated ones are oversampled together (cycling
    /// through them in that order), so a generated image counts as much as a real one and
    /// oversampling alone is the row with no generated image. A row that cannot be balanced
    /// (more real and generated rare images than the common classes have) is an error.
    pub fn training_sets(
        &self,
        rows: &[Row],
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
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
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
                let after = set.class_counts();
                if let Some(c) = (0..after.len()).find(|&c| after[c] != common) {
                    let why = if RARE_CLASSES.contains(&c) {
                        "more real and generated images than a common class: lower --per-class"
                    } else {
                        "the common classes differ in size"
                    };
                    return Err(LongtailError::Invalid(format!(
                        "{}: {} images of {} after balancing, {common} wanted ({why})",
                        row.name, after[c], CLASS_SLUGS[c]
                    )));
                }
            }
            out.push(TrainingSet {
                name: row.name.clone(),
                description: describe(row, long_tail, common, per_class),
                set,
            });
        }
        Ok(out)
    }
}

/// Names must be unique, non-empty and usable as file names (they name the run files).
fn check_names(rows: &[Row]) -> Result<()> {
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
    Ok(())
}

/// What a row's training set is, in words, with its numbers.
fn describe(row: &Row, long_tail: &ImageSet, common: usize, per_class: usize) -> String {
    let counts = long_tail.class_counts();
    let real = RARE_CLASSES.map(|c| counts[c].to_string()).join(" and ");
    let plus = |g: Generation| {
        let mut s = format!("{per_class} `nao augment --method {}", g.method);
        if let Some(source) = g.source {
            s += &format!(" --source {}", source.name());
        }
        if let Some(n) = g.shots {
            s += &format!(" --shots {n}");
        }
        if g.refine != super::rows::Refine::None {
            s += &format!(" --refine {}", g.refine);
        }
        s + "` images per rare class"
    };
    match (row.generated, row.balance) {
        (None, Balance::AsIs) => format!(
            "the long-tailed set alone ({} images; {real} per rare class)",
            long_tail.len()
        ),
        (None, Balance::OversampleRare) => format!(
            "the {real} real images per rare class repeated to {common} each (the smallest \
             common class)"
        ),
        (Some(g), Balance::AsIs) => format!("the long-tailed set plus {}", plus(g)),
        (Some(g), Balance::OversampleRare) => format!(
            "the {real} real images per rare class and {}, together repeated to {common} each",
            plus(g)
        ),
    }
}

#[cfg(test)]
mod tests {
    use nao_augment::SeedMethod;

    use super::super::rows::Refine;
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

    fn sets(plan: &Plan, rows: &[Row]) -> Vec<TrainingSet> {
        plan.training_sets(rows, &long_tail(), &mut |g, c| Ok(generated(g, c, 5)))
            .unwrap()
    }

    #[test]
    fn every_balanced_row_has_the_same_number_of_images_per_class() {
        let plan = plan(3);
        let rows = plan.all_rows(Some(SourceKind::Pairs));
        let sets = sets(&plan, &rows);
        let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "long-tail",
                "oversample",
                "+prompt-only",
                "+normalized-pairs-5shot",
                "+nao-pairs-5shot",
                "+prompt-only-5shot-seedselect",
                "+normalized-pairs-5shot-seedselect",
                "+nao-pairs-5shot-seedselect",
                "+normalized-pairs-60shot",
                "+nao-pairs-60shot",
                "+normalized-pairs-60shot-seedselect",
                "+nao-pairs-60shot-seedselect",
            ]
        );
        assert_eq!(
            sets[0].set.class_counts(),
            [10, 10, 10, 10, 10, 10, 10, 10, 2, 2]
        );
        for s in &sets[1..] {
            assert_eq!(s.set.class_counts(), [10; 10], "{}", s.name);
        }
        // the real rare images and the generated ones cycle together: 2 real, 3 generated, …
        let nao = &sets[4].set;
        let bags: Vec<u8> = (0..nao.len())
            .filter(|&i| nao.labels[i] == 8)
            .map(|i| nao.image(i)[0])
            .collect();
        assert_eq!(bags, [80, 81, 205, 205, 205, 80, 81, 205, 205, 205]);
        assert_eq!(
            sets[0].description,
            "the long-tailed set alone (84 images; 2 and 2 per rare class)"
        );
        assert_eq!(
            sets[1].description,
            "the 2 and 2 real images per rare class repeated to 10 each (the smallest common class)"
        );
        assert_eq!(
            sets[11].description,
            "the 2 and 2 real images per rare class and 3 `nao augment --method nao --source \
             pairs --shots 60 --refine seedselect` images per rare class, together repeated to \
             10 each"
        );
    }

    #[test]
    fn oversampling_is_the_row_with_no_generated_image() {
        let plan = plan(3);
        let sets = sets(&plan, plan.rows());
        // M = 0 (no check refuses it here: the plan is built by hand)
        let mut spec = plan.spec().clone();
        spec.generated_per_class = 0;
        let zero = Plan {
            spec,
            rows: plan.rows().to_vec(),
        };
        let zero_sets = zero
            .training_sets(plan.rows(), &long_tail(), &mut |g, c| {
                Ok(generated(g, c, 5))
            })
            .unwrap();
        for s in &zero_sets[1..] {
            assert_eq!(s.set.labels, sets[1].set.labels, "{}", s.name);
            assert_eq!(s.set.pixels, sets[1].set.pixels, "{}", s.name);
        }
        // and with M > 0 they differ
        assert_ne!(sets[4].set.pixels, sets[1].set.pixels);
    }

    #[test]
    fn a_generated_set_too_small_or_too_large_is_named() {
        let p = plan(6);
        let e = p
            .training_sets(p.rows(), &long_tail(), &mut |g, c| Ok(generated(g, c, 5)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("generated/prompt-only") && e.contains("5 images of bag, 6 needed"),
            "{e}"
        );
        // 2 real + 9 generated bags: more than the 10 of a common class
        let p = plan(9);
        let e = p
            .training_sets(p.rows(), &long_tail(), &mut |g, c| Ok(generated(g, c, 9)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("+prompt-only: 11 images of bag after balancing, 10 wanted")
                && e.contains("lower --per-class"),
            "{e}"
        );
    }

    #[test]
    fn rows_are_data_and_generations_are_shared() {
        let spec = ExperimentSpec::quick("data", "work");
        let g = Generation::new(SeedMethod::Nao, SourceKind::Subsets, 2, Refine::None);
        let as_is = Row {
            name: "+nao unbalanced".into(),
            generated: Some(g),
            balance: Balance::AsIs,
        };
        let rows = vec![Row::long_tail(), Row::generated(g), as_is];
        let plan = Plan::with_rows(spec.clone(), rows.clone()).unwrap();
        assert_eq!(Plan::generations(plan.rows()), [g]);
        let sets = plan
            .training_sets(&rows, &long_tail(), &mut |g, c| Ok(generated(g, c, 20)))
            .unwrap();
        // left as it is: 2 real and the quick spec's 8 generated images per rare class
        assert_eq!(sets[2].set.class_counts()[9], 2 + 8);
        assert_eq!(sets[1].set.class_counts()[9], 10);
        assert!(sets[2]
            .description
            .starts_with("the long-tailed set plus 8 `nao augment"));

        let twice = Plan::with_rows(spec.clone(), vec![Row::long_tail(), Row::long_tail()]);
        assert!(twice.unwrap_err().to_string().contains("listed twice"));
        let mut bad = Row::long_tail();
        bad.name = "a/b".into();
        assert!(Plan::with_rows(spec.clone(), vec![bad]).is_err());
        assert!(Plan::with_rows(spec, vec![]).is_err());
    }

    #[test]
    fn folder_names_are_unique_over_every_grid() {
        use std::collections::HashSet;
        let mut spec = ExperimentSpec::new("data", "work");
        spec.grid.methods = SeedMethod::ALL.to_vec();
        spec.grid.best_source_shots = vec![60, 30];
        let plan = Plan::new(spec.clone()).unwrap();
        for best in SourceKind::ALL {
            let rows = plan.all_rows(Some(best));
            let gens = Plan::generations(&rows);
            let folders: HashSet<String> = gens.iter().map(|g| g.folder()).collect();
            assert_eq!(folders.len(), gens.len());
            // 1 unrefined and 1 refined prompt-only (at --shots only: it has no source), and
            // every inverting method at every (source, shots, refinement) it is run with
            assert_eq!(gens.len(), 1 + 1 + 5 * (3 * 2 + 2 * 2));
            let names: HashSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            assert_eq!(names.len(), rows.len());
        }
    }
}
