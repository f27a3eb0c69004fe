//! Seeds to frames with a diffusion model: sampling (the model's own scheduler or the spec's;
//! a stochastic one draws the same seeded noise for every frame, so a seed always gives the
//! same image) of one seed at a time, each frame cached in the work folder under the hash of
//! everything that made it ([`WorkDir`]).

use std::collections::HashSet;

use image::DynamicImage;
use nao_backend::{Backend, Conditioning, Tensor};
use nao_fs::hash::FieldHasher;
use nao_sampling::{SampleOptions, SamplingError};

use crate::progress::{report, Event, Progress};
use crate::workdir::{finish_key, key_builder, Kind};
use crate::{FrameSource, Result, WalkError, WalkSpec, WorkDir};

/// A cached frame larger than this is not one of ours.
const MAX_FRAME_FILE: u64 = 1 << 28;

/// Which model makes the frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelId {
    /// Its name for people (`embedded`, a folder): named in errors.
    pub name: String,
    /// Everything about the model that changes what it computes, as one line (the model, the
    /// device, the precision, the weight variant). The cache keys on it and trusts a model of
    /// the same identity to compute the same frames.
    pub identity: String,
}

impl ModelId {
    /// A model of `name` and `identity`.
    pub fn new(name: impl Into<String>, identity: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            identity: identity.into(),
        }
    }
}

/// The frames of a model, sampled on demand and cached in a [`WorkDir`]: the
/// [`FrameSource`] of a real walk.
pub struct ModelFrames<'m> {
    backend: &'m dyn Backend,
    conditioning: Conditioning,
    options: SampleOptions,
    /// The sampler's name (`ddim`, `dpm++2m-karras`, …) and its model calls per frame.
    sampler: (String, usize),
    latent: [usize; 3],
    /// `(channels, height, width)` of the decoded images.
    image: (usize, usize, usize),
    /// The cache key of everything but the seed: the model, the prompt, the options.
    key: FieldHasher,
    work: WorkDir,
    /// Keys of the frames sampled by this source.
    sampled: HashSet<String>,
}

impl<'m> ModelFrames<'m> {
    /// The frames of `backend` (identified by `model`) for latents of shape `latent`, under the
    /// prompt and sampling options of `spec`, cached in `spec.work_dir`. The prompt is encoded
    /// first (a prompt the model refuses fails before the work folder is touched), then the
    /// work folder is opened ([`WorkDir::open`]).
    pub fn new(
        backend: &'m dyn Backend,
        model: &ModelId,
        spec: &WalkSpec,
        latent: [usize; 3],
    ) -> Result<Self> {
        let options = spec.sample_options();
        let scheduler = options
            .scheduler_for(&backend.info().scheduler)
            .map_err(|e| {
                let what = spec.scheduler.map_or("the model's scheduler".into(), |c| {
                    format!("--scheduler {c}")
                });
                WalkError::input(format!("{what} with --steps {}: {e}", spec.steps))
            })?;
        let sampler = (scheduler.name(), scheduler.timesteps().len());
        let conditioning = nao_sampling::encode_prompt(backend, &spec.prompt, &options)
            .map_err(|e| WalkError::input(format!("--prompt {:?}: {e}", spec.prompt)))?;
        let work = WorkDir::open(&spec.work_dir, spec.keep_work_dir)?;
        let info = backend.info();
        let s = info.vae_downsample.max(1);
        let image = (info.image_channels, latent[1] * s, latent[2] * s);
        let mut key = key_builder(Kind::Frame);
        key.field(model.identity.as_bytes())
            .field(spec.prompt.as_bytes())
            .field(spec.negative_prompt.as_bytes())
            .field(&spec.guidance.to_le_bytes());
        key.field(&(spec.steps as u64).to_le_bytes());
        // another sampler makes other frames; the model's own (no field) keeps the keys of
        // caches made before samplers could be chosen
        if let Some(choice) = spec.scheduler {
            key.field(b"scheduler").field(choice.name().as_bytes());
        }
        for n in latent {
            key.field(&(n as u64).to_le_bytes());
        }
        Ok(Self {
            backend,
            conditioning,
            options,
            sampler,
            latent,
            image,
            key,
            work,
            sampled: HashSet::new(),
        })
    }

    /// Frames sampled by this source so far.
    pub fn sampled(&self) -> usize {
        self.sampled.len()
    }

    /// The sampler's name (`ddim`, `dpm++2m-karras`, …).
    pub fn sampler(&self) -> &str {
        &self.sampler.0
    }

    /// Whether the frames are grey (one channel).
    pub fn grey(&self) -> bool {
        self.image.0 == 1
    }

    /// `(channels, height, width)` of the frames.
    pub fn image_shape(&self) -> (usize, usize, usize) {
        self.image
    }

    /// The work folder.
    pub fn work_dir(&self) -> &WorkDir {
        &self.work
    }

    pub(crate) fn work_dir_mut(&mut self) -> &mut WorkDir {
        &mut self.work
    }

    /// The work folder, once the frames are no longer needed.
    pub fn into_work_dir(self) -> WorkDir {
        self.work
    }

    /// The cache key of a seed's frame.
    fn key(&self, seed: &[f64]) -> String {
        let bytes: Vec<u8> = seed
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect();
        let mut h = self.key.clone();
        h.field(&bytes);
        finish_key(h)
    }

    /// A cached frame, checked to be a PNG of this walk's size and colour.
    fn read(&self, key: &str) -> Result<Option<DynamicImage>, String> {
        let Some(bytes) = self.work.read(Kind::Frame, key, MAX_FRAME_FILE)? else {
            return Ok(None);
        };
        let name = || {
            self.work
                .file(Kind::Frame, key)
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
            .map_err(|e| format!("{}: not a readable PNG ({e})", name()))?;
        let (c, h, w) = self.image;
        let channels = img.color().channel_count() as usize;
        if (img.height() as usize, img.width() as usize, channels) != (h, w, c) {
            return Err(format!(
                "{}: {}×{} with {channels} channel(s), not a {h}×{w} frame with {c}",
                name(),
                img.height(),
                img.width()
            ));
        }
        Ok(Some(img))
    }

    fn store(&mut self, key: &str, img: &DynamicImage) -> Result<()> {
        let png = nao_viz::png_bytes(img).map_err(|e| WalkError::compute("PNG encoding", e))?;
        self.work.store(Kind::Frame, key, &png)?;
        self.sampled.insert(key.to_string());
        Ok(())
    }

    /// Sample one seed and decode it, reporting every model call.
    fn sample(&self, seed: &[f64], progress: &mut Progress<'_>) -> Result<DynamicImage> {
        let [c, h, w] = self.latent;
        if seed.len() != c * h * w {
            return Err(WalkError::input(format!(
                "a seed of {} values for latents of shape [{c}, {h}, {w}]",
                seed.len()
            )));
        }
        let x_t = Tensor {
            shape: vec![1, c, h, w],
            data: seed.iter().map(|&v| v as f32).collect(),
        };
        let fail = |e: &dyn std::fmt::Display| WalkError::compute("sampling a frame", e);
        let x_0 = nao_sampling::sample(
            self.backend,
            &x_t,
            &self.conditioning,
            &self.options,
            |_| progress(Event::Step),
        )
        .map_err(|e| match e {
            SamplingError::Cancelled => WalkError::Cancelled,
            e => fail(&e),
        })?;
        if let Some(k) = x_0.data.iter().position(|v| !v.is_finite()) {
            return Err(fail(&format!(
                "the final latents have a non-finite value at flat index {k}"
            )));
        }
        let decoded = self.backend.decode_latents(&x_0).map_err(|e| fail(&e))?;
        let (ch, ih, iw) = self.image;
        if decoded.shape != [1, ch, ih, iw] {
            return Err(fail(&format!(
                "the VAE decoder returned {:?}, expected [1, {ch}, {ih}, {iw}]",
                decoded.shape
            )));
        }
        nao_viz::decoded_image(&decoded.data, ch, ih, iw)
            .map_err(|e| WalkError::compute("decoded image", e))
    }
}

impl FrameSource for ModelFrames<'_> {
    /// The frame of `seed`: from the cache when its file reads back as a frame of this walk,
    /// sampled (and cached) otherwise; a cached file that does not read back is reported as a
    /// [`Note`](Event::Note) and replaced.
    fn frame(&mut self, seed: &[f64], progress: &mut Progress<'_>) -> Result<DynamicImage> {
        let key = self.key(seed);
        match self.read(&key) {
            Ok(Some(img)) => return Ok(img),
            Ok(None) => {}
            Err(why) => report(
                progress,
                Event::Note(&format!("{why}; sampling the frame again")),
            )?,
        }
        let img = self.sample(seed, progress)?;
        self.store(&key, &img)?;
        Ok(img)
    }

    /// Sample and cache the frames of `seeds` the work folder does not hold, as one stage.
    fn prefetch(
        &mut self,
        seeds: &[Vec<f64>],
        what: &str,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let mut missing = Vec::new();
        let mut seen = HashSet::new();
        for seed in seeds {
            let key = self.key(seed);
            if !self.work.contains(Kind::Frame, &key) && seen.insert(key.clone()) {
                missing.push((key, seed));
            }
        }
        let todo = missing.len();
        report(
            progress,
            Event::Stage {
                what,
                steps: todo * self.sampler.1,
            },
        )?;
        for (done, (key, seed)) in missing.into_iter().enumerate() {
            let img = self.sample(seed, progress)?;
            self.store(&key, &img)?;
            report(
                progress,
                Event::Sampled {
                    done: done + 1,
                    todo,
                },
            )?;
        }
        report(progress, Event::StageDone)
    }

    fn was_cached(&self, seed: &[f64]) -> bool {
        !self.sampled.contains(&self.key(seed))
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use nao_test_support::AnalyticBackend;

    use super::*;
    use crate::quiet;

    fn seed(v: f64) -> Vec<f64> {
        (0..256).map(|i| ((i as f64) * 0.1 + v).sin()).collect()
    }

    #[test]
    fn frames_are_cached_and_a_swapped_file_is_sampled_again() {
        let dir = tempfile::tempdir().unwrap();
        let backend = AnalyticBackend::new();
        let model = ModelId::new("analytic", "analytic v1");
        let mut spec = WalkSpec::new("a cat", dir.path().join("work"));
        spec.steps = 3;
        spec.guidance = 1.0;
        let mut frames = ModelFrames::new(&backend, &model, &spec, [4, 8, 8]).unwrap();
        frames
            .work_dir()
            .write_manifest(&serde_json::json!({}))
            .unwrap();
        assert_eq!(frames.image_shape(), (3, 16, 16));
        let (a, b) = (seed(0.0), seed(1.0));
        let mut events = Vec::new();
        let mut record = |e: Event<'_>| {
            events.push(format!("{e:?}"));
            ControlFlow::Continue(())
        };
        frames
            .prefetch(&[a.clone(), b.clone(), a.clone()], "both", &mut record)
            .unwrap();
        assert_eq!(
            events.first().unwrap(),
            r#"Stage { what: "both", steps: 6 }"#
        );
        assert_eq!(events.iter().filter(|e| *e == "Step").count(), 6);
        assert_eq!(events.last().unwrap(), "StageDone");
        assert_eq!(frames.sampled(), 2);
        let img_a = frames.frame(&a, &mut quiet).unwrap();
        let img_b = frames.frame(&b, &mut quiet).unwrap();
        assert_ne!(img_a, img_b);
        assert!(!frames.was_cached(&a));

        // a new source finds both in the cache and samples nothing
        let mut again = ModelFrames::new(&backend, &model, &spec, [4, 8, 8]).unwrap();
        let calls = backend.call_count();
        assert_eq!(again.frame(&a, &mut quiet).unwrap(), img_a);
        assert!(again.was_cached(&a));
        assert_eq!(backend.call_count(), calls);

        // b's frame put under a's name: a valid PNG of the right size, but not a's frame
        let work = again.work_dir();
        let key_a = again.key(&a);
        let file_a = work.file(Kind::Frame, &key_a).unwrap();
        let file_b = work.file(Kind::Frame, &again.key(&b)).unwrap();
        std::fs::copy(&file_b, &file_a).unwrap();
        let mut notes = Vec::new();
        let img = again
            .frame(&a, &mut |e| {
                if let Event::Note(n) = e {
                    notes.push(n.to_string());
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(img, img_a, "sampled again");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("does not match the hash")
                && notes[0].contains("sampling the frame again"),
            "{notes:?}"
        );
        assert!(!again.was_cached(&a));
        assert!(backend.call_count() > calls);
        // and the cache holds a's frame again
        let fresh = ModelFrames::new(&backend, &model, &spec, [4, 8, 8]).unwrap();
        assert_eq!(fresh.read(&key_a).unwrap(), Some(img_a));

        // a frame of another size under the right hash is refused too
        let mut other = ModelFrames::new(&backend, &model, &spec, [4, 8, 8]).unwrap();
        let small = DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
        let png = nao_viz::png_bytes(&small).unwrap();
        other.work.store(Kind::Frame, &key_a, &png).unwrap();
        let err = other.read(&key_a).unwrap_err();
        assert!(err.contains("not a 16×16 frame"), "{err}");
    }

    #[test]
    fn the_sampler_is_part_of_a_frame_key() {
        let dir = tempfile::tempdir().unwrap();
        let backend = AnalyticBackend::new();
        let model = ModelId::new("analytic", "analytic");
        let mut spec = WalkSpec::new("a cat", dir.path().join("work"));
        spec.steps = 4;
        spec.guidance = 1.0;
        let x = seed(0.5);
        let own = ModelFrames::new(&backend, &model, &spec, [4, 8, 8]).unwrap();
        assert_eq!(own.sampler(), "ddim");
        let mut keys = vec![own.key(&x)];
        for name in ["ddim", "euler", "dpm++2m-karras", "heun"] {
            spec.scheduler = Some(name.parse().unwrap());
            // a fresh work folder each (one with frames and no manifest is refused)
            spec.work_dir = dir.path().join(name);
            let mut frames = ModelFrames::new(&backend, &model, &spec, [4, 8, 8]).unwrap();
            assert_eq!(frames.sampler(), name);
            let key = frames.key(&x);
            assert!(!keys.contains(&key), "{name}: a key of another sampler");
            keys.push(key);
            let mut events = 0;
            frames
                .frame(&x, &mut |e| {
                    events += usize::from(e == Event::Step);
                    ControlFlow::Continue(())
                })
                .unwrap();
            // one event per model call: Heun calls the model 2·4 − 1 times
            assert_eq!(events, if name == "heun" { 7 } else { 4 }, "{name}");
        }
        spec.scheduler = Some("pndm".parse().unwrap()); // its warm-up needs 4 steps or more
        spec.steps = 3;
        let e = ModelFrames::new(&backend, &model, &spec, [4, 8, 8])
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("--scheduler pndm") && e.contains("at least 4"),
            "{e}"
        );
    }

    #[test]
    fn a_callback_cancels_within_a_frame() {
        let dir = tempfile::tempdir().unwrap();
        let backend = AnalyticBackend::new();
        let model = ModelId::new("analytic", "analytic");
        let mut spec = WalkSpec::new("a cat", dir.path().join("work"));
        spec.steps = 10;
        let mut frames = ModelFrames::new(&backend, &model, &spec, [4, 8, 8]).unwrap();
        let mut steps = 0;
        let err = frames
            .frame(&seed(0.0), &mut |e| {
                if e == Event::Step {
                    steps += 1;
                }
                if steps == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap_err();
        assert!(matches!(err, WalkError::Cancelled), "{err}");
        assert_eq!(steps, 2);
        assert_eq!(frames.sampled(), 0);
    }
}
