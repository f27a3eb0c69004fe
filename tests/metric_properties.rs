//! Property tests: d_NAO is a metric, invariant under orthogonal maps, never above the cost of
//! LERP or SLERP paths, and the centroids behave.

use nao_centroid::{centroid, CentroidMethod, CentroidOptions};
use nao_geodesic::{lerp, polyline_cost, slerp, Nao, Spacing};
use nao_prior::norm;
use proptest::prelude::*;

/// A seed of dimension `d` with entries in a range that includes far-off-mode norms.
fn seed(d: usize) -> impl Strategy<Value = Vec<f64>> {
    (prop::collection::vec(-2.5f64..2.5, d), 0.5f64..1.4).prop_map(|(v, s)| {
        let n = norm(&v).max(1e-9);
        // rescale to s·√d so that norms between 0.5 and 1.4 times the shell are covered
        v.iter()
            .map(|x| x / n * s * (v.len() as f64).sqrt())
            .collect()
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn metric_axioms(x in seed(16), y in seed(16), z in seed(16)) {
        let nao = Nao::new(16).unwrap();
        let dxy = nao.distance(&x, &y).unwrap();
        let dyx = nao.distance(&y, &x).unwrap();
        let dxz = nao.distance(&x, &z).unwrap();
        let dzy = nao.distance(&z, &y).unwrap();
        prop_assert_eq!(nao.distance(&x, &x).unwrap(), 0.0);
        prop_assert!(dxy > 0.0);
        prop_assert!((dxy - dyx).abs() <= 1e-9 * dxy, "symmetry: {} vs {}", dxy, dyx);
        prop_assert!(dxy <= (dxz + dzy) * (1.0 + 1e-9), "triangle: {} > {} + {}", dxy, dxz, dzy);
    }

    #[test]
    fn invariant_under_orthogonal_maps(x in seed(12), y in seed(12), v in seed(12), perm_seed in 0u64..1000) {
        let nao = Nao::new(12).unwrap();
        // Householder reflection I − 2vvᵀ/‖v‖² followed by a permutation: orthogonal.
        let vv: f64 = v.iter().map(|a| a * a).sum();
        let reflect = |p: &[f64]| -> Vec<f64> {
            let pv: f64 = p.iter().zip(&v).map(|(a, b)| a * b).sum();
            p.iter().zip(&v).map(|(a, b)| a - 2.0 * pv / vv * b).collect()
        };
        let mut order: Vec<usize> = (0..12).collect();
        order.rotate_left((perm_seed % 12) as usize);
        let permute = |p: Vec<f64>| -> Vec<f64> { order.iter().map(|&i| p[i]).collect() };
        let (qx, qy) = (permute(reflect(&x)), permute(reflect(&y)));
        let d0 = nao.distance(&x, &y).unwrap();
        let d1 = nao.distance(&qx, &qy).unwrap();
        prop_assert!((d0 - d1).abs() <= 1e-8 * d0, "{} vs {}", d0, d1);
    }

    #[test]
    fn never_above_lerp_or_slerp(x in seed(32), y in seed(32)) {
        let nao = Nao::new(32).unwrap();
        let d = nao.distance(&x, &y).unwrap();
        let cl = polyline_cost(nao.prior(), &lerp(&x, &y, 2).unwrap());
        let cs = polyline_cost(nao.prior(), &slerp(&x, &y, 513).unwrap());
        prop_assert!(d <= cl * (1.0 + 1e-9), "lerp {} < {}", cl, d);
        prop_assert!(d <= cs * (1.0 + 1e-9), "slerp {} < {}", cs, d);
    }

    #[test]
    fn path_norms_between_the_shell_and_the_endpoints(x in seed(64), y in seed(64)) {
        let nao = Nao::new(64).unwrap();
        let rg = nao.circle_radius().unwrap();
        let (rx, ry) = (norm(&x), norm(&y));
        let lo = rx.min(ry).min(rg) * (1.0 - 1e-9);
        let hi = rx.max(ry).max(rg) * (1.0 + 1e-9);
        for f in nao.path(&x, &y, 33, Spacing::Euclidean).unwrap().iter() {
            let r = norm(f);
            prop_assert!(r >= lo && r <= hi, "norm {} outside [{}, {}]", r, lo, hi);
        }
    }

    #[test]
    fn centroids_ignore_order_and_fix_identical_seeds(a in seed(24), b in seed(24), c in seed(24)) {
        let opts = CentroidOptions::default();
        let fwd = centroid(CentroidMethod::Nao, &[&a, &b, &c], &opts, None).unwrap();
        let bwd = centroid(CentroidMethod::Nao, &[&c, &a, &b], &opts, None).unwrap();
        let diff = fwd.centroid.iter().zip(&bwd.centroid).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        prop_assert!(diff <= 1e-5 * norm(&fwd.centroid), "order changed the centroid by {}", diff);
        prop_assert!((fwd.objective - bwd.objective).abs() <= 1e-9 * fwd.objective.abs());
        let same = centroid(CentroidMethod::Nao, &[&a, &a], &opts, None).unwrap();
        prop_assert_eq!(same.centroid, a);
    }
}
