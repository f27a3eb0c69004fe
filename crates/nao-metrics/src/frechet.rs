//! The Fréchet distance between the Gaussians fitted to two feature sets.

use nalgebra::{DMatrix, DVector};

use crate::{Features, MetricsError};

/// The mean and the unbiased covariance (divided by `n − 1`) of a feature set.
pub fn mean_and_covariance(x: &Features) -> Result<(DVector<f64>, DMatrix<f64>), MetricsError> {
    let n = x.len();
    if n < 2 {
        return Err(MetricsError::TooFew(format!(
            "a covariance needs at least 2 samples, got {n}"
        )));
    }
    let d = x.dim();
    let mut mean = DVector::zeros(d);
    for row in x.rows() {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    mean /= n as f64;
    let mut cov = DMatrix::zeros(d, d);
    for row in x.rows() {
        let centred = DVector::from_iterator(d, row.iter().zip(mean.iter()).map(|(v, m)| v - m));
        cov.ger(1.0, &centred, &centred, 1.0);
    }
    cov /= (n - 1) as f64;
    Ok((mean, cov))
}

/// The square root of a symmetric positive semi-definite matrix from its eigendecomposition;
/// eigenvalues below zero (rounding) count as zero. The result is symmetric.
///
/// ```
/// let m = nalgebra::DMatrix::from_row_slice(2, 2, &[4.0, 0.0, 0.0, 9.0]);
/// let s = nao_metrics::sqrtm_psd(&m);
/// assert!((s[(0, 0)] - 2.0).abs() < 1e-12 && (s[(1, 1)] - 3.0).abs() < 1e-12);
/// ```
pub fn sqrtm_psd(m: &DMatrix<f64>) -> DMatrix<f64> {
    let sym = (m + m.transpose()) * 0.5;
    let eig = sym.symmetric_eigen();
    let roots = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    let v = &eig.eigenvectors;
    let s = v * DMatrix::from_diagonal(&roots) * v.transpose();
    (&s + s.transpose()) * 0.5
}

/// The Fréchet distance `‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{½} Σ₂ Σ₁^{½})^{½})` between the
/// Gaussians fitted to `a` and `b` (each needs at least 2 samples).
///
/// `Tr((Σ₁Σ₂)^{½})` is computed as `Tr((Σ₁^{½} Σ₂ Σ₁^{½})^{½})`, whose argument is symmetric
/// positive semi-definite, so both square roots come from symmetric eigendecompositions: no
/// complex parts to discard, finite for singular covariances (fewer samples than dimensions).
pub fn frechet_distance(a: &Features, b: &Features) -> Result<f64, MetricsError> {
    a.same_dim(b)?;
    let (m1, c1) = mean_and_covariance(a)?;
    let (m2, c2) = mean_and_covariance(b)?;
    let s1 = sqrtm_psd(&c1);
    let inner = &s1 * &c2 * &s1;
    let eig = ((&inner + inner.transpose()) * 0.5).symmetric_eigen();
    let tr_sqrt: f64 = eig.eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).sum();
    let diff = &m1 - &m2;
    let fd = diff.dot(&diff) + c1.trace() + c2.trace() - 2.0 * tr_sqrt;
    // A tiny negative value is rounding of a zero distance.
    Ok(fd.max(0.0))
}
