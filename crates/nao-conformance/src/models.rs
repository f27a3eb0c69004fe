//! The models under test: the embedded Fashion-MNIST model (against the committed CPU
//! reference) and the tiny Stable Diffusion 1.x model of the shared fixtures (against what
//! diffusers computed on it).

use std::fmt;

use nao_backend::{Backend, Device, Engine};
use nao_models::{open_model, ModelSource, OpenOptions};

use crate::checks::Check;
use crate::fixture::tiny_sd1;
use crate::reference::Reference;
use crate::ConformanceError;

/// A model the suite checks on every device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// The embedded Fashion-MNIST model; reference: `reference/` of this crate, made on the
    /// cpu device.
    Embedded,
    /// `shared/fixtures/tiny-sd1`: a tiny random-weight Stable Diffusion 1.x model, run from
    /// its diffusers folder on burn devices (`nao-sd`) and from its ONNX export on ONNX
    /// Runtime devices; reference: diffusers' outputs in `shared/fixtures/tiny-sd1/reference`.
    TinySd1,
}

impl Model {
    /// Every model.
    pub const ALL: [Model; 2] = [Model::Embedded, Model::TinySd1];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Model::Embedded => "embedded",
            Model::TinySd1 => "tiny-sd1",
        }
    }

    /// The model a check runs on.
    pub fn of(check: Check) -> Model {
        if Check::TINY_SD1.contains(&check) {
            Model::TinySd1
        } else {
            Model::Embedded
        }
    }

    /// Its checks.
    pub fn checks(self) -> &'static [Check] {
        match self {
            Model::Embedded => &Check::EMBEDDED,
            Model::TinySd1 => &Check::TINY_SD1,
        }
    }

    /// Its reference outputs.
    pub fn reference(self) -> Result<Reference, ConformanceError> {
        match self {
            Model::Embedded => Reference::load(&Reference::default_dir()),
            Model::TinySd1 => Reference::tiny_sd1(),
        }
    }

    /// The model on `device`. A device that is not compiled in, or whose hardware or library
    /// is missing, is an error saying so (never a silent fallback).
    pub fn open(self, device: Device) -> Result<Box<dyn Backend>, ConformanceError> {
        let source = match self {
            Model::Embedded => ModelSource::Embedded,
            Model::TinySd1 => {
                let folder = match device.engine() {
                    Engine::Burn => "diffusers",
                    Engine::OnnxRuntime => "onnx",
                };
                ModelSource::Folder(tiny_sd1(folder)?)
            }
        };
        open_model(&source, Some(device), &OpenOptions::default())
            .map(|opened| opened.model)
            .map_err(|e| ConformanceError::Backend {
                target: device.to_string(),
                message: match e {
                    nao_models::ModelsError::NotCompiled { feature, .. } => format!(
                        "not compiled in: enable the feature '{feature}' of nao-conformance"
                    ),
                    other => format!("{}: {other}", self.name()),
                },
            })
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
