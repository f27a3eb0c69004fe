//! Which part of the (class, index) work one process does.
//!
//! The work items are numbered class by class (classes in sorted order, indices 0..N within
//! each): item `g` belongs to shard `g mod count`, so every shard gets a share of every class
//! and the shards together cover every item exactly once. The index and count come from the
//! caller (`--shard I/N`) or from the job engine (`--shard auto`): a SLURM job array's
//! `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`, or a Kubernetes
//! Indexed Job's `JOB_COMPLETION_INDEX` with the count given as `auto/N`.

use crate::{AugmentError, Result};

/// One part of the work: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index, below `count`.
    pub index: usize,
    /// Number of shards (≥ 1).
    pub count: usize,
}

/// SLURM's variables for the task of a job array.
const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// Kubernetes' variable for the pod of an Indexed Job.
const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";

impl Default for Shard {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl Shard {
    /// The whole work in one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether work item `position` (numbered class by class) is this shard's.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index
    }

    /// `I/N`, as given on the command line.
    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }

    /// The file name of this shard's manifest in the output folder.
    pub fn manifest_name(&self) -> String {
        format!("manifest.shard-{}-of-{}.jsonl", self.index, self.count)
    }

    /// The shard of a manifest file name written by [`Shard::manifest_name`], if it is one.
    pub fn from_manifest_name(name: &str) -> Option<Shard> {
        let middle = name
            .strip_prefix("manifest.shard-")?
            .strip_suffix(".jsonl")?;
        let (i, n) = middle.split_once("-of-")?;
        let shard = Shard {
            index: i.parse().ok()?,
            count: n.parse().ok()?,
        };
        (shard.index < shard.count && shard.manifest_name() == name).then_some(shard)
    }

    /// Parse `I/N`, `auto` or `auto/N`, reading the job engine's variables through `var` for
    /// `auto`; errors quote `spec` after `option` (`--shard`).
    ///
    /// ```
    /// use nao_augment::Shard;
    /// let slurm = |name: &str| match name {
    ///     "SLURM_ARRAY_TASK_ID" => Some("4".to_string()),
    ///     "SLURM_ARRAY_TASK_MIN" => Some("1".to_string()),
    ///     "SLURM_ARRAY_TASK_COUNT" => Some("4".to_string()),
    ///     _ => None,
    /// };
    /// assert_eq!(Shard::parse("--shard", "auto", &slurm)?, Shard { index: 3, count: 4 });
    /// assert_eq!(Shard::parse("--shard", "1/2", &|_| None)?, Shard { index: 1, count: 2 });
    /// # Ok::<(), nao_augment::AugmentError>(())
    /// ```
    pub fn parse(option: &str, spec: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<Shard> {
        let bad = |why: String| AugmentError::input(format!("{option} {spec}: {why}"));
        let (index_part, count_part) = match spec.split_once('/') {
            Some((i, n)) => (i.trim(), Some(n.trim())),
            None => (spec.trim(), None),
        };
        let count = match count_part {
            Some(n) => Some(n.parse::<usize>().map_err(|_| {
                bad(format!(
                    "the shard count '{n}' is not a whole number (give I/N, auto or auto/N)"
                ))
            })?),
            None => None,
        };
        if count == Some(0) {
            return Err(bad("the shard count must be at least 1".into()));
        }
        let (index, count, origin) = if index_part == "auto" {
            let (index, from) = auto_index(var).map_err(&bad)?;
            let count = match count {
                Some(n) => n,
                None => engine_count(var).map_err(&bad)?.ok_or_else(|| {
                    bad(format!(
                        "{from} gives the index but not the count: give it as {option} \
                         auto/N (a Kubernetes Indexed Job's completions)"
                    ))
                })?,
            };
            (index, count, format!(" (from {from})"))
        } else {
            let Some(count) = count else {
                return Err(bad(
                    "give the index and count as I/N (0 ≤ I < N), or auto for a SLURM array \
                     task or a Kubernetes Indexed Job"
                        .into(),
                ));
            };
            let index = index_part.parse::<usize>().map_err(|_| {
                bad(format!(
                    "the shard index '{index_part}' is not a whole number (give I/N, auto or \
                     auto/N)"
                ))
            })?;
            (index, count, String::new())
        };
        if index >= count {
            return Err(bad(format!(
                "shard index {index}{origin} is out of range: with {count} shard(s) the index \
                 is 0 to {} (shards are numbered from 0)",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }
}

/// The shard index from SLURM (ID − MIN, so `--array=1-4` works too) or Kubernetes, and which
/// variable it came from.
fn auto_index(var: &dyn Fn(&str) -> Option<String>) -> Result<(usize, String), String> {
    let number = |name: &str| -> Result<Option<usize>, String> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map(Some)
                .map_err(|_| format!("{name}={v} is not a whole number")),
        }
    };
    if let Some(id) = number(SLURM_ID)? {
        let min = number(SLURM_MIN)?.unwrap_or(0);
        let index = id
            .checked_sub(min)
            .ok_or_else(|| format!("{SLURM_ID}={id} is below {SLURM_MIN}={min}"))?;
        let from = if min == 0 {
            format!("{SLURM_ID}={id}")
        } else {
            format!("{SLURM_ID}={id} − {SLURM_MIN}={min}")
        };
        return Ok((index, from));
    }
    if let Some(index) = number(K8S_INDEX)? {
        return Ok((index, format!("{K8S_INDEX}={index}")));
    }
    Err(format!(
        "neither {SLURM_ID} (a SLURM job array task) nor {K8S_INDEX} (a Kubernetes Indexed \
         Job) is set; give the shard as I/N"
    ))
}

/// The shard count from SLURM, when the index came from there.
fn engine_count(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<usize>, String> {
    if var(SLURM_ID).is_none() {
        return Ok(None);
    }
    match var(SLURM_COUNT) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(0) | Err(_) => Err(format!("{SLURM_COUNT}={v} is not a count ≥ 1")),
            Ok(n) => Ok(Some(n)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn parse(spec: &str, vars: &[(&str, &str)]) -> Result<Shard, String> {
        Shard::parse("--shard", spec, &env(vars)).map_err(|e| e.to_string())
    }

    #[test]
    fn explicit_shards() {
        assert_eq!(parse("2/4", &[]), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(parse("0/1", &[]), Ok(Shard::WHOLE));
        let e = parse("4/4", &[]).unwrap_err();
        assert!(e.contains("out of range") && e.contains("0 to 3"), "{e}");
        assert!(parse("1/0", &[]).unwrap_err().contains("at least 1"));
        assert!(parse("x/2", &[]).unwrap_err().contains("'x'"));
        assert!(parse("3", &[]).unwrap_err().contains("I/N"));
        assert!(parse("-1/2", &[]).unwrap_err().contains("'-1'"));
    }

    #[test]
    fn slurm_array_tasks() {
        let vars = [(SLURM_ID, "3"), (SLURM_COUNT, "4"), (SLURM_MIN, "0")];
        assert_eq!(parse("auto", &vars), Ok(Shard { index: 3, count: 4 }));
        // --array=1-4: IDs 1..4, MIN 1
        let vars = [(SLURM_ID, "4"), (SLURM_COUNT, "4"), (SLURM_MIN, "1")];
        assert_eq!(parse("auto", &vars), Ok(Shard { index: 3, count: 4 }));
        // an explicit count wins; an index past it is named with its variable
        let e = parse("auto/2", &[(SLURM_ID, "3"), (SLURM_COUNT, "4")]).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID=3") && e.contains("0 to 1"),
            "{e}"
        );
        // --array=0,2,5: ID − MIN is not below the count
        let e = parse("auto", &[(SLURM_ID, "5"), (SLURM_COUNT, "3")]).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = parse("auto", &[(SLURM_ID, "x")]).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_ID=x"), "{e}");
    }

    #[test]
    fn kubernetes_indexed_jobs() {
        let vars = [(K8S_INDEX, "2")];
        assert_eq!(parse("auto/3", &vars), Ok(Shard { index: 2, count: 3 }));
        let e = parse("auto", &vars).unwrap_err();
        assert!(e.contains("auto/N"), "{e}");
        let e = parse("auto/2", &vars).unwrap_err();
        assert!(
            e.contains("JOB_COMPLETION_INDEX=2") && e.contains("out of range"),
            "{e}"
        );
        let e = parse("auto", &[]).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID") && e.contains("I/N"),
            "{e}"
        );
    }

    #[test]
    fn ownership_covers_every_item_once() {
        let count = 3;
        for position in 0..20 {
            let owners = (0..count)
                .filter(|&index| Shard { index, count }.owns(position))
                .count();
            assert_eq!(owners, 1);
        }
        let s = Shard { index: 1, count: 4 };
        assert_eq!(s.manifest_name(), "manifest.shard-1-of-4.jsonl");
        assert_eq!(Shard::from_manifest_name(&s.manifest_name()), Some(s));
        assert_eq!(
            Shard::from_manifest_name("manifest.shard-4-of-4.jsonl"),
            None
        );
        assert_eq!(
            Shard::from_manifest_name("manifest.shard-01-of-4.jsonl"),
            None
        );
        assert_eq!(Shard::from_manifest_name("manifest.jsonl"), None);
    }
}
