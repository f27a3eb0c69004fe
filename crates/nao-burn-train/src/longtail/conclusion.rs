//! The measured conclusion, in sentences. Every claim says whether the difference exceeds the
//! seeds' spread; the rules read the rows (which are generated, which is the subject), so a
//! method added to [`SeedMethod::ALL`] or a new row joins the conclusion without a word here.

use nao_augment::SeedMethod;

use super::report::ConfigReport;
use super::rows::{Row, OVERSAMPLE};
use super::stats::{compare, Comparison, Spread};

/// The method the experiment is about: each row of its images is compared with every row that
/// differs from it only in the seed method (its baselines).
pub const SUBJECT: SeedMethod = SeedMethod::Nao;

/// A spread as a percentage: `42.1 ± 1.9 %`.
pub fn percent(s: &Spread) -> String {
    format!("{:.1} ± {:.1} %", 100.0 * s.mean, 100.0 * s.std)
}

/// A comparison in points, with its spread and verdict.
fn points(c: &Comparison) -> String {
    format!(
        "{:+.1} points (spread {:.1}: {})",
        100.0 * c.difference,
        100.0 * c.spread,
        if c.real {
            "real"
        } else {
            "not beyond the spread"
        }
    )
}

/// Whether `a` and `b` add images that differ in the seed method alone (same balance, same
/// everything else of the generation).
fn differs_only_in_method(a: &Row, b: &Row) -> bool {
    match (a.generated, b.generated) {
        (Some(x), Some(y)) if x.method != y.method && a.balance == b.balance => {
            let mut same = x;
            same.method = y.method;
            same == y
        }
        _ => false,
    }
}

/// The conclusion of `configs` (see [`aggregate`](super::aggregate)) for the plan's `rows`:
///
/// 1. with one seed, a warning that no difference can count as real;
/// 2. each row with generated images against the long-tailed set alone and against
///    oversampling (rare-class accuracy), and its overall accuracy against the long-tailed set;
/// 3. oversampling against the long-tailed set;
/// 4. each row of the [`SUBJECT`]'s images against the rows of the other methods;
/// 5. the highest rare-class accuracy, and whether its lead over the runner-up is real.
pub fn conclusion(configs: &[ConfigReport], rows: &[Row]) -> Vec<String> {
    let by = |n: &str| configs.iter().find(|c| c.name == n);
    let row = |n: &str| rows.iter().find(|r| r.name == n);
    let mut out = Vec::new();
    let seeds = configs.first().map_or(0, |c| c.rare.values.len());
    if seeds < 2 {
        out.push(format!(
            "{seeds} seed: no spread to measure differences against, so no difference below counts as real."
        ));
    }
    for c in configs
        .iter()
        .filter(|c| row(&c.name).is_some_and(|r| r.generated.is_some()))
    {
        out.push(format!(
            "{}: rare-class accuracy {} against the long-tailed set alone, {} against oversampling; overall accuracy {}.",
            c.name,
            points(&c.rare_vs_long_tail),
            points(&c.rare_vs_oversample),
            points(&c.overall_vs_long_tail),
        ));
    }
    if let Some(o) = by(OVERSAMPLE) {
        out.push(format!(
            "oversampling: rare-class accuracy {} against the long-tailed set alone.",
            points(&o.rare_vs_long_tail)
        ));
    }
    for subject in rows
        .iter()
        .filter(|r| r.generated.is_some_and(|g| g.method == SUBJECT))
    {
        let Some(s) = by(&subject.name) else {
            continue;
        };
        for other in rows.iter().filter(|r| differs_only_in_method(r, subject)) {
            if let Some(o) = by(&other.name) {
                out.push(format!(
                    "{} against {}: rare-class accuracy {}.",
                    s.name,
                    o.name,
                    points(&compare(&o.rare, &s.rare))
                ));
            }
        }
    }
    if let Some(best) = configs
        .iter()
        .max_by(|a, b| a.rare.mean.total_cmp(&b.rare.mean))
    {
        let runner_up = configs
            .iter()
            .filter(|c| c.name != best.name)
            .max_by(|a, b| a.rare.mean.total_cmp(&b.rare.mean));
        let lead = runner_up.map(|r| compare(&r.rare, &best.rare));
        out.push(match (runner_up, lead) {
            (Some(r), Some(l)) if l.real => format!(
                "highest rare-class accuracy: {} ({}), ahead of {} by {}.",
                best.name,
                percent(&best.rare),
                r.name,
                points(&l)
            ),
            (Some(r), Some(l)) => format!(
                "highest mean rare-class accuracy: {} ({}), but its lead over {} is {}: no single winner.",
                best.name,
                percent(&best.rare),
                r.name,
                points(&l)
            ),
            _ => format!("one configuration: {}", best.name),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::report::aggregate;
    use super::super::report::tests::{run, set};
    use super::*;

    fn rows() -> Vec<Row> {
        Row::standard(&[
            SeedMethod::PromptOnly,
            SeedMethod::Euclidean,
            SeedMethod::Nao,
        ])
    }

    /// Runs of every row over `seeds`: rare-class accuracy `means[row] + 0.01 × seed`.
    fn reports(rows: &[Row], means: &[f64], seeds: u64) -> Vec<ConfigReport> {
        let sets: Vec<_> = rows.iter().map(|r| set(&r.name, 100)).collect();
        let runs: Vec<_> = rows
            .iter()
            .zip(means)
            .flat_map(|(r, m)| (0..seeds).map(move |s| run(&r.name, s, m + 0.01 * s as f64)))
            .collect();
        aggregate(&sets, &runs)
    }

    #[test]
    fn the_sentences_of_a_measured_experiment() {
        let rows = rows();
        let c = reports(&rows, &[0.05, 0.85, 0.70, 0.46, 0.47], 3);
        let lines = conclusion(&c, &rows);
        assert_eq!(
            lines,
            [
                "+prompt-only: rare-class accuracy +65.0 points (spread 2.0: real) against the long-tailed set alone, -15.0 points (spread 2.0: real) against oversampling; overall accuracy +32.5 points (spread 1.0: real).",
                "+euclidean: rare-class accuracy +41.0 points (spread 2.0: real) against the long-tailed set alone, -39.0 points (spread 2.0: real) against oversampling; overall accuracy +20.5 points (spread 1.0: real).",
                "+nao: rare-class accuracy +42.0 points (spread 2.0: real) against the long-tailed set alone, -38.0 points (spread 2.0: real) against oversampling; overall accuracy +21.0 points (spread 1.0: real).",
                "oversampling: rare-class accuracy +80.0 points (spread 2.0: real) against the long-tailed set alone.",
                "+nao against +prompt-only: rare-class accuracy -23.0 points (spread 2.0: real).",
                "+nao against +euclidean: rare-class accuracy +1.0 points (spread 2.0: not beyond the spread).",
                "highest rare-class accuracy: oversample (86.0 ± 1.0 %), ahead of +prompt-only by +15.0 points (spread 2.0: real).",
            ]
        );
    }

    #[test]
    fn one_seed_counts_nothing_as_real_and_a_tie_has_no_winner() {
        let rows = rows();
        let c = reports(&rows, &[0.05, 0.50, 0.70, 0.45, 0.46], 1);
        let lines = conclusion(&c, &rows);
        assert_eq!(
            lines[0],
            "1 seed: no spread to measure differences against, so no difference below counts as real."
        );
        assert!(lines.iter().all(|l| !l.contains(": real")), "{lines:?}");
        assert_eq!(
            lines.last().unwrap(),
            "highest mean rare-class accuracy: +prompt-only (70.0 ± 0.0 %), but its lead over oversample is +20.0 points (spread 0.0: not beyond the spread): no single winner."
        );
    }

    #[test]
    fn the_subject_is_compared_within_its_protocol_only() {
        use super::super::rows::Balance;
        let mut rows = rows();
        let mut balanced = Row::generated(SeedMethod::Euclidean);
        balanced.name = "+euclidean balanced".into();
        balanced.balance = Balance::OversampleRare;
        rows.push(balanced);
        let c = reports(&rows, &[0.05, 0.85, 0.70, 0.46, 0.47, 0.8], 2);
        let lines = conclusion(&c, &rows);
        let against: Vec<&String> = lines.iter().filter(|l| l.contains(" against +")).collect();
        assert_eq!(against.len(), 2, "{against:?}");
        assert!(lines.iter().any(|l| l.starts_with("+euclidean balanced: ")));
    }
}
