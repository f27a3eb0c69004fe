//! Paths whose frames are made one at a time.
//!
//! Every method but the iterative reference solver draws its frames in the plane of the two
//! seeds: each frame is a fixed combination of two vectors. A [`FramePlan`] keeps those
//! combinations (a few numbers per frame) and the four vectors, and makes frame `i` on demand,
//! so a path of `n` frames of `d` values costs `O(d)` memory instead of `n·d`: the CLI streams
//! paths of any length to disk through it. [`interpolate`](crate::interpolate) collects a plan
//! into [`Frames`], so held and streamed paths are the same numbers.

use crate::frames::Frames;

/// How one frame is made from the plan's vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step {
    /// The start seed, exactly.
    A,
    /// The end seed, exactly.
    B,
    /// `wa·a + wb·b`.
    Mix { wa: f64, wb: f64 },
    /// `(wa·a + wb·b)·s`.
    ScaledMix { wa: f64, wb: f64, s: f64 },
    /// `x·u1 + y·u2` in the plane's orthonormal basis.
    Plane { x: f64, y: f64 },
}

/// A path of [`len`](Self::len) frames of [`dim`](Self::dim) values, made frame by frame.
///
/// ```
/// use nao_geodesic::{plan, Method, PathFrames, Spacing};
/// let a = vec![1.0, 0.0, 0.0];
/// let b = vec![0.0, 2.0, 0.0];
/// let p = plan(Method::Nao, &a, &b, 5, Spacing::Euclidean).unwrap();
/// let held = nao_geodesic::interpolate(Method::Nao, &a, &b, 5, Spacing::Euclidean).unwrap();
/// let mut buf = vec![0.0; 3];
/// for i in 0..p.len() {
///     p.frame_into(i, &mut buf);
///     assert_eq!(buf, held.frame(i));
/// }
/// assert_eq!(p.to_frames(), held);
/// ```
#[derive(Debug, Clone)]
pub struct FramePlan {
    pub(crate) a: Vec<f64>,
    pub(crate) b: Vec<f64>,
    /// `(u1, u2)` for [`Step::Plane`] frames.
    pub(crate) basis: Option<(Vec<f64>, Vec<f64>)>,
    pub(crate) steps: Vec<Step>,
}

impl FramePlan {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the plan has no frames.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Values per frame.
    pub fn dim(&self) -> usize {
        self.a.len()
    }

    /// Write frame `i` into `out`.
    ///
    /// # Panics
    /// If `i >= len()` or `out.len() != dim()`.
    pub fn frame_into(&self, i: usize, out: &mut [f64]) {
        assert_eq!(out.len(), self.dim(), "frame buffer length");
        match self.steps[i] {
            Step::A => out.copy_from_slice(&self.a),
            Step::B => out.copy_from_slice(&self.b),
            Step::Mix { wa, wb } => {
                for ((o, x), y) in out.iter_mut().zip(&self.a).zip(&self.b) {
                    *o = wa * x + wb * y;
                }
            }
            Step::ScaledMix { wa, wb, s } => {
                for ((o, x), y) in out.iter_mut().zip(&self.a).zip(&self.b) {
                    *o = (wa * x + wb * y) * s;
                }
            }
            Step::Plane { x, y } => {
                let (u1, u2) = self
                    .basis
                    .as_ref()
                    .expect("a plan with plane steps has a basis");
                for ((o, p), q) in out.iter_mut().zip(u1).zip(u2) {
                    *o = x * p + y * q;
                }
            }
        }
    }

    /// Every frame, held in memory.
    pub fn to_frames(&self) -> Frames {
        let d = self.dim();
        let mut data = vec![0.0; self.len() * d];
        for (i, row) in data.chunks_exact_mut(d.max(1)).enumerate() {
            self.frame_into(i, row);
        }
        Frames { dim: d, data }
    }
}

/// The frames of a path, held ([`Frames`]) or made on demand ([`FramePlan`]): what the path
/// measures ([`polyline_cost`](crate::polyline_cost),
/// [`resampled_reference_loss`](crate::resampled_reference_loss)) read.
pub trait PathFrames {
    /// Number of frames.
    fn count(&self) -> usize;
    /// Values per frame.
    fn width(&self) -> usize;
    /// Frame `i`: borrowed, or made into `buf` (of length [`width`](Self::width)).
    fn frame_in<'a>(&'a self, i: usize, buf: &'a mut [f64]) -> &'a [f64];
}

impl PathFrames for Frames {
    fn count(&self) -> usize {
        self.len()
    }
    fn width(&self) -> usize {
        self.dim
    }
    fn frame_in<'a>(&'a self, i: usize, _: &'a mut [f64]) -> &'a [f64] {
        self.frame(i)
    }
}

impl PathFrames for FramePlan {
    fn count(&self) -> usize {
        self.len()
    }
    fn width(&self) -> usize {
        self.dim()
    }
    fn frame_in<'a>(&'a self, i: usize, buf: &'a mut [f64]) -> &'a [f64] {
        self.frame_into(i, buf);
        buf
    }
}

/// Row-major points viewed as frames.
pub(crate) struct Rows<'a> {
    pub data: &'a [f64],
    pub dim: usize,
}

impl PathFrames for Rows<'_> {
    fn count(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }
    fn width(&self) -> usize {
        self.dim
    }
    fn frame_in<'a>(&'a self, i: usize, _: &'a mut [f64]) -> &'a [f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}
