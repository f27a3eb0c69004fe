//! The points each class's seeds are drawn from, computed once per class and kept in
//! `OUT_DIR/seeds/`: invert the class's real images under its prompt, take their centroid by
//! the seed method, and the points at the path positions on the paths from the centroid to
//! each inverted seed.
//!
//! `seeds/<class>.npy` holds the points, float64, shape `[P, c, h, w]`, in the order of the
//! seed rule (the centroid; then the first position on the path to every image, then the
//! second, …; only when a source uses them); `seeds/<class>.inverted.npy` the inverted seeds of
//! the real images, float64, `[k, c, h, w]`, in the order of the record's `images` (pairs and
//! subsets are drawn from them); `seeds/<class>.json` says where each point came from, with the
//! real images used (and those skipped or left out by `--shots`) and the norms. Every process that samples reads these files, so every shard
//! starts from the same bits whichever process inverted the images.

use std::path::{Path, PathBuf};

use nao_backend::{Backend, Tensor};
use nao_fs::hash::FieldHasher;
use nao_fs::Outputs;
use nao_inversion::{decode_image, ImageSpec, InversionOptions, ResizePolicy};
use nao_npy::NpyArray;
use nao_prior::{ChiPrior, GaussianSeeds, RngName};
use serde::{Deserialize, Serialize};

use crate::config::SeedsHash;
use crate::manifest::SeedSource;
use crate::progress::{report, Event, Progress};
use crate::real::{RealClass, RealImage};
use crate::{centroid_points, path_positions, AugmentError, Result, SeedMethod};
use nao_fs::hash::file_sha256;

/// The folder of the class seeds in the output folder.
pub const SEEDS_DIR: &str = "seeds";

/// What `seeds/<class>.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedsRecord {
    /// The class.
    pub class: String,
    /// The prompt the images were inverted under (and are sampled with).
    pub prompt: String,
    /// The seed method.
    pub method: String,
    /// The shape of one seed, `[c, h, w]`.
    pub latent_shape: Vec<usize>,
    /// The real images inverted, in order (path `i` leads to image `i`).
    pub images: Vec<ImageRecord>,
    /// Real images that could not be read (left out on request).
    pub skipped: Vec<SkippedImage>,
    /// Real images of the class folder that `--shots` did not choose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unused: Vec<String>,
    /// The points, in the order of `seeds/<class>.npy` (empty for prompt-only).
    pub points: Vec<PointRecord>,
}

/// An inverted real image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// Its file name in the class folder.
    pub file: String,
    /// The SHA-256 of the file.
    pub sha256: String,
    /// The norm of its inverted seed (absent for prompt-only, which inverts nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm: Option<f64>,
    /// log χ_d of that norm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_chi: Option<f64>,
}

/// A real image left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedImage {
    /// Its file name in the class folder.
    pub file: String,
    /// Why.
    pub error: String,
}

/// One point of the class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    /// Where it lies.
    pub source: SeedSource,
    /// Its norm.
    pub norm: f64,
    /// log χ_d of its norm.
    pub log_chi: f64,
}

/// A class's points, read back from the output folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSeeds {
    /// The record.
    pub record: SeedsRecord,
    /// The centroid-paths points, in record order.
    pub values: Vec<Vec<f64>>,
    /// The inverted seeds of the record's images, in order (empty for prompt-only).
    pub inverted: Vec<Vec<f64>>,
}

/// A class's real images, decoded.
pub(crate) struct Decoded<'c> {
    /// The readable images, as model inputs.
    pub images: Vec<(&'c RealImage, Tensor)>,
    /// Those left out.
    pub skipped: Vec<SkippedImage>,
}

/// How the real images become points.
pub(crate) struct Preparer<'a> {
    pub model: &'a dyn Backend,
    pub method: SeedMethod,
    pub positions: usize,
    pub steps: usize,
    pub inversion: nao_inversion::InversionMethod,
    pub resize: ResizePolicy,
    pub skip_bad_images: bool,
    /// Real images inverted per class (`None`: all).
    pub shots: Option<usize>,
    /// The spec's seed (which images `shots` chooses).
    pub seed: u64,
    /// Whether any image is drawn from the centroid-paths points (else they are not computed).
    pub centroid_paths: bool,
    /// Whether pairs or subsets are drawn (they need two inverted images).
    pub pairwise: bool,
}

fn json_path(out_dir: &Path, class: &str) -> PathBuf {
    out_dir.join(SEEDS_DIR).join(format!("{class}.json"))
}

fn npy_path(out_dir: &Path, class: &str) -> PathBuf {
    out_dir.join(SEEDS_DIR).join(format!("{class}.npy"))
}

fn inverted_path(out_dir: &Path, class: &str) -> PathBuf {
    out_dir
        .join(SEEDS_DIR)
        .join(format!("{class}.inverted.npy"))
}

/// The images of a class `shots` chooses: all of them, or a seeded choice of `shots` (the same
/// in every process), in name order; and the names of those left out.
pub(crate) fn choose_shots(
    class: &RealClass,
    shots: Option<usize>,
    seed: u64,
) -> (Vec<&RealImage>, Vec<String>) {
    let n = class.images.len();
    let Some(k) = shots.filter(|&k| k < n) else {
        return (class.images.iter().collect(), Vec::new());
    };
    let mut h = FieldHasher::new();
    h.field(b"nao-augment/shots")
        .field(&seed.to_le_bytes())
        .field(class.name.as_bytes());
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, h.finish_u64());
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + ((rng.uniform() * (n - i) as f64) as usize).min(n - i - 1);
        order.swap(i, j);
    }
    let mut chosen = order[..k].to_vec();
    chosen.sort_unstable();
    let unused = (0..n)
        .filter(|i| !chosen.contains(i))
        .map(|i| class.images[i].name.clone())
        .collect();
    (
        chosen.into_iter().map(|i| &class.images[i]).collect(),
        unused,
    )
}

/// Whether the class's seeds are in the output folder (the record is written together with
/// the points, so its presence is enough).
pub(crate) fn is_prepared(out_dir: &Path, class: &str) -> bool {
    json_path(out_dir, class).is_file()
}

impl Preparer<'_> {
    /// Decode the class's real images: each as a tensor, or left out with its error when
    /// `skip_bad_images` (otherwise the first bad image is the error). At least one must be
    /// readable.
    pub fn decode<'c>(
        &self,
        class: &'c RealClass,
        progress: &mut Progress<'_>,
    ) -> Result<Decoded<'c>> {
        let spec = ImageSpec::for_model(self.model.info());
        let mut good = Vec::new();
        let mut skipped = Vec::new();
        let (chosen, _) = choose_shots(class, self.shots, self.seed);
        for image in chosen {
            let decoded = image.read().and_then(|bytes| {
                decode_image(&bytes, &spec, self.resize)
                    .map_err(|e| AugmentError::input(e.for_file(&image.path).to_string()))
            });
            match decoded {
                Ok(t) => good.push((image, t)),
                Err(e) if self.skip_bad_images => {
                    let note = format!("skipping a bad real image (--skip-bad-images): {e}");
                    report(progress, Event::Note(&note))?;
                    skipped.push(SkippedImage {
                        file: image.name.clone(),
                        error: e.to_string(),
                    });
                }
                Err(e) => {
                    return Err(AugmentError::input(format!(
                        "{e} (give --skip-bad-images to leave such images out)"
                    )))
                }
            }
        }
        if good.is_empty() {
            return Err(AugmentError::input(format!(
                "class '{}': none of its {} real image(s) could be read",
                class.name,
                class.images.len()
            )));
        }
        if self.pairwise && self.method.inverts() && good.len() < 2 {
            return Err(AugmentError::input(format!(
                "{}: class '{}' has {} usable real image(s); pairs and subsets (--source) need \
                 at least 2",
                class
                    .images
                    .first()
                    .and_then(|i| i.path.parent())
                    .unwrap_or(Path::new(""))
                    .display(),
                class.name,
                good.len()
            )));
        }
        Ok(Decoded {
            images: good,
            skipped,
        })
    }

    /// Invert the class's images, compute its points and stage them into `out`.
    pub fn prepare(
        &self,
        out_dir: &Path,
        class: &RealClass,
        prompt: &str,
        out: &mut Outputs,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let Decoded { images, skipped } = self.decode(class, progress)?;
        let (_, unused) = choose_shots(class, self.shots, self.seed);
        let info = self.model.info();
        // the model's size, or under `ResizePolicy::None` the images' own (one for the class:
        // its seeds share a centroid)
        let (h, w) = if self.method.inverts() {
            let named: Vec<(String, &Tensor)> = images
                .iter()
                .map(|(image, t)| (image.path.display().to_string(), t))
                .collect();
            nao_inversion::check_one_size(&named).map_err(|e| {
                AugmentError::input(format!(
                    "class '{}': {} (see --resize)",
                    class.name,
                    e.to_string().trim_start_matches("invalid input: ")
                ))
            })?;
            let shape = &images[0].1.shape;
            (shape[2], shape[3])
        } else {
            info.default_image_size
        };
        let latent_shape = info
            .latent_shape(h, w)
            .map_err(|e| AugmentError::compute("latent shape", e))?
            .to_vec();
        let d: usize = latent_shape.iter().product();
        let chi = ChiPrior::new(d).map_err(|e| AugmentError::compute("χ prior", e))?;
        let stats = |z: &[f64]| {
            let norm = nao_prior::norm(z);
            (norm, chi.log_pdf(norm))
        };
        let mut record = SeedsRecord {
            class: class.name.clone(),
            prompt: prompt.to_string(),
            method: self.method.name().to_string(),
            latent_shape: latent_shape.clone(),
            images: Vec::new(),
            skipped,
            unused,
            points: Vec::new(),
        };
        let mut inverted_values: Vec<Vec<f64>> = Vec::new();
        let mut values: Vec<Vec<f64>> = Vec::new();
        if let Some(method) = self.method.centroid_method() {
            let inverted = self.invert(&images, prompt, progress)?;
            for ((image, _), z) in images.iter().zip(&inverted) {
                let (norm, log_chi) = stats(z);
                record.images.push(ImageRecord {
                    file: image.name.clone(),
                    sha256: image.sha256.clone(),
                    norm: Some(norm),
                    log_chi: Some(log_chi),
                });
            }
            let views: Vec<&[f64]> = inverted.iter().map(Vec::as_slice).collect();
            // the centroid and its paths only when some image is drawn from them (a NAO
            // centroid is the costly part of preparing a class)
            let points = if self.centroid_paths {
                Some(centroid_points(method, &views, self.positions)?)
            } else {
                None
            };
            inverted_values = inverted.clone();
            let mut push = |source: SeedSource, z: Vec<f64>| {
                let (norm, log_chi) = stats(&z);
                record.points.push(PointRecord {
                    source,
                    norm,
                    log_chi,
                });
                values.push(z);
            };
            let Some(points) = points else {
                return self.write(out_dir, class, record, values, inverted_values, out);
            };
            push(SeedSource::Centroid, points.centroid);
            // position-major: every path at the first position, then the next, so that a
            // small per-class count still reaches every real image
            let ts = path_positions(self.positions);
            let mut paths: Vec<std::vec::IntoIter<Vec<f64>>> =
                points.paths.into_iter().map(Vec::into_iter).collect();
            for &t in &ts {
                for (i, path) in paths.iter_mut().enumerate() {
                    let z = path.next().ok_or_else(|| {
                        AugmentError::compute("centroid", "a path has fewer points than positions")
                    })?;
                    push(
                        SeedSource::Path {
                            path: i,
                            image: images[i].0.name.clone(),
                            t,
                        },
                        z,
                    );
                }
            }
        } else {
            for (image, _) in &images {
                record.images.push(ImageRecord {
                    file: image.name.clone(),
                    sha256: image.sha256.clone(),
                    norm: None,
                    log_chi: None,
                });
            }
        }
        self.write(out_dir, class, record, values, inverted_values, out)
    }

    /// Stage a class's points, inverted seeds and record.
    fn write(
        &self,
        out_dir: &Path,
        class: &RealClass,
        record: SeedsRecord,
        values: Vec<Vec<f64>>,
        inverted: Vec<Vec<f64>>,
        out: &mut Outputs,
    ) -> Result<()> {
        for (what, set) in [("a point", &values), ("an inverted seed", &inverted)] {
            if let Some(bad) = set.iter().flatten().position(|v| !v.is_finite()) {
                return Err(AugmentError::compute(
                    "class seeds",
                    format!(
                        "class '{}': {what} has a non-finite value (flat index {bad}); nothing \
                         written",
                        class.name
                    ),
                ));
            }
        }
        for (path, set) in [
            (npy_path(out_dir, &class.name), values),
            (inverted_path(out_dir, &class.name), inverted),
        ] {
            if !set.is_empty() {
                let mut shape = vec![set.len()];
                shape.extend(&record.latent_shape);
                let array = NpyArray::from_f64(&shape, set.concat())?;
                out.write(&path, &array.to_bytes())?;
            }
        }
        let text = serde_json::to_string_pretty(&record)
            .map_err(|e| AugmentError::compute("JSON encoding", e))?;
        out.write(&json_path(out_dir, &class.name), text.as_bytes())?;
        Ok(())
    }

    /// Invert each image with the spec's method (one at a time, without guidance, as the NAO
    /// paper does).
    fn invert(
        &self,
        images: &[(&RealImage, Tensor)],
        prompt: &str,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Vec<f64>>> {
        let options = InversionOptions::default()
            .with_steps(self.steps)
            .with_method(self.inversion);
        let cond = nao_inversion::encode_prompt(self.model, prompt, &options)
            .map_err(|e| AugmentError::input(format!("prompt \"{prompt}\": {e}")))?;
        let mut seeds = Vec::with_capacity(images.len());
        for (image, tensor) in images {
            let z = nao_inversion::invert(self.model, tensor, &cond, &options, |_| {
                progress(Event::Step)
            })
            .map_err(|e| match e {
                nao_inversion::InversionError::Cancelled => AugmentError::Cancelled,
                e => AugmentError::input(format!("inverting {}: {e}", image.path.display())),
            })?;
            seeds.push(z.data.iter().map(|&v| f64::from(v)).collect());
        }
        Ok(seeds)
    }
}

/// The latent shape of a class's seeds as its record gives it, checked against the model: its
/// latent channels, and the model's default shape unless real images keep their own size
/// ([`ResizePolicy::None`] on a model that takes other sizes). `Err` says why not.
pub(crate) fn class_latent_shape(
    info: &nao_backend::ModelInfo,
    resize: ResizePolicy,
    record: &SeedsRecord,
) -> std::result::Result<[usize; 3], String> {
    let (h, w) = info.default_image_size;
    let native = info.latent_shape(h, w).map_err(|e| e.to_string())?;
    let own_size = resize == ResizePolicy::None && !info.fixed_image_size;
    match record.latent_shape[..] {
        [c, lh, lw] if [c, lh, lw] == native => Ok(native),
        [c, lh, lw] if own_size && c == native[0] && lh > 0 && lw > 0 => Ok([c, lh, lw]),
        _ => Err(format!(
            "seeds of shape {:?}, but the model's latents are {native:?}{}",
            record.latent_shape,
            if own_size {
                " or another [channels, h, w] of its latent channels"
            } else {
                ""
            }
        )),
    }
}

/// The hashes of a class's seeds files as they are now.
pub(crate) fn hash_seeds(out_dir: &Path, class: &str) -> Result<SeedsHash> {
    let hash = |path: PathBuf| -> Result<Option<String>> {
        Ok(if std::fs::symlink_metadata(&path).is_ok() {
            Some(file_sha256(&path)?)
        } else {
            None
        })
    };
    Ok(SeedsHash {
        json: file_sha256(&json_path(out_dir, class))?,
        npy: hash(npy_path(out_dir, class))?,
        inverted: hash(inverted_path(out_dir, class))?,
    })
}

/// Refuse a class's seeds files when they differ from the hashes run.json recorded.
pub(crate) fn verify_seeds(
    out_dir: &Path,
    class: &str,
    recorded: Option<&SeedsHash>,
) -> Result<()> {
    let Some(recorded) = recorded else {
        return Err(AugmentError::input(format!(
            "{}: class '{class}' has seeds in {} but {} records no hash of them; the folder was \
             changed by hand (remove it to start again)",
            out_dir.display(),
            SEEDS_DIR,
            crate::RUN_FILE
        )));
    };
    let now = hash_seeds(out_dir, class)?;
    for (path, was, is) in [
        (
            json_path(out_dir, class),
            Some(&recorded.json),
            Some(&now.json),
        ),
        (
            npy_path(out_dir, class),
            recorded.npy.as_ref(),
            now.npy.as_ref(),
        ),
        (
            inverted_path(out_dir, class),
            recorded.inverted.as_ref(),
            now.inverted.as_ref(),
        ),
    ] {
        if was != is {
            return Err(AugmentError::input(format!(
                "{}: changed since it was written (SHA-256 {}, {} records {}); the dataset's \
                 images were made from the recorded seeds, so it cannot be resumed or merged \
                 with these (remove the output folder to start again)",
                path.display(),
                is.map_or("none: the file is gone", String::as_str),
                crate::RUN_FILE,
                was.map_or("none", String::as_str)
            )));
        }
    }
    Ok(())
}

/// Read a class's points back from the output folder.
pub fn read_class_seeds(out_dir: &Path, class: &str) -> Result<ClassSeeds> {
    let path = json_path(out_dir, class);
    let text = nao_fs::input::read_text_limited(&path, 256 << 20)?;
    let record: SeedsRecord = serde_json::from_str(&text).map_err(|e| {
        AugmentError::input(format!("{}: not a class seeds file: {e}", path.display()))
    })?;
    let values = read_set(
        &npy_path(out_dir, class),
        record.points.len(),
        &record,
        &path,
    )?;
    // prompt-only inverts nothing; a dataset of an older version has no inverted file
    let inverted_file = inverted_path(out_dir, class);
    let inverted = if record.images.iter().any(|i| i.norm.is_some())
        && std::fs::symlink_metadata(&inverted_file).is_ok()
    {
        read_set(&inverted_file, record.images.len(), &record, &path)?
    } else {
        Vec::new()
    };
    Ok(ClassSeeds {
        record,
        values,
        inverted,
    })
}

/// `count` seeds of the record's latent shape from a float64 `.npy` (none when `count` is 0),
/// each checked finite.
fn read_set(
    npy: &Path,
    count: usize,
    record: &SeedsRecord,
    record_path: &Path,
) -> Result<Vec<Vec<f64>>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let d: usize = record.latent_shape.iter().product();
    let array = nao_npy::read_npy(npy)?;
    let mut expected = vec![count];
    expected.extend(&record.latent_shape);
    if array.shape() != expected.as_slice() {
        return Err(AugmentError::input(format!(
            "{}: shape {:?}, but {} lists {count} seeds of shape {:?}; the seeds folder is \
             damaged",
            npy.display(),
            array.shape(),
            record_path.display(),
            record.latent_shape
        )));
    }
    let values = array.to_f64_vec();
    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
        return Err(AugmentError::input(format!(
            "{}: value {bad} is {} (seed {} of {count}); the seeds folder is damaged",
            npy.display(),
            values[bad],
            bad / d.max(1)
        )));
    }
    Ok(values.chunks(d.max(1)).map(<[f64]>::to_vec).collect())
}
