//! Where the frames of a walk go: how many per segment, and where along each.
//!
//! The walk has `N` frame periods (`--frames`, or `--fps × --seconds`). Each keyframe is shown
//! for `1 + hold` of them; the other periods each get a frame of their own, so there are
//! `P = N − keyframes·hold` distinct frames. They split the route into intervals (`P − 1`, or
//! `P` when the walk loops back to its start), which are shared out among the segments in
//! proportion to their lengths (largest remainders, at least one each) so that the whole walk
//! moves at one pace. Within a segment of `m` intervals the frames sit at the eased fractions
//! `ease(j/m)` of its length, `j = 0 … m−1`; the frame at `j = 0` is the keyframe itself.

use crate::Ease;

/// One distinct frame of the walk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedFrame {
    /// The segment it lies on.
    pub segment: usize,
    /// Its eased share of the segment's length in the pacing measure, in `[0, 1]`.
    pub share: f64,
    /// Its position on the route: the fraction of the segment's length in the route's
    /// measure (equal to `share` unless pacing is perceptual).
    pub u: f64,
    /// The keyframe it shows, if it is one.
    pub keyframe: Option<usize>,
    /// Frame periods it stays on screen.
    pub ticks: u32,
}

/// How many frames a walk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Distinct frames.
    pub frames: usize,
    /// Intervals between them along the route.
    pub intervals: usize,
}

/// Count the frames of a walk of `periods` frame periods through `keyframes` keyframes over
/// `segments` segments, holding each keyframe `hold` extra periods; an error says what is too
/// small.
pub fn counts(
    periods: usize,
    keyframes: usize,
    segments: usize,
    closed: bool,
    hold: usize,
) -> Result<Counts, String> {
    let held = keyframes.saturating_mul(hold);
    let frames = periods.saturating_sub(held);
    let intervals = if closed {
        frames
    } else {
        frames.saturating_sub(1)
    };
    // an orbit (one segment, closed) needs two frames to move at all
    let needed = segments.max(if closed { 2 } else { 1 });
    if periods <= held || intervals < needed {
        let least = held
            .saturating_add(needed)
            .saturating_add(usize::from(!closed));
        return Err(format!(
            "{periods} frame(s) are too few for {keyframes} keyframe(s) over {segments} \
             segment(s){}: the walk needs at least {least}",
            if hold > 0 {
                format!(" held {hold} extra frame(s) each")
            } else {
                String::new()
            }
        ));
    }
    Ok(Counts { frames, intervals })
}

/// Share `total` intervals among segments in proportion to `weights` (largest remainders; at
/// least one each; equal shares when the weights are all zero or not finite). `total` must be
/// at least the number of segments.
pub fn allocate(weights: &[f64], total: usize) -> Vec<usize> {
    let n = weights.len();
    let usable = weights.iter().all(|w| w.is_finite() && *w >= 0.0);
    let sum: f64 = weights.iter().sum();
    let ideal: Vec<f64> = if usable && sum > 0.0 {
        weights.iter().map(|w| total as f64 * w / sum).collect()
    } else {
        vec![total as f64 / n.max(1) as f64; n]
    };
    let mut m: Vec<usize> = ideal.iter().map(|x| (x.floor() as usize).max(1)).collect();
    let mut assigned: usize = m.iter().sum();
    // the first index with the largest (or smallest) remainder, so ties are deterministic
    let pick = |m: &[usize], largest: bool| {
        (0..n)
            .filter(|&i| largest || m[i] > 1)
            .map(|i| (i, ideal[i] - m[i] as f64))
            .reduce(|best, c| {
                let better = if largest { c.1 > best.1 } else { c.1 < best.1 };
                if better {
                    c
                } else {
                    best
                }
            })
            .map(|(i, _)| i)
    };
    while assigned < total {
        let Some(i) = pick(&m, true) else { break };
        m[i] += 1;
        assigned += 1;
    }
    while assigned > total {
        let Some(i) = pick(&m, false) else { break };
        m[i] -= 1;
        assigned -= 1;
    }
    m
}

/// The frames of a walk: segment `s` gets `intervals[s]` frames at the eased shares of its
/// length, mapped to route positions by `position(s, share)`; an open walk ends on its last
/// keyframe. `keyframe_of(s)` is the keyframe segment `s` starts at, `last` the final one.
pub fn layout(
    intervals: &[usize],
    ease: Ease,
    hold: usize,
    closed: bool,
    keyframe_of: impl Fn(usize) -> usize,
    last: usize,
    mut position: impl FnMut(usize, f64) -> f64,
) -> Vec<PlannedFrame> {
    let held = u32::try_from(hold.saturating_add(1)).unwrap_or(u32::MAX);
    let mut frames = Vec::new();
    for (s, &m) in intervals.iter().enumerate() {
        for j in 0..m {
            let share = ease.at(j as f64 / m as f64);
            let keyframe = (j == 0).then(|| keyframe_of(s));
            frames.push(PlannedFrame {
                segment: s,
                share,
                u: if j == 0 { 0.0 } else { position(s, share) },
                keyframe,
                ticks: if keyframe.is_some() { held } else { 1 },
            });
        }
    }
    if !closed {
        if let Some(s) = intervals.len().checked_sub(1) {
            frames.push(PlannedFrame {
                segment: s,
                share: 1.0,
                u: 1.0,
                keyframe: Some(last),
                ticks: held,
            });
        }
    }
    frames
}

/// How evenly the image changes along a walk: the coefficient of variation (standard
/// deviation over mean) of the image distance between consecutive frames, each divided by
/// the share of its segment the easing gave that step (so an eased walk that follows its
/// curve exactly scores 0, as does an even linear one). `steps[i]` is the distance from frame
/// `i` to the next and `share_steps[i]` the matching eased share times the segment's interval
/// count.
pub fn unevenness(steps: &[f64], share_steps: &[f64]) -> f64 {
    let rates: Vec<f64> = steps
        .iter()
        .zip(share_steps)
        .filter(|(_, s)| **s > 1e-12)
        .map(|(d, s)| d / s)
        .collect();
    let n = rates.len() as f64;
    if rates.len() < 2 {
        return 0.0;
    }
    let mean = rates.iter().sum::<f64>() / n;
    if mean <= 0.0 {
        return 0.0;
    }
    let var = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    var.sqrt() / mean
}

/// For each step from a frame to the next (back to the first for a closed walk), the eased
/// share of its segment it covers times the segment's interval count: 1 everywhere for a
/// linear walk (see [`unevenness`]).
pub fn share_steps(frames: &[PlannedFrame], closed: bool) -> Vec<f64> {
    let segments = frames.iter().map(|f| f.segment + 1).max().unwrap_or(0);
    let mut intervals = vec![0usize; segments];
    for f in frames.iter().filter(|f| f.share < 1.0) {
        intervals[f.segment] += 1;
    }
    let mut out = Vec::with_capacity(frames.len());
    for (i, f) in frames.iter().enumerate() {
        let next = match frames.get(i + 1) {
            Some(n) => n,
            None if closed => &frames[0],
            None => break,
        };
        let end = if next.segment == f.segment && next.share > f.share {
            next.share
        } else {
            1.0
        };
        out.push((end - f.share) * intervals[f.segment] as f64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_leave_room_for_keyframes_and_holds() {
        assert_eq!(
            counts(10, 3, 2, false, 0),
            Ok(Counts {
                frames: 10,
                intervals: 9
            })
        );
        assert_eq!(
            counts(10, 3, 3, true, 2),
            Ok(Counts {
                frames: 4,
                intervals: 4
            })
        );
        let err = counts(5, 3, 3, true, 1).unwrap_err();
        assert!(err.contains("at least 6"), "{err}");
        assert!(counts(2, 3, 2, false, 0)
            .unwrap_err()
            .contains("at least 3"));
        assert!(counts(1, 1, 1, true, 0).is_err());
    }

    #[test]
    fn allocation_follows_the_weights_and_sums_up() {
        assert_eq!(allocate(&[1.0, 1.0, 2.0], 8), vec![2, 2, 4]);
        assert_eq!(allocate(&[1.0, 0.0], 5), vec![4, 1]);
        assert_eq!(allocate(&[0.0, 0.0, 0.0], 7), vec![3, 2, 2]);
        assert_eq!(allocate(&[100.0, 1.0, 1.0], 3), vec![1, 1, 1]);
        assert_eq!(allocate(&[f64::NAN, 1.0], 4), vec![2, 2]);
        for total in 3..40 {
            let m = allocate(&[0.3, 2.0, 0.01, 1.7], total.max(4));
            assert_eq!(m.iter().sum::<usize>(), total.max(4));
            assert!(m.iter().all(|&x| x >= 1));
        }
    }

    #[test]
    fn layout_places_keyframes_holds_and_eased_shares() {
        let f = layout(&[2, 3], Ease::Linear, 2, false, |s| s, 2, |_, share| share);
        assert_eq!(f.len(), 6);
        let keys: Vec<_> = f.iter().map(|p| p.keyframe).collect();
        assert_eq!(keys, [Some(0), None, Some(1), None, None, Some(2)]);
        let ticks: u32 = f.iter().map(|p| p.ticks).sum();
        assert_eq!(ticks, 6 + 3 * 2);
        assert_eq!(f[4].u, 2.0 / 3.0);
        let closed = layout(&[2, 2], Ease::InOut, 0, true, |s| s, 0, |_, share| share);
        assert_eq!(closed.len(), 4);
        assert_eq!(closed[1].share, 0.5);
    }

    #[test]
    fn share_steps_of_linear_walks_are_one() {
        for closed in [false, true] {
            let f = layout(&[2, 3], Ease::Linear, 0, closed, |s| s, 2, |_, share| share);
            let steps = share_steps(&f, closed);
            assert_eq!(steps.len(), 5, "closed {closed}");
            assert!(steps.iter().all(|s| (s - 1.0).abs() < 1e-12), "{steps:?}");
        }
        let f = layout(&[4], Ease::InOut, 0, false, |s| s, 1, |_, share| share);
        let steps = share_steps(&f, false);
        assert!((steps.iter().sum::<f64>() - 4.0).abs() < 1e-12 && steps[0] < steps[1]);
    }

    #[test]
    fn unevenness_is_zero_for_even_steps() {
        assert_eq!(unevenness(&[2.0, 2.0, 2.0], &[1.0, 1.0, 1.0]), 0.0);
        assert!(unevenness(&[1.0, 3.0], &[1.0, 1.0]) > 0.4);
        // an eased step twice as big where the ease asked for it is even
        assert_eq!(unevenness(&[1.0, 2.0], &[0.5, 1.0]), 0.0);
    }
}
