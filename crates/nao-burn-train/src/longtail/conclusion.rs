//! The measured conclusion, in sentences. Every claim says whether the difference exceeds the
//! seeds' spread; the rules read the rows (which are generated, which is the subject, which
//! differ only in the method), so a new method, source or refinement joins the conclusion
//! without a word here.

use nao_augment::SeedMethod;

use super::choose::comparisons;
use super::report::ConfigReport;
use super::rows::{Row, OVERSAMPLE};
use super::stats::{compare, Comparison, Spread};

/// The method the experiment is about: each row of its images is compared with oversampling
/// and with every row that differs from it only in the seed method.
pub const SUBJECT: SeedMethod = SeedMethod::Nao;

/// The method the goal names: the subject must beat the same configuration with it.
pub const GOAL_BASELINE: SeedMethod = SeedMethod::Normalized;

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

/// Whether `c` shows the subject ahead beyond the spread.
fn beats(c: &Comparison) -> bool {
    c.real && c.difference > 0.0
}

/// The conclusion of `configs` (see [`aggregate`](super::aggregate)) for the plan's `rows`:
///
/// 1. with fewer than two seeds somewhere, a warning that no difference can count as real;
/// 2. each row with generated images against oversampling alone (rare-class accuracy) and
///    its overall accuracy against the long-tailed set;
/// 3. oversampling against the long-tailed set;
/// 4. each row of the [`SUBJECT`]'s images against oversampling and against every row that
///    differs from it in the method alone ([`comparisons`]);
/// 5. the goal, plainly met or not: a [`SUBJECT`] row that beats oversampling alone beyond the
///    spread and beats the same configuration with the [`GOAL_BASELINE`] beyond the spread;
/// 6. the highest rare-class accuracy, and whether its lead over the runner-up is real.
pub fn conclusion(configs: &[ConfigReport], rows: &[Row]) -> Vec<String> {
    let by = |n: &str| configs.iter().find(|c| c.name == n);
    let row = |n: &str| rows.iter().find(|r| r.name == n);
    let mut out = Vec::new();
    if let Some(few) = configs.iter().map(|c| c.seeds).min().filter(|&n| n < 2) {
        out.push(format!(
            "{few} seed: no spread to measure differences against, so no difference below counts as real."
        ));
    }
    for c in configs
        .iter()
        .filter(|c| row(&c.name).is_some_and(|r| r.generated.is_some()))
    {
        out.push(format!(
            "{} (n = {}): rare-class accuracy {} against oversampling alone; overall accuracy {} against the long-tailed set.",
            c.name,
            c.seeds,
            points(&c.rare_vs_oversample),
            points(&c.overall_vs_long_tail),
        ));
    }
    if let Some(o) = by(OVERSAMPLE) {
        out.push(format!(
            "oversampling (n = {}): rare-class accuracy {} against the long-tailed set alone.",
            o.seeds,
            points(&o.rare_vs_long_tail)
        ));
    }
    // the subject's comparisons, one sentence per subject row
    let pairs = comparisons(rows);
    let mut subjects: Vec<&str> = Vec::new();
    for (s, _) in &pairs {
        if !subjects.contains(&s.as_str()) {
            subjects.push(s);
        }
    }
    let mut goal_met: Vec<String> = Vec::new();
    let mut goal_near: Vec<String> = Vec::new();
    for name in subjects {
        let Some(s) = by(name) else { continue };
        let mut parts = Vec::new();
        let (mut over, mut base) = (None, None);
        for (_, other) in pairs.iter().filter(|(x, _)| x == name) {
            let Some(o) = by(other) else { continue };
            let c = compare(&o.rare, &s.rare);
            parts.push(format!(
                "{} against {} (n = {})",
                points(&c),
                o.name,
                o.seeds
            ));
            if o.name == OVERSAMPLE {
                over = Some(c);
            } else if row(other)
                .and_then(|r| r.generated)
                .is_some_and(|g| g.method == GOAL_BASELINE)
            {
                base = Some(c);
            }
        }
        out.push(format!(
            "{} (n = {}, {}): rare-class accuracy {}.",
            s.name,
            s.seeds,
            percent(&s.rare),
            parts.join(", ")
        ));
        match (over, base) {
            (Some(o), Some(b)) if beats(&o) && beats(&b) => goal_met.push(format!(
                "{} ({} against oversampling, {} against {})",
                s.name,
                points(&o),
                points(&b),
                GOAL_BASELINE
            )),
            (Some(o), Some(b)) => goal_near.push(format!(
                "{}: {} against oversampling, {} against {}",
                s.name,
                points(&o),
                points(&b),
                GOAL_BASELINE
            )),
            _ => {}
        }
    }
    if !goal_met.is_empty() {
        out.push(format!(
            "goal met: {} beats oversampling alone and the same configuration with the {} mean on rare-class accuracy beyond the spread: {}.",
            if goal_met.len() == 1 { "a nao configuration" } else { "nao configurations" },
            GOAL_BASELINE,
            goal_met.join("; ")
        ));
    } else if !goal_near.is_empty() {
        out.push(format!(
            "goal not met: no nao configuration beats both oversampling alone and the same configuration with the {} mean on rare-class accuracy beyond the spread ({}).",
            GOAL_BASELINE,
            goal_near.join("; ")
        ));
    } else {
        out.push(format!(
            "goal not tested: no nao configuration has both oversampling and the same configuration with the {GOAL_BASELINE} mean to be compared with."
        ));
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
    use nao_augment::SourceKind;

    use super::super::report::aggregate;
    use super::super::report::tests::{run, set};
    use super::super::rows::{Generation, Refine};
    use super::*;

    fn rows() -> Vec<Row> {
        let g = |m| Row::generated(Generation::new(m, SourceKind::Pairs, 5, Refine::None));
        vec![
            Row::long_tail(),
            Row::oversample(),
            g(SeedMethod::PromptOnly),
            g(SeedMethod::Normalized),
            g(SeedMethod::Nao),
        ]
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
        let c = reports(&rows, &[0.05, 0.85, 0.70, 0.86, 0.90], 3);
        let lines = conclusion(&c, &rows);
        assert_eq!(
            lines,
            [
                "+prompt-only (n = 3): rare-class accuracy -15.0 points (spread 2.0: real) against oversampling alone; overall accuracy +32.5 points (spread 1.0: real) against the long-tailed set.",
                "+normalized-pairs-5shot (n = 3): rare-class accuracy +1.0 points (spread 2.0: not beyond the spread) against oversampling alone; overall accuracy +40.5 points (spread 1.0: real) against the long-tailed set.",
                "+nao-pairs-5shot (n = 3): rare-class accuracy +5.0 points (spread 2.0: real) against oversampling alone; overall accuracy +42.5 points (spread 1.0: real) against the long-tailed set.",
                "oversampling (n = 3): rare-class accuracy +80.0 points (spread 2.0: real) against the long-tailed set alone.",
                "+nao-pairs-5shot (n = 3, 91.0 ± 1.0 %): rare-class accuracy +5.0 points (spread 2.0: real) against oversample (n = 3), +4.0 points (spread 2.0: real) against +normalized-pairs-5shot (n = 3).",
                "goal met: a nao configuration beats oversampling alone and the same configuration with the normalized mean on rare-class accuracy beyond the spread: +nao-pairs-5shot (+5.0 points (spread 2.0: real) against oversampling, +4.0 points (spread 2.0: real) against normalized).",
                "highest rare-class accuracy: +nao-pairs-5shot (91.0 ± 1.0 %), ahead of +normalized-pairs-5shot by +4.0 points (spread 2.0: real).",
            ]
        );
    }

    #[test]
    fn a_goal_within_the_spread_is_not_met_and_says_so() {
        let rows = rows();
        // nao beats oversampling, but only ties normalized
        let c = reports(&rows, &[0.05, 0.85, 0.70, 0.89, 0.90], 3);
        let lines = conclusion(&c, &rows);
        let goal = lines.iter().find(|l| l.starts_with("goal")).unwrap();
        assert_eq!(
            goal,
            "goal not met: no nao configuration beats both oversampling alone and the same configuration with the normalized mean on rare-class accuracy beyond the spread (+nao-pairs-5shot: +5.0 points (spread 2.0: real) against oversampling, +1.0 points (spread 2.0: not beyond the spread) against normalized)."
        );
        // behind oversampling beyond the spread is not "beating" it either
        let c = reports(&rows, &[0.05, 0.95, 0.70, 0.80, 0.90], 3);
        let lines = conclusion(&c, &rows);
        assert!(
            lines.iter().any(|l| l.starts_with("goal not met")),
            "{lines:?}"
        );
        // without the normalized row there is nothing to test the goal with
        let short = &rows[..3]
            .iter()
            .chain(&rows[4..])
            .cloned()
            .collect::<Vec<_>>();
        let c = reports(short, &[0.05, 0.85, 0.70, 0.90], 3);
        let lines = conclusion(&c, short);
        assert!(
            lines.iter().any(|l| l.starts_with("goal not tested")),
            "{lines:?}"
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
    fn the_subject_is_compared_within_its_configuration_only() {
        let mut rows = rows();
        let other = |m, s| Row::generated(Generation::new(m, s, 5, Refine::SeedSelect));
        rows.push(other(SeedMethod::Normalized, SourceKind::Subsets));
        rows.push(other(SeedMethod::Nao, SourceKind::Pairs));
        let c = reports(&rows, &[0.05, 0.85, 0.70, 0.46, 0.47, 0.8, 0.9], 2);
        let lines = conclusion(&c, &rows);
        let refined = lines
            .iter()
            .find(|l| l.starts_with("+nao-pairs-5shot-seedselect (n = 2, "))
            .unwrap();
        // its only same-configuration row would be normalized from pairs with SeedSelect
        assert!(refined.contains("against oversample (n = 2)."), "{refined}");
        assert!(lines
            .iter()
            .any(|l| l.starts_with("+normalized-subsets-5shot-seedselect (n = 2): ")));
    }
}
