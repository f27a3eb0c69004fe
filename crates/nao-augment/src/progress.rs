//! What a running job reports, and how the caller stops it: a callback that receives every
//! [`Event`] and answers [`ControlFlow::Break`] to cancel (the job then returns
//! [`AugmentError::Cancelled`](crate::AugmentError::Cancelled) with every file it wrote whole,
//! so that a rerun resumes).

use std::ops::ControlFlow;

/// Something a job reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Another process is preparing the class seeds in the output folder; this one waits.
    WaitingForSetup,
    /// Something people should know that does not stop the job: a real image left out, the
    /// torn last line of a killed run removed.
    Note(&'a str),
    /// The class seeds: `done` of `total` classes are ready.
    ClassSeeds {
        /// Ready so far.
        done: usize,
        /// Classes in all.
        total: usize,
    },
    /// Making images: `done` of the `todo` images this run makes are written.
    Images {
        /// Written so far.
        done: usize,
        /// To make in this run.
        todo: usize,
    },
    /// One step of the model (an inversion or denoising step): reported so that a caller can
    /// cancel within an image.
    Step,
    /// Scoring images (`nao eval`): `done` of `total` images scored.
    Scored {
        /// Scored so far.
        done: usize,
        /// Images in all.
        total: usize,
    },
}

/// The callback a job reports to (its events: [`Event`]).
pub type Progress<'a> = dyn FnMut(Event<'_>) -> ControlFlow<()> + 'a;

/// A callback that lets the job run to the end and shows nothing.
pub fn quiet(_: Event<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Report `event`; `Err(Cancelled)` when the callback says stop.
pub(crate) fn report(progress: &mut Progress<'_>, event: Event<'_>) -> crate::Result<()> {
    match progress(event) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(crate::AugmentError::Cancelled),
    }
}
