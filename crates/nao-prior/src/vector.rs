//! Reductions over seeds stored as `f32` or `f64`, always accumulated in `f64`.
//!
//! At `d = 16384` a naive `f32` sum of squares loses about four digits; NAO's geometry needs the
//! norm to much better than the χ shell's width (≈ 0.7), so every reduction here runs in `f64`.

use num_traits::Float;

/// Squared Euclidean norm, accumulated in `f64`.
pub fn norm_sq<T: Float>(x: &[T]) -> f64 {
    // Four partial sums: independent chains let the compiler vectorise and pipeline.
    let mut acc = [0.0f64; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            let v = c[k].to_f64().unwrap_or(f64::NAN);
            acc[k] += v * v;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in rest {
        let v = v.to_f64().unwrap_or(f64::NAN);
        s += v * v;
    }
    s
}

/// Euclidean norm, accumulated in `f64`.
///
/// Robust at the ends of the `f64` range: when the sum of squares overflows (values beyond
/// ~1e154) or underflows (values below ~1e-154), the norm is recomputed scaled by the largest
/// magnitude, so a finite vector always has a finite norm, and a non-zero one a non-zero norm.
///
/// ```
/// let close = |x: f64, y: f64| (x - y).abs() <= 1e-15 * y;
/// assert!(close(nao_prior::norm(&[3e200, 4e200]), 5e200));
/// assert!(close(nao_prior::norm(&[3e-200, 4e-200]), 5e-200));
/// assert_eq!(nao_prior::norm(&[3.0f32, 4.0]), 5.0);
/// ```
pub fn norm<T: Float>(x: &[T]) -> f64 {
    let s = norm_sq(x);
    if s.is_nan() || (s.is_finite() && s >= f64::MIN_POSITIVE) || s == 0.0 && all_zero(x) {
        return s.sqrt();
    }
    // Overflow or underflow: scale by the largest magnitude (a second pass, only here).
    let big = x
        .iter()
        .map(|v| v.to_f64().unwrap_or(f64::NAN).abs())
        .fold(0.0f64, f64::max);
    if big == 0.0 || !big.is_finite() {
        return big;
    }
    let scaled: f64 = x
        .iter()
        .map(|v| {
            let u = v.to_f64().unwrap_or(f64::NAN) / big;
            u * u
        })
        .sum();
    big * scaled.sqrt()
}

fn all_zero<T: Float>(x: &[T]) -> bool {
    x.iter().all(|v| v.is_zero())
}

/// Dot product, accumulated in `f64`.
///
/// # Panics
/// If the slices differ in length (a programming error, not a data error).
pub fn dot<T: Float>(x: &[T], y: &[T]) -> f64 {
    assert_eq!(x.len(), y.len(), "dot: length mismatch");
    let mut acc = [0.0f64; 4];
    let cx = x.chunks_exact(4);
    let cy = y.chunks_exact(4);
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for k in 0..4 {
            acc[k] += a[k].to_f64().unwrap_or(f64::NAN) * b[k].to_f64().unwrap_or(f64::NAN);
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (a, b) in rx.iter().zip(ry) {
        s += a.to_f64().unwrap_or(f64::NAN) * b.to_f64().unwrap_or(f64::NAN);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_norm_is_accumulated_in_f64() {
        // 1 + 16384 tiny values: an f32 running sum would drop every 1e-4² term.
        let mut x = vec![1e-4f32; 16385];
        x[0] = 1.0;
        let expected = 1.0 + 16384.0 * (1e-4f32 as f64).powi(2);
        assert!((norm_sq(&x) - expected).abs() < 1e-12);
    }

    #[test]
    fn dot_matches_manual() {
        let a = [1.0f64, 2.0, 3.0, 4.0, 5.0];
        let b = [5.0f64, 4.0, 3.0, 2.0, 1.0];
        assert_eq!(dot(&a, &b), 35.0);
        assert_eq!(norm_sq(&a), 55.0);
    }
}
