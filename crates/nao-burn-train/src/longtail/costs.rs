//! What the experiment costs: the measured [`Costs`] of its parts on the development machine,
//! and the [`estimate`] of a spec's wall time from them — what chose the published grid
//! (docs/results.md has the measurements), and a test that keeps it within an hour.

use nao_augment::{SeedMethod, SourceKind};
use nao_burn::RARE_CLASSES;

use super::choose::comparisons;
use super::error::Result;
use super::plan::Plan;
use super::rows::{Generation, Refine};
use super::spec::ExperimentSpec;

/// Seconds of each part of the experiment, per worker while two work at once (as the
/// experiment runs them), with the published settings: 20 DDIM steps,
/// [`Recipe::FULL`](super::Recipe::FULL), the official SeedSelect settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Costs {
    /// One training run and its scoring on the 10 000 test images.
    pub train_run: f64,
    /// One generated image without refinement (drawing its seed, sampling, writing it).
    pub image: f64,
    /// The extra of one NAO `subsets` image per real image inverted: its seed is the NAO
    /// centroid of a random subset of them, a few of which are costly at 60.
    pub nao_subset_per_shot: f64,
    /// One seed through SeedSelect from an inverted seed (`from_nao`: 5 iterations), the
    /// sampling of its image included.
    pub select_inverted: f64,
    /// One seed through SeedSelect from a random seed (`from_random`: 30 iterations at
    /// guidance 7.5, two network passes a step), the sampling included.
    pub select_random: f64,
    /// Inverting one real image per rare class and computing the class points (the NAO
    /// centroid and paths the costliest), per shot.
    pub prepare_per_shot: f64,
    /// Measuring one generated set against the rare classes' 2000 test images (one worker).
    pub measure_set: f64,
    /// Loading Fashion-MNIST and writing the real images, once.
    pub setup: f64,
}

impl Costs {
    /// Measured with release binaries on the 2-core development machine on 2026-12-06, while
    /// other builds kept its load average at 4 to 7 (so an idle machine does better): see the
    /// cost table of docs/results.md.
    pub const MEASURED: Costs = Costs {
        train_run: 45.0,
        image: 0.031,
        nao_subset_per_shot: 0.0097,
        select_inverted: 0.63,
        select_random: 3.6,
        prepare_per_shot: 0.16,
        measure_set: 6.0,
        setup: 10.0,
    };
}

/// A spec's estimated wall time, in seconds, at its worst: the best source the costliest, and
/// every configuration in a comparison given the second-pass seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Making the generated sets.
    pub generation: f64,
    /// Measuring them.
    pub measuring: f64,
    /// Training every configuration on the first-pass seeds.
    pub first_pass: f64,
    /// Training the compared configurations on the second-pass seeds.
    pub second_pass: f64,
    /// Everything, setup included.
    pub total: f64,
}

/// The worker-seconds of one generated set of `per_class` images per rare class.
fn set_seconds(g: Generation, per_class: usize, step_scale: f64, costs: &Costs) -> f64 {
    let images = (RARE_CLASSES.len() * per_class) as f64;
    let shots = g.shots.unwrap_or(0) as f64;
    let mut per_image = costs.image * step_scale;
    if g.method == SeedMethod::Nao && g.source == Some(SourceKind::Subsets) {
        per_image += costs.nao_subset_per_shot * shots;
    }
    if g.refine == Refine::SeedSelect {
        // SeedSelect's own sampler has its fixed steps: no scaling
        per_image += if g.method.inverts() {
            costs.select_inverted
        } else {
            costs.select_random
        };
    }
    // prompt-only reads its shots for SeedSelect's target but inverts none
    let inverted = if g.method.inverts() { shots } else { 0.0 };
    images * per_image + costs.prepare_per_shot * inverted * step_scale
}

/// The worst-case wall time of `spec` from `costs`, scaled linearly in the DDIM steps (from
/// 20) and the training steps (from 800); the SeedSelect settings are taken as the official
/// ones.
///
/// ```
/// use nao_burn_train::longtail::{estimate, Costs, ExperimentSpec};
/// let e = estimate(&ExperimentSpec::new("data", "work"), &Costs::MEASURED)?;
/// assert!(e.total <= 3600.0, "{e:?}");
/// # Ok::<(), nao_burn_train::longtail::LongtailError>(())
/// ```
pub fn estimate(spec: &ExperimentSpec, costs: &Costs) -> Result<Estimate> {
    let plan = Plan::new(spec.clone())?;
    let jobs = spec.jobs as f64;
    let step_scale = spec.ddim_steps as f64 / 20.0;
    let run = costs.train_run * spec.recipe.steps as f64 / 800.0;
    let sources: Vec<Option<SourceKind>> = if plan.needs_best_source() {
        spec.grid.sources.iter().copied().map(Some).collect()
    } else {
        vec![None]
    };
    let mut worst: Option<Estimate> = None;
    for best in sources {
        let rows = plan.all_rows(best);
        let generations = Plan::generations(&rows);
        let generation: f64 = generations
            .iter()
            .map(|&g| set_seconds(g, spec.generated_per_class, step_scale, costs))
            .sum::<f64>()
            / jobs;
        let measuring = generations.len() as f64 * costs.measure_set;
        let first_pass = (rows.len() as u64 * spec.seeds) as f64 * run / jobs;
        let mut compared: Vec<String> = Vec::new();
        for (a, b) in comparisons(&rows) {
            for name in [a, b] {
                if !compared.contains(&name) {
                    compared.push(name);
                }
            }
        }
        let second_pass =
            (compared.len() as u64 * (spec.max_seeds - spec.seeds)) as f64 * run / jobs;
        let e = Estimate {
            generation,
            measuring,
            first_pass,
            second_pass,
            total: costs.setup + generation + measuring + first_pass + second_pass,
        };
        if worst.is_none_or(|w| e.total > w.total) {
            worst = Some(e);
        }
    }
    Ok(worst.expect("at least one source"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_grid_fits_an_hour_on_two_cores() {
        let spec = ExperimentSpec::new("data", "work");
        let e = estimate(&spec, &Costs::MEASURED).unwrap();
        assert!(e.total <= 3600.0, "{e:?}");
        // the parts add up, and the second pass is counted at its worst: oversample and the
        // 8 nao and 8 normalized rows, 2 more seeds each, 2 at a time
        assert!(
            (e.second_pass - 17.0 * 2.0 * 45.0 / 2.0).abs() < 1e-9,
            "{e:?}"
        );
        let sum = Costs::MEASURED.setup + e.generation + e.measuring + e.first_pass + e.second_pass;
        assert!((e.total - sum).abs() < 1e-9);
        // what would not fit: every method, or 1000 images per class as before
        let mut all = spec.clone();
        all.grid.methods = SeedMethod::ALL.to_vec();
        assert!(estimate(&all, &Costs::MEASURED).unwrap().total > 3600.0);
        let mut more = spec;
        more.generated_per_class = 1000;
        assert!(estimate(&more, &Costs::MEASURED).unwrap().total > 3600.0);
    }

    #[test]
    fn a_refined_set_costs_its_seedselect_and_nao_subsets_their_centroids() {
        let c = Costs::MEASURED;
        let g = |m, s, r| Generation::new(m, s, 60, r);
        let plain = set_seconds(
            g(SeedMethod::Nao, SourceKind::Pairs, Refine::None),
            100,
            1.0,
            &c,
        );
        assert!((plain - (200.0 * c.image + 60.0 * c.prepare_per_shot)).abs() < 1e-9);
        let refined = set_seconds(
            g(SeedMethod::Nao, SourceKind::Pairs, Refine::SeedSelect),
            100,
            1.0,
            &c,
        );
        assert!((refined - plain - 200.0 * c.select_inverted).abs() < 1e-9);
        let subsets = set_seconds(
            g(SeedMethod::Nao, SourceKind::Subsets, Refine::None),
            100,
            1.0,
            &c,
        );
        assert!((subsets - plain - 200.0 * 60.0 * c.nao_subset_per_shot).abs() < 1e-9);
        let random = set_seconds(
            g(
                SeedMethod::PromptOnly,
                SourceKind::Pairs,
                Refine::SeedSelect,
            ),
            100,
            1.0,
            &c,
        );
        assert!((random - 200.0 * (c.image + c.select_random)).abs() < 1e-9);
    }
}
