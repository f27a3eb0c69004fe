//! The demo's pictures: labelled grids, the NAO interpolation as a GIF, and the χ density with
//! the norm of every kind of seed on it.

use std::collections::BTreeMap;
use std::path::Path;

use image::{DynamicImage, RgbImage};
use nao_prior::ChiPrior;
use nao_viz::{labelled_grid, DensityPlot, GridOptions, GridRow, MarkerGroup};

use crate::{DemoError, Result};

/// The kinds of seed on the norm picture, in legend order, with fixed colours: the palette has
/// 8, and NAO's two groups share the one that stands out.
pub(crate) const NORM_GROUPS: [(&str, [u8; 3]); 9] = [
    ("random seeds", [90, 90, 90]),
    ("inverted seeds", [31, 119, 180]),
    ("LERP midpoints", [255, 127, 14]),
    ("Euclidean centroids", [214, 39, 40]),
    ("Gaussian centroids", [148, 103, 189]),
    ("normalized centroids", [140, 86, 75]),
    ("spherical centroids", [227, 119, 194]),
    ("NAO centroids", [44, 160, 44]),
    ("NAO path points", [23, 190, 207]),
];

/// The norm picture's name for the centroids of a seed method's report key.
pub(crate) fn centroid_group(key: &str) -> &'static str {
    match key {
        "euclidean" => "Euclidean centroids",
        "normalized" => "normalized centroids",
        "spherical" => "spherical centroids",
        "gaussian" => "Gaussian centroids",
        _ => "NAO centroids",
    }
}

/// A labelled grid of `rows` under `title`, as PNG bytes.
pub(crate) fn grid_png(rows: &[GridRow], title: String) -> Result<Vec<u8>> {
    let options = GridOptions {
        title: Some(title),
        ..GridOptions::default()
    };
    let img = labelled_grid(rows, &options).map_err(|e| DemoError::compute("picture", e))?;
    png(img)
}

/// The tiles of `row`, 4× enlarged, as an animated GIF (250 ms a frame) to be saved as `name`.
pub(crate) fn gif(row: &GridRow, name: &Path) -> Result<Vec<u8>> {
    let frames =
        nao_viz::tiles_to_frames(&row.tiles, 4).map_err(|e| DemoError::compute("animation", e))?;
    nao_viz::encode_gif(&frames, 250, name).map_err(|e| DemoError::compute("animation", e))
}

/// The χ density of dimension `d` with the norms of every kind of seed in `groups` marked, as
/// PNG bytes.
pub(crate) fn norms_png(
    chi: &ChiPrior,
    d: usize,
    groups: &BTreeMap<&str, Vec<f64>>,
) -> Result<Vec<u8>> {
    let mut plot = DensityPlot::new(format!(
        "chi density, d = {d}, and the norms of the demo seeds"
    ));
    plot.x_label = "seed norm".into();
    plot.height = 720;
    let hi = chi.mode() * 1.35;
    plot.curve = (0..=400)
        .map(|i| {
            let r = hi * i as f64 / 400.0;
            (r, if r > 0.0 { chi.log_pdf(r).exp() } else { 0.0 })
        })
        .collect();
    plot.groups = NORM_GROUPS
        .iter()
        .filter_map(|(name, color)| {
            groups.get(name).map(|v| MarkerGroup {
                name: name.to_string(),
                values: v.clone(),
                color: *color,
            })
        })
        .collect();
    png(plot
        .render()
        .map_err(|e| DemoError::compute("picture", e))?)
}

fn png(img: RgbImage) -> Result<Vec<u8>> {
    nao_viz::png_bytes(&DynamicImage::ImageRgb8(img))
        .map_err(|e| DemoError::compute("PNG encoding", e))
}
