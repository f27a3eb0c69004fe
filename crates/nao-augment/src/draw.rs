//! The seed of image `index` of a class: a function of (configuration, class, index) only, so
//! any process may make any image, in any order.
//!
//! With the class's `P` points (the centroid, then every path at the first position, every path
//! at the second, …; see [`ClassSeeds`](crate::ClassSeeds)), image `index` takes point
//! `index mod P` in round `index / P`. Round 0 is the point itself. Round `r ≥ 1` repeats the
//! points with a seeded perturbation that keeps the point's norm, so its log χ is unchanged and
//! DDIM stays deterministic (η = 0): the direction `z/‖z‖ + (jitter/√d)·ε`, with ε a standard
//! Gaussian vector, rescaled to `‖z‖`. A jitter of s turns the direction by about atan(s).
//!
//! Prompt-only draws a fresh Gaussian seed per image. Both use ChaCha20 seeded with the first
//! 8 bytes (little-endian) of SHA-256 over the length-prefixed fields `nao-augment/1`, the
//! spec's seed (8 bytes, little-endian), the class name and the index (8 bytes,
//! little-endian).

use nao_fs::hash::FieldHasher;
use nao_prior::{GaussianSeeds, RngName};

use crate::manifest::SeedSource;
use crate::SeedMethod;

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
    /// 0 for the point itself, r ≥ 1 for its r-th perturbed copy.
    pub round: usize,
}

/// The seed of image `index` of a class whose points are `points` (with their `sources`), in
/// dimension `d`.
pub fn draw(
    method: SeedMethod,
    points: &[Vec<f64>],
    sources: &[SeedSource],
    d: usize,
    index: usize,
    rng_seed: u64,
    jitter: f64,
) -> Drawn {
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, rng_seed);
    if method == SeedMethod::PromptOnly || points.is_empty() {
        return Drawn {
            values: rng.seed(d),
            source: SeedSource::Random,
            round: 0,
        };
    }
    let p = points.len();
    let (k, round) = (index % p, index / p);
    let point = &points[k];
    let values = if round == 0 {
        point.clone()
    } else {
        let epsilon: Vec<f64> = rng.seed(point.len());
        perturb(point, &epsilon, jitter)
    };
    Drawn {
        values,
        source: sources[k].clone(),
        round,
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

    fn points() -> (Vec<Vec<f64>>, Vec<SeedSource>) {
        let mut rng = GaussianSeeds::new(RngName::ChaCha20, 5);
        let values: Vec<Vec<f64>> = (0..3).map(|_| rng.seed(64)).collect();
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
        (values, sources)
    }

    #[test]
    fn the_rule_cycles_over_points_then_perturbs() {
        let (values, sources) = points();
        let at = |i: usize| {
            draw(
                SeedMethod::Nao,
                &values,
                &sources,
                64,
                i,
                image_rng_seed(0, "bag", i),
                0.2,
            )
        };
        for i in 0..3 {
            let d = at(i);
            assert_eq!(d.values, values[i]);
            assert_eq!(d.source, sources[i]);
            assert_eq!(d.round, 0);
        }
        for i in 3..9 {
            let d = at(i);
            assert_eq!(d.source, sources[i % 3]);
            assert_eq!(d.round, i / 3);
            let z = &values[i % 3];
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
    fn seeds_depend_on_seed_class_and_index_only() {
        let a = image_rng_seed(0, "bag", 1);
        assert_eq!(a, image_rng_seed(0, "bag", 1));
        assert_ne!(a, image_rng_seed(1, "bag", 1));
        assert_ne!(a, image_rng_seed(0, "bag", 2));
        assert_ne!(a, image_rng_seed(0, "bags", 1));
        let r = draw(SeedMethod::PromptOnly, &[], &[], 196, 0, a, 0.2);
        assert_eq!(r.source, SeedSource::Random);
        assert_eq!(r.values.len(), 196);
        let chi = nao_prior::ChiPrior::new(196).unwrap();
        let norm = nao_prior::norm(&r.values);
        assert!((norm - chi.mean()).abs() < 5.0 * chi.std_dev(), "{norm}");
    }
}
