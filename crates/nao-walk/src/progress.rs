//! What a running walk reports, and how the caller stops it: a callback that receives every
//! [`Event`] and answers [`ControlFlow::Break`] to cancel (the walk then returns
//! [`WalkError::Cancelled`](crate::WalkError::Cancelled); every frame cached so far is whole,
//! so a rerun resumes).

use std::ops::ControlFlow;

/// Something a walk reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A stage of model work begins (inverting the image keyframes, sampling a set of frames):
    /// what it is, for people, and the model steps it will run (0 when the cache holds
    /// everything it needs).
    Stage {
        /// What the stage does ("sampling the frames").
        what: &'a str,
        /// Model steps it will run.
        steps: usize,
    },
    /// One step of the model (an inversion or denoising step): reported so that a caller can
    /// cancel within a frame.
    Step,
    /// A frame of the current stage is sampled and cached: `done` of its `todo`.
    Sampled {
        /// Sampled so far in this stage.
        done: usize,
        /// To sample in this stage.
        todo: usize,
    },
    /// The current stage is over.
    StageDone,
    /// A distinct frame went into the outputs (read back from the cache): `done` of `total`.
    Played {
        /// Played so far.
        done: usize,
        /// Distinct frames of the walk.
        total: usize,
    },
    /// Something people should know that does not stop the walk: a cached file that did not
    /// read back and is made again.
    Note(&'a str),
}

/// The callback a walk reports to: it receives every [`Event`] and answers
/// [`ControlFlow::Break`] to cancel the walk ([`WalkError::Cancelled`](crate::WalkError::Cancelled)).
pub type Progress<'a> = dyn FnMut(Event<'_>) -> ControlFlow<()> + 'a;

/// A callback that lets the walk run to the end and shows nothing.
pub fn quiet(_: Event<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Report `event`; `Err(Cancelled)` when the callback says stop.
pub(crate) fn report(progress: &mut Progress<'_>, event: Event<'_>) -> crate::Result<()> {
    match progress(event) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(crate::WalkError::Cancelled),
    }
}
