//! The report's section on what the experiment costs: the measured costs
//! ([`Costs::MEASURED`]), the worst-case estimate of the spec that ran, and why the published
//! grid is what it is. Rendered with every report, so that a rerun keeps it.

use nao_burn_train::longtail::{estimate, Costs, ExperimentSpec, SelectSettings};

/// The section, in markdown.
pub fn section(spec: &ExperimentSpec) -> String {
    let c = Costs::MEASURED;
    let rows = [
        (
            "one training run (800 Adam steps of batch 64; scored on the 10 000 test images)",
            c.train_run,
        ),
        (
            "one generated image without refinement (20 DDIM steps)",
            c.image,
        ),
        (
            "one NAO `subsets` image, extra per real image inverted (its seed is the NAO \
             centroid of a random subset of them)",
            c.nao_subset_per_shot,
        ),
        (
            "one seed through SeedSelect from an inverted seed (`from_nao`: 5 iterations of a \
             20-step sampler), its image included",
            c.select_inverted,
        ),
        (
            "one seed through SeedSelect from a random seed (`from_random`: 30 iterations at \
             guidance 7.5), its image included",
            c.select_random,
        ),
        (
            "inverting and preparing the class points, per real image inverted",
            c.prepare_per_shot,
        ),
        (
            "measuring one generated set (`nao eval` against the 2000 rare test images)",
            c.measure_set,
        ),
        (
            "loading Fashion-MNIST and writing the real images, once",
            c.setup,
        ),
    ];
    let table: String = rows
        .iter()
        .map(|(what, s)| format!("| {what} | {s} |\n"))
        .collect();
    let estimate = match estimate(spec, &c) {
        // the costs are of the official settings
        _ if spec.select == SelectSettings::Tiny => {
            "No estimate for the spec that ran: its tiny SeedSelect is not what was measured."
                .to_string()
        }
        Ok(e) => format!(
            "For the spec that ran, at its worst (the costliest best source; every compared \
             configuration given the second-pass seeds): {:.0} s generating, {:.0} s measuring, \
             {:.0} s training the first pass and {:.0} s the second — **{:.0} min** in all.",
            e.generation,
            e.measuring,
            e.first_pass,
            e.second_pass,
            e.total / 60.0
        ),
        Err(e) => format!("No estimate for the spec that ran: {e}."),
    };
    format!(
        "## The grid and what it costs\n\n\
         Measured with release binaries on the 2-core development machine (2026-12-06, while \
         other builds kept its load average at 4 to 7), two workers at a time as the experiment \
         runs them; seconds per worker. 200 unrefined images per set took 5.5 to 6.9 s (every \
         method and source at 5 and 60 shots) but NAO `subsets`: 14.3 s at 5 shots and 125 s \
         at 60; 4 SeedSelect seeds 2.5 s (NAO pairs) and 14.3 s (prompt-only); a training run \
         39 and 45 s two at a time, 29 s alone. `longtail::Costs::MEASURED` holds them and \
         `longtail::estimate` adds them up for a spec (a unit test keeps the published grid \
         within an hour).\n\n\
         | part | seconds |\n|---|---:|\n{table}\n\
         {estimate}\n\n\
         Why this grid (`ExperimentSpec::new`), the same for every row — like with like:\n\n\
         - **M = 100 generated images per rare class** (the old protocol made 1000): SeedSelect \
           costs 0.63 s a seed from inverted seeds and 3.6 s from random ones, so at 1000 the \
           refined sets alone would take hours. 100 is still more than the 60 real images of \
           each rare class.\n\
         - **20 DDIM steps** for inversion and sampling (50 before), the number SeedSelect's \
           own differentiable sampler uses in its official settings.\n\
         - **Methods: prompt-only, normalized and NAO.** NAO is the subject, the normalized \
           mean the baseline the goal names, prompt-only the model alone. Euclidean, \
           spherical and Gaussian add 8 rows each (3 to 5 seeds apiece): past the hour.\n\
         - **Sources and refinements:** every source (centroid-paths, pairs, subsets) without \
           and with SeedSelect at 5 shots; at 60 shots (every real rare image) only the best \
           source of the 5-shot rows, and only for the methods with a source: prompt-only \
           inverts nothing, and its refined set is the costliest of all (about 12 minutes).\n\
         - **Seeds:** 3 for every row, 5 for the rows in a comparison within the spread; \
           training is the largest part (about two thirds).\n\n"
    )
}
