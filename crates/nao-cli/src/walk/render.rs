//! Seeds to frames: DDIM sampling (η = 0, so a seed always gives the same image) of one seed
//! at a time, each frame cached in the work folder under the hash of everything that made it.

use std::collections::HashSet;

use image::DynamicImage;
use nao_backend::{Backend, Conditioning, Tensor};
use nao_sampling::{sample, SampleOptions};

use super::route::Route;
use super::workdir::{KeyBuilder, WorkDir};
use crate::error::CliError;
use crate::images::{png_bytes, to_image};
use crate::output::{bar_eta, interruption};

/// A cached frame larger than this is not one of ours.
const MAX_FRAME_FILE: u64 = 1 << 28;

/// A position on the route: a segment and a fraction of its length.
pub type Position = (usize, f64);

/// What a frame is made from, apart from its seed.
pub struct Sampler<'a> {
    /// The model.
    pub backend: &'a dyn Backend,
    /// The encoded prompt.
    pub conditioning: Conditioning,
    /// DDIM options (steps, guidance, negative prompt; η = 0).
    pub options: SampleOptions,
    /// The latent shape `[c, h, w]`.
    pub latent: [usize; 3],
    /// The cache key of everything but the seed: the model, the prompt, the options.
    pub key: KeyBuilder,
}

/// Samples frames on demand and caches them.
pub struct Renderer<'a> {
    sampler: Sampler<'a>,
    work: &'a WorkDir,
    json: bool,
    /// `(channels, height, width)` of the decoded images.
    image: (usize, usize, usize),
    /// Keys of the frames sampled by this run.
    sampled: HashSet<String>,
}

impl<'a> Renderer<'a> {
    /// A renderer caching in `work`.
    pub fn new(sampler: Sampler<'a>, work: &'a WorkDir, json: bool) -> Self {
        let info = sampler.backend.info();
        let s = info.vae_downsample.max(1);
        let image = (
            info.image_channels,
            sampler.latent[1] * s,
            sampler.latent[2] * s,
        );
        Self {
            sampler,
            work,
            json,
            image,
            sampled: HashSet::new(),
        }
    }

    /// Frames sampled by this run so far.
    pub fn sampled(&self) -> usize {
        self.sampled.len()
    }

    /// Whether the frame of `key` was sampled by this run (rather than found in the cache).
    pub fn was_sampled(&self, key: &str) -> bool {
        self.sampled.contains(key)
    }

    /// Whether the frames are grey.
    pub fn grey(&self) -> bool {
        self.image.0 == 1
    }

    /// The cache key of a seed's frame.
    pub fn key(&self, seed: &[f64]) -> String {
        let bytes: Vec<u8> = seed
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect();
        self.sampler.key.clone().part(&bytes).finish()
    }

    /// Make sure the frames at `positions` are in the cache, sampling those that are not
    /// (with a progress bar and the time left).
    pub fn ensure(
        &mut self,
        route: &Route,
        positions: &[Position],
        what: &str,
    ) -> Result<(), CliError> {
        let mut missing = Vec::new();
        let mut seen = HashSet::new();
        for &(segment, u) in positions {
            let seed = route.seed(segment, u)?;
            let key = self.key(&seed);
            if !self.work.frame(&key).is_file() && seen.insert(key.clone()) {
                missing.push((key, seed));
            }
        }
        let steps = self.sampler.options.steps as u64;
        let pb = bar_eta(missing.len() as u64 * steps, self.json, what);
        for (key, seed) in missing {
            nao_fs::signals::check()?;
            let img = self.sample(&seed, &|| pb.inc(1))?;
            self.store(&key, &img)?;
        }
        pb.finish_and_clear();
        Ok(())
    }

    /// The frame at a position (sampled now if it is not cached, or if its file does not read
    /// back as a frame of this walk).
    pub fn image(
        &mut self,
        route: &Route,
        (segment, u): Position,
    ) -> Result<DynamicImage, CliError> {
        let seed = route.seed(segment, u)?;
        let key = self.key(&seed);
        let path = self.work.frame(&key);
        if path.is_file() {
            match self.read(&path) {
                Ok(img) => return Ok(img),
                Err(why) => eprintln!(
                    "nao: warning: {}: {why}; sampling the frame again",
                    path.display()
                ),
            }
        }
        let img = self.sample(&seed, &|| ())?;
        self.store(&key, &img)?;
        Ok(img)
    }

    /// Read a cached frame, checking that it has this walk's size and colour.
    fn read(&self, path: &std::path::Path) -> Result<DynamicImage, String> {
        let bytes = nao_fs::input::read_limited(path, MAX_FRAME_FILE).map_err(|e| e.to_string())?;
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
            .map_err(|e| format!("not a readable PNG ({e})"))?;
        let (c, h, w) = self.image;
        let channels = img.color().channel_count() as usize;
        if (img.height() as usize, img.width() as usize, channels) != (h, w, c) {
            return Err(format!(
                "{}×{} with {channels} channel(s), not a {h}×{w} frame with {c}",
                img.height(),
                img.width()
            ));
        }
        Ok(img)
    }

    fn store(&mut self, key: &str, img: &DynamicImage) -> Result<(), CliError> {
        let path = self.work.frame(key);
        self.work.write(&path, &png_bytes(img, &path)?)?;
        self.sampled.insert(key.to_string());
        Ok(())
    }

    /// DDIM-sample one seed and decode it; `tick` runs after every step.
    fn sample(&self, seed: &[f64], tick: &dyn Fn()) -> Result<DynamicImage, CliError> {
        let s = &self.sampler;
        let [c, h, w] = s.latent;
        let x_t = Tensor {
            shape: vec![1, c, h, w],
            data: seed.iter().map(|&v| v as f32).collect(),
        };
        let fail = |e: &dyn std::fmt::Display| {
            if nao_fs::signals::interrupted() {
                CliError::Output(nao_fs::FsError::Interrupted)
            } else {
                CliError::compute("sampling a frame", e)
            }
        };
        let x_0 = sample(s.backend, &x_t, &s.conditioning, &s.options, |_| {
            tick();
            interruption()
        })
        .map_err(|e| fail(&e))?;
        if let Some(k) = x_0.data.iter().position(|v| !v.is_finite()) {
            return Err(fail(&format!(
                "the final latents have a non-finite value at flat index {k}"
            )));
        }
        let decoded = s.backend.decode_latents(&x_0).map_err(|e| fail(&e))?;
        let (ch, ih, iw) = self.image;
        if decoded.shape != [1, ch, ih, iw] {
            return Err(fail(&format!(
                "the VAE decoder returned {:?}, expected [1, {ch}, {ih}, {iw}]",
                decoded.shape
            )));
        }
        to_image(&decoded.data, ch, ih, iw)
    }
}
