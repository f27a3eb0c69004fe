//! The evaluation classifier: a small CNN trained on the full, balanced Fashion-MNIST set.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::classes::NUM_CLASSES;

/// Sizes of the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// Channels of the first convolution (doubled in the second).
    pub channels: usize,
    /// Width of the hidden dense layer.
    pub hidden: usize,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            channels: 32,
            hidden: 128,
        }
    }
}

/// The classifier module: two conv + max-pool stages, two dense layers.
#[derive(Module, Debug)]
pub struct Classifier {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
}

impl Classifier {
    /// A freshly initialised classifier on `device`.
    pub fn new(config: &ClassifierConfig, device: &Device) -> Self {
        let c = config.channels;
        let pad = PaddingConfig2d::Explicit(1, 1, 1, 1);
        Self {
            conv1: Conv2dConfig::new([1, c], [3, 3])
                .with_padding(pad.clone())
                .init(device),
            conv2: Conv2dConfig::new([c, 2 * c], [3, 3])
                .with_padding(pad)
                .init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(2 * c * 7 * 7, config.hidden).init(device),
            fc2: LinearConfig::new(config.hidden, NUM_CLASSES).init(device),
        }
    }

    /// Class logits `[b, 10]` for images `[b, 1, 28, 28]` in `[−1, 1]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.logits(self.features(images))
    }

    /// Class logits `[b, 10]` from penultimate features `[b, hidden]`.
    pub fn logits(&self, features: Tensor<2>) -> Tensor<2> {
        self.fc2.forward(features)
    }

    /// The penultimate layer `[b, hidden]` (after its ReLU): the feature space in which `nao
    /// eval` measures distances between image sets.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.conv1.forward(images)));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        let [b, c, h, w] = x.dims();
        relu(self.fc1.forward(x.reshape([b, c * h * w])))
    }
}

/// The classifier as an ONNX graph (see [`crate::OnnxExport`]), mirroring
/// [`Classifier::features`] and [`Classifier::logits`] line by line, with both as outputs: any
/// ONNX tool can score images and read the feature space `nao eval` measures in.
mod onnx {
    use super::Classifier;
    use crate::error::BurnModelError;
    use crate::onnx_graph::graph::{Dim, ElemType, Graph};
    use crate::onnx_graph::layers::{conv2d, linear, max_pool2};

    impl Classifier {
        /// `images [batch, 1, side, side]` in `[−1, 1]` → `features [batch, hidden]` and
        /// `logits [batch, 10]`.
        pub(crate) fn onnx_graph(&self, side: usize) -> Result<Vec<u8>, BurnModelError> {
            let mut g = Graph::new();
            let x = g.input("images", ElemType::Float, &Dim::grey_images(side));
            let x = conv2d(&mut g, &self.conv1, &x)?;
            let x = g.node("Relu", &[&x], &[]);
            let x = max_pool2(&mut g, &x);
            let x = conv2d(&mut g, &self.conv2, &x)?;
            let x = g.node("Relu", &[&x], &[]);
            let x = max_pool2(&mut g, &x);
            let x = g.node(
                "Flatten",
                &[&x],
                &[crate::onnx_graph::graph::Attr::Int("axis", 1)],
            );
            let x = linear(&mut g, &self.fc1, &x)?;
            let features = g.node("Relu", &[&x], &[]);
            let logits = linear(&mut g, &self.fc2, &features)?;
            let hidden = self.fc1.weight.dims()[1];
            let classes = self.fc2.weight.dims()[1];
            g.output(
                &features,
                "features",
                ElemType::Float,
                &[Dim::Batch, Dim::Fixed(hidden)],
            );
            g.output(
                &logits,
                "logits",
                ElemType::Float,
                &[Dim::Batch, Dim::Fixed(classes)],
            );
            Ok(g.finish("nao-burn classifier"))
        }
    }
}
