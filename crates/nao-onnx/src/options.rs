//! How to run the sessions: threads, execution provider, which ONNX Runtime library.

use std::path::PathBuf;

use crate::OnnxError;

/// Where the models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ExecutionProvider {
    /// ONNX Runtime's CPU provider (the default).
    #[default]
    Cpu,
    /// NVIDIA GPUs through ONNX Runtime's CUDA provider. Needs this crate's `cuda` feature and
    /// a CUDA build of ONNX Runtime (the `onnxruntime-gpu` wheel); loading fails instead of
    /// silently falling back to the CPU.
    Cuda {
        /// The GPU ordinal.
        device_id: i32,
    },
}

impl ExecutionProvider {
    /// Whether this build can use the provider (`Cuda` needs the `cuda` feature).
    pub fn is_compiled_in(self) -> bool {
        match self {
            ExecutionProvider::Cpu => true,
            ExecutionProvider::Cuda { .. } => cfg!(feature = "cuda"),
        }
    }
}

/// Options of [`OnnxBackend::load`](crate::OnnxBackend::load), built like
/// `OnnxOptions::default().with_threads(2)`.
///
/// ```
/// use nao_onnx::{ExecutionProvider, OnnxOptions};
///
/// let options = OnnxOptions::default()
///     .with_threads(2)
///     .with_library_path("/opt/onnxruntime/libonnxruntime.so.1.31.1");
/// assert_eq!(options.threads, Some(2));
/// assert_eq!(options.execution_provider, ExecutionProvider::Cpu);
/// assert!(options.validate().is_ok());
/// assert!(OnnxOptions::default().with_threads(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OnnxOptions {
    /// Intra-op threads of each session; `None` lets ONNX Runtime choose (one per core).
    pub threads: Option<usize>,
    /// Where the models run.
    pub execution_provider: ExecutionProvider,
    /// The ONNX Runtime shared library (`libonnxruntime.so.1.31.1`, …); `None` reads
    /// `ORT_DYLIB_PATH`. The first backend of a process loads the library; later ones must
    /// name the same file or none.
    pub library_path: Option<PathBuf>,
}

impl OnnxOptions {
    /// Use `threads` intra-op threads per session.
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Run on `provider`.
    #[must_use]
    pub fn with_execution_provider(mut self, provider: ExecutionProvider) -> Self {
        self.execution_provider = provider;
        self
    }

    /// Load ONNX Runtime from this file instead of `ORT_DYLIB_PATH`.
    #[must_use]
    pub fn with_library_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.library_path = Some(path.into());
        self
    }

    /// Check the options without loading anything.
    pub fn validate(&self) -> Result<(), OnnxError> {
        if self.threads == Some(0) {
            return Err(OnnxError::Options(
                "threads must be at least 1 (or unset to let ONNX Runtime choose)".into(),
            ));
        }
        if let Some(t) = self.threads.filter(|&t| t > max_threads()) {
            // ONNX Runtime's thread pool crashes or hangs far past the core count
            return Err(OnnxError::Options(format!(
                "{t} threads: at most {} ({THREADS_PER_CORE} per core of the {} this machine \
                 has)",
                max_threads(),
                cores()
            )));
        }
        if !self.execution_provider.is_compiled_in() {
            return Err(OnnxError::Options(format!(
                "{:?} needs nao-onnx built with the `cuda` feature",
                self.execution_provider
            )));
        }
        if let ExecutionProvider::Cuda { device_id } = self.execution_provider {
            if device_id < 0 {
                return Err(OnnxError::Options(format!(
                    "CUDA device id {device_id} is negative"
                )));
            }
        }
        if self
            .library_path
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(OnnxError::Options("the library path is empty".into()));
        }
        Ok(())
    }
}

/// Intra-op threads allowed per core: more only oversubscribes, and ONNX Runtime's pool dies
/// (100 000 threads) or hangs (1 000 threads on 2 cores) long before the count is absurd.
pub const THREADS_PER_CORE: usize = 4;

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The most intra-op threads a session may be given: [`THREADS_PER_CORE`] per core.
///
/// ```
/// assert!(nao_onnx::max_threads() >= nao_onnx::THREADS_PER_CORE);
/// ```
pub fn max_threads() -> usize {
    THREADS_PER_CORE * cores()
}
