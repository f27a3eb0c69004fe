//! `nao path`, `nao distance`: run the built binary and check its JSON, its
//! output files (shape, dtype, endpoints) and its errors.

mod common;

use common::{num, read, three_seeds, wavy, Work};
use nao_npy::DType;

const PATH_METHODS: [&str; 6] = ["nao", "nao-reference", "slerp", "lerp", "nlerp", "gaussian"];

#[test]
fn path_every_method_writes_frames_with_the_input_shape_and_dtype() {
    let w = Work::new();
    three_seeds(&w);
    let a = read(&w.path("a.npy")).to_f64_vec();
    let b = read(&w.path("b.npy")).to_f64_vec();
    let mut costs = std::collections::HashMap::new();
    for method in PATH_METHODS {
        let out = format!("path_{method}.npy");
        let v = w.json(&[
            "path", "a.npy", "b.npy", "--method", method, "--frames", "9", "-o", &out, "--json",
        ]);
        for f in [
            "method",
            "dim",
            "frames",
            "seconds",
            "nao_cost",
            "reference_objective",
        ] {
            assert!(v.get(f).is_some(), "{method}: {f} missing in {v}");
        }
        assert_eq!(v["method"], method);
        assert_eq!(v["dim"], 64);
        assert_eq!(v["frames"], 9);
        assert!(num(&v, "seconds") >= 0.0);
        assert!(num(&v, "nao_cost").is_finite() && num(&v, "reference_objective").is_finite());
        let p = read(&w.path(&out));
        assert_eq!(
            (p.shape(), p.dtype()),
            (&[9, 4, 4, 4][..], DType::F32),
            "{method}"
        );
        let frames = p.to_f64_vec();
        for k in 0..64 {
            assert!(
                (frames[k] - a[k]).abs() < 1e-5,
                "{method}: first frame is not a"
            );
            assert!(
                (frames[8 * 64 + k] - b[k]).abs() < 1e-5,
                "{method}: last frame is not b"
            );
        }
        costs.insert(method, num(&v, "nao_cost"));
    }
    // The NAO geodesic is the cheapest path under the NAO metric (up to discretisation).
    assert!(costs["nao"] <= costs["lerp"] * 1.001, "{costs:?}");

    // float64 in, float64 out; NAO spacing.
    let a64: Vec<f64> = wavy(10, 0.0);
    let b64: Vec<f64> = wavy(10, 1.5);
    w.f64_seed("a64.npy", &[10], &a64);
    w.f64_seed("b64.npy", &[10], &b64);
    let v = w.json(&[
        "path",
        "a64.npy",
        "b64.npy",
        "--frames",
        "5",
        "--spacing",
        "nao",
        "-o",
        "p64.npy",
        "--json",
    ]);
    assert_eq!(v["method"], "nao");
    let p = read(&w.path("p64.npy"));
    assert_eq!((p.shape(), p.dtype()), (&[5, 10][..], DType::F64));
    assert_eq!(&p.to_f64_vec()[..10], &a64[..]);

    // Text output.
    let out = w.run(&[
        "path", "a.npy", "b.npy", "--method", "slerp", "--frames", "3", "-o", "t.npy",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("t.npy"));
}

#[test]
fn distance_reports_the_nao_distance() {
    let w = Work::new();
    three_seeds(&w);
    let v = w.json(&["distance", "a.npy", "b.npy", "--json"]);
    for f in ["distance", "dim", "seconds"] {
        assert!(v.get(f).is_some(), "{f} missing in {v}");
    }
    assert_eq!(v["dim"], 64);
    let d = num(&v, "distance");
    assert!(d.is_finite() && d > 0.0, "{v}");
    // Symmetric, and no longer than the NAO cost of the straight line.
    let back = w.json(&["distance", "b.npy", "a.npy", "--json"]);
    assert!((num(&back, "distance") - d).abs() <= 1e-9 * d);
    let lerp = w.json(&[
        "path", "a.npy", "b.npy", "--method", "lerp", "--frames", "400", "-o", "l.npy", "--json",
    ]);
    assert!(d <= num(&lerp, "nao_cost") * (1.0 + 1e-3), "{d} vs {lerp}");
    let same = w.json(&["distance", "a.npy", "a.npy", "--json"]);
    assert!(num(&same, "distance").abs() < 1e-9);
}

#[test]
fn geometry_errors_are_clear_and_leave_no_output() {
    let w = Work::new();
    three_seeds(&w);
    w.f32_seed("small.npy", &[2, 8], &[1.0; 16]);
    w.f32_seed("flat.npy", &[64], &[1.0; 64]);
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
    for cmd in [
        &["path", "--frames", "5", "-o", "out.npy"][..],
        &["distance"],
    ] {
        let with = |a: &str, b: &str| {
            let mut v: Vec<&str> = vec![cmd[0], a, b];
            v.extend_from_slice(&cmd[1..]);
            v.push("--json");
            v.into_iter().map(str::to_string).collect::<Vec<_>>()
        };
        let run = |a: &str, b: &str, needles: &[&str]| {
            let args = with(a, b);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            check(&args, needles);
        };
        run(
            "a.npy",
            "small.npy",
            &["a.npy", "small.npy", "(4, 4, 4)", "(2, 8)"],
        );
        run(
            "a.npy",
            "flat.npy",
            &["a.npy", "flat.npy", "(4, 4, 4)", "(64,)"],
        );
        run("nan.npy", "a.npy", &["nan.npy", "flat index 37", "NaN"]);
        run("a.npy", "zero.npy", &["zero.npy", "zeros"]);
        run("a.npy", "trunc.npy", &["trunc.npy", "truncated"]);
        run("a.npy", "missing.npy", &["missing.npy"]);
    }
    check(
        &["path", "a.npy", "b.npy", "--frames", "1", "-o", "out.npy"],
        &["--frames"],
    );
    check(
        &[
            "path", "a.npy", "b.npy", "--method", "bezier", "-o", "out.npy",
        ],
        &["bezier"],
    );
    check(
        &["path", "a.npy", "b.npy", "-o", "nodir/out.npy"],
        &["nodir"],
    );
}
