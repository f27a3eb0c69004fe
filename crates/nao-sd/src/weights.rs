//! Weights of one component: choosing its safetensors file among variants, memory-mapping it,
//! and turning its tensors one by one into burn tensors of the compute precision (never two
//! full copies of the weights: each tensor is converted from the mapped file on its own).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, LayerNorm, LayerNormConfig, Linear, PaddingConfig2d};
use burn::tensor::{DType, Device, Tensor, TensorData};
use memmap2::Mmap;
use nao_backend::Precision;
use safetensors::tensor::{Metadata, TensorInfo};
use safetensors::{Dtype, SafeTensors};

use crate::{SdError, SdOptions};

/// The weights file of a component folder.
///
/// Candidates are the folder's `*.safetensors` files; `name.safetensors` has no variant and
/// `name.VARIANT.safetensors` has one (`fp16`, `bf16`, …). With a `variant`, the file of that
/// variant is taken; without one, the file without a variant, or else the only file there is.
/// Anything else is ambiguous, and the error lists the candidates.
pub(crate) fn select_file(dir: &Path, variant: Option<&str>) -> Result<PathBuf, SdError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SdError::io(dir, e))?;
    let mut names: Vec<String> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| SdError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".safetensors") {
            names.push(name);
        } else if name.ends_with(".bin") || name.ends_with(".ckpt") || name.ends_with(".index.json")
        {
            others.push(name);
        }
    }
    names.sort();
    others.sort();
    let variant_of = |name: &str| -> Option<String> {
        let stem = name.strip_suffix(".safetensors")?;
        stem.split_once('.').map(|(_, v)| v.to_string())
    };
    if let Some(shard) = names.iter().find(|n| n.contains("-of-")) {
        return Err(SdError::weights(
            dir,
            format!("sharded weights ({shard}) are not supported: save the component as one file"),
        ));
    }
    let list = |v: &[String]| v.join(", ");
    if names.is_empty() {
        let hint = if others.is_empty() {
            String::new()
        } else {
            format!(
                "; found {} (PyTorch pickles and shard indexes are not read: convert to \
                 safetensors)",
                list(&others)
            )
        };
        return Err(SdError::Io {
            path: dir.to_path_buf(),
            message: format!("no *.safetensors weights file{hint}"),
        });
    }
    let pick = |matches: Vec<&String>, what: &str| -> Result<PathBuf, SdError> {
        match matches.as_slice() {
            [one] => Ok(dir.join(one)),
            [] => Err(SdError::weights(
                dir,
                format!(
                    "no weights file {what}; the candidates are {}",
                    list(&names)
                ),
            )),
            many => Err(SdError::weights(
                dir,
                format!(
                    "several weights files {what}: {} (keep one)",
                    many.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    };
    match variant {
        Some(v) => pick(
            names
                .iter()
                .filter(|n| variant_of(n).as_deref() == Some(v))
                .collect(),
            &format!("for the variant '{v}'"),
        ),
        None => {
            let plain: Vec<&String> = names.iter().filter(|n| variant_of(n).is_none()).collect();
            match (plain.len(), names.len()) {
                (0, 1) => Ok(dir.join(&names[0])),
                (0, _) => Err(SdError::weights(
                    dir,
                    format!(
                        "several variant weights files and no variant chosen: {} (choose one \
                         with the variant option, e.g. \"fp16\")",
                        list(&names)
                    ),
                )),
                _ => pick(plain, "without a variant"),
            }
        }
    }
}

/// A memory-mapped safetensors file with its parsed header.
pub(crate) struct WeightFile {
    path: PathBuf,
    mmap: Mmap,
    data_start: usize,
    metadata: Metadata,
}

impl std::fmt::Debug for WeightFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeightFile")
            .field("path", &self.path)
            .finish()
    }
}

impl WeightFile {
    /// Map the file and parse its header (the safetensors crate checks that every tensor's
    /// byte range lies in the file and matches its dtype and shape).
    pub fn open(path: &Path) -> Result<Self, SdError> {
        // stat first: a FIFO or a device is refused before it is opened or mapped
        let (mut file, size) =
            nao_fs::input::open_regular(path).map_err(|e| SdError::io(path, e.detail()))?;
        // The header says how long the file is; only that much is mapped, and a file of
        // another length (trailing gigabytes, a truncated copy) is named before any mapping.
        let length = declared_length(&mut file, size, path)?;
        // SAFETY: the map is read-only and private to this process. Like every safetensors
        // reader that maps files, it assumes no other process truncates or rewrites the file
        // while the model is being loaded.
        let mmap = unsafe { memmap2::MmapOptions::new().len(length).map(&file) }
            .map_err(|e| SdError::io(path, e))?;
        let (header, metadata) = SafeTensors::read_metadata(&mmap)
            .map_err(|e| SdError::weights(path, format!("not a valid safetensors file: {e:?}")))?;
        Ok(Self {
            path: path.to_path_buf(),
            mmap,
            data_start: 8 + header,
            metadata,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.metadata.info(name)
    }

    /// The tensor names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.metadata.tensors().into_keys().collect();
        v.sort();
        v
    }

    fn bytes(&self, info: &TensorInfo) -> &[u8] {
        let (a, b) = info.data_offsets;
        // read_metadata validated the offsets against the buffer length
        &self.mmap[self.data_start + a..self.data_start + b]
    }

    /// Drop the mapped pages of a tensor already converted from this process's memory, so that
    /// loading holds the converted model and one tensor, not the file's pages as well (they
    /// stay in the page cache; a later read maps them again). Only advice: a failure changes
    /// nothing but the memory figure.
    fn release(&self, info: &TensorInfo) {
        #[cfg(unix)]
        {
            let (a, b) = info.data_offsets;
            // SAFETY: the mapping is private, read-only and backed by the file: after
            // MADV_DONTNEED a read maps the file's (unchanged) bytes again, so no slice of it
            // can observe a change. No slice of this range is alive here.
            let _ = unsafe {
                self.mmap.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    self.data_start + a,
                    b - a,
                )
            };
        }
        #[cfg(not(unix))]
        let _ = info;
    }
}

/// The largest safetensors header read (the safetensors crate's own limit).
const MAX_HEADER: u64 = 100_000_000;

/// The length a safetensors file must have by its header: 8 bytes of header length, the
/// header, and the data up to the end of its last tensor. Errors name the file and both sizes.
fn declared_length(file: &mut std::fs::File, size: u64, path: &Path) -> Result<usize, SdError> {
    use std::io::Read;
    let bad = |message: String| SdError::weights(path, message);
    let mut prefix = [0u8; 8];
    file.read_exact(&mut prefix).map_err(|_| {
        bad(format!(
            "not a valid safetensors file: {size} bytes, too short"
        ))
    })?;
    let n = u64::from_le_bytes(prefix);
    if n > MAX_HEADER || n > size - 8 {
        return Err(bad(format!(
            "not a valid safetensors file: its header claims {n} bytes in a file of {size}"
        )));
    }
    let mut header = vec![0u8; n as usize];
    file.read_exact(&mut header)
        .map_err(|e| SdError::io(path, e))?;
    let value: serde_json::Value = serde_json::from_slice(&header).map_err(|e| {
        bad(format!(
            "not a valid safetensors file: the header is not JSON: {e}"
        ))
    })?;
    let mut end = 0u64;
    for (name, t) in value.as_object().into_iter().flatten() {
        if name == "__metadata__" {
            continue;
        }
        let offset = t["data_offsets"][1]
            .as_u64()
            .ok_or_else(|| bad(format!("tensor '{name}' has no data_offsets in the header")))?;
        end = end.max(offset);
    }
    let expected = (8 + n).checked_add(end).ok_or_else(|| {
        bad(format!(
            "not a valid safetensors file: a tensor ends at byte {end}, past any file"
        ))
    })?;
    if size != expected {
        let what = if size > expected {
            format!("{} bytes after its last tensor", size - expected)
        } else {
            format!(
                "{} bytes missing at its end (a truncated copy?)",
                expected - size
            )
        };
        return Err(bad(format!(
            "{size} bytes, but its header describes {expected}: {what}"
        )));
    }
    usize::try_from(expected).map_err(|_| bad(format!("{expected} bytes: too large")))
}

/// The burn dtype networks compute in at `precision`, if `device` supports it.
pub(crate) fn compute_dtype(precision: Precision, device: &Device) -> Result<DType, SdError> {
    let dtype = match precision {
        Precision::F32 => DType::F32,
        Precision::F16 => DType::F16,
        Precision::Bf16 => DType::BF16,
    };
    if device.supports_dtype(dtype) {
        Ok(dtype)
    } else {
        Err(SdError::Device(format!(
            "precision {precision} is not supported for computation on the device {device:?}; \
             use f32 (the default) or another device"
        )))
    }
}

/// One network from a component folder alone (`text_encoder/`, `unet/`, `vae/`): its weights
/// file chosen by `options.variant` ([`select_file`]) and mapped, every tensor checked against
/// what `build` takes (names, shapes, dtypes, nothing missing or left over but `ignored`),
/// then `build` run again converting each tensor to `options.precision` on `device` — as
/// [`StableDiffusion::load`](crate::StableDiffusion::load) does for each file.
///
/// `config` is the component's config file (named in errors); `prefix` gives the prefix of
/// every tensor name in the mapped file.
pub(crate) fn load_component<T>(
    dir: &Path,
    config: &Path,
    device: &Device,
    options: &SdOptions,
    prefix: fn(&WeightFile) -> &'static str,
    ignored: &[&str],
    build: impl Fn(&mut Loader) -> Result<T, SdError>,
) -> Result<T, SdError> {
    let dtype = compute_dtype(options.precision, device)?;
    let file = WeightFile::open(&select_file(dir, options.variant.as_deref())?)?;
    let run = |mode| -> Result<T, SdError> {
        let mut loader = Loader::new(&file, config, device, dtype, mode).with_prefix(prefix(&file));
        let network = build(&mut loader)?;
        loader.finish(ignored)?;
        Ok(network)
    };
    // names, shapes and dtypes of the whole file before any tensor is converted
    run(Mode::Check)?;
    run(Mode::Load)
}

/// Whether a loader only checks names and shapes (building modules of empty tensors) or loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Check every tensor's presence, dtype and shape; allocate nothing from the file.
    Check,
    /// Convert each tensor into a burn tensor on the device.
    Load,
    /// No file: record the name and shape of every tensor the configs imply (what a weights
    /// file for them must hold; the random-weights writer's list).
    Plan,
}

/// A tensor the configs imply: its full name and shape.
pub(crate) type Planned = (String, Vec<usize>);

/// Takes the tensors of one file by name, each checked against the shape its config implies.
pub(crate) struct Loader<'a> {
    /// `None` in [`Mode::Plan`].
    file: Option<&'a WeightFile>,
    config: &'a Path,
    device: Device,
    dtype: DType,
    mode: Mode,
    /// Prefix of every name (`text_model.` in older text encoder files).
    prefix: String,
    used: HashSet<String>,
    planned: Vec<Planned>,
}

impl<'a> Loader<'a> {
    pub fn new(
        file: &'a WeightFile,
        config: &'a Path,
        device: &Device,
        dtype: DType,
        mode: Mode,
    ) -> Self {
        Self {
            file: Some(file),
            config,
            device: device.clone(),
            dtype,
            mode,
            prefix: String::new(),
            used: HashSet::new(),
            planned: Vec::new(),
        }
    }

    /// A loader without a file that records what the configs imply ([`Mode::Plan`]).
    pub fn plan(config: &'a Path, device: &Device) -> Self {
        Self {
            file: None,
            config,
            device: device.clone(),
            dtype: DType::F32,
            mode: Mode::Plan,
            prefix: String::new(),
            used: HashSet::new(),
            planned: Vec::new(),
        }
    }

    /// The device tensors are loaded onto.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The compute dtype tensors are converted to.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Prefix every name with `prefix`.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// A config error naming the component's config file.
    pub fn config_err(&self, message: String) -> SdError {
        SdError::config(self.config, message)
    }

    /// Whether the file holds a tensor of this name (never, in [`Mode::Plan`]: plans use the
    /// current names).
    pub fn has(&self, name: &str) -> bool {
        self.file
            .is_some_and(|f| f.info(&format!("{}{name}", self.prefix)).is_some())
    }

    /// The tensor `name`, which must have `shape`.
    pub fn tensor<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
    ) -> Result<Tensor<D>, SdError> {
        let values = self.values(name, &shape)?;
        Ok(match values {
            None => Tensor::empty([0; D], (&self.device, self.dtype)),
            Some(v) => self.upload(v, shape.to_vec()),
        })
    }

    /// A PyTorch `[out, in]` matrix as burn's `[in, out]`.
    fn matrix_transposed(
        &mut self,
        name: &str,
        out: usize,
        inp: usize,
    ) -> Result<Tensor<2>, SdError> {
        let values = self.values(name, &[out, inp])?;
        Ok(match values {
            None => Tensor::empty([0, 0], (&self.device, self.dtype)),
            Some(v) => {
                let mut t = vec![0.0f32; v.len()];
                for o in 0..out {
                    for i in 0..inp {
                        t[i * out + o] = v[o * inp + i];
                    }
                }
                self.upload(t, vec![inp, out])
            }
        })
    }

    /// Check a tensor; in load mode, its values as f32 (one tensor at a time).
    fn values(&mut self, name: &str, shape: &[usize]) -> Result<Option<Vec<f32>>, SdError> {
        let full = format!("{}{name}", self.prefix);
        let Some(file) = self.file else {
            self.planned.push((full, shape.to_vec()));
            return Ok(None);
        };
        let path = file.path();
        let info = file.info(&full).ok_or_else(|| {
            SdError::weights(
                path,
                format!(
                    "tensor '{full}' is missing (the config {} implies it, with shape {shape:?})",
                    self.config.display()
                ),
            )
        })?;
        if !matches!(info.dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16) {
            return Err(SdError::weights(
                path,
                format!(
                    "tensor '{full}' has dtype {:?}; only F32, F16 and BF16 weights are read",
                    info.dtype
                ),
            ));
        }
        if info.shape != shape {
            return Err(SdError::weights(
                path,
                format!(
                    "tensor '{full}' has shape {:?} but the config {} implies {shape:?}",
                    info.shape,
                    self.config.display()
                ),
            ));
        }
        self.used.insert(full);
        if self.mode == Mode::Check {
            return Ok(None);
        }
        let bytes = file.bytes(info);
        let values = match info.dtype {
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            _ => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        };
        file.release(info);
        Ok(Some(values))
    }

    fn upload<const D: usize>(&self, values: Vec<f32>, shape: Vec<usize>) -> Tensor<D> {
        let data = match self.dtype {
            DType::F16 => TensorData::new(
                values
                    .into_iter()
                    .map(half::f16::from_f32)
                    .collect::<Vec<_>>(),
                shape,
            ),
            DType::BF16 => TensorData::new(
                values
                    .into_iter()
                    .map(half::bf16::from_f32)
                    .collect::<Vec<_>>(),
                shape,
            ),
            _ => TensorData::new(values, shape),
        };
        Tensor::from_data(data, (&self.device, self.dtype))
    }

    /// `prefix.weight` `[out, in]` and, with `bias`, `prefix.bias` `[out]`.
    pub fn linear(
        &mut self,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        bias: bool,
    ) -> Result<Linear, SdError> {
        let weight = self.matrix_transposed(&format!("{prefix}.weight"), d_out, d_in)?;
        let bias = if bias {
            Some(constant(self.tensor(&format!("{prefix}.bias"), [d_out])?))
        } else {
            None
        };
        Ok(Linear {
            weight: constant(weight),
            bias,
        })
    }

    /// A `k×k` convolution with bias, symmetric padding `(k − 1) / 2` unless given.
    pub fn conv2d(
        &mut self,
        prefix: &str,
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: Option<PaddingConfig2d>,
    ) -> Result<Conv2d, SdError> {
        let weight = self.tensor(&format!("{prefix}.weight"), [c_out, c_in, kernel, kernel])?;
        let bias = self.tensor(&format!("{prefix}.bias"), [c_out])?;
        let p = (kernel - 1) / 2;
        Ok(Conv2d {
            weight: constant(weight),
            bias: Some(constant(bias)),
            stride: [stride, stride],
            kernel_size: [kernel, kernel],
            dilation: [1, 1],
            groups: 1,
            padding: padding.unwrap_or(PaddingConfig2d::Explicit(p, p, p, p)),
        })
    }

    /// An affine group norm; `groups` must divide `channels`.
    pub fn group_norm(
        &mut self,
        prefix: &str,
        groups: usize,
        channels: usize,
        eps: f64,
    ) -> Result<GroupNorm, SdError> {
        if channels % groups != 0 {
            return Err(self.config_err(format!(
                "'norm_num_groups' = {groups} does not divide the {channels} channels of \
                 {}{prefix}",
                self.prefix
            )));
        }
        let gamma = self.tensor(&format!("{prefix}.weight"), [channels])?;
        let beta = self.tensor(&format!("{prefix}.bias"), [channels])?;
        Ok(GroupNorm {
            gamma: Some(constant(gamma)),
            beta: Some(constant(beta)),
            num_groups: groups,
            num_channels: channels,
            epsilon: eps,
            affine: true,
        })
    }

    /// An affine layer norm over `dim`.
    pub fn layer_norm(&mut self, prefix: &str, dim: usize, eps: f64) -> Result<LayerNorm, SdError> {
        let gamma = self.tensor(&format!("{prefix}.weight"), [dim])?;
        let beta = self.tensor(&format!("{prefix}.bias"), [dim])?;
        // `epsilon` is private: build the module from its config, then set the parameters
        let mut norm = LayerNormConfig::new(dim)
            .with_epsilon(eps)
            .init(&self.device);
        norm.gamma = constant(gamma);
        norm.beta = Some(constant(beta));
        Ok(norm)
    }

    /// Every tensor of the file must have been taken, except those named in `ignored`
    /// (buffers such as CLIP's `position_ids`; a name ending in `*` stands for every name it
    /// begins, such as a whole CLIP model's `text_model.*` beside its vision tower). Returns the tensors recorded in [`Mode::Plan`]
    /// (none in the other modes).
    pub fn finish(self, ignored: &[&str]) -> Result<Vec<Planned>, SdError> {
        let Some(file) = self.file else {
            return Ok(self.planned);
        };
        let unexpected: Vec<String> = file
            .names()
            .into_iter()
            .filter(|n| !self.used.contains(n))
            .filter(|n| {
                let name = n.strip_prefix(&self.prefix);
                !ignored.iter().any(|i| match i.strip_suffix('*') {
                    Some(start) => name.is_some_and(|n| n.starts_with(start)),
                    None => name == Some(*i),
                })
            })
            .collect();
        if unexpected.is_empty() {
            return Ok(Vec::new());
        }
        let shown: Vec<&str> = unexpected.iter().take(5).map(String::as_str).collect();
        Err(SdError::weights(
            file.path(),
            format!(
                "{} unexpected tensor(s) that the config {} does not describe: {}{}",
                unexpected.len(),
                self.config.display(),
                shown.join(", "),
                if unexpected.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            ),
        ))
    }
}

/// A weight as a burn parameter that never takes a gradient: nao runs these networks and
/// differentiates through them (SeedSelect), never trains them, so on an autodiff device the
/// gradients stop at the inputs and no memory goes to the weights' gradients.
fn constant<const D: usize>(tensor: Tensor<D>) -> Param<Tensor<D>> {
    Param::from_tensor(tensor).set_require_grad(false)
}

#[cfg(test)]
mod fuzz {
    //! The safetensors header path: a length prefix and a JSON header of tensors with arbitrary
    //! dtypes, shapes and offsets, over a file of arbitrary length, never panics; an accepted
    //! file has every tensor inside it.

    use super::*;
    use nao_test_support::fuzz::extreme_number;
    use proptest::prelude::*;

    fn tensor_entry() -> impl Strategy<Value = serde_json::Value> {
        (
            prop_oneof![Just("F32"), Just("F16"), Just("BF16"), Just("I64"), Just("X")],
            proptest::collection::vec(extreme_number(), 0..4),
            (extreme_number(), extreme_number()),
        )
            .prop_map(|(dtype, shape, (a, b))| {
                serde_json::json!({ "dtype": dtype, "shape": shape, "data_offsets": [a, b] })
            })
    }

    fn file() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::btree_map("[a-z.]{1,6}", tensor_entry(), 0..4),
            any::<Option<u64>>(),
            0usize..256,
        )
            .prop_map(|(tensors, length, data)| {
                let header = serde_json::to_vec(&tensors).unwrap();
                let len = length.unwrap_or(header.len() as u64);
                let mut b = len.to_le_bytes().to_vec();
                b.extend_from_slice(&header);
                b.resize(b.len() + data, 0);
                b
            })
    }

    proptest! {
        #![proptest_config(nao_test_support::fuzz::config(64))]
        #[test]
        fn headers_never_panic(bytes in file()) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("w.safetensors");
            std::fs::write(&p, &bytes).unwrap();
            if let Ok(w) = WeightFile::open(&p) {
                for name in w.names() {
                    let info = w.info(&name).unwrap();
                    prop_assert!(w.data_start + info.data_offsets.1 <= bytes.len());
                }
            }
        }
    }
}
