//! `nao prior`, `nao norms`, `nao seed`: run the built binary and check its JSON and files.

mod common;

use common::{num, read, Work};
use nao_npy::DType;

#[test]
fn prior_reports_the_chi_statistics() {
    let w = Work::new();
    let v = w.json(&["prior", "--dim", "16384", "--json"]);
    assert_eq!(v["dim"], 16384);
    assert!((num(&v, "mode") - 16383f64.sqrt()).abs() < 1e-9);
    assert!((num(&v, "mean") - 127.998).abs() < 1e-3);
    assert!((num(&v, "std") - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-3);
    assert!(v.get("log_pdf").is_none());

    let v = w.json(&["--json", "prior", "--dim", "64", "--norm", "8"]);
    for f in [
        "dim",
        "mode",
        "mean",
        "std",
        "log_pdf",
        "percentile",
        "log_cdf",
    ] {
        assert!(v.get(f).is_some(), "{f} missing in {v}");
    }
    assert!((num(&v, "log_pdf") - (-0.5749690248439663)).abs() < 1e-12);
    let p = num(&v, "percentile");
    assert!(p > 40.0 && p < 60.0, "{p}");
    assert!((num(&v, "log_cdf") - (p / 100.0).ln()).abs() < 1e-12);

    // Deep lower tail: the percentile underflows to ~0 but log_cdf stays finite.
    let v = w.json(&["prior", "--dim", "16384", "--norm", "80", "--json"]);
    assert!(num(&v, "percentile") < 1e-300);
    assert!(num(&v, "log_cdf") < -1000.0 && num(&v, "log_cdf").is_finite());

    // Text output mentions the numbers.
    let out = w.run(&["prior", "--dim", "4", "--norm", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("mode") && text.contains("percentile"),
        "{text}"
    );
}

#[test]
fn prior_rejects_bad_values() {
    let w = Work::new();
    assert!(w.fails(&["prior", "--dim", "0"]).contains("dim"));
    for bad in ["-1", "0", "nan", "inf"] {
        let msg = w.fails(&["prior", "--dim", "4", &format!("--norm={bad}"), "--json"]);
        assert!(msg.contains("--norm"), "{msg}");
    }
    w.fails(&["prior"]);
    w.fails(&["prior", "--dim", "abc"]);
}

#[test]
fn seed_writes_reproducible_gaussian_seeds() {
    let w = Work::new();
    let v = w.json(&[
        "seed", "--shape", "4,8,8", "--seed", "7", "-o", "a.npy", "--json",
    ]);
    assert_eq!(v["dim"], 256);
    assert_eq!(v["dtype"], "float32");
    let a = read(&w.path("a.npy"));
    assert_eq!((a.shape(), a.dtype()), (&[4, 8, 8][..], DType::F32));
    let norm = nao_prior::norm(&a.to_f64_vec());
    assert!((v["norms"][0].as_f64().unwrap() - norm).abs() < 1e-9);
    assert!((norm - 16.0).abs() < 4.0, "{norm}");

    // Same recipe, same bytes; a different seed or RNG, different values.
    w.json(&[
        "seed", "--dim", "256", "--shape", "4,8,8", "--seed", "7", "-o", "b.npy", "--json",
    ]);
    assert_eq!(
        std::fs::read(w.path("a.npy")).unwrap(),
        std::fs::read(w.path("b.npy")).unwrap()
    );
    w.json(&[
        "seed", "--shape", "4,8,8", "--seed", "7", "--rng", "chacha8", "-o", "c.npy", "--json",
    ]);
    assert_ne!(read(&w.path("c.npy")), a);

    // Matches the library's stream exactly.
    let expected: Vec<f32> =
        nao_prior::GaussianSeeds::new(nao_prior::RngName::ChaCha20, 7).seed(256);
    assert_eq!(a.to_f32_vec(), expected);

    // Several seeds, float64: stacked along a new first axis.
    let v = w.json(&[
        "seed", "--dim", "64", "--seed", "1", "--count", "5", "--dtype", "f64", "-o", "many.npy",
        "--json",
    ]);
    assert_eq!(v["count"], 5);
    assert_eq!(v["norms"].as_array().unwrap().len(), 5);
    let m = read(&w.path("many.npy"));
    assert_eq!((m.shape(), m.dtype()), (&[5, 64][..], DType::F64));
    let first: Vec<f64> = nao_prior::GaussianSeeds::new(nao_prior::RngName::ChaCha20, 1).seed(320);
    assert_eq!(m.to_f64_vec(), first);
}

#[test]
fn seed_rejects_bad_options_without_writing() {
    let w = Work::new();
    assert!(w
        .fails(&["seed", "--seed", "1", "-o", "x.npy"])
        .contains("--dim"));
    assert!(w
        .fails(&["seed", "--dim", "10", "--shape", "4,8", "--seed", "1", "-o", "x.npy"])
        .contains("--shape"));
    assert!(w
        .fails(&["seed", "--shape", "4,0", "--seed", "1", "-o", "x.npy"])
        .contains("--shape"));
    assert!(w
        .fails(&["seed", "--dim", "0", "--seed", "1", "-o", "x.npy"])
        .contains("dim"));
    assert!(w
        .fails(&["seed", "--dim", "4", "--seed", "1", "--count", "0", "-o", "x.npy"])
        .contains("--count"));
    assert!(w
        .fails(&["seed", "--dim", "4", "--seed", "1", "--rng", "mt19937", "-o", "x.npy"])
        .contains("mt19937"));
    assert!(w
        .fails(&["seed", "--dim", "4000000", "--count", "4000000", "--seed", "1", "-o", "x.npy"])
        .contains("elements"));
    assert!(w
        .fails(&[
            "seed",
            "--dim",
            "4",
            "--seed",
            "1",
            "-o",
            "no/such/dir/x.npy"
        ])
        .contains("no/such/dir"));
    std::fs::create_dir(w.path("adir")).unwrap();
    assert!(w
        .fails(&["seed", "--dim", "4", "--seed", "1", "-o", "adir"])
        .contains("adir"));
    assert_eq!(w.files(), vec!["adir"]);
}

#[test]
fn norms_of_files_and_rows() {
    let w = Work::new();
    w.f32_seed("a.npy", &[2, 2], &[3.0, 0.0, 0.0, 4.0]);
    w.f64_seed("b.npy", &[4], &[1.0, 1.0, 1.0, 1.0]);
    let v = w.json(&["norms", "a.npy", "b.npy", "--json"]);
    assert_eq!(v["dim"], 4);
    let seeds = v["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 2);
    for s in seeds {
        for f in ["file", "index", "norm", "log_chi", "percentile", "log_cdf"] {
            assert!(s.get(f).is_some(), "{f} missing in {s}");
        }
    }
    assert_eq!(seeds[0]["file"], "a.npy");
    assert_eq!(num(&seeds[0], "norm"), 5.0);
    assert_eq!(num(&seeds[1], "norm"), 2.0);
    let prior = nao_prior::ChiPrior::new(4).unwrap();
    assert!((num(&seeds[1], "log_chi") - prior.log_pdf(2.0)).abs() < 1e-12);
    assert!((num(&seeds[1], "percentile") - 100.0 * prior.cdf(2.0)).abs() < 1e-9);

    // --rows: a (3, 2) array is three seeds of d = 2.
    w.f64_seed("rows.npy", &[3, 2], &[3.0, 4.0, 0.0, 1.0, 6.0, 8.0]);
    let v = w.json(&["norms", "--rows", "rows.npy", "--json"]);
    assert_eq!(v["dim"], 2);
    let norms: Vec<f64> = v["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| num(s, "norm"))
        .collect();
    assert_eq!(norms, vec![5.0, 1.0, 10.0]);
    assert_eq!(v["seeds"][2]["index"], 2);

    let out = w.run(&["norms", "--rows", "rows.npy"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("rows.npy[2]"));
}

#[test]
fn norms_reads_the_official_reference_path() {
    let shared = nao_test_support::shared("reference/nao-official/interp_d64_gauss");
    let w = Work::new();
    let p = shared.join("init_path.npy");
    let v = w.json(&["norms", "--rows", p.to_str().unwrap(), "--json"]);
    assert_eq!(v["dim"], 64);
    assert_eq!(v["seeds"].as_array().unwrap().len(), 48);
    // The official summary's first interior point norm.
    assert!((num(&v["seeds"][0], "norm") - 8.172728).abs() < 1e-5);
}

#[test]
fn norms_errors_name_the_file() {
    let w = Work::new();
    w.f32_seed("a.npy", &[4], &[1.0, 2.0, 3.0, 4.0]);
    w.f32_seed("b.npy", &[2, 3], &[1.0; 6]);
    let msg = w.fails(&["norms", "a.npy", "b.npy", "--json"]);
    assert!(
        msg.contains("a.npy")
            && msg.contains("b.npy")
            && msg.contains("(4,)")
            && msg.contains("(2, 3)"),
        "{msg}"
    );

    w.f32_seed("nan.npy", &[2, 3], &[1.0, 2.0, 3.0, 4.0, f32::NAN, 6.0]);
    let msg = w.fails(&["norms", "nan.npy"]);
    assert!(
        msg.contains("nan.npy") && msg.contains("flat index 4") && msg.contains("NaN"),
        "{msg}"
    );
    w.f64_seed("inf.npy", &[3], &[1.0, f64::NEG_INFINITY, 0.0]);
    let msg = w.fails(&["norms", "inf.npy"]);
    assert!(
        msg.contains("inf.npy") && msg.contains("flat index 1") && msg.contains("infinite"),
        "{msg}"
    );

    w.f32_seed("zero.npy", &[3], &[0.0; 3]);
    assert!(w.fails(&["norms", "zero.npy"]).contains("zero.npy"));
    w.f32_seed("zrow.npy", &[2, 2], &[1.0, 1.0, 0.0, 0.0]);
    let msg = w.fails(&["norms", "--rows", "zrow.npy"]);
    assert!(msg.contains("zrow.npy") && msg.contains("row 1"), "{msg}");

    let full = std::fs::read(w.path("a.npy")).unwrap();
    std::fs::write(w.path("trunc.npy"), &full[..full.len() - 3]).unwrap();
    let msg = w.fails(&["norms", "trunc.npy"]);
    assert!(
        msg.contains("trunc.npy") && msg.contains("truncated"),
        "{msg}"
    );
    std::fs::write(w.path("text.npy"), b"hello").unwrap();
    assert!(w.fails(&["norms", "text.npy"]).contains("text.npy"));
    assert!(w.fails(&["norms", "missing.npy"]).contains("missing.npy"));
    nao_npy::write_npy(
        w.path("int.npy"),
        &nao_npy::NpyArray::new(vec![2], nao_npy::NpyData::I64(vec![1, 2])).unwrap(),
    )
    .unwrap();
    let msg = w.fails(&["norms", "int.npy"]);
    assert!(msg.contains("int.npy") && msg.contains("int64"), "{msg}");
    w.f32_seed("empty.npy", &[0, 3], &[]);
    assert!(w.fails(&["norms", "empty.npy"]).contains("empty.npy"));
    w.f32_seed("scalar.npy", &[], &[2.0]);
    assert!(w
        .fails(&["norms", "--rows", "scalar.npy"])
        .contains("scalar.npy"));
    w.fails(&["norms"]);
}
