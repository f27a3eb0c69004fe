//! `nao centroid`: run the built binary and check its JSON, its output files and its errors.

mod common;

use common::{num, read, three_seeds, Work};
use nao_centroid::CentroidMethod;
use nao_npy::DType;

/// Every method's command-line name, from the library, and the accented alias of nao-frechet.
fn centroid_methods() -> Vec<&'static str> {
    let mut names: Vec<_> = CentroidMethod::ALL.iter().map(|m| m.as_str()).collect();
    names.push("nao-fréchet");
    names
}

#[test]
fn centroid_every_method_and_paths_out() {
    let w = Work::new();
    three_seeds(&w);
    for method in centroid_methods() {
        let v = w.json(&[
            "centroid",
            "a.npy",
            "b.npy",
            "c.npy",
            "--method",
            method,
            "-o",
            "c_out.npy",
            "--json",
        ]);
        for f in ["method", "dim", "k", "seconds", "objective", "norm"] {
            assert!(v.get(f).is_some(), "{method}: {f} missing in {v}");
        }
        assert_eq!(v["dim"], 64);
        assert_eq!(v["k"], 3);
        let c = read(&w.path("c_out.npy"));
        assert_eq!(
            (c.shape(), c.dtype()),
            (&[4, 4, 4][..], DType::F32),
            "{method}"
        );
        let norm = nao_prior::norm(&c.to_f64_vec());
        assert!(
            (norm - num(&v, "norm")).abs() < 1e-4,
            "{method}: {norm} vs {v}"
        );
    }
    // Normalisation targets.
    let prior = nao_prior::ChiPrior::new(64).unwrap();
    let v = w.json(&[
        "centroid",
        "a.npy",
        "b.npy",
        "--method",
        "normalized",
        "--normalize-to",
        "mode",
        "-o",
        "n.npy",
        "--json",
    ]);
    assert!((num(&v, "norm") - prior.mode()).abs() < 1e-4, "{v}");
    w.json(&[
        "centroid",
        "a.npy",
        "b.npy",
        "--method",
        "normalized",
        "--normalize-to",
        "mean-norm",
        "-o",
        "n.npy",
        "--json",
    ]);

    // Paths from each seed to the centroid: (k, N, seed shape…).
    let v = w.json(&[
        "centroid",
        "a.npy",
        "b.npy",
        "c.npy",
        "--method",
        "nao",
        "-o",
        "c.npy.out",
        "--paths-out",
        "paths.npy",
        "--frames",
        "7",
        "--json",
    ]);
    assert_eq!(v["k"], 3);
    let paths = read(&w.path("paths.npy"));
    assert_eq!(
        (paths.shape(), paths.dtype()),
        (&[3, 7, 4, 4, 4][..], DType::F32)
    );
    let c = read(&w.path("c.npy.out")).to_f64_vec();
    let a = read(&w.path("a.npy")).to_f64_vec();
    let data = paths.to_f64_vec();
    for k in 0..64 {
        assert!((data[k] - a[k]).abs() < 1e-5, "path 0 does not start at a");
        assert!(
            (data[6 * 64 + k] - c[k]).abs() < 1e-4,
            "path 0 does not end at the centroid"
        );
    }
}

#[test]
fn centroid_errors_are_clear_and_leave_no_output() {
    let w = Work::new();
    three_seeds(&w);
    w.f32_seed("small.npy", &[2, 8], &[1.0; 16]);
    let mut nan = vec![1.0f32; 64];
    nan[37] = f32::NAN;
    w.f32_seed("nan.npy", &[4, 4, 4], &nan);
    w.f32_seed("zero.npy", &[4, 4, 4], &[0.0; 64]);
    let full = std::fs::read(w.path("b.npy")).unwrap();
    std::fs::write(w.path("trunc.npy"), &full[..full.len() - 10]).unwrap();
    let before = w.files();
    let check = |args: &[&str], needles: &[&str]| {
        let msg = w.fails(args);
        for n in needles {
            assert!(msg.contains(n), "nao {args:?}: {msg:?} lacks {n:?}");
        }
        assert_eq!(w.files(), before, "nao {args:?} left files behind");
    };
    check(
        &["centroid", "a.npy", "small.npy", "-o", "out.npy"],
        &["a.npy", "small.npy", "(4, 4, 4)", "(2, 8)"],
    );
    check(
        &[
            "centroid", "a.npy", "b.npy", "nan.npy", "-o", "out.npy", "--json",
        ],
        &["nan.npy", "flat index 37", "NaN"],
    );
    check(
        &["centroid", "a.npy", "zero.npy", "-o", "out.npy"],
        &["zero.npy", "zeros"],
    );
    check(
        &["centroid", "a.npy", "trunc.npy", "-o", "out.npy"],
        &["trunc.npy", "truncated"],
    );
    check(
        &["centroid", "a.npy", "missing.npy", "-o", "out.npy"],
        &["missing.npy"],
    );
    check(&["centroid", "a.npy", "-o", "out.npy"], &[]);
    check(
        &[
            "centroid", "a.npy", "b.npy", "--method", "median", "-o", "out.npy",
        ],
        &["median"],
    );
    check(
        &[
            "centroid", "a.npy", "b.npy", "-o", "out.npy", "--frames", "5",
        ],
        &["--paths-out"],
    );
    check(
        &[
            "centroid",
            "a.npy",
            "b.npy",
            "-o",
            "out.npy",
            "--paths-out",
            "p.npy",
            "--frames",
            "1",
        ],
        &["--frames"],
    );
    check(
        &[
            "centroid",
            "a.npy",
            "b.npy",
            "-o",
            "same.npy",
            "--paths-out",
            "same.npy",
        ],
        &["same.npy"],
    );
    check(
        &[
            "centroid", "a.npy", "b.npy", "c.npy", "nan.npy", "-o", "out.npy",
        ],
        &["nan.npy"],
    );
}

/// `nao centroid a.npy b.npy --method nao-reference -o c.npy --paths-out paths.npy --frames N`,
/// then `extra`.
fn reference_centroid_args<'a>(frames: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["centroid", "a.npy", "b.npy", "--method", "nao-reference"];
    args.extend([
        "-o",
        "c.npy",
        "--paths-out",
        "paths.npy",
        "--frames",
        frames,
    ]);
    args.extend_from_slice(extra);
    args
}

/// nao-reference with --paths-out: the paths written are the optimiser's own (run with
/// `--frames` points per path), and the loss and termination reported are its own.
#[test]
fn centroid_reference_writes_the_optimisers_own_paths() {
    use nao_centroid::reference::{ReferenceCentroidConfig, ReferenceCentroidSolver};
    let w = Work::new();
    three_seeds(&w);
    let v = w.json(&reference_centroid_args("9", &["--json"]));
    let seeds: Vec<Vec<f64>> = ["a.npy", "b.npy"]
        .iter()
        .map(|f| read(&w.path(f)).to_f64_vec())
        .collect();
    let views: Vec<&[f64]> = seeds.iter().map(|s| s.as_slice()).collect();
    let mut cfg = ReferenceCentroidConfig::default();
    cfg.path.n_points = 9;
    let sol = ReferenceCentroidSolver::new(64, cfg)
        .unwrap()
        .solve(&views)
        .unwrap();
    let paths = read(&w.path("paths.npy"));
    assert_eq!(paths.shape(), &[2, 9, 4, 4, 4]);
    let written = paths.to_f64_vec();
    for (i, own) in sol.paths.iter().enumerate() {
        let own: Vec<f64> = own.iter().map(|&x| x as f64).collect();
        assert_eq!(&written[i * 9 * 64..(i + 1) * 9 * 64], &own[..], "path {i}");
    }
    let c: Vec<f64> = sol.centroid.iter().map(|&x| x as f64).collect();
    assert_eq!(read(&w.path("c.npy")).to_f64_vec(), c);
    // To 2 ulps: serde_json's default float parser is best-effort (can land one ulp off).
    let loss = num(&v, "official_loss");
    assert!(
        (loss - sol.final_loss).abs() <= 2.0 * f64::EPSILON * loss.abs(),
        "{v}"
    );
    assert_eq!(v["termination"], sol.termination.reason.as_str());
    assert_eq!(num(&v, "iterations"), sol.termination.iterations as f64);
    // Closed forms report no termination; the NAO centroid's optimiser does.
    let mean = w.json(&[
        "centroid",
        "a.npy",
        "b.npy",
        "--method",
        "euclidean",
        "-o",
        "m.npy",
        "--json",
    ]);
    assert!(mean.get("termination").is_none() && mean.get("official_loss").is_none());
    let nao = w.json(&["centroid", "a.npy", "b.npy", "-o", "n.npy", "--json"]);
    let t = nao["termination"].as_str().unwrap();
    assert!(
        ["converged", "no-progress", "iteration-cap"].contains(&t),
        "{nao}"
    );
    // Two frames per path leave nothing to optimise (and nothing is written).
    std::fs::remove_file(w.path("c.npy")).unwrap();
    std::fs::remove_file(w.path("paths.npy")).unwrap();
    let msg = w.fails(&reference_centroid_args("2", &[]));
    assert!(!w.path("c.npy").exists() && !w.path("paths.npy").exists());
    assert!(msg.contains("at least 3"), "{msg}");
}
