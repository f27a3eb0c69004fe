//! The exact NAO geodesic between two seeds of any dimension.

use nao_prior::{dot, norm, ChiPrior};

use crate::circle::CircleLeg;
use crate::planar::{PathKind, PlanarGeodesic};
use crate::validate::{check_frames, check_pair};
use crate::weight::Weight;
use crate::{Frames, GeodesicError, Spacing};

/// The plane through the origin spanned by two seeds, with an orthonormal basis `(u1, u2)`:
/// `u1 = a/‖a‖` and `u2` the unit direction of `b`'s component orthogonal to `a`.
#[derive(Debug, Clone)]
pub(crate) struct Plane {
    pub ra: f64,
    pub rb: f64,
    pub theta: f64,
    u1: Vec<f64>,
    u2: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl Plane {
    /// Build the plane of two non-zero seeds (O(d)).
    pub fn new(a: &[f64], b: &[f64]) -> Self {
        let ra = norm(a);
        let rb = norm(b);
        let theta = crate::baseline::angle_with_norms(a, b, ra, rb);
        let u1: Vec<f64> = a.iter().map(|x| x / ra).collect();
        let proj = dot(b, &u1);
        let mut u2: Vec<f64> = b.iter().zip(&u1).map(|(y, u)| y - proj * u).collect();
        let mut n2 = norm(&u2);
        // (also true when n2 is NaN)
        if n2.partial_cmp(&(1e-12 * rb)) != Some(std::cmp::Ordering::Greater) {
            // Parallel or antipodal seeds: the plane is not unique. Any perpendicular direction
            // gives an optimal path; take the coordinate axis least aligned with a.
            let j = u1
                .iter()
                .enumerate()
                .min_by(|x, y| x.1.abs().total_cmp(&y.1.abs()))
                .map(|(j, _)| j)
                .unwrap_or(0);
            u2.iter_mut().for_each(|v| *v = 0.0);
            if u1.len() > 1 {
                u2[j] = 1.0;
                let p = u1[j];
                u2.iter_mut().zip(&u1).for_each(|(v, u)| *v -= p * u);
            }
            n2 = norm(&u2);
        }
        if n2 > 0.0 {
            u2.iter_mut().for_each(|v| *v /= n2);
        }
        Self {
            ra,
            rb,
            theta,
            u1,
            u2,
            a: a.to_vec(),
            b: b.to_vec(),
        }
    }

    /// Append the seed at plane coordinates `(x, y)`.
    pub fn emit(&self, out: &mut Frames, x: f64, y: f64) {
        out.data
            .extend(self.u1.iter().zip(&self.u2).map(|(p, q)| x * p + y * q));
    }

    /// The d-dimensional vector `x·u1 + y·u2`.
    pub fn vector(&self, x: f64, y: f64) -> Vec<f64> {
        self.u1
            .iter()
            .zip(&self.u2)
            .map(|(p, q)| x * p + y * q)
            .collect()
    }
}

/// The NAO geodesic solver for seeds of one dimension `d`.
///
/// The metric is conformal, `f(‖x‖)·|dx|` with `f = −log χ_d > 0`; its geodesics minimise the
/// likelihood-weighted length `∫ −log χ(‖γ‖) ‖γ′‖ dt`. The solver reduces the problem to the plane
/// of the endpoints and solves it there exactly (see the crate docs); the cost does not depend on
/// `d` beyond the `O(d)` work to form the plane and write frames.
///
/// ```
/// use nao_geodesic::{Nao, Spacing};
/// use nao_prior::{GaussianSeeds, RngName, norm};
/// let d = 16384;
/// let mut rng = GaussianSeeds::new(RngName::ChaCha20, 1);
/// let a: Vec<f64> = rng.seed(d);
/// let b: Vec<f64> = rng.seed(d);
/// let nao = Nao::new(d).unwrap();
/// let g = nao.geodesic(&a, &b).unwrap();
/// let frames = g.frames(9, Spacing::Euclidean);
/// // The middle frame stays on the χ shell, where the LERP midpoint (norm ≈ 90) does not.
/// assert!((norm(frames.frame(4)) - 128.0).abs() < 1.0);
/// assert!(g.distance() < 130.0);
/// ```
#[derive(Debug, Clone)]
pub struct Nao {
    prior: ChiPrior,
    weight: Weight,
}

impl Nao {
    /// A solver for seeds of `dim` elements.
    pub fn new(dim: usize) -> Result<Self, GeodesicError> {
        let prior = ChiPrior::new(dim)?;
        Ok(Self {
            weight: Weight::new(&prior),
            prior,
        })
    }

    /// The seed dimension `d`.
    pub fn dim(&self) -> usize {
        self.prior.dim()
    }

    /// The χ prior whose negative log-density weighs the metric.
    pub fn prior(&self) -> &ChiPrior {
        &self.prior
    }

    /// The circular geodesic radius `r_gmin` (just below the χ mode), when `g = r·f(r)` has a
    /// local minimum (every `d ≥ 4` or so).
    pub fn circle_radius(&self) -> Option<f64> {
        self.weight.r_gmin
    }

    /// The leg from radius `r` to the circular geodesic, for closed-form distances in the
    /// circle regime (see [`CircleLeg`]); `None` when there is no such leg.
    pub fn circle_leg(&self, r: f64) -> Option<CircleLeg> {
        CircleLeg::new(&self.weight, r)
    }

    /// Solve the planar problem for endpoint norms `ra, rb > 0` at angle `theta ∈ [0, π]`.
    ///
    /// Seeds enter only through these three numbers, which is what makes centroid
    /// optimisation cheap: `‖c‖`, `‖x‖` and `c·x` are all it needs.
    pub fn solve_planar(
        &self,
        ra: f64,
        rb: f64,
        theta: f64,
    ) -> Result<PlanarGeodesic, GeodesicError> {
        for (name, r) in [("‖a‖", ra), ("‖b‖", rb)] {
            if !(r > 0.0 && r.is_finite()) {
                return Err(GeodesicError::InvalidConfig(format!(
                    "endpoint norm {name} = {r} must be positive and finite"
                )));
            }
        }
        if !(0.0..=std::f64::consts::PI).contains(&theta) {
            return Err(GeodesicError::InvalidConfig(format!(
                "angle θ = {theta} must lie in [0, π]"
            )));
        }
        Ok(PlanarGeodesic::solve(&self.weight, ra, rb, theta))
    }

    fn check(&self, a: &[f64], b: &[f64]) -> Result<(), GeodesicError> {
        check_pair(a, b, true)?;
        if a.len() != self.dim() {
            return Err(GeodesicError::DimensionMismatch {
                a: a.len(),
                b: self.dim(),
            });
        }
        Ok(())
    }

    /// The NAO distance `d_NAO(a, b)`: the cost of the geodesic.
    pub fn distance(&self, a: &[f64], b: &[f64]) -> Result<f64, GeodesicError> {
        self.check(a, b)?;
        let (ra, rb) = (norm(a), norm(b));
        let theta = crate::baseline::angle_with_norms(a, b, ra, rb);
        Ok(self.solve_planar(ra, rb, theta)?.distance())
    }

    /// The geodesic from `a` to `b`.
    pub fn geodesic(&self, a: &[f64], b: &[f64]) -> Result<Geodesic, GeodesicError> {
        self.check(a, b)?;
        let plane = Plane::new(a, b);
        let planar = self.solve_planar(plane.ra, plane.rb, plane.theta)?;
        Ok(Geodesic {
            plane,
            planar,
            weight: self.weight,
        })
    }

    /// `n` frames of the geodesic from `a` to `b`, endpoints included.
    pub fn path(
        &self,
        a: &[f64],
        b: &[f64],
        n: usize,
        spacing: Spacing,
    ) -> Result<Frames, GeodesicError> {
        check_frames(n)?;
        Ok(self.geodesic(a, b)?.frames(n, spacing))
    }
}

/// A solved geodesic between two seeds.
#[derive(Debug, Clone)]
pub struct Geodesic {
    plane: Plane,
    planar: PlanarGeodesic,
    weight: Weight,
}

impl Geodesic {
    /// `d_NAO(a, b)`.
    pub fn distance(&self) -> f64 {
        self.planar.distance()
    }

    /// Euclidean length of the path.
    pub fn euclidean_length(&self) -> f64 {
        self.planar.euclidean_length()
    }

    /// Clairaut's constant of the path, equal to `∂d_NAO/∂θ`.
    pub fn clairaut(&self) -> f64 {
        self.planar.clairaut()
    }

    /// The shape of the solution.
    pub fn kind(&self) -> PathKind {
        self.planar.kind()
    }

    /// The planar solution.
    pub fn planar(&self) -> &PlanarGeodesic {
        &self.planar
    }

    /// `n ≥ 2` frames from `a` to `b`, spaced uniformly in Euclidean arc length or in NAO cost.
    /// The first and last frames are `a` and `b` exactly.
    ///
    /// # Panics
    /// If `n < 2` (use [`Nao::path`] for a checked call).
    pub fn frames(&self, n: usize, spacing: Spacing) -> Frames {
        assert!(n >= 2, "a path needs at least 2 frames");
        let pts = self
            .planar
            .points(n, matches!(spacing, Spacing::NaoDistance));
        let d = self.plane.u1.len();
        let mut out = Frames {
            dim: d,
            data: Vec::with_capacity(n * d),
        };
        for (i, p) in pts.iter().enumerate() {
            if i == 0 {
                out.push(&self.plane.a);
            } else if i == n - 1 {
                out.push(&self.plane.b);
            } else {
                self.plane.emit(&mut out, p[0], p[1]);
            }
        }
        out
    }

    /// Unit tangent of the path at `a`, pointing along the path.
    pub fn start_tangent(&self) -> Vec<f64> {
        let (tr, ta) = self.planar.start_tangent();
        self.plane.vector(tr, ta)
    }

    /// Gradient of `d_NAO(a, b)` with respect to `a`: `−f(‖a‖)` times the unit tangent at `a`.
    pub fn gradient_wrt_start(&self) -> Vec<f64> {
        let f = self.weight.f(self.plane.ra);
        let (tr, ta) = self.planar.start_tangent();
        self.plane.vector(-f * tr, -f * ta)
    }
}
