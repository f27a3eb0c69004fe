use thiserror::Error;

/// Errors of opening devices and models; each says what to do instead.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelsError {
    /// The device is not compiled into this build.
    #[error("device '{device}' is not compiled in: build with the Cargo feature '{feature}' (e.g. `cargo run --release -p nao-cli --features {feature}`)")]
    NotCompiled {
        /// the device asked for
        device: String,
        /// the feature that adds it
        feature: &'static str,
    },
    /// The device is compiled in but does not work on this machine.
    #[error("device '{device}' is not usable here: {message}")]
    Unusable {
        /// the device
        device: String,
        /// what went wrong (no adapter, no GPU, …)
        message: String,
    },
    /// The model kind does not run on the device.
    #[error("--device {device}: {model} is {kind}, which runs on {supported}{hint}")]
    WrongEngine {
        /// the device asked for
        device: String,
        /// the model folder
        model: String,
        /// what the folder holds
        kind: &'static str,
        /// the devices that run it
        supported: String,
        /// why, where the kind says more
        hint: &'static str,
    },
    /// A folder holds no model nao knows.
    #[error("{path}: {message}")]
    NotAModel {
        /// the folder
        path: String,
        /// what is there and what was expected
        message: String,
    },
    /// The model lacks a component the command needs.
    #[error("{model}: has no {component}, which this command needs ({purpose})")]
    MissingComponent {
        /// the model
        model: String,
        /// the component ("VAE encoder", …), with its file where the kind has one
        component: String,
        /// what it is needed for
        purpose: &'static str,
    },
    /// Loading the model failed (its own error names the file).
    #[error("cannot load the model {model}: {message}")]
    Load {
        /// the model
        model: String,
        /// the loader's error
        message: String,
    },
    /// An option is out of range.
    #[error("{0}")]
    Invalid(String),
}
