//! The route of a walk: one path per pair of consecutive keyframes (and back to the first with
//! `--loop`), and the seed at any fraction of a segment's length.
//!
//! A position `u ∈ [0, 1]` on a segment is the fraction of its length in the route's
//! [`Measure`]: Euclidean arc length or NAO cost. The exact NAO geodesic knows both
//! ([`nao_geodesic::Geodesic::frames_at`]); the baselines move at their own weight `t`, which
//! a table of [`TABLE_PIECES`] chords maps to and from length. A single keyframe with
//! `--loop` is an [`Orbit`].

use nao_geodesic::{interpolate_at, polyline_cost, Frames, Geodesic, Method, Nao, Spacing};
use nao_prior::{ChiPrior, GaussianSeeds, RngName};

use crate::error::CliError;

/// Chords of the table that maps a baseline's weight to its length: the Euclidean length of
/// a smooth path is then underestimated by well under 1e-4 relative.
pub const TABLE_PIECES: usize = 256;

/// Which length positions measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Euclidean arc length in seed space.
    Euclidean,
    /// NAO cost: arc length weighted by `−log χ(‖x‖)`.
    Nao,
}

impl Measure {
    fn spacing(self) -> Spacing {
        match self {
            Measure::Euclidean => Spacing::Euclidean,
            Measure::Nao => Spacing::NaoDistance,
        }
    }
}

/// The path of one segment.
enum Path {
    /// The exact NAO geodesic, which places positions itself.
    Geodesic(Box<Geodesic>),
    /// A baseline between keyframes `from` and `to`, with the cumulative length at weights
    /// `j/TABLE_PIECES`.
    Baseline {
        method: Method,
        cumulative: Vec<f64>,
    },
    /// A circle through a single keyframe.
    Orbit(Orbit),
}

/// One segment of the route.
pub struct Segment {
    /// Index of the keyframe it starts at.
    pub from: usize,
    /// Index of the keyframe it ends at.
    pub to: usize,
    path: Path,
    length: f64,
}

/// The walk's segments, over its keyframe seeds.
pub struct Route {
    keyframes: Vec<Vec<f64>>,
    /// The segments, in order.
    pub segments: Vec<Segment>,
    /// Whether the last segment returns to the first keyframe.
    pub closed: bool,
    measure: Measure,
    prior: ChiPrior,
}

/// A circle through one keyframe `a` on the sphere of its norm: the points at angle `ρ` from
/// the centre `c = cos ρ·â + sin ρ·u`, starting and ending at `a`, in the 3-space of `â` and
/// two seeded random directions `u, v` orthogonal to it. The norm, hence the prior's density,
/// stays that of `a` all the way round, and the walk strays up to `2ρ` from `a`.
pub struct Orbit {
    a: Vec<f64>,
    radius: f64,
    rho: f64,
    unit: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
}

impl Orbit {
    /// The orbit of angle `rho` through `a`, in directions drawn from `seed` (ChaCha20).
    pub fn new(a: &[f64], rho: f64, seed: u64) -> Result<Self, CliError> {
        let d = a.len();
        if d < 3 {
            return Err(CliError::input(format!(
                "an orbit needs seeds of at least 3 elements, these have {d}"
            )));
        }
        let radius = nao_prior::norm(a);
        let unit: Vec<f64> = a.iter().map(|x| x / radius).collect();
        let mut rng = GaussianSeeds::new(RngName::ChaCha20, seed);
        let mut basis = vec![unit.clone()];
        while basis.len() < 3 {
            // Gram–Schmidt against the vectors so far; a draw parallel to them (probability
            // zero in d ≥ 3) is simply drawn again.
            let mut w: Vec<f64> = rng.seed(d);
            for b in &basis {
                let p = nao_prior::dot(&w, b);
                w.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
            }
            let n = nao_prior::norm(&w);
            if n > 1e-6 * (d as f64).sqrt() {
                basis.push(w.into_iter().map(|x| x / n).collect());
            }
        }
        let v = basis.pop().unwrap_or_default();
        let u = basis.pop().unwrap_or_default();
        Ok(Self {
            a: a.to_vec(),
            radius,
            rho,
            unit,
            u,
            v,
        })
    }

    /// The seed at fraction `t` of the way round.
    fn at(&self, t: f64) -> Vec<f64> {
        if t == 0.0 || t == 1.0 {
            return self.a.clone();
        }
        let phi = 2.0 * std::f64::consts::PI * t;
        let (sr, cr) = self.rho.sin_cos();
        // p = cos ρ·c + sin ρ·(−cos φ·e1 + sin φ·v), with c = cos ρ·â + sin ρ·u and
        // e1 = −sin ρ·â + cos ρ·u, so that p(0) = â.
        let wa = cr * cr + sr * sr * phi.cos();
        let wu = cr * sr * (1.0 - phi.cos());
        let wv = sr * phi.sin();
        (0..self.unit.len())
            .map(|i| self.radius * (wa * self.unit[i] + wu * self.u[i] + wv * self.v[i]))
            .collect()
    }

    /// Euclidean circumference: a circle of radius `R·sin ρ`.
    fn circumference(&self) -> f64 {
        2.0 * std::f64::consts::PI * self.radius * self.rho.sin()
    }
}

impl Route {
    /// The route through `keyframes` (at least two, or one with `closed`, which orbits it by
    /// `orbit = (ρ, seed)`) by `method`, measuring positions by `measure`.
    pub fn new(
        keyframes: Vec<Vec<f64>>,
        method: Method,
        measure: Measure,
        closed: bool,
        orbit: (f64, u64),
    ) -> Result<Self, CliError> {
        let dim = keyframes.first().map_or(0, Vec::len);
        let prior = ChiPrior::new(dim)
            .map_err(|e| CliError::input(format!("keyframes of {dim} elements: {e}")))?;
        let k = keyframes.len();
        let mut segments = Vec::new();
        if k == 1 && closed {
            let orbit = Orbit::new(&keyframes[0], orbit.0, orbit.1)?;
            let circumference = orbit.circumference();
            let length = match measure {
                Measure::Euclidean => circumference,
                Measure::Nao => prior.neg_log_pdf(orbit.radius) * circumference,
            };
            segments.push(Segment {
                from: 0,
                to: 0,
                path: Path::Orbit(orbit),
                length,
            });
        } else {
            let pairs = if closed { k } else { k.saturating_sub(1) };
            for s in 0..pairs {
                let (from, to) = (s, (s + 1) % k);
                let (a, b) = (&keyframes[from], &keyframes[to]);
                let fail = |e: nao_geodesic::GeodesicError| {
                    CliError::compute(
                        "the path between keyframes",
                        format!("keyframes {from} and {to}: {e}"),
                    )
                };
                let (path, length) = if method == Method::Nao {
                    let g = Nao::new(dim).map_err(fail)?.geodesic(a, b).map_err(fail)?;
                    let length = match measure {
                        Measure::Euclidean => g.euclidean_length(),
                        Measure::Nao => g.distance(),
                    };
                    (Path::Geodesic(Box::new(g)), length)
                } else {
                    let cumulative = baseline_table(method, a, b, measure, &prior).map_err(fail)?;
                    let length = cumulative.last().copied().unwrap_or(0.0);
                    (Path::Baseline { method, cumulative }, length)
                };
                segments.push(Segment {
                    from,
                    to,
                    path,
                    length,
                });
            }
        }
        Ok(Self {
            keyframes,
            segments,
            closed,
            measure,
            prior,
        })
    }

    /// The χ prior of the seeds' dimension.
    pub fn prior(&self) -> &ChiPrior {
        &self.prior
    }

    /// The keyframe seeds.
    pub fn keyframes(&self) -> &[Vec<f64>] {
        &self.keyframes
    }

    /// A segment's length in the route's measure.
    pub fn length(&self, segment: usize) -> f64 {
        self.segments[segment].length
    }

    /// The seed at position `u ∈ [0, 1]` of `segment`.
    pub fn seed(&self, segment: usize, u: f64) -> Result<Vec<f64>, CliError> {
        let s = &self.segments[segment];
        let (a, b) = (&self.keyframes[s.from], &self.keyframes[s.to]);
        let frames: Frames = match &s.path {
            Path::Geodesic(g) => g
                .frames_at(&[u], self.measure.spacing())
                .map_err(|e| CliError::compute("a frame of the walk", e))?,
            Path::Baseline { method, cumulative } => {
                let t = weight_at(cumulative, u);
                interpolate_at(*method, a, b, &[t], Spacing::Euclidean)
                    .map_err(|e| CliError::compute("a frame of the walk", e))?
            }
            Path::Orbit(o) => return Ok(o.at(u)),
        };
        Ok(frames.data)
    }
}

/// The cumulative length of a baseline at weights `j/TABLE_PIECES`, `j = 0..=TABLE_PIECES`,
/// summing chords (NAO cost: each chord's exact cost), a few chords at a time so that memory
/// stays that of a few seeds.
fn baseline_table(
    method: Method,
    a: &[f64],
    b: &[f64],
    measure: Measure,
    prior: &ChiPrior,
) -> Result<Vec<f64>, nao_geodesic::GeodesicError> {
    const CHUNK: usize = 16;
    let mut cumulative = vec![0.0];
    let mut last = a.to_vec();
    for start in (1..=TABLE_PIECES).step_by(CHUNK) {
        let ts: Vec<f64> = (start..(start + CHUNK).min(TABLE_PIECES + 1))
            .map(|j| j as f64 / TABLE_PIECES as f64)
            .collect();
        let frames = interpolate_at(method, a, b, &ts, Spacing::Euclidean)?;
        for next in frames.iter() {
            let piece = match measure {
                Measure::Euclidean => last
                    .iter()
                    .zip(next)
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum::<f64>()
                    .sqrt(),
                Measure::Nao => {
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
    Ok(cumulative)
}

/// The weight at which a baseline has covered fraction `u` of its length (linear between the
/// table's weights); `u` itself when the path has no length.
fn weight_at(cumulative: &[f64], u: f64) -> f64 {
    let pieces = cumulative.len().saturating_sub(1);
    let total = cumulative.last().copied().unwrap_or(0.0);
    if pieces == 0 || total.is_nan() || total <= 0.0 || u <= 0.0 || u >= 1.0 {
        return u.clamp(0.0, 1.0);
    }
    invert_cumulative(cumulative, u * total) / pieces as f64
}

/// Where a piecewise-linear increasing function sampled at `0, 1, …, n` reaches `target`, as
/// a fractional index in `[0, n]` (flat stretches resolve to their start).
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

    fn seeds(d: usize, phase: f64) -> Vec<f64> {
        (0..d)
            .map(|i| ((i as f64 * 0.37 + phase).sin() * 1.7) + 0.1 * phase)
            .collect()
    }

    #[test]
    fn inverting_a_cumulative_table() {
        let c = [0.0, 1.0, 1.0, 3.0];
        assert_eq!(invert_cumulative(&c, 0.0), 0.0);
        assert_eq!(invert_cumulative(&c, 0.5), 0.5);
        assert_eq!(invert_cumulative(&c, 1.0), 1.0);
        assert_eq!(invert_cumulative(&c, 2.0), 2.5);
        assert_eq!(invert_cumulative(&c, 9.0), 3.0);
    }

    #[test]
    fn positions_are_fractions_of_length_for_every_method() {
        let (a, b) = (seeds(64, 0.0), seeds(64, 2.0));
        for method in [
            Method::Nao,
            Method::Slerp,
            Method::Lerp,
            Method::Nlerp,
            Method::Gaussian,
        ] {
            for measure in [Measure::Euclidean, Measure::Nao] {
                let route =
                    Route::new(vec![a.clone(), b.clone()], method, measure, false, (0.3, 0))
                        .unwrap();
                assert_eq!(route.segments.len(), 1);
                assert_eq!(route.seed(0, 0.0).unwrap(), a);
                let end = route.seed(0, 1.0).unwrap();
                assert!(end.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
                // ten equal steps of position are ten equal steps of length (each measured
                // along 16 chords, since the path curves)
                let pts: Vec<Vec<f64>> = (0..=160)
                    .map(|i| route.seed(0, i as f64 / 160.0).unwrap())
                    .collect();
                let chord = |p: &[f64], q: &[f64]| {
                    let mut chord = Frames::new(p.len());
                    chord.push(p);
                    chord.push(q);
                    match measure {
                        Measure::Euclidean => nao_prior::norm(
                            &p.iter().zip(q).map(|(x, y)| x - y).collect::<Vec<_>>(),
                        ),
                        Measure::Nao => polyline_cost(route.prior(), &chord),
                    }
                };
                let chords: Vec<f64> = pts.windows(2).map(|w| chord(&w[0], &w[1])).collect();
                let steps: Vec<f64> = chords.chunks(16).map(|c| c.iter().sum()).collect();
                let mean = steps.iter().sum::<f64>() / 10.0;
                for s in &steps {
                    assert!(
                        (s / mean - 1.0).abs() < 2e-3,
                        "{method} {measure:?}: steps {steps:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn loops_close_and_orbits_keep_the_norm() {
        let ks = vec![seeds(32, 0.0), seeds(32, 1.0), seeds(32, 2.0)];
        let route = Route::new(ks, Method::Slerp, Measure::Euclidean, true, (0.3, 0)).unwrap();
        let ends: Vec<_> = route.segments.iter().map(|s| (s.from, s.to)).collect();
        assert_eq!(ends, [(0, 1), (1, 2), (2, 0)]);

        let a = seeds(32, 0.5);
        let route =
            Route::new(vec![a.clone()], Method::Nao, Measure::Nao, true, (0.25, 7)).unwrap();
        let r = nao_prior::norm(&a);
        assert_eq!(route.seed(0, 0.0).unwrap(), a);
        let mut widest: f64 = 0.0;
        for i in 1..20 {
            let p = route.seed(0, i as f64 / 20.0).unwrap();
            assert!((nao_prior::norm(&p) / r - 1.0).abs() < 1e-12);
            widest = widest.max(nao_geodesic::angle(&a, &p));
        }
        // the far side of the circle is 2ρ away
        assert!((widest - 0.5).abs() < 0.01, "{widest}");
        assert!(Route::new(
            vec![vec![1.0, 2.0]],
            Method::Nao,
            Measure::Nao,
            true,
            (0.2, 0)
        )
        .is_err());
    }
}
