//! [`RunPool`]: every (configuration, seed) trained on worker threads, finished runs kept in a
//! folder and reused.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nao_burn::{Device, RARE_CLASSES};

use super::error::{LongtailError, Result};
use super::plan::TrainingSet;
use super::progress::{first_error, Event, Progress, Shared};
use super::runs::{run_key, Recipe, RunResult};
use crate::data::ImageSet;

/// The training runs of the experiment: one per configuration and seed.
///
/// A finished run is written to `runs_dir/NAME-seedSEED.json` with its [`run_key`] (recipe,
/// seed and the exact training set); a later pool reuses it only when the key is the same, so
/// a killed experiment resumes and a changed recipe or set retrains.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPool {
    /// The classifier and its training.
    pub recipe: Recipe,
    /// The seeds of each configuration.
    pub seeds: Vec<u64>,
    /// Runs trained at once.
    pub jobs: usize,
    /// The folder of the finished runs.
    pub runs_dir: PathBuf,
}

/// A run still to train.
struct Todo {
    set: usize,
    seed: u64,
    key: String,
    file: PathBuf,
}

impl RunPool {
    /// Train every run of `sets` not already finished and score it on `test`; every run's
    /// result, in the order of `sets` then seeds.
    ///
    /// `progress` hears [`Event::Runs`] first, then each optimiser step and each finished run;
    /// when it says stop, the runs in flight are dropped (the finished ones are kept) and
    /// this returns [`LongtailError::Cancelled`].
    pub fn run(
        &self,
        sets: &[TrainingSet],
        test: &ImageSet,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<RunResult>> {
        if self.jobs == 0 || self.seeds.is_empty() {
            return Err(LongtailError::Invalid(
                "--seeds and --jobs must be at least 1".into(),
            ));
        }
        std::fs::create_dir_all(&self.runs_dir)
            .map_err(|e| LongtailError::io(&self.runs_dir, format!("cannot create: {e}")))?;
        let (mut done, todo) = self.finished(sets);
        let shared = Shared::new(progress);
        shared.check(Event::Runs {
            configurations: sets.len(),
            seeds: self.seeds.len(),
            to_train: todo.len(),
            kept: done.len(),
            steps_per_run: self.recipe.steps,
            dir: &self.runs_dir,
        })?;
        let queue = Mutex::new(todo);
        let finished = Mutex::new(Vec::new());
        let device = Device::flex();
        let results = std::thread::scope(|s| {
            let workers: Vec<_> = (0..self.jobs)
                .map(|_| {
                    s.spawn(|| {
                        let r = self.work(sets, test, &device, &queue, &finished, &shared);
                        if r.is_err() {
                            shared.stop();
                        }
                        r
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("a training thread panicked"))
                .collect::<Vec<_>>()
        });
        first_error(results)?;
        done.extend(finished.into_inner().unwrap_or_else(|e| e.into_inner()));
        let position = |r: &RunResult| sets.iter().position(|s| s.name == r.config);
        done.sort_by(|a, b| position(a).cmp(&position(b)).then(a.seed.cmp(&b.seed)));
        Ok(done)
    }

    /// The runs read back from the folder, and those still to train.
    fn finished(&self, sets: &[TrainingSet]) -> (Vec<RunResult>, VecDeque<Todo>) {
        let mut done = Vec::new();
        let mut todo = VecDeque::new();
        for (i, set) in sets.iter().enumerate() {
            for &seed in &self.seeds {
                let key = run_key(&self.recipe, seed, &set.set);
                let file = run_file(&self.runs_dir, &set.name, seed);
                // an unreadable or stale file is retrained (and overwritten), never trusted
                let cached = std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|t| serde_json::from_str::<RunResult>(&t).ok())
                    .filter(|r| r.key == key);
                match cached {
                    Some(r) => done.push(r),
                    None => todo.push_back(Todo {
                        set: i,
                        seed,
                        key,
                        file,
                    }),
                }
            }
        }
        (done, todo)
    }

    /// One worker: take runs from the queue until it is empty.
    fn work(
        &self,
        sets: &[TrainingSet],
        test: &ImageSet,
        device: &Device,
        queue: &Mutex<VecDeque<Todo>>,
        finished: &Mutex<Vec<RunResult>>,
        shared: &Shared<'_, '_>,
    ) -> Result<()> {
        loop {
            let Some(todo) = queue.lock().expect("the run queue").pop_front() else {
                return Ok(());
            };
            let set = &sets[todo.set];
            let (scores, seconds) = self.recipe.run(
                &set.set,
                test,
                &RARE_CLASSES,
                todo.seed,
                device,
                &mut |_, _, _, _| {
                    shared.report(Event::Step {
                        config: &set.name,
                        seed: todo.seed,
                    })
                },
            )?;
            let r = RunResult {
                config: set.name.clone(),
                seed: todo.seed,
                key: todo.key,
                train_images: set.set.len(),
                scores,
                seconds,
            };
            let json = serde_json::to_vec_pretty(&r)
                .map_err(|e| LongtailError::io(&todo.file, format!("JSON encoding: {e}")))?;
            nao_fs::write_file(&todo.file, "--work", &json)?;
            shared.check(Event::RunFinished(&r))?;
            finished.lock().expect("the finished runs").push(r);
        }
    }
}

/// `DIR/NAME-seedSEED.json`.
fn run_file(dir: &Path, name: &str, seed: u64) -> PathBuf {
    dir.join(format!("{name}-seed{seed}.json"))
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use super::*;

    /// Class `c`'s image `i`: a horizontal stripe at row 2c + 2.
    fn stripes(per_class: usize) -> ImageSet {
        let mut set = ImageSet::default();
        for i in 0..per_class {
            for c in 0..10 {
                let mut px = vec![0u8; 784];
                for x in 0..28 {
                    px[(2 * c + 2) * 28 + x] = 200 + (i % 50) as u8;
                }
                set.pixels.extend(px);
                set.labels.push(c as u8);
            }
        }
        set
    }

    fn sets() -> Vec<TrainingSet> {
        ["a", "b"]
            .iter()
            .enumerate()
            .map(|(i, name)| TrainingSet {
                name: (*name).into(),
                description: String::new(),
                set: stripes(3 + i),
            })
            .collect()
    }

    fn pool(dir: &Path, steps: usize) -> RunPool {
        RunPool {
            recipe: Recipe {
                channels: 2,
                hidden: 8,
                steps,
                batch: 8,
                lr: 1e-3,
            },
            seeds: vec![0, 1],
            jobs: 2,
            runs_dir: dir.join("runs"),
        }
    }

    /// Run `pool`, counting the runs it trained.
    fn run(pool: &RunPool) -> (Vec<RunResult>, usize) {
        let mut trained = 0;
        let runs = pool
            .run(&sets(), &stripes(2), &mut |e| {
                if let Event::RunFinished(_) = e {
                    trained += 1;
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        (runs, trained)
    }

    #[test]
    fn finished_runs_are_reused_and_a_changed_recipe_retrains() {
        let dir = tempfile::tempdir().unwrap();
        let (first, trained) = run(&pool(dir.path(), 3));
        assert_eq!(trained, 4);
        let order: Vec<(&str, u64)> = first.iter().map(|r| (r.config.as_str(), r.seed)).collect();
        assert_eq!(order, [("a", 0), ("a", 1), ("b", 0), ("b", 1)]);
        assert_eq!(first[2].train_images, 40);
        assert!(dir.path().join("runs/b-seed1.json").is_file());

        let (again, trained) = run(&pool(dir.path(), 3));
        assert_eq!((again, trained), (first.clone(), 0));

        let (other, trained) = run(&pool(dir.path(), 4));
        assert_eq!(trained, 4);
        assert_ne!(other[0].key, first[0].key);

        // a damaged run file is retrained, not trusted
        std::fs::write(dir.path().join("runs/a-seed0.json"), "{").unwrap();
        let (_, trained) = run(&pool(dir.path(), 4));
        assert_eq!(trained, 1);
    }

    #[test]
    fn a_stop_keeps_the_finished_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut pool = pool(dir.path(), 3);
        pool.jobs = 1;
        let mut finished = 0;
        let e = pool
            .run(&sets(), &stripes(2), &mut |e| {
                if let Event::RunFinished(_) = e {
                    finished += 1;
                }
                if finished == 1 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap_err();
        assert!(matches!(e, LongtailError::Cancelled), "{e}");
        let (_, trained) = run(&pool);
        assert_eq!(trained, 3);
    }
}
