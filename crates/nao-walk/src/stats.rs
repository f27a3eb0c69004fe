//! What a walk reports per frame: the seed's norm and log χ and the change from the previous
//! frame (in seed space and in the image), and the plot of those curves (`nao walk --plot`).

use image::{imageops, RgbImage};
use nao_viz::{palette, LinePlot, Series};
use serde::Serialize;

use crate::{Result, WalkError};

/// One distinct frame of the walk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameStats {
    /// Its index among the distinct frames.
    pub index: usize,
    /// The segment it lies on.
    pub segment: usize,
    /// Its position on the segment (fraction of the route's length measure).
    pub position: f64,
    /// Its eased share of the segment in the pacing measure.
    pub share: f64,
    /// The keyframe it shows, if it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyframe: Option<usize>,
    /// Frame periods it stays on screen.
    pub ticks: u32,
    /// The seed's Euclidean norm.
    pub norm: f64,
    /// `log χ_d(‖seed‖)`.
    pub log_chi: f64,
    /// Euclidean distance from the previous frame's seed (absent for the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latent_distance: Option<f64>,
    /// Image change from the previous frame (mean absolute difference of the shrunk images,
    /// the measure of perceptual pacing; absent for the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_distance: Option<f64>,
    /// Whether the frame came from the work folder rather than being sampled by this run
    /// ([`FrameSource::was_cached`](crate::FrameSource::was_cached)).
    pub cached: bool,
}

/// The plot of a walk (`nao walk --plot`): three panels over the frame index — seed norm (with the χ mode),
/// log χ, and the change from the previous frame in seed space and in the image, each divided
/// by its mean (1 everywhere is an evenly paced walk). Labels are ASCII: the plot's bitmap
/// font has no Greek.
pub fn plot(frames: &[FrameStats], chi_mode: f64, title: &str) -> Result<RgbImage> {
    let points = |f: &dyn Fn(&FrameStats) -> Option<f64>| -> Vec<(f64, f64)> {
        frames
            .iter()
            .filter_map(|s| f(s).map(|y| (s.index as f64, y)))
            .collect()
    };
    let relative = |f: &dyn Fn(&FrameStats) -> Option<f64>| -> Vec<(f64, f64)> {
        let p = points(f);
        let mean = p.iter().map(|(_, y)| y).sum::<f64>() / p.len().max(1) as f64;
        p.into_iter()
            .map(|(x, y)| (x, if mean > 0.0 { y / mean } else { 0.0 }))
            .collect()
    };
    let series = |i: usize, name: &str, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        points,
        color: palette(i),
    };
    let last = frames.len().saturating_sub(1) as f64;
    let panel = |title: String, y: &str, series: Vec<Series>| {
        let mut p = LinePlot::new(title);
        p.x_label = "frame".into();
        p.y_label = y.into();
        p.series = series;
        p.height = 300;
        p.render()
            .map_err(|e| WalkError::compute("the --plot picture", e))
    };
    let panels = [
        panel(
            format!("{title}: seed norms"),
            "|z|",
            vec![
                series(0, "norm", points(&|s| Some(s.norm))),
                series(1, "chi mode", vec![(0.0, chi_mode), (last, chi_mode)]),
            ],
        )?,
        panel(
            "log-density of the norm (chi prior)".into(),
            "log chi(|z|)",
            vec![series(0, "log chi", points(&|s| Some(s.log_chi)))],
        )?,
        panel(
            "change per frame / its mean".into(),
            "relative change",
            vec![
                series(2, "seed (L2)", relative(&|s| s.latent_distance)),
                series(3, "image (mean |diff|)", relative(&|s| s.image_distance)),
            ],
        )?,
    ];
    let width = panels.iter().map(RgbImage::width).max().unwrap_or(1);
    let height = panels.iter().map(RgbImage::height).sum();
    let mut out = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    let mut y = 0;
    for p in &panels {
        imageops::replace(&mut out, p, 0, i64::from(y));
        y += p.height();
    }
    Ok(out)
}
