//! Input checks shared by every path method.

use crate::GeodesicError;

/// Check a pair of seeds: same non-zero length, finite; `nonzero` also rejects all-zero seeds.
pub(crate) fn check_pair(a: &[f64], b: &[f64], nonzero: bool) -> Result<(), GeodesicError> {
    if a.len() != b.len() {
        return Err(GeodesicError::DimensionMismatch {
            a: a.len(),
            b: b.len(),
        });
    }
    check_seed(a, "a", nonzero)?;
    check_seed(b, "b", nonzero)
}

/// Check one seed.
pub(crate) fn check_seed(
    x: &[f64],
    which: &'static str,
    nonzero: bool,
) -> Result<(), GeodesicError> {
    if x.is_empty() {
        return Err(GeodesicError::Empty { which });
    }
    if let Some(index) = x.iter().position(|v| !v.is_finite()) {
        return Err(GeodesicError::NonFinite { which, index });
    }
    if nonzero && x.iter().all(|&v| v == 0.0) {
        return Err(GeodesicError::ZeroSeed { which });
    }
    Ok(())
}

/// Check a frame count.
pub(crate) fn check_frames(n: usize) -> Result<(), GeodesicError> {
    if n < 2 {
        return Err(GeodesicError::TooFewFrames(n));
    }
    Ok(())
}

/// Check positions along a path: each finite and in `[0, 1]`.
pub(crate) fn check_positions(positions: &[f64]) -> Result<(), GeodesicError> {
    match positions.iter().position(|u| !(0.0..=1.0).contains(u)) {
        Some(i) => Err(GeodesicError::InvalidConfig(format!(
            "position {i} along the path is {}, not a number in [0, 1]",
            positions[i]
        ))),
        None => Ok(()),
    }
}
