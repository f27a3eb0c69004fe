//! Weights out: a module's parameters as safetensors bytes, saved atomically.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use nao_fs::Outputs;

use crate::TrainError;

/// Serialise a module's parameters as safetensors bytes (what `nao_burn::load_module` reads).
pub fn module_bytes<M: Module>(module: &M) -> Result<Vec<u8>, TrainError> {
    let mut store = SafetensorsStore::from_bytes(None);
    module
        .save_into(&mut store)
        .map_err(|e| TrainError::Invalid(format!("cannot serialise weights: {e}")))?;
    store
        .get_bytes()
        .map_err(|e| TrainError::Invalid(format!("cannot serialise weights: {e}")))
}

/// Save a module's parameters to a safetensors file through a temporary file and a rename.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<(), TrainError> {
    let bytes = module_bytes(module)?;
    let mut out = Outputs::new();
    out.claim_file(path, "weights")?;
    out.write(path, &bytes)?;
    Ok(out.commit()?)
}
