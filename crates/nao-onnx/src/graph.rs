//! [`OnnxGraph`]: one ONNX model with named inputs, for models that are not Stable Diffusion
//! exports (nao-burn runs its embedded model's ONNX export through it).

use std::path::PathBuf;

use crate::session::{Component, InputData};
use crate::{runtime, OnnxError, OnnxOptions};

/// Data for one named input of [`OnnxGraph::run`].
#[derive(Debug, Clone, Copy)]
pub enum GraphInput<'a> {
    /// Floating-point values (converted to the input's declared float type).
    Float(&'a [f32]),
    /// Integer values (converted to the input's declared integer type).
    Int(&'a [i64]),
}

/// One ONNX model in a session of its own, run with host tensors.
///
/// ```no_run
/// use nao_onnx::{GraphInput, OnnxGraph, OnnxOptions};
/// let bytes = std::fs::read("double.onnx")?;
/// let graph = OnnxGraph::from_memory("double", "double.onnx", &bytes, &OnnxOptions::default())?;
/// let (shape, y) = graph.run(&[("x", &[1, 2], GraphInput::Float(&[1.0, 2.0]))], "y")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OnnxGraph {
    component: Component,
}

impl OnnxGraph {
    /// Create a session for the model `bytes`; `label` says what the model is ("denoiser")
    /// and `origin` names it in errors. Loads ONNX Runtime on first use (see [`OnnxOptions`]).
    pub fn from_memory(
        label: &'static str,
        origin: impl Into<PathBuf>,
        bytes: &[u8],
        options: &OnnxOptions,
    ) -> Result<Self, OnnxError> {
        options.validate()?;
        let env = runtime::environment(options.library_path.as_deref())?;
        let component = Component::from_memory(label, origin.into(), bytes, &env, options)?;
        Ok(Self { component })
    }

    /// The model's declared inputs (name, element type, shape).
    pub fn inputs(&self) -> Vec<crate::Port> {
        self.component
            .inputs
            .iter()
            .map(|p| p.port.clone())
            .collect()
    }

    /// The model's declared outputs.
    pub fn outputs(&self) -> Vec<crate::Port> {
        self.component
            .outputs
            .iter()
            .map(|p| p.port.clone())
            .collect()
    }

    /// Run the model on the named inputs (name, shape, data) and return the named output as
    /// `f32` with its shape. Every input is checked against the model's declared shape.
    pub fn run(
        &self,
        inputs: &[(&str, &[usize], GraphInput<'_>)],
        output: &str,
    ) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        let c = &self.component;
        let mut ports = Vec::with_capacity(inputs.len());
        for (name, shape, data) in inputs {
            let expected: usize = shape.iter().product();
            let len = match data {
                GraphInput::Float(x) => x.len(),
                GraphInput::Int(x) => x.len(),
            };
            if len != expected {
                return Err(OnnxError::Shape(format!(
                    "the {} input '{name}' has {len} values for the shape {shape:?} ({expected})",
                    c.label
                )));
            }
            let port = c.input(&[name], false)?;
            c.check_shape(&port, shape, false)?;
            let data = match *data {
                GraphInput::Float(x) => InputData::Float(x),
                GraphInput::Int(x) => InputData::Int(x),
            };
            ports.push((port, *shape, data));
        }
        c.only_inputs(&ports.iter().map(|(p, _, _)| p).collect::<Vec<_>>())?;
        let out = c.output(&[output], false)?;
        let args: Vec<_> = ports.iter().map(|(p, s, d)| (p, *s, *d)).collect();
        c.run(&args, &out)
    }
}
