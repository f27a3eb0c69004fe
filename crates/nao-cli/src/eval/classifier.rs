//! The classifier `nao eval` scores images with and whose penultimate layer is its feature
//! space: the embedded model's, or any ONNX image classifier.

use std::path::{Path, PathBuf};

use nao_backend::Tensor;
use nao_inversion::ImageSpec;
use nao_metrics::Features;
use nao_onnx::{GraphInput, OnnxGraph, OnnxOptions};

use crate::error::CliError;

/// A classifier's verdict on one image.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The most likely class.
    pub class: usize,
    /// The probability of every class (softmax of the logits).
    pub probabilities: Vec<f32>,
}

/// What `nao eval` needs of a classifier.
pub trait FeatureClassifier {
    /// How images are loaded for it (channels, size).
    fn spec(&self) -> ImageSpec;
    /// The class a folder name stands for.
    fn class_index(&self, folder: &str) -> Result<usize, CliError>;
    /// Verdicts and penultimate-layer features of images `[b, c, h, w]` in `[−1, 1]` (as
    /// `nao_inversion::load_image` gives them).
    fn score(&self, images: &Tensor) -> Result<(Vec<Verdict>, Features), CliError>;
    /// A short description for reports.
    fn describe(&self) -> String;
}

/// The embedded model's classifier (burn, cpu).
pub struct Embedded {
    model: nao_burn::BurnModel,
}

impl Embedded {
    /// The embedded classifier on burn's CPU backend.
    pub fn new() -> Result<Self, CliError> {
        let device = nao_models::open_burn_device(nao_backend::Device::Cpu)
            .map_err(|e| CliError::compute("the CPU backend", e))?;
        let model = nao_burn::BurnModel::embedded(&device)
            .map_err(|e| CliError::compute("loading the embedded model", e))?;
        Ok(Self { model })
    }
}

impl FeatureClassifier for Embedded {
    fn spec(&self) -> ImageSpec {
        ImageSpec {
            channels: 1,
            height: nao_burn::IMAGE_SIDE,
            width: nao_burn::IMAGE_SIDE,
        }
    }

    fn class_index(&self, folder: &str) -> Result<usize, CliError> {
        match nao_burn::class_from_prompt(folder) {
            Ok(Some(c)) => Ok(c),
            _ => Err(CliError::input(format!(
                "class folder '{folder}' names no class of the embedded classifier (known: {})",
                nao_burn::CLASS_SLUGS.join(", ")
            ))),
        }
    }

    fn score(&self, images: &Tensor) -> Result<(Vec<Verdict>, Features), CliError> {
        let unit = Tensor {
            shape: images.shape.clone(),
            data: images.data.iter().map(|v| (v + 1.0) * 0.5).collect(),
        };
        let (verdicts, features) = self
            .model
            .classify_with_features(&unit)
            .map_err(|e| CliError::compute("the embedded classifier", e))?;
        let dim = features.shape[1];
        let verdicts = verdicts
            .into_iter()
            .map(|p| Verdict {
                class: p.class,
                probabilities: p.probabilities.to_vec(),
            })
            .collect();
        let features = Features::from_f32(dim, &features.data)
            .map_err(|e| CliError::compute("classifier features", e))?;
        Ok((verdicts, features))
    }

    fn describe(&self) -> String {
        "the embedded Fashion-MNIST classifier (penultimate layer, 128 features)".into()
    }
}

/// How an ONNX classifier is fed and read.
#[derive(Debug, Clone)]
pub struct OnnxSpec {
    /// The `.onnx` file.
    pub path: PathBuf,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// Image channels and size (from the options, else the model's declared input).
    pub channels: Option<usize>,
    /// `(height, width)`.
    pub size: Option<(usize, usize)>,
    /// Per-channel mean and std applied to pixels in `[0, 1]`.
    pub mean: Vec<f32>,
    /// See `mean`.
    pub std: Vec<f32>,
    /// The output holding the features.
    pub features_output: String,
    /// The output holding the logits.
    pub logits_output: String,
}

/// An ONNX image classifier on ONNX Runtime.
pub struct Onnx {
    graph: OnnxGraph,
    input: String,
    spec: ImageSpec,
    onnx: OnnxSpec,
}

impl Onnx {
    /// Load the model and check its input against the options.
    pub fn load(onnx: OnnxSpec, options: &OnnxOptions) -> Result<Self, CliError> {
        let bytes = nao_fs::input::read_limited(&onnx.path, 4 << 30)?;
        let graph = OnnxGraph::from_memory("classifier", onnx.path.clone(), &bytes, options)
            .map_err(|e| CliError::input(format!("--classifier {}: {e}", onnx.path.display())))?;
        let inputs = graph.inputs();
        let [input] = inputs.as_slice() else {
            return Err(CliError::input(format!(
                "--classifier {}: the model has {} inputs; an image classifier has one",
                onnx.path.display(),
                inputs.len()
            )));
        };
        let declared = |i: usize| input.shape.get(i).and_then(|&d| usize::try_from(d).ok());
        if input.shape.len() != 4 {
            return Err(CliError::input(format!(
                "--classifier {}: input {input} is not [batch, channels, height, width]",
                onnx.path.display()
            )));
        }
        let pick = |given: Option<usize>, i: usize, what: &str| -> Result<usize, CliError> {
            match (given, declared(i)) {
                (Some(g), Some(d)) if g != d => Err(CliError::input(format!(
                    "--classifier {}: {what} {g} given, but the model's input {input} declares {d}",
                    onnx.path.display()
                ))),
                (Some(g), _) => Ok(g),
                (None, Some(d)) => Ok(d),
                (None, None) => Err(CliError::input(format!(
                    "--classifier {}: the model leaves its {what} open; give it with {}",
                    onnx.path.display(),
                    if what == "channels" {
                        "--channels"
                    } else {
                        "--input-size H,W"
                    }
                ))),
            }
        };
        let channels = pick(onnx.channels, 1, "channels")?;
        let height = pick(onnx.size.map(|s| s.0), 2, "height")?;
        let width = pick(onnx.size.map(|s| s.1), 3, "width")?;
        if !matches!(channels, 1 | 3) {
            return Err(CliError::input(format!(
                "--classifier {}: {channels} input channels; images have 1 or 3",
                onnx.path.display()
            )));
        }
        for (name, v) in [("--mean", &onnx.mean), ("--std", &onnx.std)] {
            if v.len() != 1 && v.len() != channels {
                return Err(CliError::input(format!(
                    "{name}: {} values for {channels} channels (give 1 or {channels})",
                    v.len()
                )));
            }
        }
        if onnx.std.iter().any(|&s| !(s.is_finite() && s > 0.0))
            || onnx.mean.iter().any(|m| !m.is_finite())
        {
            return Err(CliError::input("--mean/--std: finite values, std > 0"));
        }
        let outputs: Vec<String> = graph.outputs().into_iter().map(|p| p.name).collect();
        for (option, name) in [
            ("--features-output", &onnx.features_output),
            ("--logits-output", &onnx.logits_output),
        ] {
            if !outputs.contains(name) {
                return Err(CliError::input(format!(
                    "{option} {name}: --classifier {} has no such output (its outputs: {})",
                    onnx.path.display(),
                    outputs.join(", ")
                )));
            }
        }
        Ok(Self {
            input: input.name.clone(),
            graph,
            spec: ImageSpec {
                channels,
                height,
                width,
            },
            onnx,
        })
    }
}

/// Read a labels file: one class name per line, in logit order.
pub fn read_labels(path: &Path) -> Result<Vec<String>, CliError> {
    let text = nao_fs::input::read_text_limited(path, nao_fs::input::CONFIG_LIMIT)?;
    let labels: Vec<String> = text
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.is_empty() {
        return Err(CliError::input(format!(
            "--labels {}: no class names (one per line, in the classifier's logit order)",
            path.display()
        )));
    }
    Ok(labels)
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| (e / sum) as f32).collect()
}

impl FeatureClassifier for Onnx {
    fn spec(&self) -> ImageSpec {
        self.spec
    }

    fn class_index(&self, folder: &str) -> Result<usize, CliError> {
        let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], " ");
        self.onnx
            .labels
            .iter()
            .position(|l| norm(l) == norm(folder))
            .ok_or_else(|| {
                CliError::input(format!(
                    "class folder '{folder}' is not in --labels (known: {})",
                    self.onnx.labels.join(", ")
                ))
            })
    }

    fn score(&self, images: &Tensor) -> Result<(Vec<Verdict>, Features), CliError> {
        let [b, c, h, w] = images.shape[..] else {
            return Err(CliError::compute(
                "classifier input",
                format!("{:?}", images.shape),
            ));
        };
        let plane = h * w;
        let at = |v: &[f32], ch: usize| v[if v.len() == 1 { 0 } else { ch }];
        let input: Vec<f32> = images
            .data
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let ch = (i / plane) % c;
                ((x + 1.0) * 0.5 - at(&self.onnx.mean, ch)) / at(&self.onnx.std, ch)
            })
            .collect();
        let run = |output: &str| {
            self.graph
                .run(
                    &[(
                        &self.input,
                        images.shape.as_slice(),
                        GraphInput::Float(&input),
                    )],
                    output,
                )
                .map_err(|e| CliError::compute("the ONNX classifier", e))
        };
        let (fshape, features) = run(&self.onnx.features_output)?;
        let (lshape, logits) = run(&self.onnx.logits_output)?;
        if fshape.first() != Some(&b) || lshape != [b, self.onnx.labels.len()] {
            return Err(CliError::input(format!(
                "--classifier {}: outputs {fshape:?} (features) and {lshape:?} (logits) for {b} \
                 images and {} labels",
                self.onnx.path.display(),
                self.onnx.labels.len()
            )));
        }
        let dim = features.len() / b;
        let verdicts = logits
            .chunks(lshape[1])
            .map(|row| {
                let probabilities = softmax(row);
                let class = (0..row.len())
                    .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
                    .unwrap_or(0);
                Verdict {
                    class,
                    probabilities,
                }
            })
            .collect();
        let features = Features::from_f32(dim, &features)
            .map_err(|e| CliError::compute("classifier features", e))?;
        Ok((verdicts, features))
    }

    fn describe(&self) -> String {
        format!(
            "{} (output '{}', {} classes)",
            self.onnx.path.display(),
            self.onnx.features_output,
            self.onnx.labels.len()
        )
    }
}
