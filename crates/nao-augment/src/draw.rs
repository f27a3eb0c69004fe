//! The seed of image `index` of a class: a function of (configuration, class, index) only, so
//! any process may make any image, in any order.
//!
//! Every image has its own random numbers: ChaCha20 seeded with the first 8 bytes
//! (little-endian) of SHA-256 over the length-prefixed fields `nao-augment/1`, the spec's seed
//! (8 bytes, little-endian), the class name and the index (8 bytes, little-endian). With a mix
//! of sources, the image's first uniform number picks its source (a single source draws
//! nothing for it). Then:
//!
//! - **centroid-paths**: with the class's `P` points (the centroid, then every path at the
//!   first position, every path at the second, …; see [`ClassSeeds`](crate::ClassSeeds)),
//!   image `index` takes point `index mod P` in round `index / P`. Round 0 is the point itself.
//!   Round `r ≥ 1` repeats the points with a seeded perturbation that keeps the point's norm,
//!   so its log χ is unchanged and DDIM stays deterministic (η = 0): the direction
//!   `z/‖z‖ + (jitter/√d)·ε`, with ε a standard Gaussian vector, rescaled to `‖z‖`. A jitter
//!   of s turns the direction by about atan(s).
//! - **pairs**: two different inverted images `a` and `b` (each uniform), then `t` uniform in
//!   (0, 1): the point at `t` on the method's path from `a` to `b` (NAO geodesic, straight
//!   line, NLERP or SLERP; spaced by Euclidean arc length, as the paths of centroid-paths are).
//! - **subsets**: a size `k` uniform in 2..=n, then `k` different inverted images (a partial
//!   Fisher–Yates shuffle): their centroid by the method.
//!
//! Prompt-only draws a fresh Gaussian seed per image.

use nao_centroid::{centroid, path_geometry, CentroidOptions};
use nao_fs::hash::FieldHasher;
use nao_geodesic::{interpolate_at, Spacing};
use nao_prior::{GaussianSeeds, RngName};

use crate::manifest::SeedSource;
use crate::{AugmentError, Result, SeedMethod, SourceKind, SourceMix};

/// The random-number seed of one image.
///
/// ```
/// use nao_augment::image_rng_seed;
/// assert_eq!(image_rng_seed(0, "bag", 1), image_rng_seed(0, "bag", 1));
/// assert_ne!(image_rng_seed(0, "bag", 1), image_rng_seed(0, "bag", 2));
/// ```
pub fn image_rng_seed(seed: u64, class: &str, index: usize) -> u64 {
    let mut h = FieldHasher::new();
    h.field(b"nao-augment/1")
        .field(&seed.to_le_bytes())
        .field(class.as_bytes())
        .field(&(index as u64).to_le_bytes());
    h.finish_u64()
}

/// The seed of the sampler noise of one image (stochastic samplers: Euler ancestral), a
/// stream apart from [`image_rng_seed`]'s, so that an image does not depend on which shard or
/// process makes it.
///
/// ```
/// let a = nao_augment::noise_rng_seed(0, "bag", 3);
/// assert_eq!(a, nao_augment::noise_rng_seed(0, "bag", 3));
/// assert_ne!(a, nao_augment::noise_rng_seed(0, "bag", 4));
/// assert_ne!(a, nao_augment::image_rng_seed(0, "bag", 3));
/// ```
pub fn noise_rng_seed(seed: u64, class: &str, index: usize) -> u64 {
    let mut h = FieldHasher::new();
    h.field(b"nao-augment/1 sampler noise")
        .field(&seed.to_le_bytes())
        .field(class.as_bytes())
        .field(&(index as u64).to_le_bytes());
    h.finish_u64()
}

/// One image's seed and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// The seed.
    pub values: Vec<f64>,
    /// Its source.
    pub source: SeedSource,
    /// 0 for a point itself (and every pair and subset), r ≥ 1 for a centroid-paths point's
    /// r-th perturbed copy.
    pub round: usize,
}

/// What the seeds of one class are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct ClassPool<'a> {
    /// The seed method.
    pub method: SeedMethod,
    /// The centroid-paths points (empty when no image uses them).
    pub points: &'a [Vec<f64>],
    /// Where each point lies.
    pub sources: &'a [SeedSource],
    /// The inverted seeds of the class's real images (empty for prompt-only).
    pub inverted: &'a [Vec<f64>],
    /// The real images' file names, in the order of `inverted`.
    pub images: &'a [String],
    /// The sources and their proportions.
    pub mix: &'a SourceMix,
    /// How far repeated centroid-paths rounds turn a point's direction.
    pub jitter: f64,
    /// The seeds' size.
    pub dim: usize,
}

impl ClassPool<'_> {
    /// The seed of image `index`, drawn with the random-number seed `rng_seed`
    /// ([`image_rng_seed`]).
    pub fn draw(&self, index: usize, rng_seed: u64) -> Result<Drawn> {
        let mut rng = GaussianSeeds::new(RngName::ChaCha20, rng_seed);
        let Some(centroid_method) = self.method.centroid_method() else {
            return Ok(Drawn {
                values: rng.seed(self.dim),
                source: SeedSource::Random,
                round: 0,
            });
        };
        let kind = match self.mix.parts() {
            [(kind, _)] => *kind,
            _ => self.mix.pick(rng.uniform()),
        };
        let n = self.inverted.len();
        let missing = |what: &str| {
            AugmentError::compute(
                "drawing a seed",
                format!("image {index}: the class has no {what} to draw from"),
            )
        };
        match kind {
            SourceKind::CentroidPaths => {
                let p = self.points.len();
                if p == 0 {
                    return Err(missing("centroid-paths points"));
                }
                let (k, round) = (index % p, index / p);
                let point = &self.points[k];
                let values = if round == 0 {
                    point.clone()
                } else {
                    let epsilon: Vec<f64> = rng.seed(point.len());
                    perturb(point, &epsilon, self.jitter)
                };
                Ok(Drawn {
                    values,
                    source: self.sources[k].clone(),
                    round,
                })
            }
            SourceKind::Pairs => {
                if n < 2 {
                    return Err(missing("pair of inverted images"));
                }
                let a = below(&mut rng, n);
                let b = (a + 1 + below(&mut rng, n - 1)) % n;
                let t = open_unit(&mut rng);
                let geometry = path_geometry(centroid_method)
                    .ok_or_else(|| missing("path geometry for its method"))?;
                let frames = interpolate_at(
                    geometry,
                    &self.inverted[a],
                    &self.inverted[b],
                    &[t],
                    Spacing::Euclidean,
                )
                .map_err(|e| AugmentError::compute("a point between two seeds", e))?;
                Ok(Drawn {
                    values: frames.frame(0).to_vec(),
                    source: SeedSource::Pair {
                        a,
                        b,
                        images: [self.images[a].clone(), self.images[b].clone()],
                        t,
                    },
                    round: 0,
                })
            }
            SourceKind::Subsets => {
                if n < 2 {
                    return Err(missing("subset of two inverted images"));
                }
                let k = 2 + below(&mut rng, n - 1);
                let mut order: Vec<usize> = (0..n).collect();
                for i in 0..k {
                    let j = i + below(&mut rng, n - i);
                    order.swap(i, j);
                }
                let mut members = order[..k].to_vec();
                members.sort_unstable();
                let views: Vec<&[f64]> = members
                    .iter()
                    .map(|&m| self.inverted[m].as_slice())
                    .collect();
                let c = centroid(centroid_method, &views, &CentroidOptions::default(), None)
                    .map_err(|e| AugmentError::compute("the centroid of a subset", e))?;
                Ok(Drawn {
                    values: c.centroid,
                    source: SeedSource::Subset {
                        images: members.iter().map(|&m| self.images[m].clone()).collect(),
                        members,
                    },
                    round: 0,
                })
            }
        }
    }
}

/// A uniform integer in `0..n` (`n ≥ 1`).
fn below(rng: &mut GaussianSeeds, n: usize) -> usize {
    ((rng.uniform() * n as f64) as usize).min(n - 1)
}

/// A uniform number in the open interval (0, 1).
fn open_unit(rng: &mut GaussianSeeds) -> f64 {
    loop {
        let u = rng.uniform();
        if u > 0.0 {
            return u;
        }
    }
}

/// `z` turned towards the random direction `epsilon` (see the module documentation), its norm
/// kept.
fn perturb(z: &[f64], epsilon: &[f64], jitter: f64) -> Vec<f64> {
    let norm = nao_prior::norm(z);
    let scale = jitter / (z.len() as f64).sqrt();
    let direction: Vec<f64> = z
        .iter()
        .zip(epsilon)
        .map(|(v, e)| v / norm + scale * e)
        .collect();
    let length = nao_prior::norm(&direction);
    direction.iter().map(|v| v * norm / length).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        points: Vec<Vec<f64>>,
        sources: Vec<SeedSource>,
        inverted: Vec<Vec<f64>>,
        images: Vec<String>,
    }

    fn fixture() -> Fixture {
        let mut rng = GaussianSeeds::new(RngName::ChaCha20, 5);
        let points: Vec<Vec<f64>> = (0..3).map(|_| rng.seed(64)).collect();
        let sources = vec![
            SeedSource::Centroid,
            SeedSource::Path {
                path: 0,
                image: "a.png".into(),
                t: 0.5,
            },
            SeedSource::Path {
                path: 1,
                image: "b.png".into(),
                t: 0.5,
            },
        ];
        let inverted: Vec<Vec<f64>> = (0..4).map(|_| rng.seed(64)).collect();
        let images = ["a.png", "b.png", "c.png", "d.png"]
            .map(String::from)
            .to_vec();
        Fixture {
            points,
            sources,
            inverted,
            images,
        }
    }

    fn pool<'a>(f: &'a Fixture, method: SeedMethod, mix: &'a SourceMix) -> ClassPool<'a> {
        ClassPool {
            method,
            points: &f.points,
            sources: &f.sources,
            inverted: &f.inverted,
            images: &f.images,
            mix,
            jitter: 0.2,
            dim: 64,
        }
    }

    #[test]
    fn centroid_paths_cycle_over_points_then_perturb() {
        let f = fixture();
        let mix = SourceMix::default();
        let p = pool(&f, SeedMethod::Nao, &mix);
        let at = |i: usize| p.draw(i, image_rng_seed(0, "bag", i)).unwrap();
        for i in 0..3 {
            let d = at(i);
            assert_eq!(d.values, f.points[i]);
            assert_eq!(d.source, f.sources[i]);
            assert_eq!(d.round, 0);
        }
        for i in 3..9 {
            let d = at(i);
            assert_eq!(d.source, f.sources[i % 3]);
            assert_eq!(d.round, i / 3);
            let z = &f.points[i % 3];
            // the norm (so log χ) is kept, the direction turns by about atan(0.2)
            let (nz, nd) = (nao_prior::norm(z), nao_prior::norm(&d.values));
            assert!((nz - nd).abs() < 1e-12 * nz, "{nz} vs {nd}");
            let cos = nao_prior::dot(z, &d.values) / (nz * nd);
            let angle = cos.clamp(-1.0, 1.0).acos();
            assert!((angle - 0.2f64.atan()).abs() < 0.1, "angle {angle}");
            assert_eq!(d, at(i), "deterministic");
        }
        assert_ne!(at(3).values, at(6).values, "each round differs");
    }

    #[test]
    fn pairs_lie_on_the_methods_path_between_two_images() {
        let f = fixture();
        let mix = SourceMix::only(SourceKind::Pairs);
        let p = pool(&f, SeedMethod::Euclidean, &mix);
        let mut seen = std::collections::HashSet::new();
        for i in 0..40 {
            let d = p.draw(i, image_rng_seed(7, "bag", i)).unwrap();
            let SeedSource::Pair { a, b, t, images } = &d.source else {
                panic!("{:?}", d.source)
            };
            assert!(a != b && *t > 0.0 && *t < 1.0);
            assert_eq!(images[0], f.images[*a]);
            // straight lines for the Euclidean mean: (1 − t)·x_a + t·x_b
            for k in 0..64 {
                let want = (1.0 - t) * f.inverted[*a][k] + t * f.inverted[*b][k];
                assert!((d.values[k] - want).abs() < 1e-9);
            }
            seen.insert((*a, *b));
            assert_eq!(d, p.draw(i, image_rng_seed(7, "bag", i)).unwrap());
        }
        assert!(seen.len() > 6, "pairs vary: {seen:?}");
    }

    #[test]
    fn subsets_are_the_methods_centroid_of_two_or_more_images() {
        let f = fixture();
        let mix = SourceMix::only(SourceKind::Subsets);
        let p = pool(&f, SeedMethod::Euclidean, &mix);
        let mut sizes = std::collections::BTreeSet::new();
        for i in 0..40 {
            let d = p.draw(i, image_rng_seed(1, "bag", i)).unwrap();
            let SeedSource::Subset { members, .. } = &d.source else {
                panic!("{:?}", d.source)
            };
            assert!(members.len() >= 2 && members.windows(2).all(|w| w[0] < w[1]));
            for k in 0..64 {
                let mean =
                    members.iter().map(|&m| f.inverted[m][k]).sum::<f64>() / members.len() as f64;
                assert!((d.values[k] - mean).abs() < 1e-9);
            }
            sizes.insert(members.len());
        }
        assert_eq!(sizes, [2, 3, 4].into(), "every size from 2 to n");
    }

    #[test]
    fn a_mix_draws_each_source_in_proportion_and_prompt_only_draws_noise() {
        let f = fixture();
        let mix: SourceMix = "centroid-paths:1,pairs:1".parse().unwrap();
        let p = pool(&f, SeedMethod::Nao, &mix);
        let pairs = (0..200)
            .filter(|&i| {
                matches!(
                    p.draw(i, image_rng_seed(0, "bag", i)).unwrap().source,
                    SeedSource::Pair { .. }
                )
            })
            .count();
        assert!((70..130).contains(&pairs), "{pairs} of 200");
        let p = pool(&f, SeedMethod::PromptOnly, &mix);
        let r = p.draw(0, image_rng_seed(0, "bag", 0)).unwrap();
        assert_eq!(r.source, SeedSource::Random);
        let chi = nao_prior::ChiPrior::new(64).unwrap();
        let norm = nao_prior::norm(&r.values);
        assert!((norm - chi.mean()).abs() < 5.0 * chi.std_dev(), "{norm}");
    }
}
