//! One ONNX model of the folder: its session, its declared inputs and outputs, and the element
//! type conversions at the boundary (host tensors are always `f32`; models may use `f16`,
//! `int32` token ids or floating-point timesteps).

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use half::f16;
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor as OrtTensor, TensorElementType, TensorRef, ValueType};

use crate::{ExecutionProvider, OnnxError, OnnxOptions};

/// An input or output of a model: name, element type and declared shape (`-1`: dynamic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The name in the graph (`sample`, `timestep`, …).
    pub name: String,
    /// The element type, as ONNX Runtime names it (`f32`, `f16`, `i64`, …).
    pub element_type: String,
    /// Dimensions; `-1` where the model leaves a dimension dynamic.
    pub shape: Vec<i64>,
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}{}",
            self.name,
            self.element_type,
            show_dims(&self.shape)
        )
    }
}

/// `[?, 4, 8, 8]`.
pub(crate) fn show_dims(dims: &[i64]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|&d| if d < 0 { "?".into() } else { d.to_string() })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// A port with its element type kept for conversions.
#[derive(Debug, Clone)]
pub(crate) struct TypedPort {
    pub port: Port,
    pub ty: TensorElementType,
}

impl TypedPort {
    /// The declared size of dimension `i`, when static.
    pub fn dim(&self, i: usize) -> Option<usize> {
        self.port
            .shape
            .get(i)
            .and_then(|&d| usize::try_from(d).ok())
    }

    /// The declared rank.
    pub fn rank(&self) -> usize {
        self.port.shape.len()
    }
}

/// Data for one input.
#[derive(Clone, Copy)]
pub(crate) enum InputData<'a> {
    /// Floating-point values (latents, images, embeddings, floating-point timesteps).
    Float(&'a [f32]),
    /// Integer values (token ids, timesteps).
    Int(&'a [i64]),
}

/// A loaded model.
#[derive(Debug)]
pub(crate) struct Component {
    /// `unet`, `text_encoder`, `vae_encoder`, `vae_decoder`.
    pub label: &'static str,
    /// The `.onnx` file.
    pub path: PathBuf,
    session: Mutex<Session>,
    pub inputs: Vec<TypedPort>,
    pub outputs: Vec<TypedPort>,
}

fn ports(outlets: &[ort::value::Outlet], path: &Path) -> Result<Vec<TypedPort>, OnnxError> {
    outlets
        .iter()
        .map(|o| match o.dtype() {
            ValueType::Tensor { ty, shape, .. } => Ok(TypedPort {
                port: Port {
                    name: o.name().to_string(),
                    element_type: ty.to_string(),
                    shape: shape.to_vec(),
                },
                ty: *ty,
            }),
            other => Err(OnnxError::Model {
                path: path.to_path_buf(),
                message: format!("'{}' is a {other:?}, not a tensor", o.name()),
            }),
        })
        .collect()
}

/// Stat a model file before ONNX Runtime opens it: missing is `missing` (the caller's words), and
/// a folder, device or FIFO is refused (ONNX Runtime would block reading a FIFO).
pub(crate) fn require_model_file(path: &std::path::Path, missing: &str) -> Result<(), OnnxError> {
    let err = |message: String| OnnxError::Io {
        path: path.to_path_buf(),
        message,
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(err(missing.to_string())),
        Err(e) => Err(err(format!("cannot be read: {e}"))),
        Ok(m) if !m.is_file() => Err(err(
            "not a regular file (a folder, a device or a FIFO): a model is read from a file".into(),
        )),
        Ok(_) => Ok(()),
    }
}

impl Component {
    /// Create the session of `path` with the options.
    pub fn load(
        label: &'static str,
        path: PathBuf,
        env: &Environment,
        options: &OnnxOptions,
    ) -> Result<Self, OnnxError> {
        require_model_file(&path, &format!("the {label} model is missing"))?;
        Self::create(label, path, None, env, options)
    }

    /// Create the session of an in-memory model; `origin` names it in errors.
    pub fn from_memory(
        label: &'static str,
        origin: PathBuf,
        bytes: &[u8],
        env: &Environment,
        options: &OnnxOptions,
    ) -> Result<Self, OnnxError> {
        Self::create(label, origin, Some(bytes), env, options)
    }

    fn create(
        label: &'static str,
        path: PathBuf,
        bytes: Option<&[u8]>,
        env: &Environment,
        options: &OnnxOptions,
    ) -> Result<Self, OnnxError> {
        let runtime = |e: &dyn fmt::Display| OnnxError::Runtime {
            path: path.clone(),
            message: format!("cannot create the {label} session: {e}"),
        };
        let mut builder = Session::builder(env)
            .map_err(|e| runtime(&e))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| runtime(&e))?;
        if let Some(n) = options.threads {
            builder = builder.with_intra_threads(n).map_err(|e| runtime(&e))?;
        }
        builder = match options.execution_provider {
            ExecutionProvider::Cpu => builder
                .with_execution_providers([ort::ep::CPU::default().build()])
                .map_err(|e| runtime(&e))?,
            #[cfg(feature = "cuda")]
            ExecutionProvider::Cuda { device_id } => builder
                .with_execution_providers([ort::ep::CUDA::default()
                    .with_device_id(device_id)
                    .build()
                    .error_on_failure()])
                .map_err(|e| runtime(&e))?,
            #[cfg(not(feature = "cuda"))]
            ExecutionProvider::Cuda { .. } => {
                return Err(OnnxError::Options(
                    "the CUDA provider needs nao-onnx built with the `cuda` feature".into(),
                ))
            }
        };
        if bytes.is_none() {
            // stat first: ONNX Runtime would block on a FIFO or read a device without end
            nao_fs::input::open_regular(&path).map_err(|e| OnnxError::Io {
                path: path.clone(),
                message: e.detail(),
            })?;
        }
        let session = match bytes {
            Some(b) => builder.commit_from_memory(b),
            None => builder.commit_from_file(&path),
        }
        .map_err(|e| runtime(&e))?;
        let inputs = ports(session.inputs(), &path)?;
        let outputs = ports(session.outputs(), &path)?;
        Ok(Self {
            label,
            path,
            session: Mutex::new(session),
            inputs,
            outputs,
        })
    }

    fn model_err(&self, message: String) -> OnnxError {
        OnnxError::Model {
            path: self.path.clone(),
            message,
        }
    }

    fn list(ports: &[TypedPort]) -> String {
        ports
            .iter()
            .map(|p| p.port.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The input named one of `names`; the only input when `sole` and there is one.
    pub fn input(&self, names: &[&str], sole: bool) -> Result<TypedPort, OnnxError> {
        find(&self.inputs, names, sole).ok_or_else(|| {
            self.model_err(format!(
                "the {} has no input named {} (its inputs: {})",
                self.label,
                names.join(" or "),
                Self::list(&self.inputs)
            ))
        })
    }

    /// The output named one of `names`; the only output when `sole` and there is one.
    pub fn output(&self, names: &[&str], sole: bool) -> Result<TypedPort, OnnxError> {
        find(&self.outputs, names, sole).ok_or_else(|| {
            self.model_err(format!(
                "the {} has no output named {} (its outputs: {})",
                self.label,
                names.join(" or "),
                Self::list(&self.outputs)
            ))
        })
    }

    /// Fail when the model has inputs besides `known` (e.g. SDXL's added conditioning).
    pub fn only_inputs(&self, known: &[&TypedPort]) -> Result<(), OnnxError> {
        for p in &self.inputs {
            if !known.iter().any(|k| k.port.name == p.port.name) {
                return Err(self.model_err(format!(
                    "the {} input '{}' is not supported (expected only {})",
                    self.label,
                    p.port,
                    known
                        .iter()
                        .map(|k| k.port.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Check a shape against a port's declared shape; `skip_batch` ignores dimension 0.
    pub fn check_shape(
        &self,
        port: &TypedPort,
        shape: &[usize],
        skip_batch: bool,
    ) -> Result<(), OnnxError> {
        let declared = &port.port.shape;
        let fits = declared.len() == shape.len()
            && declared
                .iter()
                .zip(shape)
                .enumerate()
                .all(|(i, (&d, &s))| d < 0 || (skip_batch && i == 0) || d as usize == s);
        if fits {
            Ok(())
        } else {
            Err(OnnxError::Shape(format!(
                "the {} input '{}' of {} takes {}, got {shape:?}",
                self.label,
                port.port.name,
                self.path.display(),
                show_dims(declared)
            )))
        }
    }

    /// Run the model and return one output as `f32` with its shape.
    pub fn run(
        &self,
        inputs: &[(&TypedPort, &[usize], InputData<'_>)],
        output: &TypedPort,
    ) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        let mut values: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            Vec::with_capacity(inputs.len());
        for (port, shape, data) in inputs {
            let value = to_value(port, shape, data).map_err(|e| OnnxError::Runtime {
                path: self.path.clone(),
                message: format!(
                    "cannot pass {shape:?} as the {} input '{}': {e}",
                    self.label, port.port
                ),
            })?;
            values.push((Cow::Borrowed(port.port.name.as_str()), value));
        }
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(values).map_err(|e| OnnxError::Runtime {
            path: self.path.clone(),
            message: format!("the {} failed: {e}", self.label),
        })?;
        let value = outputs.get(&output.port.name).ok_or_else(|| {
            self.model_err(format!(
                "the {} returned no output '{}'",
                self.label, output.port.name
            ))
        })?;
        from_value(value).map_err(|e| {
            self.model_err(format!(
                "the {} output '{}' cannot be read as f32: {e}",
                self.label, output.port.name
            ))
        })
    }
}

fn find(ports: &[TypedPort], names: &[&str], sole: bool) -> Option<TypedPort> {
    names
        .iter()
        .find_map(|n| ports.iter().find(|p| p.port.name == *n))
        .or(if sole && ports.len() == 1 {
            ports.first()
        } else {
            None
        })
        .cloned()
}

fn shape_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// Convert host data to the port's element type (no copy when it already is `f32`/`i64`).
fn to_value<'a>(
    port: &TypedPort,
    shape: &[usize],
    data: &'a InputData<'a>,
) -> Result<SessionInputValue<'a>, String> {
    let dims = shape_i64(shape);
    let err = |e: ort::Error| e.to_string();
    Ok(match (data, port.ty) {
        (InputData::Float(x), TensorElementType::Float32) => {
            TensorRef::from_array_view((dims, *x)).map_err(err)?.into()
        }
        (InputData::Float(x), TensorElementType::Float16) => {
            let v: Vec<f16> = x.iter().map(|&a| f16::from_f32(a)).collect();
            OrtTensor::from_array((dims, v)).map_err(err)?.into()
        }
        (InputData::Float(x), TensorElementType::Float64) => {
            let v: Vec<f64> = x.iter().map(|&a| f64::from(a)).collect();
            OrtTensor::from_array((dims, v)).map_err(err)?.into()
        }
        (InputData::Int(x), TensorElementType::Int64) => {
            TensorRef::from_array_view((dims, *x)).map_err(err)?.into()
        }
        (InputData::Int(x), TensorElementType::Int32) => {
            let v = x
                .iter()
                .map(|&a| i32::try_from(a).map_err(|_| format!("{a} does not fit in int32")))
                .collect::<Result<Vec<i32>, String>>()?;
            OrtTensor::from_array((dims, v)).map_err(err)?.into()
        }
        (InputData::Int(x), TensorElementType::Float32) => {
            let v: Vec<f32> = x.iter().map(|&a| a as f32).collect();
            OrtTensor::from_array((dims, v)).map_err(err)?.into()
        }
        (InputData::Int(x), TensorElementType::Float16) => {
            let v: Vec<f16> = x.iter().map(|&a| f16::from_f32(a as f32)).collect();
            OrtTensor::from_array((dims, v)).map_err(err)?.into()
        }
        (InputData::Int(x), TensorElementType::Float64) => {
            let v: Vec<f64> = x.iter().map(|&a| a as f64).collect();
            OrtTensor::from_array((dims, v)).map_err(err)?.into()
        }
        (_, other) => return Err(format!("element type {other} is not supported")),
    })
}

/// Read an `f32`, `f16` or `f64` tensor as `f32`.
fn from_value(value: &DynValue) -> Result<(Vec<usize>, Vec<f32>), String> {
    let ty = value
        .dtype()
        .tensor_type()
        .ok_or_else(|| "not a tensor".to_string())?;
    let err = |e: ort::Error| e.to_string();
    let (shape, data) = match ty {
        TensorElementType::Float32 => {
            let (s, d) = value.try_extract_tensor::<f32>().map_err(err)?;
            (s.to_vec(), d.to_vec())
        }
        TensorElementType::Float16 => {
            let (s, d) = value.try_extract_tensor::<f16>().map_err(err)?;
            (s.to_vec(), d.iter().map(|x| x.to_f32()).collect())
        }
        TensorElementType::Float64 => {
            let (s, d) = value.try_extract_tensor::<f64>().map_err(err)?;
            (s.to_vec(), d.iter().map(|&x| x as f32).collect())
        }
        other => return Err(format!("element type {other}")),
    };
    let shape = shape
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
        .collect::<Result<Vec<usize>, String>>()?;
    Ok((shape, data))
}
