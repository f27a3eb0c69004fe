//! burn layers as ONNX nodes: their parameters become initializers.

use burn::nn::conv::Conv2d;
use burn::nn::{Embedding, LayerNorm, Linear, PaddingConfig2d};
use burn::prelude::*;

use super::graph::{Attr, Graph};
use crate::error::BurnModelError;

/// burn's `LayerNormConfig` default, which the model's layer norms use.
const LAYER_NORM_EPSILON: f32 = 1e-5;

fn values<const D: usize>(t: Tensor<D>) -> Result<(Vec<usize>, Vec<f32>), BurnModelError> {
    let dims = t.dims().to_vec();
    let data = t
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| BurnModelError::Runtime(format!("reading weights back: {e:?}")))?;
    Ok((dims, data))
}

/// `Linear`: `x · W + b` with `W` as `[in, out]` (burn's layout, which `Gemm` takes as is).
pub(crate) fn linear(g: &mut Graph, layer: &Linear, x: &str) -> Result<String, BurnModelError> {
    let (dims, w) = values(layer.weight.val())?;
    let w = g.constant_f32("weight", &dims, &w);
    let mut inputs = vec![x.to_string(), w];
    if let Some(b) = &layer.bias {
        let (dims, b) = values(b.val())?;
        inputs.push(g.constant_f32("bias", &dims, &b));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    Ok(g.node("Gemm", &refs, &[]))
}

/// `Conv2d` with explicit padding (burn's `(top, left, bottom, right)` is ONNX's order).
pub(crate) fn conv2d(g: &mut Graph, layer: &Conv2d, x: &str) -> Result<String, BurnModelError> {
    let pads = match layer.padding {
        PaddingConfig2d::Explicit(t, l, b, r) => [t, l, b, r].map(|p| p as i64),
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Same => {
            return Err(BurnModelError::Invalid(
                "ONNX export: 'same' convolution padding is not supported".into(),
            ))
        }
    };
    let (dims, w) = values(layer.weight.val())?;
    let w = g.constant_f32("weight", &dims, &w);
    let mut inputs = vec![x.to_string(), w];
    if let Some(b) = &layer.bias {
        let (dims, b) = values(b.val())?;
        inputs.push(g.constant_f32("bias", &dims, &b));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let strides = layer.stride.map(|s| s as i64);
    let dilations = layer.dilation.map(|d| d as i64);
    let kernel = layer.kernel_size.map(|k| k as i64);
    Ok(g.node(
        "Conv",
        &refs,
        &[
            Attr::Ints("kernel_shape", &kernel),
            Attr::Ints("strides", &strides),
            Attr::Ints("dilations", &dilations),
            Attr::Ints("pads", &pads),
            Attr::Int("group", layer.groups as i64),
        ],
    ))
}

/// `LayerNorm` over the last axis.
pub(crate) fn layer_norm(
    g: &mut Graph,
    layer: &LayerNorm,
    x: &str,
) -> Result<String, BurnModelError> {
    let (dims, gamma) = values(layer.gamma.val())?;
    let gamma = g.constant_f32("gamma", &dims, &gamma);
    let beta = match &layer.beta {
        Some(b) => {
            let (dims, b) = values(b.val())?;
            g.constant_f32("beta", &dims, &b)
        }
        None => g.constant_f32("beta", &dims, &vec![0.0; dims[0]]),
    };
    Ok(g.node(
        "LayerNormalization",
        &[x, &gamma, &beta],
        &[
            Attr::Int("axis", -1),
            Attr::Float("epsilon", LAYER_NORM_EPSILON),
        ],
    ))
}

/// `Embedding`: rows of the table picked by integer indices `[b]` → `[b, d]`.
pub(crate) fn embedding(
    g: &mut Graph,
    layer: &Embedding,
    indices: &str,
) -> Result<String, BurnModelError> {
    let (dims, w) = values(layer.weight.val())?;
    let table = g.constant_f32("table", &dims, &w);
    Ok(g.node("Gather", &[&table, indices], &[Attr::Int("axis", 0)]))
}

/// Nearest-neighbour ×2 upsampling of `[b, c, h, w]`.
pub(crate) fn upsample2(g: &mut Graph, x: &str) -> String {
    let scales = g.constant_f32("scales", &[4], &[1.0, 1.0, 2.0, 2.0]);
    g.node(
        "Resize",
        &[x, "", &scales],
        &[
            Attr::Str("mode", "nearest"),
            Attr::Str("coordinate_transformation_mode", "asymmetric"),
            Attr::Str("nearest_mode", "floor"),
        ],
    )
}

/// `x[:, start..start + len]` along axis 1.
pub(crate) fn narrow1(g: &mut Graph, x: &str, start: usize, len: usize) -> String {
    let starts = g.constant_i64("starts", &[1], &[start as i64]);
    let ends = g.constant_i64("ends", &[1], &[(start + len) as i64]);
    let axes = g.constant_i64("axes", &[1], &[1]);
    g.node("Slice", &[x, &starts, &ends, &axes], &[])
}

/// 2×2 max pooling with stride 2 of `[b, c, h, w]` (burn's `MaxPool2d` as the classifier uses it).
pub(crate) fn max_pool2(g: &mut Graph, x: &str) -> String {
    g.node(
        "MaxPool",
        &[x],
        &[
            Attr::Ints("kernel_shape", &[2, 2]),
            Attr::Ints("strides", &[2, 2]),
        ],
    )
}
