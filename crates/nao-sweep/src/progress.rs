//! What a running sweep reports, and how the caller stops it: a callback that receives every
//! [`Event`] and answers [`ControlFlow::Break`] to cancel (the sweep then returns
//! [`SweepError::Cancelled`](crate::SweepError::Cancelled) before its next model call).

use std::ops::ControlFlow;

/// Something a sweep reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Real images of a class are being inverted into seeds (DDIM).
    Inverting {
        /// The class.
        class: &'a str,
    },
    /// Sampling and scoring images: `done` of `total` are scored.
    Images {
        /// Scored so far.
        done: usize,
        /// Images in all.
        total: usize,
    },
    /// One model call (an inversion or denoising step): reported so that a caller can cancel
    /// within a batch.
    Step,
}

/// The callback a sweep reports to (see the [crate docs](crate)).
pub type Progress<'a> = dyn FnMut(Event<'_>) -> ControlFlow<()> + 'a;

/// A callback that lets the sweep run to the end and shows nothing.
pub fn quiet(_: Event<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Report `event`; `Err(Cancelled)` when the callback says stop.
pub(crate) fn report(progress: &mut Progress<'_>, event: Event<'_>) -> crate::Result<()> {
    match progress(event) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(crate::SweepError::Cancelled),
    }
}
