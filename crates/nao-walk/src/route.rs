//! The route of a walk: one path per pair of consecutive keyframes (and back to the first for
//! a loop), and the seed at any fraction of a segment's length.
//!
//! A position `u ∈ [0, 1]` on a segment is the fraction of its length in the route's measure
//! (a [`Spacing`]: Euclidean arc length or NAO cost). The exact NAO geodesic knows both
//! ([`nao_geodesic::Geodesic::frames_at`]); the baselines move at their own weight `t`, which
//! a [`LengthTable`] of [`LengthTable::PIECES`] chords maps to and from length. A single
//! keyframe with a loop is an [`Orbit`].

use nao_geodesic::{interpolate_at, Frames, Geodesic, LengthTable, Method, Nao, Spacing};
use nao_prior::{ChiPrior, GaussianSeeds, RngName};

use crate::{Result, WalkError};

/// The path of one segment.
#[derive(Debug)]
enum Path {
    /// The exact NAO geodesic, which places positions itself.
    Geodesic(Box<Geodesic>),
    /// A baseline, with its length at evenly spaced weights.
    Baseline { method: Method, table: LengthTable },
    /// A circle through a single keyframe.
    Orbit(Orbit),
}

/// One segment of the route.
#[derive(Debug)]
pub struct Segment {
    /// Index of the keyframe it starts at.
    pub from: usize,
    /// Index of the keyframe it ends at.
    pub to: usize,
    path: Path,
    length: f64,
}

/// The walk's segments, over its keyframe seeds.
///
/// ```
/// use nao_geodesic::{Method, Spacing};
/// use nao_walk::Route;
/// let a: Vec<f64> = (0..16).map(|i| (i as f64).sin() + 0.5).collect();
/// let b: Vec<f64> = (0..16).map(|i| (i as f64).cos() - 0.5).collect();
/// let route = Route::new(vec![a.clone(), b], Method::Slerp, Spacing::Euclidean, false, (0.3, 0))?;
/// assert_eq!(route.segments.len(), 1);
/// assert_eq!(route.seed(0, 0.0)?, a); // a position is a fraction of the segment's length
/// # Ok::<(), nao_walk::WalkError>(())
/// ```
#[derive(Debug)]
pub struct Route {
    keyframes: Vec<Vec<f64>>,
    /// The segments, in order.
    pub segments: Vec<Segment>,
    /// Whether the last segment returns to the first keyframe.
    pub closed: bool,
    measure: Spacing,
    prior: ChiPrior,
}

/// A circle through one keyframe `a` on the sphere of its norm: the points at angle `ρ` from
/// the centre `c = cos ρ·â + sin ρ·u`, starting and ending at `a`, in the 3-space of `â` and
/// two seeded random directions `u, v` orthogonal to it. The norm, hence the prior's density,
/// stays that of `a` all the way round, and the walk strays up to `2ρ` from `a`.
#[derive(Debug, Clone)]
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
    pub fn new(a: &[f64], rho: f64, seed: u64) -> Result<Self> {
        let d = a.len();
        if d < 3 {
            return Err(WalkError::input(format!(
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
    pub fn at(&self, t: f64) -> Vec<f64> {
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
    pub fn circumference(&self) -> f64 {
        2.0 * std::f64::consts::PI * self.radius * self.rho.sin()
    }
}

impl Route {
    /// The route through `keyframes` (at least two, or one with `closed`, which orbits it by
    /// `orbit = (ρ, seed)`) by `method`, measuring positions by `measure`.
    pub fn new(
        keyframes: Vec<Vec<f64>>,
        method: Method,
        measure: Spacing,
        closed: bool,
        orbit: (f64, u64),
    ) -> Result<Self> {
        let dim = keyframes.first().map_or(0, Vec::len);
        if let Some((i, k)) = keyframes.iter().enumerate().find(|(_, k)| k.len() != dim) {
            return Err(WalkError::input(format!(
                "keyframe {i} has {} elements, keyframe 0 has {dim}: the keyframes of a walk \
                 are seeds of one shape",
                k.len()
            )));
        }
        let prior = ChiPrior::new(dim)
            .map_err(|e| WalkError::input(format!("keyframes of {dim} elements: {e}")))?;
        let k = keyframes.len();
        let mut segments = Vec::new();
        if k == 1 && closed {
            let orbit = Orbit::new(&keyframes[0], orbit.0, orbit.1)?;
            let circumference = orbit.circumference();
            let length = match measure {
                Spacing::Euclidean => circumference,
                Spacing::NaoDistance => prior.neg_log_pdf(orbit.radius) * circumference,
            };
            segments.push(Segment {
                from: 0,
                to: 0,
                path: Path::Orbit(orbit),
                length,
            });
        } else {
            if k < 2 {
                return Err(WalkError::input(format!(
                    "{k} keyframe(s): a route needs at least two, or one that it orbits in a loop"
                )));
            }
            let pairs = if closed { k } else { k - 1 };
            for s in 0..pairs {
                let (from, to) = (s, (s + 1) % k);
                let (a, b) = (&keyframes[from], &keyframes[to]);
                let fail = |e: nao_geodesic::GeodesicError| {
                    WalkError::compute(
                        "the path between keyframes",
                        format!("keyframes {from} and {to}: {e}"),
                    )
                };
                let (path, length) = if method == Method::Nao {
                    let g = Nao::new(dim).map_err(fail)?.geodesic(a, b).map_err(fail)?;
                    let length = match measure {
                        Spacing::Euclidean => g.euclidean_length(),
                        Spacing::NaoDistance => g.distance(),
                    };
                    (Path::Geodesic(Box::new(g)), length)
                } else {
                    let table = LengthTable::new(method, a, b, measure, LengthTable::PIECES)
                        .map_err(fail)?;
                    let length = table.total();
                    (Path::Baseline { method, table }, length)
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

    /// Whether the route is one keyframe's orbit.
    pub fn is_orbit(&self) -> bool {
        matches!(self.segments.first().map(|s| &s.path), Some(Path::Orbit(_)))
    }

    /// A segment's length in the route's measure.
    pub fn length(&self, segment: usize) -> f64 {
        self.segments[segment].length
    }

    /// The seed at position `u ∈ [0, 1]` of `segment`.
    pub fn seed(&self, segment: usize, u: f64) -> Result<Vec<f64>> {
        let s = self.segments.get(segment).ok_or_else(|| {
            WalkError::input(format!(
                "segment {segment}: the route has {}",
                self.segments.len()
            ))
        })?;
        let (a, b) = (&self.keyframes[s.from], &self.keyframes[s.to]);
        let frames: Frames = match &s.path {
            Path::Geodesic(g) => g
                .frames_at(&[u], self.measure)
                .map_err(|e| WalkError::compute("a frame of the walk", e))?,
            Path::Baseline { method, table } => {
                let t = table.weight_at(u);
                interpolate_at(*method, a, b, &[t], Spacing::Euclidean)
                    .map_err(|e| WalkError::compute("a frame of the walk", e))?
            }
            Path::Orbit(o) => return Ok(o.at(u)),
        };
        Ok(frames.data)
    }
}

#[cfg(test)]
mod tests {
    use nao_geodesic::polyline_cost;

    use super::*;

    fn seeds(d: usize, phase: f64) -> Vec<f64> {
        (0..d)
            .map(|i| ((i as f64 * 0.37 + phase).sin() * 1.7) + 0.1 * phase)
            .collect()
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
            for measure in [Spacing::Euclidean, Spacing::NaoDistance] {
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
                        Spacing::Euclidean => nao_prior::norm(
                            &p.iter().zip(q).map(|(x, y)| x - y).collect::<Vec<_>>(),
                        ),
                        Spacing::NaoDistance => polyline_cost(route.prior(), &chord),
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
        let route = Route::new(ks, Method::Slerp, Spacing::Euclidean, true, (0.3, 0)).unwrap();
        let ends: Vec<_> = route.segments.iter().map(|s| (s.from, s.to)).collect();
        assert_eq!(ends, [(0, 1), (1, 2), (2, 0)]);
        assert!(!route.is_orbit());

        let a = seeds(32, 0.5);
        let route = Route::new(
            vec![a.clone()],
            Method::Nao,
            Spacing::NaoDistance,
            true,
            (0.25, 7),
        )
        .unwrap();
        assert!(route.is_orbit());
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
            Spacing::NaoDistance,
            true,
            (0.2, 0)
        )
        .is_err());
        assert!(Route::new(
            vec![seeds(8, 0.0), seeds(9, 1.0)],
            Method::Lerp,
            Spacing::Euclidean,
            false,
            (0.2, 0)
        )
        .is_err());
    }
}
