//! k-nearest-neighbour measures: precision/recall, density/coverage, and diversity.

use crate::features::distance_sq;
use crate::{Features, MetricsError};

/// The fraction of generated samples inside the real set's k-NN manifold (precision: are the
/// generated images realistic?) and of real samples inside the generated set's (recall: do they
/// cover the real variety?).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionRecall {
    /// Generated samples within some real sample's k-NN ball.
    pub precision: f64,
    /// Real samples within some generated sample's k-NN ball.
    pub recall: f64,
}

/// Density (how many real k-NN balls hold each generated sample, over k; 1 on average for a
/// matching distribution) and coverage (the fraction of real samples whose ball holds a
/// generated sample) of Naeem et al. (2020), which resist the outliers precision/recall count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DensityCoverage {
    /// Mean number of real balls holding a generated sample, divided by k.
    pub density: f64,
    /// Fraction of real balls holding at least one generated sample.
    pub coverage: f64,
}

/// Squared distance from each row of `x` to its k-th nearest other row.
fn knn_radii_sq(x: &Features, k: usize) -> Result<Vec<f64>, MetricsError> {
    let n = x.len();
    // k ≥ n, not n < k + 1: k may be any usize
    if k == 0 || k >= n {
        return Err(MetricsError::TooFew(format!(
            "k-NN balls with k = {k} need at least {} samples, got {n}",
            k.saturating_add(1)
        )));
    }
    let mut radii = Vec::with_capacity(n);
    let mut d = Vec::with_capacity(n - 1);
    for i in 0..n {
        d.clear();
        d.extend(
            (0..n)
                .filter(|&j| j != i)
                .map(|j| distance_sq(x.row(i), x.row(j))),
        );
        let (_, kth, _) = d.select_nth_unstable_by(k - 1, f64::total_cmp);
        radii.push(*kth);
    }
    Ok(radii)
}

/// How many of `balls`' rows (with squared radii `radii`) hold `point`.
fn balls_holding(point: &[f64], balls: &Features, radii: &[f64]) -> usize {
    balls
        .rows()
        .zip(radii)
        .filter(|(c, &r)| distance_sq(point, c) <= r)
        .count()
}

/// Precision and recall of `generated` against `real` on k-NN manifolds.
///
/// ```
/// # use nao_metrics::{precision_recall, Features};
/// # let x = Features::new(1, vec![0.0, 1.0, 2.0])?;
/// assert!(precision_recall(&x, &x, usize::MAX).is_err()); // too few samples, no overflow
/// # Ok::<(), nao_metrics::MetricsError>(())
/// ```
///
/// ```
/// use nao_metrics::{precision_recall, Features};
/// let grid: Vec<f64> = (0..20).flat_map(|i| [i as f64, (i % 4) as f64]).collect();
/// let real = Features::new(2, grid.clone())?;
/// let pr = precision_recall(&real, &real, 5)?;
/// assert_eq!((pr.precision, pr.recall), (1.0, 1.0));
/// let far = Features::new(2, grid.iter().map(|v| v + 100.0).collect())?;
/// assert_eq!(precision_recall(&real, &far, 5)?.precision, 0.0);
/// # Ok::<(), nao_metrics::MetricsError>(())
/// ```
pub fn precision_recall(
    real: &Features,
    generated: &Features,
    k: usize,
) -> Result<PrecisionRecall, MetricsError> {
    real.same_dim(generated)?;
    let real_r = knn_radii_sq(real, k)?;
    let gen_r = knn_radii_sq(generated, k)?;
    let inside = |points: &Features, balls: &Features, radii: &[f64]| {
        points
            .rows()
            .filter(|p| balls_holding(p, balls, radii) > 0)
            .count() as f64
            / points.len() as f64
    };
    Ok(PrecisionRecall {
        precision: inside(generated, real, &real_r),
        recall: inside(real, generated, &gen_r),
    })
}

/// Density and coverage of `generated` against `real` on the real set's k-NN balls.
pub fn density_coverage(
    real: &Features,
    generated: &Features,
    k: usize,
) -> Result<DensityCoverage, MetricsError> {
    real.same_dim(generated)?;
    if generated.is_empty() {
        return Err(MetricsError::TooFew("no generated samples".into()));
    }
    let real_r = knn_radii_sq(real, k)?;
    let held: usize = generated
        .rows()
        .map(|p| balls_holding(p, real, &real_r))
        .sum();
    let covered = real
        .rows()
        .zip(&real_r)
        .filter(|(c, &r)| generated.rows().any(|p| distance_sq(p, c) <= r))
        .count();
    Ok(DensityCoverage {
        density: held as f64 / (k as f64 * generated.len() as f64),
        coverage: covered as f64 / real.len() as f64,
    })
}

/// The mean Euclidean distance between distinct rows: how varied a set is (0 for copies of one
/// image).
///
/// ```
/// let x = nao_metrics::Features::new(1, vec![0.0, 1.0, 3.0])?;
/// // pairs: 1, 3, 2
/// assert!((nao_metrics::diversity(&x)? - 2.0).abs() < 1e-12);
/// # Ok::<(), nao_metrics::MetricsError>(())
/// ```
pub fn diversity(x: &Features) -> Result<f64, MetricsError> {
    let n = x.len();
    if n < 2 {
        return Err(MetricsError::TooFew(format!(
            "diversity needs at least 2 samples, got {n}"
        )));
    }
    let mut sum = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            sum += distance_sq(x.row(i), x.row(j)).sqrt();
        }
    }
    Ok(sum / (n * (n - 1) / 2) as f64)
}
