//! Resampling a polyline uniformly in Euclidean arc length.

/// Resample a polyline (`points`: `m × dim`, row-major, `m ≥ 1`) to `n ≥ 2` points spaced
/// uniformly in Euclidean arc length; the first and last points are kept exactly. A polyline of
/// zero length gives `n` copies of its first point.
///
/// ```
/// use nao_geodesic::resample_by_arc_length;
/// // An L-shaped path of length 2 resampled to 3 points: the corner is the middle one.
/// let pts = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
/// let r = resample_by_arc_length(&pts, 2, 3);
/// assert_eq!(r, vec![0.0, 0.0, 1.0, 0.0, 1.0, 1.0]);
/// ```
///
/// # Panics
/// If `dim == 0`, `points.len()` is not a positive multiple of `dim`, or `n < 2`.
pub fn resample_by_arc_length(points: &[f64], dim: usize, n: usize) -> Vec<f64> {
    assert!(dim > 0 && !points.is_empty() && points.len() % dim == 0);
    assert!(n >= 2, "resample: n must be ≥ 2");
    let m = points.len() / dim;
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    // Cumulative chord lengths.
    let mut cum = Vec::with_capacity(m);
    cum.push(0.0f64);
    for i in 1..m {
        cum.push(cum[i - 1] + distance(row(i - 1), row(i)));
    }
    let total_len = cum[m - 1];
    let mut out = Vec::with_capacity(n * dim);
    out.extend_from_slice(row(0));
    let mut seg = 0usize;
    for k in 1..n - 1 {
        let t = total_len * k as f64 / (n - 1) as f64;
        // Advance to the segment [cum[seg], cum[seg+1]] holding t (zero-length ones skipped).
        while seg + 2 < m && cum[seg + 1] <= t {
            seg += 1;
        }
        if m == 1 || total_len == 0.0 {
            out.extend_from_slice(row(0));
            continue;
        }
        let (c0, c1) = (cum[seg], cum[seg + 1]);
        let w = if c1 > c0 {
            ((t - c0) / (c1 - c0)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (x, y) = (row(seg), row(seg + 1));
        out.extend(x.iter().zip(y).map(|(&p, &q)| p + w * (q - p)));
    }
    out.extend_from_slice(row(m - 1));
    out
}

/// `‖y − x‖`, accumulated in `f64`.
fn distance(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (b - a) * (b - a))
        .sum::<f64>()
        .sqrt()
}
