//! Perceptual pacing: frames placed so that consecutive *images* change by equal amounts.
//!
//! The image change along a segment is unknown until frames are sampled, so it is estimated
//! and refined:
//!
//! 1. Sample each segment at `COARSE + 1` evenly spaced positions (by Euclidean length).
//! 2. Along each segment, sum the image distance ([`Features::distance`]) between consecutive
//!    sampled positions: a piecewise-linear estimate `D_s(u)` of the image change covered by
//!    position `u`, and its total `D_s(1)`.
//! 3. Share the frames among the segments in proportion to `D_s(1)` and place segment `s`'s
//!    frames where `D_s` reaches the eased shares of its total (inverting the estimate).
//! 4. Sample those frames. They refine the estimate (more positions, closer together), so go
//!    back to 2 — until no frame moves by more than [`TOLERANCE`] of a frame interval, or
//!    after `refine` re-placements. The frames of the last placement are the walk's.
//!
//! Each pass samples only positions the cache does not hold, so the cost is the coarse
//! samples plus at most `(1 + refine)` times the frame count, less as placements settle.

use super::change::Features;
use super::ease::Ease;
use super::pacing::{allocate, layout, share_steps, unevenness, Counts, PlannedFrame};
use super::render::{Position, Renderer};
use super::route::{invert_cumulative, Route};
use crate::error::CliError;

/// Intervals of the first, coarse sampling of each segment.
pub const COARSE: usize = 8;

/// Placements closer than this fraction of a frame interval to the previous one have
/// converged.
pub const TOLERANCE: f64 = 0.05;

/// One placement of the frames, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pass {
    /// Positions sampled when it was made (coarse ones included).
    pub samples: usize,
    /// [`unevenness`] of its frames' image changes, once sampled.
    pub unevenness: f64,
    /// The largest move of a frame since the previous placement, in frame intervals (none
    /// for the first, or when the frames changed segments).
    pub max_shift: Option<f64>,
}

/// The frames, and how the placement went.
pub struct Placement {
    /// The walk's frames.
    pub frames: Vec<PlannedFrame>,
    /// One entry per placement.
    pub passes: Vec<Pass>,
    /// Whether the last placement moved less than [`TOLERANCE`].
    pub converged: bool,
}

/// Place the frames of `route` perceptually (see the module docs).
pub fn place(
    route: &Route,
    renderer: &mut Renderer<'_>,
    counts: Counts,
    ease: Ease,
    hold: usize,
    refine: usize,
) -> Result<Placement, CliError> {
    let n = route.segments.len();
    let mut samples: Vec<Vec<f64>> =
        vec![(0..=COARSE).map(|j| j as f64 / COARSE as f64).collect(); n];
    let coarse: Vec<Position> = (0..n)
        .flat_map(|s| samples[s].iter().map(move |&u| (s, u)))
        .collect();
    renderer.ensure(route, &coarse, "sampling the coarse frames")?;
    let mut passes = Vec::new();
    let mut previous: Option<(Vec<usize>, Vec<PlannedFrame>)> = None;
    let mut pass = 0;
    loop {
        // the estimate of the image change along each segment
        let mut tables = Vec::with_capacity(n);
        for (s, positions) in samples.iter().enumerate() {
            let steps = changes(route, renderer, positions.iter().map(|&u| (s, u)))?;
            let mut cumulative = vec![0.0];
            for d in steps {
                cumulative.push(cumulative.last().copied().unwrap_or(0.0) + d);
            }
            tables.push(cumulative);
        }
        let totals: Vec<f64> = tables
            .iter()
            .map(|t| t.last().copied().unwrap_or(0.0))
            .collect();
        let intervals = allocate(&totals, counts.intervals);
        let frames = layout(
            &intervals,
            ease,
            hold,
            route.closed,
            |s| route.segments[s].from,
            route.segments.last().map_or(0, |s| s.to),
            |s, share| {
                let at = invert_cumulative(&tables[s], share * totals[s]);
                let (j, f) = (at.floor() as usize, at.fract());
                let p = &samples[s];
                match p.get(j + 1) {
                    Some(next) => p[j] + f * (next - p[j]),
                    None => p[p.len() - 1],
                }
            },
        );
        let positions: Vec<Position> = frames.iter().map(|f| (f.segment, f.u)).collect();
        renderer.ensure(
            route,
            &positions,
            &format!(
                "sampling the frames (pass {} of at most {})",
                pass + 1,
                refine + 1
            ),
        )?;
        let steps = changes(route, renderer, sequence(&positions, route.closed))?;
        let shift = match &previous {
            Some((m, before)) if *m == intervals => Some(
                frames
                    .iter()
                    .zip(before)
                    .map(|(a, b)| (a.u - b.u).abs() * intervals[a.segment] as f64)
                    .fold(0.0, f64::max),
            ),
            _ => None,
        };
        passes.push(Pass {
            samples: samples.iter().map(Vec::len).sum(),
            unevenness: unevenness(&steps, &share_steps(&frames, route.closed)),
            max_shift: shift,
        });
        for f in &frames {
            let p = &mut samples[f.segment];
            if let Err(i) = p.binary_search_by(|x| x.total_cmp(&f.u)) {
                p.insert(i, f.u);
            }
        }
        let converged = shift.is_some_and(|s| s < TOLERANCE);
        if converged || pass == refine {
            return Ok(Placement {
                frames,
                passes,
                converged,
            });
        }
        previous = Some((intervals, frames));
        pass += 1;
    }
}

/// The positions in walking order, back to the first for a closed walk.
fn sequence(positions: &[Position], closed: bool) -> impl Iterator<Item = Position> + '_ {
    let wrap = positions.first().copied().filter(|_| closed);
    positions.iter().copied().chain(wrap)
}

/// The image change between consecutive positions (their frames are read one at a time).
pub fn changes(
    route: &Route,
    renderer: &mut Renderer<'_>,
    positions: impl Iterator<Item = Position>,
) -> Result<Vec<f64>, CliError> {
    let mut out = Vec::new();
    let mut last: Option<Features> = None;
    for p in positions {
        let f = Features::of(&renderer.image(route, p)?);
        if let Some(l) = &last {
            out.push(l.distance(&f));
        }
        last = Some(f);
    }
    Ok(out)
}
