//! The plane of two seeds and the angle between them: the leaf both the baselines and the
//! exact geodesic build on.

use nao_prior::{dot, norm};

use crate::plan::{FramePlan, Step};

/// Angle between two non-zero seeds in `[0, π]`, computed with `atan2` (accurate at 0 and π).
pub fn angle(a: &[f64], b: &[f64]) -> f64 {
    angle_with_norms(a, b, norm(a), norm(b))
}

/// [`angle`] for seeds whose norms `na`, `nb` are already known.
pub fn angle_with_norms(a: &[f64], b: &[f64], na: f64, nb: f64) -> f64 {
    // ‖a/na − b/nb‖ and ‖a/na + b/nb‖ give an angle formula without cancellation.
    let mut diff = 0.0;
    let mut sum = 0.0;
    for (x, y) in a.iter().zip(b) {
        let (u, v) = (x / na, y / nb);
        diff += (u - v) * (u - v);
        sum += (u + v) * (u + v);
    }
    2.0 * diff.sqrt().atan2(sum.sqrt())
}

/// The plane through the origin spanned by two seeds, with an orthonormal basis `(u1, u2)`:
/// `u1 = a/‖a‖` and `u2` the unit direction of `b`'s component orthogonal to `a`.
#[derive(Debug, Clone)]
pub(crate) struct Plane {
    pub ra: f64,
    pub rb: f64,
    pub theta: f64,
    /// `a/‖a‖`.
    pub u1: Vec<f64>,
    /// The unit direction of `b`'s component orthogonal to `a`.
    pub u2: Vec<f64>,
    /// The seeds themselves (frames start and end on them exactly).
    pub a: Vec<f64>,
    pub b: Vec<f64>,
}

impl Plane {
    /// Build the plane of two non-zero seeds (O(d)).
    pub fn new(a: &[f64], b: &[f64]) -> Self {
        let ra = norm(a);
        let rb = norm(b);
        let theta = angle_with_norms(a, b, ra, rb);
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

    /// A plan of `steps` over this plane's seeds and basis.
    pub fn into_plan(self, steps: Vec<Step>) -> FramePlan {
        FramePlan {
            a: self.a,
            b: self.b,
            basis: Some((self.u1, self.u2)),
            steps,
        }
    }

    /// The d-dimensional vector `x·u1 + y·u2`.
    #[inline]
    pub fn vector(&self, x: f64, y: f64) -> Vec<f64> {
        self.u1
            .iter()
            .zip(&self.u2)
            .map(|(p, q)| x * p + y * q)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angle_is_accurate_near_zero_and_pi() {
        let a = [1.0, 0.0];
        assert!((angle(&a, &[1.0, 1e-12]) - 1e-12).abs() < 1e-24);
        assert!((angle(&a, &[-1.0, 1e-12]) - (std::f64::consts::PI - 1e-12)).abs() < 1e-15);
    }
}
