//! The exact NAO geodesic between two seeds of any dimension.

use nao_prior::{norm, ChiPrior};

use crate::circle::CircleLeg;
use crate::error::GeodesicError;
use crate::frames::{Frames, Spacing};
use crate::plan::{FramePlan, Step};
use crate::planar::{PathKind, PlanarGeodesic};
use crate::plane::{angle_with_norms, Plane};
use crate::validate::{check_frames, check_pair, check_positions};
use crate::weight::Weight;

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
        let theta = angle_with_norms(a, b, ra, rb);
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
        self.clone().into_plan(n, spacing).to_frames()
    }

    /// The frames of [`frames`](Self::frames), made one at a time ([`FramePlan`]).
    ///
    /// # Panics
    /// If `n < 2`.
    pub fn into_plan(self, n: usize, spacing: Spacing) -> FramePlan {
        assert!(n >= 2, "a path needs at least 2 frames");
        let pts = self
            .planar
            .points(n, matches!(spacing, Spacing::NaoDistance));
        self.plan_through(&pts, |i| i == 0, |i| i == n - 1)
    }

    /// Frames at `positions` along the path, each in `[0, 1]`: the fraction of the Euclidean arc
    /// length or of the NAO cost (per `spacing`) travelled from `a`. Position 0 is `a` and 1 is
    /// `b`, exactly; [`Self::frames`] is the special case of `n` evenly spaced positions.
    ///
    /// ```
    /// use nao_geodesic::{Nao, Spacing};
    /// let (a, b) = (vec![3.0, 0.0, 0.0], vec![0.0, 3.5, 0.5]);
    /// let g = Nao::new(3)?.geodesic(&a, &b)?;
    /// let f = g.frames_at(&[0.0, 0.25, 1.0], Spacing::NaoDistance)?;
    /// assert_eq!((f.frame(0), f.frame(2)), (&a[..], &b[..]));
    /// # Ok::<(), nao_geodesic::GeodesicError>(())
    /// ```
    pub fn frames_at(&self, positions: &[f64], spacing: Spacing) -> Result<Frames, GeodesicError> {
        check_positions(positions)?;
        let pts = self
            .planar
            .points_at(positions, matches!(spacing, Spacing::NaoDistance));
        Ok(self
            .clone()
            .plan_through(&pts, |i| positions[i] == 0.0, |i| positions[i] == 1.0)
            .to_frames())
    }

    /// The plan through planar points, except that those where `at_a` (`at_b`) holds are `a`
    /// (`b`) exactly rather than rebuilt from the plane.
    fn plan_through(
        self,
        pts: &[[f64; 2]],
        at_a: impl Fn(usize) -> bool,
        at_b: impl Fn(usize) -> bool,
    ) -> FramePlan {
        let steps = pts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if at_a(i) {
                    Step::A
                } else if at_b(i) {
                    Step::B
                } else {
                    Step::Plane { x: p[0], y: p[1] }
                }
            })
            .collect();
        self.plane.into_plan(steps)
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
