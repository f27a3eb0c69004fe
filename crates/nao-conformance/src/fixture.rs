//! Where the tiny Stable Diffusion fixture lives (the shared reference data).

use std::path::PathBuf;

use crate::ConformanceError;

/// A path inside `shared/fixtures/tiny-sd1`.
pub(crate) fn tiny_sd1(relative: &str) -> Result<PathBuf, ConformanceError> {
    nao_test_support::try_shared(format!("fixtures/tiny-sd1/{relative}")).map_err(|message| {
        ConformanceError::Reference {
            path: format!("fixtures/tiny-sd1/{relative}"),
            message,
        }
    })
}
