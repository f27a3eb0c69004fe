//! Any ONNX image classifier as a [`FeatureClassifier`]: one input `[b, c, h, w]`, an output of
//! logits and one of penultimate-layer features, so that `nao eval` can measure generated
//! images of any domain in that classifier's feature space.

use std::path::{Path, PathBuf};

use nao_backend::Tensor;
use nao_metrics::{ClassifierInput, FeatureClassifier, Features, MetricsError, Verdict};

use crate::{GraphInput, OnnxError, OnnxGraph, OnnxOptions};

/// The largest classifier file read.
const MAX_MODEL_BYTES: u64 = 4 << 30;

/// How an ONNX classifier is fed and read.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxClassifierSpec {
    /// The `.onnx` file.
    pub path: PathBuf,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// Input channels, 1 or 3 (`None`: the model's declared input).
    pub channels: Option<usize>,
    /// Input `(height, width)` (`None`: the model's declared input).
    pub size: Option<(usize, usize)>,
    /// Per-channel mean subtracted from pixels in `[0, 1]` (one value, or one per channel).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation pixels are divided by, after the mean.
    pub std: Vec<f32>,
    /// The output holding the penultimate-layer features.
    pub features_output: String,
    /// The output holding the logits.
    pub logits_output: String,
}

impl OnnxClassifierSpec {
    /// A classifier in `path` with class names `labels`, pixels normalised to `[−1, 1]`
    /// (mean and std ½), outputs named `features` and `logits`.
    pub fn new(path: impl Into<PathBuf>, labels: Vec<String>) -> Self {
        Self {
            path: path.into(),
            labels,
            channels: None,
            size: None,
            mean: vec![0.5],
            std: vec![0.5],
            features_output: "features".into(),
            logits_output: "logits".into(),
        }
    }
}

/// An ONNX image classifier on ONNX Runtime.
#[derive(Debug)]
pub struct OnnxClassifier {
    graph: OnnxGraph,
    input_name: String,
    input: ClassifierInput,
    spec: OnnxClassifierSpec,
}

impl OnnxClassifier {
    /// Load the model and check its declared input and outputs against `spec`.
    pub fn load(spec: OnnxClassifierSpec, options: &OnnxOptions) -> Result<Self, OnnxError> {
        let path = spec.path.clone();
        let bad = |message: String| OnnxError::Model {
            path: path.clone(),
            message,
        };
        if spec.labels.is_empty() {
            return Err(bad("no class names were given for its logits".into()));
        }
        let bytes =
            nao_fs::input::read_limited(&path, MAX_MODEL_BYTES).map_err(|e| OnnxError::Io {
                path: path.clone(),
                message: e.detail(),
            })?;
        let graph = OnnxGraph::from_memory("classifier", path.clone(), &bytes, options)?;
        let inputs = graph.inputs();
        let [input] = inputs.as_slice() else {
            return Err(bad(format!(
                "the model has {} inputs; an image classifier has one",
                inputs.len()
            )));
        };
        if input.shape.len() != 4 {
            return Err(bad(format!(
                "input {input} is not [batch, channels, height, width]"
            )));
        }
        let declared = |i: usize| usize::try_from(input.shape[i]).ok();
        let pick = |given: Option<usize>, i: usize, what: &str| match (given, declared(i)) {
            (Some(g), Some(d)) if g != d => Err(bad(format!(
                "{what} {g} given, but the model's input {input} declares {d}"
            ))),
            (Some(g), _) => Ok(g),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(bad(format!(
                "the model leaves its input {what} open; give it"
            ))),
        };
        let channels = pick(spec.channels, 1, "channels")?;
        let height = pick(spec.size.map(|s| s.0), 2, "height")?;
        let width = pick(spec.size.map(|s| s.1), 3, "width")?;
        if !matches!(channels, 1 | 3) {
            return Err(bad(format!(
                "{channels} input channels; images have 1 or 3"
            )));
        }
        for (name, v) in [("mean", &spec.mean), ("std", &spec.std)] {
            if v.len() != 1 && v.len() != channels {
                return Err(OnnxError::Options(format!(
                    "{name}: {} values for {channels} channel(s) (give 1 or {channels})",
                    v.len()
                )));
            }
        }
        if spec.std.iter().any(|&s| !(s.is_finite() && s > 0.0))
            || spec.mean.iter().any(|m| !m.is_finite())
        {
            return Err(OnnxError::Options(
                "mean/std: give finite values, and a std > 0".into(),
            ));
        }
        let outputs: Vec<String> = graph.outputs().into_iter().map(|p| p.name).collect();
        for (field, name) in [
            ("features output", &spec.features_output),
            ("logits output", &spec.logits_output),
        ] {
            if !outputs.contains(name) {
                return Err(bad(format!(
                    "{field} '{name}': the model has no such output (its outputs: {})",
                    outputs.join(", ")
                )));
            }
        }
        Ok(Self {
            input_name: input.name.clone(),
            graph,
            input: ClassifierInput {
                channels,
                height,
                width,
            },
            spec,
        })
    }
}

/// Read a labels file: one class name per line, in logit order (blank lines skipped).
pub fn read_labels(path: &Path) -> Result<Vec<String>, OnnxError> {
    let text =
        nao_fs::input::read_text_limited(path, nao_fs::input::CONFIG_LIMIT).map_err(|e| {
            OnnxError::Io {
                path: path.to_path_buf(),
                message: e.detail(),
            }
        })?;
    let labels: Vec<String> = text
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.is_empty() {
        return Err(OnnxError::Config {
            path: path.to_path_buf(),
            message: "no class names (one per line, in the classifier's logit order)".into(),
        });
    }
    // class folders are matched to labels with case and -/_ ignored: two labels that match
    // alike would make the match ambiguous
    for (i, a) in labels.iter().enumerate() {
        if let Some(j) = labels[..i].iter().position(|b| same_label(a, b)) {
            return Err(OnnxError::Config {
                path: path.to_path_buf(),
                message: format!(
                    "class names {} and {} are the same class ('{}' and '{a}'); each logit needs its \
                     own class name",
                    j + 1,
                    i + 1,
                    labels[j]
                ),
            });
        }
    }
    Ok(labels)
}

/// Whether two class names match, case and `-`/`_` ignored.
fn same_label(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], " ");
    norm(a) == norm(b)
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| (e / sum) as f32).collect()
}

impl FeatureClassifier for OnnxClassifier {
    fn input(&self) -> ClassifierInput {
        self.input
    }

    /// Labels match class folder names with case and `-`/`_` ignored.
    fn class_index(&self, name: &str) -> Result<usize, MetricsError> {
        self.spec
            .labels
            .iter()
            .position(|l| same_label(l, name))
            .ok_or_else(|| MetricsError::UnknownClass {
                name: name.to_string(),
                known: self.spec.labels.join(", "),
            })
    }

    fn score(&self, images: &Tensor) -> Result<(Vec<Verdict>, Features), MetricsError> {
        let [b, c, h, w] = images.shape[..] else {
            return Err(MetricsError::Shape(format!(
                "images of shape {:?}, not [b, c, h, w]",
                images.shape
            )));
        };
        let plane = h * w;
        let at = |v: &[f32], ch: usize| v[if v.len() == 1 { 0 } else { ch }];
        let input: Vec<f32> = images
            .data
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let ch = (i / plane.max(1)) % c.max(1);
                (x - at(&self.spec.mean, ch)) / at(&self.spec.std, ch)
            })
            .collect();
        let run = |output: &str| {
            self.graph
                .run(
                    &[(
                        &self.input_name,
                        images.shape.as_slice(),
                        GraphInput::Float(&input),
                    )],
                    output,
                )
                .map_err(|e| MetricsError::Classifier(e.to_string()))
        };
        let (fshape, features) = run(&self.spec.features_output)?;
        let (lshape, logits) = run(&self.spec.logits_output)?;
        if b == 0 || fshape.first() != Some(&b) || lshape != [b, self.spec.labels.len()] {
            return Err(MetricsError::Classifier(format!(
                "{}: outputs {fshape:?} (features) and {lshape:?} (logits) for {b} images and {} \
                 labels",
                self.spec.path.display(),
                self.spec.labels.len()
            )));
        }
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
        Ok((verdicts, Features::from_f32(features.len() / b, &features)?))
    }

    fn describe(&self) -> String {
        format!(
            "{} (output '{}', {} classes)",
            self.spec.path.display(),
            self.spec.features_output,
            self.spec.labels.len()
        )
    }
}
