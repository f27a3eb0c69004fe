//! What the running demo reports, and how the caller stops it: a callback that receives every
//! [`Event`] and answers [`ControlFlow::Break`] to cancel (the demo then returns
//! [`DemoError::Cancelled`](crate::DemoError::Cancelled) before its next model call).

use std::ops::ControlFlow;

/// Something the demo reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A model batch (one inversion or one sampling of a batch of seeds) is done: `done` of
    /// `total`.
    Batch {
        /// Batches done.
        done: usize,
        /// Batches in all.
        total: usize,
    },
    /// One model call (a denoising or inversion step, a SeedSelect iteration): reported so
    /// that a caller can cancel within a batch.
    Step,
}

/// The callback the demo reports to.
pub type Progress<'a> = dyn FnMut(Event) -> ControlFlow<()> + 'a;

/// A callback that lets the demo run to the end and shows nothing.
pub fn quiet(_: Event) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Report `event`; `Err(Cancelled)` when the callback says stop.
pub(crate) fn report(progress: &mut Progress<'_>, event: Event) -> crate::Result<()> {
    match progress(event) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(crate::DemoError::Cancelled),
    }
}
