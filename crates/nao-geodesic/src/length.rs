//! How far along a path a weight is: a table of a path's cumulative length (Euclidean arc
//! length or NAO cost) at evenly spaced weights, to place points at fractions of its length.
//!
//! The baselines ([`Method::Lerp`], [`Method::Slerp`], …) move at their own weight `t`, which
//! is not proportional to their length (NLERP speeds up in the middle, LERP's cost is
//! concentrated where it dips inside the χ shell). A [`LengthTable`] sums chords at
//! `t = j/pieces` and inverts the sums, so that a position `u ∈ [0, 1]` can mean "fraction `u`
//! of the length". The exact NAO geodesic needs no table: [`Geodesic::frames_at`] places
//! positions by length itself.
//!
//! [`Geodesic::frames_at`]: crate::Geodesic::frames_at

use nao_prior::ChiPrior;

use crate::{interpolate_at, polyline_cost, Frames, GeodesicError, Method, Spacing};

/// The cumulative length of a path at the weights `j/pieces`, `j = 0..=pieces`.
///
/// ```
/// use nao_geodesic::{LengthTable, Method, Spacing};
/// let a = vec![3.0, 0.0, 0.0];
/// let b = vec![0.0, 3.0, 0.0];
/// // SLERP between two seeds of norm 3 at a right angle: a quarter circle, 3π/2 long
/// let table = LengthTable::new(Method::Slerp, &a, &b, Spacing::Euclidean, 256)?;
/// assert!((table.total() / (1.5 * std::f64::consts::PI) - 1.0).abs() < 1e-4);
/// // SLERP moves at constant speed: half the length is at half the weight
/// assert!((table.weight_at(0.5) - 0.5).abs() < 1e-12);
/// // NLERP does not: it is slower at the ends, so a tenth of its length takes more weight
/// let nlerp = LengthTable::new(Method::Nlerp, &a, &b, Spacing::Euclidean, 256)?;
/// assert!(nlerp.weight_at(0.1) > 0.1);
/// # Ok::<(), nao_geodesic::GeodesicError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LengthTable {
    cumulative: Vec<f64>,
}

impl LengthTable {
    /// Chords of the table the walks of `nao walk` use: the Euclidean length of a smooth path
    /// is then underestimated by well under 1e-4 relative.
    pub const PIECES: usize = 256;

    /// The table of the path of `method` from `a` to `b`, measured by `spacing` (Euclidean arc
    /// length, or NAO cost: each chord's exact [`polyline_cost`]), over `pieces ≥ 1` chords.
    /// The path is evaluated a few chords at a time, so memory stays that of a few seeds.
    pub fn new(
        method: Method,
        a: &[f64],
        b: &[f64],
        spacing: Spacing,
        pieces: usize,
    ) -> Result<Self, GeodesicError> {
        const CHUNK: usize = 16;
        if pieces == 0 {
            return Err(GeodesicError::InvalidConfig(
                "a length table needs at least one piece".into(),
            ));
        }
        let prior = match spacing {
            Spacing::Euclidean => None,
            Spacing::NaoDistance => Some(ChiPrior::new(a.len())?),
        };
        let mut cumulative = Vec::with_capacity(pieces + 1);
        cumulative.push(0.0);
        let mut last = a.to_vec();
        for start in (1..=pieces).step_by(CHUNK) {
            let ts: Vec<f64> = (start..(start + CHUNK).min(pieces + 1))
                .map(|j| j as f64 / pieces as f64)
                .collect();
            let frames = interpolate_at(method, a, b, &ts, Spacing::Euclidean)?;
            for next in frames.iter() {
                let piece = match &prior {
                    None => last
                        .iter()
                        .zip(next)
                        .map(|(x, y)| (x - y) * (x - y))
                        .sum::<f64>()
                        .sqrt(),
                    Some(prior) => {
                        let mut chord = Frames::new(a.len());
                        chord.push(&last);
                        chord.push(next);
                        polyline_cost(prior, &chord)
                    }
                };
                let total = cumulative.last().copied().unwrap_or(0.0) + piece;
                cumulative.push(total);
                last.copy_from_slice(next);
            }
        }
        Ok(Self { cumulative })
    }

    /// A table from cumulative lengths at evenly spaced weights (`cumulative[0]` at weight 0,
    /// the last at weight 1); `None` unless there are at least two values, the first is 0 and
    /// they never decrease.
    ///
    /// ```
    /// use nao_geodesic::LengthTable;
    /// let t = LengthTable::from_cumulative(vec![0.0, 1.0, 1.0, 3.0]).unwrap();
    /// assert_eq!(t.total(), 3.0);
    /// assert!(LengthTable::from_cumulative(vec![0.0, 2.0, 1.0]).is_none());
    /// ```
    pub fn from_cumulative(cumulative: Vec<f64>) -> Option<Self> {
        let ok = cumulative.len() >= 2
            && cumulative[0] == 0.0
            && cumulative.windows(2).all(|w| w[1] >= w[0]);
        ok.then_some(Self { cumulative })
    }

    /// The cumulative lengths, at weights `j/pieces`.
    pub fn cumulative(&self) -> &[f64] {
        &self.cumulative
    }

    /// The path's whole length.
    pub fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// The weight at which the path has covered fraction `u` of its length (linear between
    /// the table's weights); `u` itself (clamped to `[0, 1]`) when the path has no length.
    pub fn weight_at(&self, u: f64) -> f64 {
        let pieces = self.cumulative.len().saturating_sub(1);
        let total = self.total();
        if pieces == 0 || total.is_nan() || total <= 0.0 || u <= 0.0 || u >= 1.0 {
            return u.clamp(0.0, 1.0);
        }
        invert_cumulative(&self.cumulative, u * total) / pieces as f64
    }
}

/// Where a piecewise-linear non-decreasing function sampled at `0, 1, …, n` reaches `target`,
/// as a fractional index in `[0, n]` (flat stretches resolve to their start; targets past
/// either end to that end).
///
/// ```
/// use nao_geodesic::invert_cumulative;
/// let c = [0.0, 1.0, 1.0, 3.0];
/// assert_eq!(invert_cumulative(&c, 0.5), 0.5);
/// assert_eq!(invert_cumulative(&c, 1.0), 1.0); // the start of the flat stretch
/// assert_eq!(invert_cumulative(&c, 2.0), 2.5);
/// assert_eq!(invert_cumulative(&c, 9.0), 3.0);
/// ```
pub fn invert_cumulative(cumulative: &[f64], target: f64) -> f64 {
    let n = cumulative.len().saturating_sub(1);
    if n == 0 || target <= cumulative[0] {
        return 0.0;
    }
    // the first index whose value reaches the target
    let j = cumulative.partition_point(|&c| c < target).clamp(1, n);
    let (lo, hi) = (cumulative[j - 1], cumulative[j]);
    if hi <= lo {
        return j as f64;
    }
    (j - 1) as f64 + ((target - lo) / (hi - lo)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverting_a_cumulative_table() {
        let c = [0.0, 1.0, 1.0, 3.0];
        assert_eq!(invert_cumulative(&c, 0.0), 0.0);
        assert_eq!(invert_cumulative(&c, 0.5), 0.5);
        assert_eq!(invert_cumulative(&c, 1.0), 1.0);
        assert_eq!(invert_cumulative(&c, 2.0), 2.5);
        assert_eq!(invert_cumulative(&c, 9.0), 3.0);
        assert_eq!(invert_cumulative(&[], 1.0), 0.0);
    }

    #[test]
    fn lerp_tables_are_linear_and_cost_tables_match_the_functional() {
        let a: Vec<f64> = (0..32).map(|i| (i as f64 * 0.3).sin() * 2.0).collect();
        let b: Vec<f64> = (0..32).map(|i| (i as f64 * 0.7).cos() * 1.5).collect();
        let t = LengthTable::new(Method::Lerp, &a, &b, Spacing::Euclidean, 64).unwrap();
        let straight = nao_prior::norm(&a.iter().zip(&b).map(|(x, y)| x - y).collect::<Vec<_>>());
        assert!((t.total() / straight - 1.0).abs() < 1e-12);
        for u in [0.1, 0.25, 0.5, 0.9] {
            assert!((t.weight_at(u) - u).abs() < 1e-9, "{u}");
        }
        let cost = LengthTable::new(Method::Lerp, &a, &b, Spacing::NaoDistance, 8).unwrap();
        let prior = ChiPrior::new(32).unwrap();
        let whole = polyline_cost(&prior, &Frames::from_rows(&[a.clone(), b.clone()]).unwrap());
        assert!((cost.total() / whole - 1.0).abs() < 1e-9);
        assert!(LengthTable::new(Method::Lerp, &a, &b, Spacing::Euclidean, 0).is_err());
    }
}
