//! [`Grid`]: which generated sets the experiment compares, as lists of methods, sources,
//! refinements and shot counts; the rows they make.

use nao_augment::{SeedMethod, SourceKind};

use super::error::{LongtailError, Result};
use super::rows::{Generation, Refine, Row};

/// The generated sets of the experiment: every combination of the lists, prompt-only
/// normalised ([`Generation::new`]) and each set once.
///
/// `shots` are run with every source; `best_source_shots` only with the best source, chosen
/// from the rows at `shots` after their first seeds (see
/// [`best_source`](super::best_source)): the question there is what more real images add, not
/// which source wins again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    /// The seed methods.
    pub methods: Vec<SeedMethod>,
    /// The seed sources (prompt-only has none).
    pub sources: Vec<SourceKind>,
    /// The refinements.
    pub refinements: Vec<Refine>,
    /// Real images inverted per rare class, with every source.
    pub shots: Vec<usize>,
    /// Real images inverted per rare class, with the best source only.
    pub best_source_shots: Vec<usize>,
}

impl Grid {
    /// Refuse empty or repeated lists and shot counts of 0, naming the option.
    pub fn check(&self) -> Result<()> {
        fn once(option: &str, names: &[String]) -> Result<()> {
            if let Some(v) = names
                .iter()
                .enumerate()
                .find_map(|(i, v)| names[..i].contains(v).then_some(v))
            {
                return Err(LongtailError::Invalid(format!(
                    "{option}: {v} is listed twice"
                )));
            }
            Ok(())
        }
        let names = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>();
        once(
            "--methods",
            &self
                .methods
                .iter()
                .map(|m| m.name().into())
                .collect::<Vec<_>>(),
        )?;
        once(
            "--sources",
            &self
                .sources
                .iter()
                .map(|s| s.name().into())
                .collect::<Vec<_>>(),
        )?;
        once(
            "--refinements",
            &self
                .refinements
                .iter()
                .map(|r| r.name().into())
                .collect::<Vec<_>>(),
        )?;
        once("--shots", &names(&self.shots))?;
        once("--best-source-shots", &names(&self.best_source_shots))?;
        for (option, empty) in [
            ("--methods", self.methods.is_empty()),
            ("--sources", self.sources.is_empty()),
            ("--refinements", self.refinements.is_empty()),
            ("--shots", self.shots.is_empty()),
        ] {
            if empty {
                return Err(LongtailError::Invalid(format!(
                    "{option}: give at least one"
                )));
            }
        }
        if let Some(n) = self
            .best_source_shots
            .iter()
            .find(|n| self.shots.contains(n))
        {
            return Err(LongtailError::Invalid(format!(
                "--best-source-shots {n}: it is in --shots already (run with every source)"
            )));
        }
        let pairwise = self.sources.iter().any(|s| *s != SourceKind::CentroidPaths);
        let all_shots = self.shots.iter().chain(&self.best_source_shots);
        for &n in all_shots.clone() {
            if n == 0 || (n == 1 && pairwise) {
                let option = if self.shots.contains(&n) {
                    "--shots"
                } else {
                    "--best-source-shots"
                };
                return Err(LongtailError::Invalid(format!(
                    "{option} {n}: give at least {} real images per class",
                    if pairwise {
                        "2 (pairs and subsets need two)"
                    } else {
                        "1"
                    }
                )));
            }
        }
        Ok(())
    }

    /// The generated rows at `shots` with `sources`, in the report's order: by shot count,
    /// refinement and source, the methods side by side; each generation once.
    pub fn rows_at(&self, shots: &[usize], sources: &[SourceKind]) -> Vec<Row> {
        let mut out: Vec<Generation> = Vec::new();
        for &n in shots {
            for &refine in &self.refinements {
                for &source in sources {
                    for &method in &self.methods {
                        let g = Generation::new(method, source, n, refine);
                        if !out.contains(&g) {
                            out.push(g);
                        }
                    }
                }
            }
        }
        out.into_iter().map(Row::generated).collect()
    }

    /// The rows known before any training: the two baselines and every row at
    /// [`Grid::shots`].
    pub fn first_rows(&self) -> Vec<Row> {
        [Row::long_tail(), Row::oversample()]
            .into_iter()
            .chain(self.rows_at(&self.shots, &self.sources))
            .collect()
    }

    /// The rows at [`Grid::best_source_shots`] once the best source is known: the methods
    /// that have a source, since the question there is what more inverted images add to it.
    /// Prompt-only inverts nothing (more shots only widen SeedSelect's target), and its
    /// refined set is the costliest of all (30 iterations at guidance 7.5 per seed).
    pub fn best_source_rows(&self, best: SourceKind, before: &[Row]) -> Vec<Row> {
        self.rows_at(&self.best_source_shots, &[best])
            .into_iter()
            .filter(|r| r.generated.is_some_and(|g| g.source.is_some()))
            .filter(|r| !before.iter().any(|b| b.generated == r.generated))
            .collect()
    }
}
