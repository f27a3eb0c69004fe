//! One training run of the experiment: the recipe, its identity, its result.

use std::time::Instant;

use nao_burn::{ClassifierConfig, Device};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::score::{score, Scores};
use crate::data::ImageSet;
use crate::error::TrainError;
use crate::train::{train_classifier, Progress, Stage, TrainConfig};

/// The classifier and its training: the same for every configuration of the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Channels of the first convolution (doubled in the second).
    pub channels: usize,
    /// Width of the hidden dense layer.
    pub hidden: usize,
    /// Optimiser steps (Adam, cosine decay).
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
}

impl Recipe {
    /// The recipe of the published experiment (docs/results.md): 16/32 channels, 64 hidden
    /// units, 800 Adam steps of batch 64 at a peak learning rate of 0.001.
    pub const FULL: Recipe = Recipe {
        channels: 16,
        hidden: 64,
        steps: 800,
        batch: 64,
        lr: 1e-3,
    };

    /// A tiny classifier for the plumbing check (`--quick`): 4 channels, 16 hidden units, 30
    /// steps. Its numbers mean nothing.
    pub const QUICK: Recipe = Recipe {
        channels: 4,
        hidden: 16,
        steps: 30,
        batch: 64,
        lr: 1e-3,
    };

    /// The trainer's configuration for `seed`.
    pub fn config(&self, seed: u64) -> TrainConfig {
        TrainConfig {
            seed,
            classifier: ClassifierConfig {
                channels: self.channels,
                hidden: self.hidden,
            },
            classifier_stage: Stage {
                steps: self.steps,
                batch: self.batch,
                lr: self.lr,
            },
            ..TrainConfig::default()
        }
    }

    /// Train on `train` with `seed`, score on `test`; `progress` hears every step and may stop
    /// the run ([`TrainError::Cancelled`]).
    pub fn run(
        &self,
        train: &ImageSet,
        test: &ImageSet,
        rare: &[usize],
        seed: u64,
        device: &Device,
        progress: Progress<'_>,
    ) -> Result<(Scores, f64), TrainError> {
        let start = Instant::now();
        let (model, _) = train_classifier(train, &self.config(seed), device, progress)?;
        let scores = score(&model, test, rare, device);
        Ok((scores, start.elapsed().as_secs_f64()))
    }
}

/// What identifies a run: the recipe, the seed and the exact training set (a SHA-256 of its
/// pixels and labels), so a cached result is reused only for the same run.
pub fn run_key(recipe: &Recipe, seed: u64, train: &ImageSet) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(recipe).expect("a recipe serialises"));
    h.update(seed.to_le_bytes());
    h.update(&train.labels);
    h.update(&train.pixels);
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// A finished run, as cached on disk and reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The configuration's name (`long-tail`, `oversample`, `+nao`, …).
    pub config: String,
    /// The seed.
    pub seed: u64,
    /// [`run_key`] of the run.
    pub key: String,
    /// Training images (with repeats).
    pub train_images: usize,
    /// Scores on the test set.
    pub scores: Scores,
    /// Training and scoring time.
    pub seconds: f64,
}
