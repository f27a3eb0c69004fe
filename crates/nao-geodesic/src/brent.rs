//! Root finding: Brent's method on a bracketing interval.
//!
//! The planar solver finds the member of a family of geodesics that sweeps a given angle; the
//! swept angle is monotone in the family parameter but expensive (a quadrature per
//! evaluation), so a method that converges superlinearly while never leaving the bracket pays.

/// Brent's root finder on `[a, b]` with `fa = h(a) < 0 < fb = h(b)` (or the reverse).
///
/// Inverse quadratic interpolation or the secant step when they stay inside the bracket and
/// shrink it fast enough, bisection otherwise (Brent 1973, *Algorithms for Minimization without
/// Derivatives*, ch. 4). Returns when the bracket is narrower than `2ε·|b| + 1e-16`, or after
/// 200 evaluations.
pub(crate) fn brent(
    h: impl Fn(f64) -> f64,
    mut a: f64,
    mut b: f64,
    mut fa: f64,
    mut fb: f64,
) -> f64 {
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    let mut c = a;
    let mut fc = fa;
    let mut d = b - a;
    let mut e = d;
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 1e-16;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return b;
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol * m.signum() };
        fb = h(b);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_to_machine_precision_either_way_round() {
        let h = |x: f64| x * x * x - 2.0;
        let r = brent(h, 0.0, 2.0, h(0.0), h(2.0));
        assert!((r - 2f64.cbrt()).abs() < 4.0 * f64::EPSILON, "{r}");
        // Decreasing function: the bracket's signs reversed.
        let g = |x: f64| (-x).exp() - 0.25;
        let r = brent(g, 0.0, 3.0, g(0.0), g(3.0));
        assert!((r - 4f64.ln()).abs() < 4.0 * f64::EPSILON, "{r}");
        // An endpoint that is already a root.
        assert_eq!(brent(|x| x, 0.0, 1.0, 0.0, 1.0), 0.0);
    }
}
