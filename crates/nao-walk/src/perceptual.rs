//! Perceptual pacing: frames placed so that consecutive *images* change by equal amounts.
//!
//! The image change along a segment is unknown until frames are made, so it is estimated and
//! refined:
//!
//! 1. Make each segment's frames at `COARSE + 1` evenly spaced positions (by the route's
//!    measure).
//! 2. Along each segment, sum the image distance ([`Thumbnail::distance`]) between consecutive
//!    positions made so far: a piecewise-linear estimate `D_s(u)` of the image change covered
//!    by position `u`, and its total `D_s(1)`.
//! 3. Share the frames among the segments in proportion to `D_s(1)` and place segment `s`'s
//!    frames where `D_s` reaches the eased shares of its total (inverting the estimate).
//! 4. Make those frames. They refine the estimate (more positions, closer together), so go
//!    back to 2 — until no frame moves by more than [`TOLERANCE`] of a frame interval, or
//!    after `refine` re-placements. The frames of the last placement are the walk's.
//!
//! Every pass asks the [`FrameSource`] to [`prefetch`](FrameSource::prefetch) its positions,
//! so a caching source makes only those it does not hold: the cost is the coarse frames plus
//! at most `(1 + refine)` times the frame count, less as placements settle.

use nao_geodesic::invert_cumulative;
use serde::Serialize;

use crate::change::Thumbnail;
use crate::pacing::{allocate, layout, share_steps, unevenness, Counts, PlannedFrame};
use crate::progress::Progress;
use crate::{Ease, FrameSource, Result, Route};

/// Intervals of the first, coarse sampling of each segment.
pub const COARSE: usize = 8;

/// Placements closer than this fraction of a frame interval to the previous one have
/// converged.
pub const TOLERANCE: f64 = 0.05;

/// A position on the route: a segment and a fraction of its length.
pub type Position = (usize, f64);

/// One placement of the frames, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone)]
pub struct Placement {
    /// The walk's frames.
    pub frames: Vec<PlannedFrame>,
    /// One entry per placement.
    pub passes: Vec<Pass>,
    /// Whether the last placement moved less than [`TOLERANCE`].
    pub converged: bool,
}

/// Place the frames of `route` perceptually (see the module docs): `counts` frames, eased by
/// `ease` within each segment, keyframes held `hold` extra periods, at most `refine`
/// re-placements after the first.
pub fn place<S: FrameSource + ?Sized>(
    route: &Route,
    source: &mut S,
    counts: Counts,
    ease: Ease,
    hold: usize,
    refine: usize,
    progress: &mut Progress<'_>,
) -> Result<Placement> {
    let n = route.segments.len();
    let mut samples: Vec<Vec<f64>> =
        vec![(0..=COARSE).map(|j| j as f64 / COARSE as f64).collect(); n];
    let coarse: Vec<Position> = (0..n)
        .flat_map(|s| samples[s].iter().map(move |&u| (s, u)))
        .collect();
    prefetch(
        route,
        source,
        &coarse,
        "sampling the coarse frames",
        progress,
    )?;
    let mut passes = Vec::new();
    let mut previous: Option<(Vec<usize>, Vec<PlannedFrame>)> = None;
    let mut pass = 0;
    loop {
        // the estimate of the image change along each segment
        let mut tables = Vec::with_capacity(n);
        for (s, positions) in samples.iter().enumerate() {
            let steps = changes(route, source, positions.iter().map(|&u| (s, u)), progress)?;
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
        prefetch(
            route,
            source,
            &positions,
            &format!(
                "sampling the frames (pass {} of at most {})",
                pass + 1,
                refine + 1
            ),
            progress,
        )?;
        let steps = changes(route, source, sequence(&positions, route.closed), progress)?;
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

/// Ask the source to make the frames at `positions` ready.
pub(crate) fn prefetch<S: FrameSource + ?Sized>(
    route: &Route,
    source: &mut S,
    positions: &[Position],
    what: &str,
    progress: &mut Progress<'_>,
) -> Result<()> {
    let seeds = positions
        .iter()
        .map(|&(s, u)| route.seed(s, u))
        .collect::<Result<Vec<_>>>()?;
    source.prefetch(&seeds, what, progress)
}

/// The positions in walking order, back to the first for a closed walk.
fn sequence(positions: &[Position], closed: bool) -> impl Iterator<Item = Position> + '_ {
    let wrap = positions.first().copied().filter(|_| closed);
    positions.iter().copied().chain(wrap)
}

/// The image change between consecutive positions (their frames are read one at a time).
fn changes<S: FrameSource + ?Sized>(
    route: &Route,
    source: &mut S,
    positions: impl Iterator<Item = Position>,
    progress: &mut Progress<'_>,
) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    let mut last: Option<Thumbnail> = None;
    for (s, u) in positions {
        let f = Thumbnail::of(&source.frame(&route.seed(s, u)?, progress)?);
        if let Some(l) = &last {
            out.push(l.distance(&f));
        }
        last = Some(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use image::{DynamicImage, GrayImage, Luma};
    use nao_geodesic::{Method, Spacing};

    use super::*;
    use crate::pacing::counts;
    use crate::quiet;

    /// A flat frame whose brightness is a steep, uneven function of the seed's first element
    /// (a sigmoid), counting the frames it makes.
    struct Sigmoid {
        made: usize,
    }

    impl FrameSource for Sigmoid {
        fn frame(&mut self, seed: &[f64], _: &mut Progress<'_>) -> Result<DynamicImage> {
            self.made += 1;
            // brightness in [0, 1], changing fast near x = 0.3 and hardly at the ends
            let b = 1.0 / (1.0 + (-(seed[0] - 0.3) * 12.0).exp());
            // dithered over 16 levels per pixel so that the measure sees sub-level changes
            let img = GrayImage::from_fn(16, 16, |x, y| {
                let t = f64::from(y * 16 + x) / 256.0;
                Luma([(b * 254.0 + t).floor() as u8])
            });
            Ok(DynamicImage::ImageLuma8(img))
        }
    }

    fn brightness(img: &DynamicImage) -> f64 {
        let g = img.to_luma8();
        g.pixels().map(|p| f64::from(p[0])).sum::<f64>() / g.len() as f64
    }

    #[test]
    fn placement_converges_to_even_image_change() {
        // a straight line in seed space along which the image changes mostly in one place
        let a = vec![-1.0, 0.5, 0.5, 0.5];
        let b = vec![1.5, 0.5, 0.5, 0.5];
        let route = Route::new(
            vec![a, b],
            Method::Lerp,
            Spacing::Euclidean,
            false,
            (0.3, 0),
        )
        .unwrap();
        let c = counts(17, 2, 1, false, 0).unwrap();
        let mut source = Sigmoid { made: 0 };
        let p = place(&route, &mut source, c, Ease::Linear, 0, 6, &mut quiet).unwrap();
        assert_eq!(p.frames.len(), 17);
        assert!(p.converged, "{:?}", p.passes);
        let first = p.passes[0].unevenness;
        let last = p.passes.last().unwrap().unevenness;
        assert!(last < 0.05, "passes {:?}", p.passes);
        assert!(last < first / 4.0, "passes {:?}", p.passes);

        // the frames, made again, change by equal amounts
        let levels: Vec<f64> = p
            .frames
            .iter()
            .map(|f| {
                let seed = route.seed(f.segment, f.u).unwrap();
                brightness(&source.frame(&seed, &mut quiet).unwrap())
            })
            .collect();
        let steps: Vec<f64> = levels.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        let mean = steps.iter().sum::<f64>() / steps.len() as f64;
        assert!(
            steps.iter().all(|s| (s / mean - 1.0).abs() < 0.15),
            "steps {steps:?}"
        );
        // Euclidean spacing of the same route is far from even
        let even: Vec<f64> = (0..17)
            .map(|i| {
                let seed = route.seed(0, i as f64 / 16.0).unwrap();
                brightness(&source.frame(&seed, &mut quiet).unwrap())
            })
            .collect();
        let steps: Vec<f64> = even.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        let (lo, hi) = steps
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &s| (a.min(s), b.max(s)));
        assert!(hi > 5.0 * lo, "{steps:?}");
    }

    #[test]
    fn placement_shares_frames_by_image_change_and_eases() {
        // two segments, the second with three times the image change of the first
        let route = Route::new(
            vec![
                vec![-2.0, 1.0, 1.0],
                vec![0.0, 1.0, 1.0],
                vec![1.0, 1.0, 1.0],
            ],
            Method::Lerp,
            Spacing::Euclidean,
            false,
            (0.3, 0),
        )
        .unwrap();
        struct Linear;
        impl FrameSource for Linear {
            fn frame(&mut self, seed: &[f64], _: &mut Progress<'_>) -> Result<DynamicImage> {
                // brightness 10 per unit left of 0, 60 per unit right of it
                let v = if seed[0] < 0.0 {
                    100.0 + 10.0 * seed[0]
                } else {
                    100.0 + 60.0 * seed[0]
                };
                Ok(DynamicImage::ImageLuma8(GrayImage::from_pixel(
                    4,
                    4,
                    Luma([v.round() as u8]),
                )))
            }
        }
        let c = counts(17, 3, 2, false, 0).unwrap();
        let p = place(&route, &mut Linear, c, Ease::InOut, 1, 2, &mut quiet).unwrap();
        let per: Vec<usize> = (0..2)
            .map(|s| p.frames.iter().filter(|f| f.segment == s).count())
            .collect();
        // 16 intervals in proportion 20 : 60, the last keyframe on the second segment
        assert_eq!(per, [4, 13]);
        assert_eq!(p.frames[0].keyframe, Some(0));
        assert_eq!(p.frames[0].ticks, 2);
        assert!(p.frames[1].share < 0.25, "eased: {:?}", p.frames[1]);
    }
}
