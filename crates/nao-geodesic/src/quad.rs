//! Gauss–Legendre quadrature: fixed rules and an adaptive integrator that keeps its panels.
//!
//! The geodesic solver integrates smooth functions (after the substitutions in `planar`) that may
//! still have a sharp feature at one end of the interval; adaptive bisection with a 16-point rule
//! resolves those with few evaluations. The accepted panels are kept so that partial integrals
//! (where along the path is arc length `s`?) can be evaluated later without re-adapting.

use std::sync::OnceLock;

/// Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1].
pub(crate) struct Rule {
    pub nodes: Vec<f64>,
    pub weights: Vec<f64>,
}

impl Rule {
    /// Compute the rule by Newton's method on the Legendre polynomial (to machine precision).
    fn new(n: usize) -> Self {
        let mut nodes = vec![0.0; n];
        let mut weights = vec![0.0; n];
        let m = n.div_ceil(2);
        for i in 0..m {
            // Tricomi's initial guess for the i-th root.
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                let (p, d) = legendre(n, x);
                dp = d;
                let dx = p / d;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            let (_, d) = legendre(n, x);
            dp = if d != 0.0 { d } else { dp };
            let w = 2.0 / ((1.0 - x * x) * dp * dp);
            nodes[i] = -x;
            nodes[n - 1 - i] = x;
            weights[i] = w;
            weights[n - 1 - i] = w;
        }
        Self { nodes, weights }
    }
}

/// `(P_n(x), P_n'(x))` by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    for k in 2..=n {
        let kf = k as f64;
        let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
        p0 = p1;
        p1 = p2;
    }
    let d = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

/// The 16-point rule used by the adaptive integrator and for partial panels.
pub(crate) fn gl16() -> &'static Rule {
    static R: OnceLock<Rule> = OnceLock::new();
    R.get_or_init(|| Rule::new(16))
}

/// Integrate an `N`-component function over `[a, b]` with a fixed rule.
pub(crate) fn fixed<const N: usize>(
    rule: &Rule,
    a: f64,
    b: f64,
    f: &mut impl FnMut(f64) -> [f64; N],
) -> [f64; N] {
    let half = 0.5 * (b - a);
    let mid = 0.5 * (a + b);
    let mut acc = [0.0; N];
    for (x, w) in rule.nodes.iter().zip(&rule.weights) {
        let v = f(mid + half * x);
        for k in 0..N {
            acc[k] += w * v[k];
        }
    }
    for v in acc.iter_mut() {
        *v *= half;
    }
    acc
}

/// One accepted panel of an adaptive integration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Panel<const N: usize> {
    pub a: f64,
    pub b: f64,
    pub value: [f64; N],
}

/// Relative rounding noise of the integrands (a few hundred ulps).
const NOISE: f64 = 1e-13;
/// Hard cap on the number of panels of one integration.
const MAX_PANELS: usize = 4096;

/// Adaptive Gauss–Legendre (16-point, bisection) over `[a, b]`.
///
/// A panel is accepted when the rule on it and on its two halves agree, per component, to
/// `rel_tol · scale[k] · (width / (b − a))` (the error budget is spread by width) or to an
/// absolute floor. Returns the panels in order; their values sum to the integral.
pub(crate) fn adaptive<const N: usize>(
    a: f64,
    b: f64,
    rel_tol: f64,
    scale: [f64; N],
    f: &mut impl FnMut(f64) -> [f64; N],
) -> Vec<Panel<N>> {
    let rule = gl16();
    let total = b - a;
    let mut out = Vec::new();
    if total == 0.0 {
        return out;
    }
    // Depth-first with an explicit stack, left to right.
    let whole = fixed(rule, a, b, f);
    let mut stack = vec![(a, b, whole, 0u32)];
    while let Some((lo, hi, est, depth)) = stack.pop() {
        let mid = 0.5 * (lo + hi);
        let left = fixed(rule, lo, mid, f);
        let right = fixed(rule, mid, hi, f);
        let frac = ((hi - lo) / total).abs();
        let mut ok = true;
        for k in 0..N {
            let err = (left[k] + right[k] - est[k]).abs();
            // The second term is the integrand's own rounding noise: below it, halving the
            // panel cannot improve anything, and insisting would subdivide without end.
            let allowed = rel_tol * scale[k].abs() * frac
                + NOISE * (left[k].abs() + right[k].abs())
                + f64::MIN_POSITIVE;
            // NaN errors count as failures
            if err.is_nan() || err > allowed {
                ok = false;
                break;
            }
        }
        let exhausted = out.len() + stack.len() >= MAX_PANELS;
        if ok
            || exhausted
            || depth >= 50
            || (mid - lo).abs() <= 4.0 * f64::EPSILON * lo.abs().max(1e-300)
        {
            out.push(Panel {
                a: lo,
                b: mid,
                value: left,
            });
            out.push(Panel {
                a: mid,
                b: hi,
                value: right,
            });
        } else {
            // Push right first so the left half is processed first (panels come out in order).
            stack.push((mid, hi, right, depth + 1));
            stack.push((lo, mid, left, depth + 1));
        }
    }
    out
}

/// [`adaptive`] with the error scale taken from a first 16-point estimate of the whole interval.
pub(crate) fn adaptive_self_scaled<const N: usize>(
    a: f64,
    b: f64,
    rel_tol: f64,
    f: &mut impl FnMut(f64) -> [f64; N],
) -> Vec<Panel<N>> {
    let scale = fixed(gl16(), a, b, f).map(f64::abs);
    adaptive(a, b, rel_tol, scale, f)
}

/// `∫ₐᵇ f` of a scalar function, adaptively (see [`adaptive_self_scaled`]).
pub(crate) fn integral(a: f64, b: f64, rel_tol: f64, f: &mut impl FnMut(f64) -> f64) -> f64 {
    adaptive_self_scaled(a, b, rel_tol, &mut |x| [f(x)])
        .iter()
        .map(|p| p.value[0])
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_integrate_polynomials_exactly() {
        let r = gl16();
        let v = fixed(r, -1.0, 2.0, &mut |x| [x.powi(31), 1.0]);
        let exact = (2f64.powi(32) - 1.0) / 32.0;
        assert!((v[0] - exact).abs() < 1e-12 * exact);
        assert!((v[1] - 3.0).abs() < 1e-14);
        let w: f64 = Rule::new(8).weights.iter().sum();
        assert!((w - 2.0).abs() < 1e-14);
    }

    #[test]
    fn adaptive_resolves_an_endpoint_peak() {
        // ∫_0^1 1/√(x + 1e-10) dx = 2(√(1+1e-10) − √1e-10)
        let eps = 1e-10f64;
        let exact = 2.0 * ((1.0 + eps).sqrt() - eps.sqrt());
        let panels = adaptive(0.0, 1.0, 1e-12, [2.0], &mut |x| [1.0 / (x + eps).sqrt()]);
        let sum: f64 = panels.iter().map(|p| p.value[0]).sum();
        assert!((sum - exact).abs() < 1e-10, "{sum} vs {exact}");
        // panels are contiguous and ordered
        for w in panels.windows(2) {
            assert_eq!(w[0].b, w[1].a);
        }
    }
}
