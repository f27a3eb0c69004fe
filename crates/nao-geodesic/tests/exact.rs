#![allow(clippy::approx_constant)] // test angles sit near, deliberately not at, π/2 and π
//! The exact NAO geodesic: consistency, optimality, gradients, hard cases.

use nao_geodesic::{lerp, polyline_cost, slerp, Frames, GeodesicError, Nao, PathKind, Spacing};
use nao_prior::{dot, norm, ChiPrior, GaussianSeeds, RngName};

/// Two seeds of dimension `d` with norms `ra`, `rb` and angle `theta` (in the first two axes
/// rotated by a random orthogonal-ish mix so that every coordinate is used).
fn pair(d: usize, ra: f64, rb: f64, theta: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = GaussianSeeds::new(RngName::ChaCha8, seed);
    let u: Vec<f64> = rng.seed(d);
    let mut v: Vec<f64> = rng.seed(d);
    let nu = norm(&u);
    let u: Vec<f64> = u.iter().map(|x| x / nu).collect();
    let p = dot(&v, &u);
    v.iter_mut().zip(&u).for_each(|(x, y)| *x -= p * y);
    let nv = norm(&v);
    v.iter_mut().for_each(|x| *x /= nv);
    let a = u.iter().map(|x| ra * x).collect();
    let b = u
        .iter()
        .zip(&v)
        .map(|(x, y)| rb * (theta.cos() * x + theta.sin() * y))
        .collect();
    (a, b)
}

/// Cost of the geodesic's own frames, Richardson-extrapolated to infinitely many frames.
fn extrapolated_polyline_cost(nao: &Nao, a: &[f64], b: &[f64]) -> f64 {
    let g = nao.geodesic(a, b).unwrap();
    let c1 = polyline_cost(nao.prior(), &g.frames(801, Spacing::Euclidean));
    let c2 = polyline_cost(nao.prior(), &g.frames(1601, Spacing::Euclidean));
    (4.0 * c2 - c1) / 3.0
}

const CASES: &[(usize, f64, f64, f64)] = &[
    // (d, ‖a‖/√d, ‖b‖/√d, θ)
    (64, 1.0, 1.0, 1.5707963),
    (64, 0.8, 1.15, 1.5),
    (64, 1.3, 1.2, 3.1),
    (64, 0.8, 0.8, 3.14159),
    (16384, 1.0, 1.0, 1.5707963),
    (16384, 0.8, 0.8, 1.5707963), // DDIM-inverted seeds
    (16384, 0.8, 0.85, 0.3),
    (16384, 0.8, 1.1, 3.0),
    (16384, 1.0, 1.0, 1e-3),
    (16384, 1.0, 1.0, 3.1415),
    (3, 0.6, 1.5, 2.0),
    (2, 0.7, 0.9, 3.0),
];

#[test]
fn distance_is_the_cost_of_the_returned_path() {
    for (i, &(d, fa, fb, th)) in CASES.iter().enumerate() {
        let s = (d as f64).sqrt();
        let (a, b) = pair(d, fa * s, fb * s, th, i as u64);
        let nao = Nao::new(d).unwrap();
        let dist = nao.distance(&a, &b).unwrap();
        let poly = extrapolated_polyline_cost(&nao, &a, &b);
        let rel = (poly - dist).abs() / dist;
        assert!(rel < 1e-7, "case {i}: D={dist} polyline={poly} rel={rel:e}");
    }
}

#[test]
fn no_perturbed_path_is_cheaper() {
    for (i, &(d, fa, fb, th)) in CASES.iter().enumerate() {
        let s = (d as f64).sqrt();
        let (a, b) = pair(d, fa * s, fb * s, th, 100 + i as u64);
        let nao = Nao::new(d).unwrap();
        let g = nao.geodesic(&a, &b).unwrap();
        let base = g.frames(401, Spacing::Euclidean);
        let c0 = polyline_cost(nao.prior(), &base);
        let mut rng = GaussianSeeds::new(RngName::ChaCha8, i as u64);
        for trial in 0..4 {
            // A smooth bump (sin(πt)) in a random direction, scaled to 1% of the radius.
            let dir: Vec<f64> = rng.seed(d);
            let nd = norm(&dir);
            let amp = 0.01 * s / nd * (1.0 + trial as f64);
            let mut pert = Frames::new(d);
            for k in 0..base.len() {
                let t = k as f64 / (base.len() - 1) as f64;
                let bump = (std::f64::consts::PI * t).sin() * amp;
                let f: Vec<f64> = base
                    .frame(k)
                    .iter()
                    .zip(&dir)
                    .map(|(x, e)| x + bump * e)
                    .collect();
                pert.push(&f);
            }
            let c1 = polyline_cost(nao.prior(), &pert);
            assert!(
                c1 > c0,
                "case {i} trial {trial}: perturbed {c1} < geodesic {c0}"
            );
        }
    }
}

#[test]
fn never_costlier_than_lerp_or_slerp() {
    for (i, &(d, fa, fb, th)) in CASES.iter().enumerate() {
        let s = (d as f64).sqrt();
        let (a, b) = pair(d, fa * s, fb * s, th, 200 + i as u64);
        let nao = Nao::new(d).unwrap();
        let dist = nao.distance(&a, &b).unwrap();
        let cl = polyline_cost(nao.prior(), &lerp(&a, &b, 2).unwrap());
        let cs = polyline_cost(nao.prior(), &slerp(&a, &b, 2001).unwrap());
        assert!(dist <= cl * (1.0 + 1e-9), "case {i}: {dist} > lerp {cl}");
        assert!(dist <= cs * (1.0 + 1e-9), "case {i}: {dist} > slerp {cs}");
    }
}

#[test]
fn path_norms_stay_between_the_shell_and_the_endpoints() {
    for (i, &(d, fa, fb, th)) in CASES.iter().enumerate() {
        if d < 16 {
            continue; // no shell to speak of
        }
        let s = (d as f64).sqrt();
        let (a, b) = pair(d, fa * s, fb * s, th, 300 + i as u64);
        let nao = Nao::new(d).unwrap();
        let rg = nao.circle_radius().unwrap();
        let (ra, rb) = (norm(&a), norm(&b));
        let lo = ra.min(rb).min(rg) * (1.0 - 1e-9);
        let hi = ra.max(rb).max(rg) * (1.0 + 1e-9);
        for f in nao.path(&a, &b, 64, Spacing::Euclidean).unwrap().iter() {
            let r = norm(f);
            assert!(
                r >= lo && r <= hi,
                "case {i}: norm {r} outside [{lo}, {hi}]"
            );
        }
    }
}

#[test]
fn clairaut_constant_is_the_angular_derivative_of_the_distance() {
    for &(d, fa, fb, th) in CASES {
        let s = (d as f64).sqrt();
        let nao = Nao::new(d).unwrap();
        let (ra, rb) = (fa * s, fb * s);
        let h = 1e-3 * th.min(std::f64::consts::PI - th).max(1e-3);
        let dp = nao.solve_planar(ra, rb, th + h).unwrap().distance();
        let dm = nao.solve_planar(ra, rb, th - h).unwrap().distance();
        let g = nao.solve_planar(ra, rb, th).unwrap();
        if g.kind() == PathKind::ThroughOrigin {
            continue;
        }
        let fd = (dp - dm) / (2.0 * h);
        assert!(
            (fd - g.clairaut()).abs() < 1e-5 * g.clairaut().abs().max(1.0),
            "d={d} θ={th}: FD {fd} vs C {}",
            g.clairaut()
        );
    }
}

#[test]
fn gradient_wrt_an_endpoint_matches_finite_differences() {
    for (i, &(d, fa, fb, th)) in CASES.iter().enumerate() {
        if d > 64 || std::f64::consts::PI - th < 1e-3 {
            // A full FD gradient is O(d) solves (d = 64 covers the formula); at θ → π the
            // distance has a kink (the geodesic may turn either way), so no derivative exists.
            continue;
        }
        let s = (d as f64).sqrt();
        let (a, b) = pair(d, fa * s, fb * s, th, 400 + i as u64);
        let nao = Nao::new(d).unwrap();
        let grad = nao.geodesic(&a, &b).unwrap().gradient_wrt_start();
        for j in 0..d {
            // D carries ~1e-10 relative quadrature noise: a step of 1e-4·‖a‖ keeps the FD
            // noise near 1e-6 while its truncation error stays far smaller.
            let h = 1e-4 * s;
            let mut ap = a.clone();
            ap[j] += h;
            let mut am = a.clone();
            am[j] -= h;
            let fd = (nao.distance(&ap, &b).unwrap() - nao.distance(&am, &b).unwrap()) / (2.0 * h);
            assert!(
                (fd - grad[j]).abs() < 1e-5 * (1.0 + grad[j].abs()),
                "case {i} coord {j}: FD {fd} vs analytic {}",
                grad[j]
            );
        }
    }
}

#[test]
fn hard_angles_and_norms() {
    let d = 16384;
    let nao = Nao::new(d).unwrap();
    let s = 128.0;
    // θ tiny: distance → f(r)·‖a − b‖
    for &th in &[1e-12, 1e-9, 1e-6, 1e-4] {
        let (a, b) = pair(d, 0.8 * s, 0.8 * s, th, 7);
        let dist = nao.distance(&a, &b).unwrap();
        let chord = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let f = nao.prior().neg_log_pdf(0.8 * s);
        assert!(
            (dist / (f * chord) - 1.0).abs() < 1e-6,
            "θ={th}: {dist} vs {}",
            f * chord
        );
    }
    // θ → π: continuous, finite, and the exactly antipodal pair works.
    let mut prev = None;
    for &th in &[3.1, 3.14, 3.1415, 3.141592, std::f64::consts::PI] {
        let (a, b) = pair(d, 0.8 * s, 0.8 * s, th, 8);
        let dist = nao.distance(&a, &b).unwrap();
        assert!(dist.is_finite());
        if let Some(p) = prev {
            assert!(dist >= p, "distance must grow with θ");
        }
        prev = Some(dist);
    }
    let a: Vec<f64> = GaussianSeeds::new(RngName::ChaCha20, 9).seed(d);
    let b: Vec<f64> = a.iter().map(|x| -x).collect();
    let g = nao.geodesic(&a, &b).unwrap();
    let fr = g.frames(11, Spacing::Euclidean);
    assert!(fr.data.iter().all(|v| v.is_finite()));
    // identical seeds: distance 0, constant path
    assert_eq!(nao.distance(&a, &a).unwrap(), 0.0);
}

#[test]
fn frames_are_uniform_in_cost_or_in_length() {
    // A piece of a geodesic is the geodesic between its ends, so the NAO distance (and the
    // Euclidean length of the geodesic) between consecutive frames must be one n-th of the whole.
    let d = 16384;
    let nao = Nao::new(d).unwrap();
    for (i, &(fa, fb, th)) in [(1.0, 1.02, 1.5), (0.8, 0.85, 1.2)].iter().enumerate() {
        let (a, b) = pair(d, fa * 128.0, fb * 128.0, th, 11 + i as u64);
        let g = nao.geodesic(&a, &b).unwrap();
        let n = 11;
        let by_cost = g.frames(n, Spacing::NaoDistance);
        let step = g.distance() / (n - 1) as f64;
        let by_length = g.frames(n, Spacing::Euclidean);
        let len_step = g.euclidean_length() / (n - 1) as f64;
        for k in 1..n {
            let c = nao
                .distance(by_cost.frame(k - 1), by_cost.frame(k))
                .unwrap();
            assert!(
                (c - step).abs() < 1e-6 * step,
                "case {i} segment {k}: {c} vs {step}"
            );
            let sub = nao
                .geodesic(by_length.frame(k - 1), by_length.frame(k))
                .unwrap();
            let l = sub.euclidean_length();
            assert!(
                (l - len_step).abs() < 1e-6 * len_step,
                "case {i} segment {k}: {l} vs {len_step}"
            );
        }
    }
}

#[test]
fn cost_spacing_leaves_the_arc_unsampled_far_off_the_mode() {
    // DDIM-inverted seeds at 0.8·√d: nearly all the NAO cost is on the radial legs.
    let d = 16384;
    let nao = Nao::new(d).unwrap();
    let (a, b) = pair(d, 0.8 * 128.0, 0.8 * 128.0, 1.5, 12);
    let g = nao.geodesic(&a, &b).unwrap();
    let rg = nao.circle_radius().unwrap();
    let on_arc = |f: &Frames| f.iter().filter(|x| (norm(x) - rg).abs() < 1.0).count();
    let by_cost = g.frames(21, Spacing::NaoDistance);
    let by_length = g.frames(21, Spacing::Euclidean);
    assert!(
        on_arc(&by_cost) <= 2,
        "cost spacing put {} frames on the arc",
        on_arc(&by_cost)
    );
    assert!(
        on_arc(&by_length) >= 12,
        "length spacing put {} frames on the arc",
        on_arc(&by_length)
    );
}

#[test]
fn invalid_input_is_an_error() {
    let nao = Nao::new(4).unwrap();
    assert!(matches!(
        nao.distance(&[1.0, 2.0, 3.0, 4.0], &[0.0; 4]),
        Err(GeodesicError::ZeroSeed { which: "b" })
    ));
    assert!(matches!(
        nao.distance(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]),
        Err(GeodesicError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        nao.distance(&[1.0, f64::INFINITY, 3.0, 4.0], &[1.0; 4]),
        Err(GeodesicError::NonFinite { index: 1, .. })
    ));
    assert!(nao
        .path(&[1.0; 4], &[2.0; 4], 1, Spacing::Euclidean)
        .is_err());
    assert!(nao.solve_planar(1.0, -1.0, 1.0).is_err());
    assert!(nao.solve_planar(1.0, 1.0, 4.0).is_err());
    let _ = ChiPrior::new(4).unwrap();
}

#[test]
fn circle_regime_closed_form_matches_the_full_solve() {
    let mut checked = 0;
    for &d in &[64usize, 1024, 16384] {
        let nao = Nao::new(d).unwrap();
        let s = (d as f64).sqrt();
        for &(fa, fb) in &[(1.0, 1.0), (0.8, 0.8), (0.8, 1.1), (1.05, 0.95), (0.9, 1.3)] {
            for &th in &[0.3, 1.0, 1.5707963, 2.5, 3.1] {
                let (ra, rb) = (fa * s, fb * s);
                let (la, lb) = (nao.circle_leg(ra).unwrap(), nao.circle_leg(rb).unwrap());
                let full = nao.solve_planar(ra, rb, th).unwrap();
                // Outside (or at the edge of) the regime the caller solves in full.
                if let Some((dist, (tr, ta))) = la.distance_to(&lb, th) {
                    checked += 1;
                    assert_eq!(
                        full.kind(),
                        PathKind::ClairautWithArc,
                        "d={d} {fa} {fb} {th}"
                    );
                    assert!(
                        (dist - full.distance()).abs() < 1e-10 * dist,
                        "d={d}: {dist} vs {}",
                        full.distance()
                    );
                    let (fr, fa_) = full.start_tangent();
                    assert!(
                        (tr - fr).abs() < 1e-7 && (ta - fa_).abs() < 1e-7,
                        "tangent ({tr},{ta}) vs ({fr},{fa_})"
                    );
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} cases were in the circle regime"
    );
}
