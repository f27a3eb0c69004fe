//! Centroids: properties of every method and of the NAO centroid in particular.

use nao_centroid::nao::{objective_and_gradient, NaoObjective, PreparedSeeds};
use nao_centroid::{centroid, CentroidError, CentroidMethod, CentroidOptions, NormTarget};
use nao_geodesic::Nao;
use nao_optim::StopReason;
use nao_prior::{norm, ChiPrior, GaussianSeeds, RngName};

fn seeds(d: usize, k: usize, scale: f64, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = GaussianSeeds::new(RngName::ChaCha8, seed);
    (0..k)
        .map(|_| rng.seed::<f64>(d).into_iter().map(|x| x * scale).collect())
        .collect()
}

fn refs(s: &[Vec<f64>]) -> Vec<&[f64]> {
    s.iter().map(|v| v.as_slice()).collect()
}

#[test]
fn nao_centroid_beats_every_baseline_on_its_objective() {
    for &(d, scale) in &[(64usize, 1.0), (1024, 0.8)] {
        let s = seeds(d, 5, scale, 1);
        let r = refs(&s);
        let o = CentroidOptions::default();
        let nao = centroid(CentroidMethod::Nao, &r, &o, None).unwrap();
        for m in [
            CentroidMethod::Euclidean,
            CentroidMethod::Normalized,
            CentroidMethod::Spherical,
            CentroidMethod::Gaussian,
            CentroidMethod::NaoFrechet,
        ] {
            let b = centroid(m, &r, &o, None).unwrap();
            assert!(
                nao.objective <= b.objective + 1e-9 * b.objective.abs(),
                "d={d} {m}: {} > {}",
                nao.objective,
                b.objective
            );
        }
        let fr = centroid(CentroidMethod::NaoFrechet, &r, &o, None).unwrap();
        assert!(fr.frechet_objective <= nao.frechet_objective * (1.0 + 1e-9));
    }
}

#[test]
fn the_nao_centroid_is_a_stationary_point() {
    let d = 256;
    let s = seeds(d, 6, 1.0, 2);
    let r = refs(&s);
    let nao = Nao::new(d).unwrap();
    let prep = PreparedSeeds::new(&nao, &r);
    for (m, obj) in [
        (CentroidMethod::Nao, NaoObjective::Official),
        (CentroidMethod::NaoFrechet, NaoObjective::Frechet),
    ] {
        let c = centroid(m, &r, &CentroidOptions::default(), None).unwrap();
        let (_, g) = objective_and_gradient(&nao, obj, &prep, &c.centroid).unwrap();
        let (_, g0) = objective_and_gradient(
            &nao,
            obj,
            &prep,
            &r[0].iter().map(|v| v * 0.9).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(
            norm(&g) < 1e-5 * norm(&g0),
            "{m}: |grad| {} vs {}",
            norm(&g),
            norm(&g0)
        );
    }
}

#[test]
fn objective_gradient_matches_finite_differences() {
    // d = 16 exercises the full planar solves, d = 512 mostly the circle-regime closed form.
    for &(d, coords) in &[(16usize, 16usize), (512, 8)] {
        let s = seeds(d, 4, 1.0, 3);
        let r = refs(&s);
        let nao = Nao::new(d).unwrap();
        let prep = PreparedSeeds::new(&nao, &r);
        let c: Vec<f64> = seeds(d, 1, 0.97, 4).remove(0);
        for obj in [NaoObjective::Official, NaoObjective::Frechet] {
            let (_, g) = objective_and_gradient(&nao, obj, &prep, &c).unwrap();
            for j in 0..coords {
                let h = 1e-4;
                let mut cp = c.clone();
                cp[j] += h;
                let mut cm = c.clone();
                cm[j] -= h;
                let fp = objective_and_gradient(&nao, obj, &prep, &cp).unwrap().0;
                let fm = objective_and_gradient(&nao, obj, &prep, &cm).unwrap().0;
                let fd = (fp - fm) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() < 1e-5 * (1.0 + g[j].abs()),
                    "d={d} {obj:?} coord {j}: FD {fd} vs {}",
                    g[j]
                );
            }
        }
    }
}

#[test]
fn identical_seeds_and_order_invariance() {
    let d = 128;
    let s = seeds(d, 4, 1.0, 5);
    let same = vec![s[0].clone(); 3];
    for m in CentroidMethod::ALL {
        if m == CentroidMethod::NaoReference || m == CentroidMethod::Gaussian {
            continue; // the reference port is checked in its own tests; Gaussian scales by √k
        }
        let c = centroid(m, &refs(&same), &CentroidOptions::default(), None).unwrap();
        let err = c
            .centroid
            .iter()
            .zip(&s[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err < 1e-9 * norm(&s[0]),
            "{m}: centroid of identical seeds moved by {err}"
        );
        let fwd = centroid(m, &refs(&s), &CentroidOptions::default(), None).unwrap();
        let mut rev = s.clone();
        rev.reverse();
        let bwd = centroid(m, &refs(&rev), &CentroidOptions::default(), None).unwrap();
        let diff = fwd
            .centroid
            .iter()
            .zip(&bwd.centroid)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            diff < 1e-6 * norm(&fwd.centroid),
            "{m}: order changed the centroid by {diff}"
        );
    }
}

#[test]
fn baselines_have_their_documented_norms() {
    let d = 4096;
    let s = seeds(d, 8, 1.0, 6);
    let r = refs(&s);
    let o = CentroidOptions::default();
    let mean = centroid(CentroidMethod::Euclidean, &r, &o, None).unwrap();
    assert!((norm(&mean.centroid) - (d as f64 / 8.0).sqrt()).abs() < 2.0);
    let g = centroid(CentroidMethod::Gaussian, &r, &o, None).unwrap();
    assert!((norm(&g.centroid) - 64.0).abs() < 2.0);
    let mode = CentroidOptions {
        norm_target: NormTarget::Mode,
        ..Default::default()
    };
    let n = centroid(CentroidMethod::Normalized, &r, &mode, None).unwrap();
    assert!((norm(&n.centroid) - 4095f64.sqrt()).abs() < 1e-9);
    let sp = centroid(CentroidMethod::Spherical, &r, &o, Some(5)).unwrap();
    let mean_norm = s.iter().map(|x| norm(x)).sum::<f64>() / 8.0;
    assert!((norm(&sp.centroid) - mean_norm).abs() < 1e-9);
    assert_eq!(sp.paths.unwrap()[3].len(), 5);
}

#[test]
fn errors_are_clear() {
    let o = CentroidOptions::default();
    assert!(matches!(
        centroid(CentroidMethod::Nao, &[], &o, None),
        Err(CentroidError::NoSeeds)
    ));
    let a = vec![1.0; 4];
    let b = vec![1.0; 5];
    assert!(matches!(
        centroid(CentroidMethod::Nao, &[&a, &b], &o, None),
        Err(CentroidError::DimensionMismatch {
            index: 1,
            expected: 4,
            got: 5
        })
    ));
    let z = vec![0.0; 4];
    assert!(matches!(
        centroid(CentroidMethod::Euclidean, &[&a, &z], &o, None),
        Err(CentroidError::ZeroSeed(1))
    ));
    let n = vec![1.0, f64::NAN, 0.0, 0.0];
    assert!(matches!(
        centroid(CentroidMethod::Euclidean, &[&a, &n], &o, None),
        Err(CentroidError::NonFinite { seed: 1, index: 1 })
    ));
    assert!("nao-fréchet".parse::<CentroidMethod>().unwrap() == CentroidMethod::NaoFrechet);
    assert!("median".parse::<CentroidMethod>().is_err());
}

#[test]
fn geodesic_paths_match_the_returned_frames() {
    let d = 512;
    let s = seeds(d, 3, 0.9, 8);
    let r = refs(&s);
    let res = centroid(
        CentroidMethod::Nao,
        &r,
        &CentroidOptions::default(),
        Some(7),
    )
    .unwrap();
    let geos = nao_centroid::geodesics_to_seeds(&res.centroid, &r).unwrap();
    let paths = res.paths.unwrap();
    for (g, p) in geos.iter().zip(&paths) {
        let f = g.frames(7, nao_geodesic::Spacing::Euclidean);
        assert_eq!(&f, p);
        // each path runs from the centroid to its seed
        assert_eq!(f.frame(0), res.centroid.as_slice());
    }
    assert_eq!(paths[2].frame(6), r[2]);
}

/// Reference mode: the centroid's paths are the optimiser's own, run with as many points as
/// frames are asked for, and the loss reported is the official joint loss of exactly those
/// paths and that centroid.
#[test]
fn reference_mode_returns_the_optimisers_own_paths_and_loss() {
    use nao_centroid::reference::{ReferenceCentroidConfig, ReferenceCentroidSolver};
    use nao_geodesic::reference::{
        official_log_chi_f32, official_norm_f32, reference_loss, ScalarPrecision,
    };
    let d = 32;
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, 17);
    let seeds: Vec<Vec<f64>> = (0..2).map(|_| rng.seed(d)).collect();
    let refs: Vec<&[f64]> = seeds.iter().map(|s| s.as_slice()).collect();
    let prior = ChiPrior::new(d).unwrap();
    for n in [7usize, 50] {
        let r = centroid(
            CentroidMethod::NaoReference,
            &refs,
            &CentroidOptions::default(),
            Some(n),
        )
        .unwrap();
        let mut cfg = ReferenceCentroidConfig::default();
        cfg.path.n_points = n;
        let sol = ReferenceCentroidSolver::new(d, cfg)
            .unwrap()
            .solve(&refs)
            .unwrap();
        assert_eq!(r.termination, Some(sol.termination));
        assert_eq!(r.reference_loss, Some(sol.final_loss));
        let c: Vec<f64> = sol.centroid.iter().map(|&v| v as f64).collect();
        assert_eq!(r.centroid, c);
        let paths = r.paths.as_ref().unwrap();
        // The official loss of what is returned, recomputed from it.
        let r_c = official_norm_f32(&sol.centroid);
        let mut loss = -(official_log_chi_f32(&prior, r_c) as f64);
        for (path, own) in paths.iter().zip(&sol.paths) {
            let forward = path.reversed();
            assert_eq!(forward.len(), n);
            let own: Vec<f64> = own.iter().map(|&v| v as f64).collect();
            assert_eq!(forward.data, own);
            let official = ScalarPrecision::OfficialF32;
            loss += reference_loss(&prior, &forward.data, d, sol.eps, official)
                .unwrap()
                .loss;
        }
        assert!(
            (loss - sol.final_loss).abs() <= 1e-12 * loss.abs(),
            "{loss} vs {}",
            sol.final_loss
        );
    }
    // Iterative methods say why they stopped; closed forms have nothing to say.
    let opts = CentroidOptions::default();
    let nao = centroid(CentroidMethod::Nao, &refs, &opts, None).unwrap();
    let stop = nao.termination.expect("the NAO centroid is iterative");
    assert!(
        stop.iterations > 0 && stop.reason != StopReason::NonFinite,
        "{stop}"
    );
    let sph = centroid(CentroidMethod::Spherical, &refs, &opts, None).unwrap();
    assert_eq!(
        sph.termination.map(|t| t.reason),
        Some(StopReason::Converged)
    );
    let mean = centroid(CentroidMethod::Euclidean, &refs, &opts, None).unwrap();
    assert_eq!((mean.termination, mean.reference_loss), (None, None));
}
