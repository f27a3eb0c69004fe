//! The measures against closed forms and their defining properties.

use nao_metrics::{
    density_coverage, diversity, frechet_distance, precision_recall, Features, MetricsError,
};
use nao_prior::{GaussianSeeds, RngName};
use proptest::prelude::*;

/// `n` samples of a Gaussian with independent coordinates of the given means and deviations.
fn gaussian(n: usize, mean: &[f64], std: &[f64], seed: u64) -> Features {
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, seed);
    let mut data = Vec::with_capacity(n * mean.len());
    for _ in 0..n {
        for (m, s) in mean.iter().zip(std) {
            data.push(m + s * rng.normal());
        }
    }
    Features::new(mean.len(), data).unwrap()
}

#[test]
fn frechet_distance_matches_the_closed_form_for_diagonal_gaussians() {
    // For diagonal covariances FD = ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)²; with 40 000 samples the sample
    // moments are within ~1 % of the true ones.
    let (m1, s1) = ([0.0, 1.0, -2.0], [1.0, 2.0, 0.5]);
    let (m2, s2) = ([1.0, 1.0, 0.0], [1.5, 1.0, 0.5]);
    let a = gaussian(40_000, &m1, &s1, 1);
    let b = gaussian(40_000, &m2, &s2, 2);
    let exact: f64 = m1
        .iter()
        .zip(&m2)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        + s1.iter()
            .zip(&s2)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>();
    let fd = frechet_distance(&a, &b).unwrap();
    assert!(
        (fd - exact).abs() < 0.05 * exact,
        "FD {fd} vs closed form {exact}"
    );
}

#[test]
fn frechet_distance_of_a_rotated_covariance() {
    // Σ₁ = I, Σ₂ = R diag(4, 1) Rᵀ: Tr((Σ₁Σ₂)^{½}) = 2 + 1 whatever the rotation, so
    // FD = Tr(I) + Tr(Σ₂) − 2·3 = 2 + 5 − 6 = 1.
    let a = gaussian(50_000, &[0.0, 0.0], &[1.0, 1.0], 3);
    let raw = gaussian(50_000, &[0.0, 0.0], &[2.0, 1.0], 4);
    let (c, s) = (0.6f64, 0.8f64);
    let rotated: Vec<f64> = raw
        .rows()
        .flat_map(|r| [c * r[0] - s * r[1], s * r[0] + c * r[1]])
        .collect();
    let b = Features::new(2, rotated).unwrap();
    let fd = frechet_distance(&a, &b).unwrap();
    assert!((fd - 1.0).abs() < 0.05, "FD {fd}");
}

#[test]
fn singular_covariances_give_a_finite_distance() {
    // 3 samples in 10 dimensions: rank-2 covariances.
    let a = gaussian(3, &[0.0; 10], &[1.0; 10], 5);
    let b = gaussian(3, &[0.5; 10], &[1.0; 10], 6);
    let fd = frechet_distance(&a, &b).unwrap();
    assert!(fd.is_finite() && fd > 0.0, "{fd}");
}

#[test]
fn matching_sets_have_full_precision_recall_and_unit_density() {
    let real = gaussian(600, &[0.0; 4], &[1.0; 4], 7);
    let same = gaussian(600, &[0.0; 4], &[1.0; 4], 8);
    let pr = precision_recall(&real, &same, 5).unwrap();
    assert!(pr.precision > 0.9 && pr.recall > 0.9, "{pr:?}");
    let dc = density_coverage(&real, &same, 5).unwrap();
    assert!(
        (0.8..1.2).contains(&dc.density) && dc.coverage > 0.9,
        "{dc:?}"
    );
    // A generator that collapsed onto a small part of the real set is precise but not recalled.
    let collapsed = gaussian(600, &[0.0; 4], &[0.1; 4], 9);
    let pr = precision_recall(&real, &collapsed, 5).unwrap();
    assert!(pr.precision > 0.95 && pr.recall < 0.5, "{pr:?}");
    let dc = density_coverage(&real, &collapsed, 5).unwrap();
    assert!(dc.coverage < 0.3, "{dc:?}");
}

#[test]
fn diversity_of_a_gaussian_is_its_expected_pairwise_distance() {
    // The distance of two independent N(0, I_d) points is √2·χ_d: for d = 2 its mean is √π.
    let x = gaussian(2_000, &[0.0, 0.0], &[1.0, 1.0], 10);
    let div = diversity(&x).unwrap();
    assert!((div - std::f64::consts::PI.sqrt()).abs() < 0.03, "{div}");
}

#[test]
fn bad_inputs_are_errors() {
    assert!(matches!(
        Features::new(3, vec![0.0; 4]),
        Err(MetricsError::Shape(_))
    ));
    assert!(matches!(
        Features::new(2, vec![0.0, f64::NAN]),
        Err(MetricsError::NonFinite {
            row: 0,
            column: 1,
            ..
        })
    ));
    let one = Features::new(2, vec![0.0, 1.0]).unwrap();
    let two = Features::new(2, vec![0.0, 1.0, 2.0, 3.0]).unwrap();
    assert!(matches!(
        frechet_distance(&one, &two),
        Err(MetricsError::TooFew(_))
    ));
    assert!(matches!(
        precision_recall(&two, &two, 5),
        Err(MetricsError::TooFew(_))
    ));
    let three = Features::new(3, vec![0.0; 6]).unwrap();
    assert!(matches!(
        frechet_distance(&two, &three),
        Err(MetricsError::Shape(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn frechet_distance_is_symmetric_nonnegative_and_zero_on_itself(
        values in proptest::collection::vec(-10.0f64..10.0, 6..60),
        other in proptest::collection::vec(-10.0f64..10.0, 6..60),
    ) {
        let a = Features::new(3, values[..values.len() / 3 * 3].to_vec()).unwrap();
        let b = Features::new(3, other[..other.len() / 3 * 3].to_vec()).unwrap();
        let ab = frechet_distance(&a, &b).unwrap();
        let ba = frechet_distance(&b, &a).unwrap();
        prop_assert!(ab >= 0.0 && ab.is_finite());
        prop_assert!((ab - ba).abs() <= 1e-6 * (1.0 + ab), "{} vs {}", ab, ba);
        prop_assert!(frechet_distance(&a, &a).unwrap() <= 1e-8 * (1.0 + ab));
    }
}
