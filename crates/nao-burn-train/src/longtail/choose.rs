//! What the experiment decides from its own first-pass numbers: which pairs of rows it compares
//! ([`comparisons`]), which rows get more seeds because a comparison of theirs is within the
//! spread ([`more_seeds`]), and which source the larger shot counts use ([`best_source`]).
//!
//! Each is a pure function of the rows and their spreads, so the self-check
//! ([`Results::check`](super::Results::check)) recomputes it from the saved runs.

use nao_augment::SourceKind;

use super::conclusion::SUBJECT;
use super::grid::Grid;
use super::report::ConfigReport;
use super::rows::{Row, OVERSAMPLE};
use super::stats::compare;

/// The comparisons the conclusion rests on, as `(subject, baseline)` row names: each row of
/// the [`SUBJECT`]'s images against oversampling alone, then against every row that differs
/// from it in the seed method alone ([`Row::differs_only_in_method`]).
///
/// ```
/// use nao_augment::{SeedMethod, SourceKind};
/// use nao_burn_train::longtail::{comparisons, Generation, Refine, Row};
/// let g = |m| Generation::new(m, SourceKind::Pairs, 5, Refine::None);
/// let rows = [Row::oversample(), Row::generated(g(SeedMethod::Normalized)), Row::generated(g(SeedMethod::Nao))];
/// assert_eq!(comparisons(&rows), [
///     ("+nao-pairs-5shot".to_string(), "oversample".to_string()),
///     ("+nao-pairs-5shot".to_string(), "+normalized-pairs-5shot".to_string()),
/// ]);
/// ```
pub fn comparisons(rows: &[Row]) -> Vec<(String, String)> {
    let has_oversample = rows.iter().any(|r| r.name == OVERSAMPLE);
    let mut out = Vec::new();
    for subject in rows
        .iter()
        .filter(|r| r.generated.is_some_and(|g| g.method == SUBJECT))
    {
        if has_oversample {
            out.push((subject.name.clone(), OVERSAMPLE.to_string()));
        }
        for other in rows.iter().filter(|r| r.differs_only_in_method(subject)) {
            out.push((subject.name.clone(), other.name.clone()));
        }
    }
    out
}

/// The rows that need more seeds: both sides of every [`comparisons`] pair whose rare-class
/// difference is not beyond the spread of `configs` (the first pass), in the rows' order.
/// A comparison with a row missing from `configs` is left out.
pub fn more_seeds(configs: &[ConfigReport], rows: &[Row]) -> Vec<String> {
    let by = |n: &str| configs.iter().find(|c| c.name == n);
    let mut wanted: Vec<&str> = Vec::new();
    for (s, o) in comparisons(rows) {
        let (Some(a), Some(b)) = (by(&s), by(&o)) else {
            continue;
        };
        if !compare(&b.rare, &a.rare).real {
            wanted.push(a.name.as_str());
            wanted.push(b.name.as_str());
        }
    }
    rows.iter()
        .filter(|r| wanted.contains(&r.name.as_str()))
        .map(|r| r.name.clone())
        .collect()
}

/// The source of [`Grid::best_source_shots`]: among the grid's sources, the one whose rows at
/// [`Grid::shots`] (every method and refinement of the grid that has a source) have the
/// highest mean rare-class accuracy in `configs`, their means averaged with equal weight; the
/// first in the grid's order on a tie. `None` when no such row has been scored.
pub fn best_source(configs: &[ConfigReport], rows: &[Row], grid: &Grid) -> Option<SourceKind> {
    let mut best: Option<(SourceKind, f64)> = None;
    for &source in &grid.sources {
        let means: Vec<f64> = rows
            .iter()
            .filter(|r| {
                r.generated.is_some_and(|g| {
                    g.source == Some(source) && g.shots.is_some_and(|n| grid.shots.contains(&n))
                })
            })
            .filter_map(|r| configs.iter().find(|c| c.name == r.name))
            .map(|c| c.rare.mean)
            .collect();
        if means.is_empty() {
            continue;
        }
        // f64 accumulation over a handful of means
        let mean = means.iter().sum::<f64>() / means.len() as f64;
        if best.is_none_or(|(_, m)| mean > m) {
            best = Some((source, mean));
        }
    }
    best.map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use nao_augment::SeedMethod;

    use super::super::report::aggregate;
    use super::super::report::tests::{run, set};
    use super::super::rows::{Generation, Refine};
    use super::*;

    fn row(m: SeedMethod, s: SourceKind) -> Row {
        Row::generated(Generation::new(m, s, 5, Refine::None))
    }

    /// Rows with `values` of rare-class accuracy over seeds each.
    fn configs(rows: &[(Row, &[f64])]) -> Vec<ConfigReport> {
        let sets: Vec<_> = rows.iter().map(|(r, _)| set(&r.name, 10)).collect();
        let runs: Vec<_> = rows
            .iter()
            .flat_map(|(r, v)| {
                v.iter()
                    .enumerate()
                    .map(|(s, &x)| run(&r.name, s as u64, x))
                    .collect::<Vec<_>>()
            })
            .collect();
        aggregate(&sets, &runs)
    }

    #[test]
    fn rows_within_the_spread_of_a_comparison_get_more_seeds() {
        use SeedMethod::*;
        use SourceKind::*;
        let rows = vec![
            Row::long_tail(),
            Row::oversample(),
            row(PromptOnly, Pairs),
            row(Normalized, Pairs),
            row(Nao, Pairs),
            row(Normalized, Subsets),
            row(Nao, Subsets),
        ];
        let values: [&[f64]; 7] = [
            &[0.05, 0.06, 0.07],
            &[0.80, 0.81, 0.82],
            // prompt-only is compared with nothing: never more seeds
            &[0.80, 0.81, 0.82],
            // normalized-pairs ties nao-pairs; nao-pairs is clearly above oversampling
            &[0.90, 0.91, 0.92],
            &[0.91, 0.92, 0.93],
            // nao-subsets is clearly above normalized-subsets but ties oversampling
            &[0.50, 0.51, 0.52],
            &[0.80, 0.82, 0.84],
        ];
        let pairs: Vec<_> = rows.iter().cloned().zip(values).collect();
        let c = configs(&pairs);
        assert_eq!(
            more_seeds(&c, &rows),
            [
                "oversample",
                "+normalized-pairs-5shot",
                "+nao-pairs-5shot",
                "+nao-subsets-5shot"
            ]
        );
        // with one seed nothing is beyond the spread: every compared row
        let one: Vec<_> = rows.iter().cloned().zip(values.map(|v| &v[..1])).collect();
        assert_eq!(more_seeds(&configs(&one), &rows).len(), 5);
        // nothing to compare, nothing to add
        assert!(more_seeds(&c, &rows[..3]).is_empty());
    }

    #[test]
    fn the_best_source_has_the_highest_mean_over_methods() {
        use SeedMethod::*;
        use SourceKind::*;
        let grid = super::super::ExperimentSpec::new("d", "w").grid;
        let rows = vec![
            (row(PromptOnly, Pairs), &[0.99][..]),
            (row(Normalized, Pairs), &[0.60][..]),
            (row(Nao, Pairs), &[0.70][..]),
            (row(Normalized, Subsets), &[0.62][..]),
            (row(Nao, Subsets), &[0.69][..]),
            (row(Nao, CentroidPaths), &[0.40][..]),
        ];
        let only: Vec<Row> = rows.iter().map(|(r, _)| r.clone()).collect();
        // prompt-only has no source and does not count; subsets 0.655 > pairs 0.65
        assert_eq!(best_source(&configs(&rows), &only, &grid), Some(Subsets));
        assert_eq!(best_source(&configs(&rows[..3]), &only, &grid), Some(Pairs));
        assert_eq!(best_source(&configs(&rows[..1]), &only, &grid), None);
    }
}
