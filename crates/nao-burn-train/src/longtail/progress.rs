//! What the experiment reports while it runs, and how the caller stops it: one callback that
//! receives every [`Event`] and answers [`ControlFlow::Break`] to cancel. The experiment then
//! returns [`LongtailError::Cancelled`](super::LongtailError::Cancelled) with every finished
//! training run and generated image kept, so that a rerun resumes.
//!
//! The callback is called from the worker threads too (one at a time, under a lock), so it is
//! `Send`; once it has said stop, every worker stops at its next step.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use nao_augment::Outcome;

use super::error::{LongtailError, Result};
use super::rows::Generation;
use super::runs::RunResult;

/// Something the experiment reports while it runs.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The real images are written: `per_class` per rare class in `dir`.
    RealImages {
        /// Real images per rare class.
        per_class: usize,
        /// Their folder.
        dir: &'a Path,
    },
    /// A generated set is being made: `nao augment`'s own event.
    Generating {
        /// The set.
        generation: Generation,
        /// What its job reports.
        event: nao_augment::Event<'a>,
    },
    /// A generated set is complete in `dir`.
    Generated {
        /// The set.
        generation: Generation,
        /// What its job did (images made, images found done).
        outcome: &'a Outcome,
        /// Its folder.
        dir: &'a Path,
    },
    /// The generated sets are being measured against the real test images: `nao eval`'s event.
    Evaluating(nao_augment::Event<'a>),
    /// The training runs are planned: `to_train` to do, `kept` finished ones read back from
    /// `dir`.
    Runs {
        /// Configurations.
        configurations: usize,
        /// Seeds per configuration.
        seeds: usize,
        /// Runs to train now.
        to_train: usize,
        /// Finished runs kept.
        kept: usize,
        /// Optimiser steps of each run.
        steps_per_run: usize,
        /// The folder of the finished runs.
        dir: &'a Path,
    },
    /// One optimiser step of a run (reported so that a caller can cancel within a run).
    Step {
        /// The configuration.
        config: &'a str,
        /// The seed.
        seed: u64,
    },
    /// A run is finished and saved.
    RunFinished(&'a RunResult),
}

/// The callback the experiment reports to: it receives every [`Event`] and answers
/// [`ControlFlow::Break`] to stop the experiment, which then returns
/// [`LongtailError::Cancelled`] with the finished work kept. Worker threads call it too (one at
/// a time), hence `Send`; once it has said stop, every worker stops at its next step.
pub type Progress<'a> = dyn FnMut(Event<'_>) -> ControlFlow<()> + Send + 'a;

/// A callback that lets the experiment run to the end and shows nothing.
pub fn quiet(_: Event<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// The callback shared by worker threads: called under a lock, and once it has said stop (or a
/// worker failed) it says stop to everyone without being called again.
pub(crate) struct Shared<'p, 'a> {
    callback: Mutex<&'p mut Progress<'a>>,
    stopped: AtomicBool,
}

impl<'p, 'a> Shared<'p, 'a> {
    pub(crate) fn new(callback: &'p mut Progress<'a>) -> Self {
        Self {
            callback: Mutex::new(callback),
            stopped: AtomicBool::new(false),
        }
    }

    /// Report `event`; the answer, or `Break` when someone already stopped.
    pub(crate) fn report(&self, event: Event<'_>) -> ControlFlow<()> {
        if self.stopped.load(Ordering::SeqCst) {
            return ControlFlow::Break(());
        }
        // a callback that panicked in another thread leaves the lock poisoned; its state is
        // the caller's, so it is still the one to ask
        let mut callback = self.callback.lock().unwrap_or_else(|e| e.into_inner());
        let answer = callback(event);
        if answer.is_break() {
            self.stop();
        }
        answer
    }

    /// [`Shared::report`] as a result: `Err(Cancelled)` on stop.
    pub(crate) fn check(&self, event: Event<'_>) -> Result<()> {
        match self.report(event) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(LongtailError::Cancelled),
        }
    }

    /// Make every later report say stop (a worker failed: the others need not go on).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

/// The outcome of worker threads: the first real error, else `Cancelled` when any was
/// cancelled (the others stopped because of the failure, not the other way round).
pub(crate) fn first_error(results: Vec<Result<()>>) -> Result<()> {
    let mut cancelled = false;
    for r in results {
        match r {
            Ok(()) => {}
            Err(LongtailError::Cancelled) => cancelled = true,
            Err(e) => return Err(e),
        }
    }
    if cancelled {
        Err(LongtailError::Cancelled)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_heard_by_everyone_and_the_callback_is_not_asked_again() {
        let mut calls = 0;
        let mut callback = |_: Event<'_>| {
            calls += 1;
            if calls == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        {
            let shared = Shared::new(&mut callback);
            let step = Event::Step {
                config: "c",
                seed: 0,
            };
            assert!(shared.check(step).is_ok());
            assert!(matches!(shared.check(step), Err(LongtailError::Cancelled)));
            assert!(shared.report(step).is_break());
        }
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_failure_outranks_the_cancellations_it_caused() {
        let failed = || Err(LongtailError::Invalid("x".into()));
        let e = first_error(vec![Err(LongtailError::Cancelled), failed(), Ok(())]);
        assert!(matches!(e, Err(LongtailError::Invalid(_))));
        let e = first_error(vec![Ok(()), Err(LongtailError::Cancelled)]);
        assert!(matches!(e, Err(LongtailError::Cancelled)));
        assert!(first_error(vec![Ok(()), Ok(())]).is_ok());
    }
}
