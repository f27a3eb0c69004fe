//! How good and how useful generated images are: each generated set (a dataset `nao augment`
//! made, or any ImageFolder) measured against real images of the same classes with a
//! [`FeatureClassifier`] — its accuracy and confidence, the Fréchet distance in its feature
//! space, k-NN precision/recall and density/coverage, diversity, and the seeds' log χ — per
//! class and method, and per method overall.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nao_backend::Tensor;
use nao_inversion::{load_image, ImageSpec, ResizePolicy};
use nao_metrics::{measure, FeatureClassifier, Features, ScoredImages, SetMetrics, DEFAULT_K};
use serde::Serialize;

use crate::progress::{report, Event, Progress};
use crate::{AugmentError, Dataset, ImageFolder, Result};

/// Images scored per classifier call: memory stays flat whatever the class size.
const BATCH: usize = 64;

/// The most neighbours of the k-NN measures (their papers use 3 to 10; k ≥ the number of
/// real images of a class leaves the measure undefined anyway).
pub const MAX_K: usize = 1000;

/// What to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSpec {
    /// Real images of the same classes, in the ImageFolder layout: `--real`.
    pub real_dir: PathBuf,
    /// Generated sets, one folder per method: datasets of `nao augment` (their manifest gives
    /// each image's class, method and seed log χ) or ImageFolders named after their method.
    pub generated: Vec<PathBuf>,
    /// Neighbours of the k-NN measures: `--k`.
    pub k: usize,
    /// How an image of another size than the classifier's is brought to it: `--resize`.
    pub resize: ResizePolicy,
}

impl EvalSpec {
    /// Evaluate `generated` against `real_dir` with k = 5 and centre-cropping.
    pub fn new(real_dir: impl Into<PathBuf>, generated: Vec<PathBuf>) -> Self {
        Self {
            real_dir: real_dir.into(),
            generated,
            k: DEFAULT_K,
            resize: ResizePolicy::CenterCrop,
        }
    }
}

/// The measures of one method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodReport {
    /// The method's name.
    pub method: String,
    /// All its classes together.
    pub overall: SetMetrics,
    /// Per class.
    pub classes: BTreeMap<String, SetMetrics>,
}

/// Everything an evaluation measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The classifier whose features and verdicts were used.
    pub classifier: String,
    /// The real images.
    pub real: String,
    /// k of the k-NN measures.
    pub k: usize,
    /// Per method, in the order given.
    pub methods: Vec<MethodReport>,
}

/// One image to score: its file and its seed's log χ when known.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    path: PathBuf,
    log_chi: Option<f64>,
}

/// A set of images per class, with the method that made them.
#[derive(Debug, Clone, PartialEq)]
struct ImageSet {
    method: String,
    classes: BTreeMap<String, Vec<Entry>>,
}

impl ImageSet {
    fn of_folder(folder: ImageFolder) -> Self {
        let method = folder
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| folder.dir.display().to_string());
        let classes = folder
            .classes
            .into_iter()
            .map(|c| {
                let entries = c
                    .images
                    .into_iter()
                    .map(|f| Entry {
                        path: f.path,
                        log_chi: None,
                    })
                    .collect();
                (c.name, entries)
            })
            .collect();
        Self { method, classes }
    }

    fn generated(dir: &Path) -> Result<Self> {
        if !Dataset::is_dataset(dir) {
            return Ok(Self::of_folder(ImageFolder::scan(dir, "GENERATED_DIR")?));
        }
        let dataset = Dataset::open(dir)?;
        let mut classes: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for image in dataset.images()? {
            classes
                .entry(image.line.class.clone())
                .or_default()
                .push(Entry {
                    path: image.path,
                    log_chi: Some(image.line.log_chi),
                });
        }
        Ok(Self {
            method: dataset.method().to_string(),
            classes,
        })
    }

    fn len(&self) -> usize {
        self.classes.values().map(Vec::len).sum()
    }
}

/// Measure every generated set against the real images with `classifier` (see the module
/// docs); `progress` gets [`Event::Scored`] as images are scored.
pub fn evaluate(
    classifier: &dyn FeatureClassifier,
    spec: &EvalSpec,
    progress: &mut Progress<'_>,
) -> Result<EvalReport> {
    if spec.k == 0 || spec.k > MAX_K {
        return Err(AugmentError::input(format!(
            "--k {}: the k-NN measures need k from 1 to at most {MAX_K}",
            spec.k
        )));
    }
    let real = ImageSet::of_folder(ImageFolder::scan(&spec.real_dir, "--real")?);
    let generated = spec
        .generated
        .iter()
        .map(|d| ImageSet::generated(d))
        .collect::<Result<Vec<_>>>()?;
    let mut seen = BTreeMap::new();
    for (set, dir) in generated.iter().zip(&spec.generated) {
        if let Some(other) = seen.insert(set.method.clone(), dir) {
            return Err(AugmentError::input(format!(
                "{} and {} both hold method '{}': give one folder per method",
                other.display(),
                dir.display(),
                set.method
            )));
        }
        for class in set.classes.keys() {
            if !real.classes.contains_key(class) {
                return Err(AugmentError::input(format!(
                    "{}: class '{class}' has no real images in --real {}",
                    dir.display(),
                    spec.real_dir.display()
                )));
            }
        }
    }
    let mut scorer = Scorer {
        classifier,
        resize: spec.resize,
        done: 0,
        total: real.len() + generated.iter().map(ImageSet::len).sum::<usize>(),
    };
    let mut real_features = BTreeMap::new();
    for class in real.classes.keys() {
        let scored = scorer.score(&real, class, progress)?;
        let features = scored
            .features()
            .map_err(|e| AugmentError::compute("scoring images", e))?;
        real_features.insert(class.clone(), features);
    }
    let mut methods = Vec::new();
    for set in &generated {
        let mut classes = BTreeMap::new();
        let mut all = ScoredImages::new();
        let mut all_real: Vec<&Features> = Vec::new();
        for class in set.classes.keys() {
            let scored = scorer.score(set, class, progress)?;
            classes.insert(
                class.clone(),
                measure(&real_features[class], &scored, spec.k),
            );
            all.extend(&scored)
                .map_err(|e| AugmentError::compute("scoring images", e))?;
            all_real.push(&real_features[class]);
        }
        methods.push(MethodReport {
            method: set.method.clone(),
            overall: measure(&concat(&all_real)?, &all, spec.k),
            classes,
        });
    }
    Ok(EvalReport {
        classifier: classifier.describe(),
        real: spec.real_dir.display().to_string(),
        k: spec.k,
        methods,
    })
}

/// The rows of several feature sets of one dimension, stacked.
fn concat(parts: &[&Features]) -> Result<Features> {
    let dim = parts.first().map_or(1, |f| f.dim());
    let data: Vec<f64> = parts
        .iter()
        .flat_map(|f| f.rows().flatten().copied())
        .collect();
    Features::new(dim, data).map_err(|e| AugmentError::compute("features", e))
}

/// Loads and scores images a batch at a time, counting them for the progress callback.
struct Scorer<'a> {
    classifier: &'a dyn FeatureClassifier,
    resize: ResizePolicy,
    done: usize,
    total: usize,
}

impl Scorer<'_> {
    fn score(
        &mut self,
        set: &ImageSet,
        class_name: &str,
        progress: &mut Progress<'_>,
    ) -> Result<ScoredImages> {
        let clf = self.classifier;
        let class = clf
            .class_index(class_name)
            .map_err(|e| AugmentError::input(format!("class folder '{class_name}': {e}")))?;
        let input = clf.input();
        let spec = ImageSpec {
            channels: input.channels,
            height: input.height,
            width: input.width,
            size_step: None,
        };
        let mut scored = ScoredImages::new();
        for chunk in set.classes[class_name].chunks(BATCH) {
            let images = chunk
                .iter()
                .map(|e| {
                    load_image(&e.path, &spec, self.resize)
                        .map_err(|err| AugmentError::input(err.for_file(&e.path).to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            let mut batch =
                Tensor::concat(&images).map_err(|e| AugmentError::compute("images", e))?;
            // pixels in [0, 1], as the classifiers take them
            batch.data.iter_mut().for_each(|v| *v = (*v + 1.0) * 0.5);
            let log_chi: Vec<Option<f64>> = chunk.iter().map(|e| e.log_chi).collect();
            scored
                .add(clf, class, &batch, &log_chi)
                .map_err(|e| AugmentError::compute("scoring images", e))?;
            self.done += chunk.len();
            report(
                progress,
                Event::Scored {
                    done: self.done,
                    total: self.total,
                },
            )?;
        }
        Ok(scored)
    }
}
