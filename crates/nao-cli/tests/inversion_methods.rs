//! `--inversion` on the commands that invert (invert, reconstruct, walk, augment), on the
//! embedded model: the method and its network calls are reported, EDICT's round trip through
//! `nao reconstruct` is exact, another method is another dataset configuration and another
//! cached keyframe, and bad values name the option and the value.

mod common;

use std::path::Path;

use common::{num, read, Work};

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/augment-real");

fn bag() -> String {
    format!("{REAL}/bag/00.png")
}

#[test]
fn invert_and_reconstruct_report_the_method_and_its_calls() {
    let w = Work::new();
    let bag = bag();
    let steps = "10";
    let ddim = w.json(&[
        "invert", &bag, "--prompt", "bag", "--steps", steps, "-o", "ddim.npy", "--json",
    ]);
    assert_eq!(
        (ddim["inversion"].as_str(), num(&ddim, "model_calls")),
        (Some("ddim"), 10.0)
    );
    let fp = w.json(&[
        "invert",
        &bag,
        "--prompt",
        "bag",
        "--steps",
        steps,
        "--inversion",
        "fixed-point:2",
        "-o",
        "fp.npy",
        "--json",
    ]);
    assert_eq!(fp["inversion"], "fixed-point:2");
    assert_eq!(num(&fp, "model_calls"), 30.0);
    assert_ne!(
        read(&w.path("ddim.npy")).to_f64_vec(),
        read(&w.path("fp.npy")).to_f64_vec()
    );

    let rec = |method: &str, out: &str| {
        w.json(&[
            "reconstruct",
            &bag,
            "--prompt",
            "bag",
            "--steps",
            steps,
            "--inversion",
            method,
            "-o",
            out,
            "--json",
        ])
    };
    let r_ddim = rec("ddim", "r_ddim");
    let r_fp = rec("fixed-point:4", "r_fp");
    let r_edict = rec("edict", "r_edict");
    for (r, method, calls) in [
        (&r_ddim, "ddim", [10.0, 10.0]),
        (&r_fp, "fixed-point:4", [50.0, 10.0]),
        (&r_edict, "edict:0.93", [20.0, 20.0]),
    ] {
        assert_eq!(r["inversion"], method);
        assert_eq!(
            [num(r, "inversion_calls"), num(r, "sampling_calls")],
            calls,
            "{method}"
        );
    }
    let mse = |r: &serde_json::Value| num(r, "latent_mse");
    eprintln!(
        "latent MSE, 10 steps: ddim {:e}, fixed-point:4 {:e}, edict {:e}",
        mse(&r_ddim),
        mse(&r_fp),
        mse(&r_edict)
    );
    assert!(mse(&r_fp) < mse(&r_ddim));
    assert!(mse(&r_edict) < 1e-10, "{r_edict}");
    // the seed written is EDICT's x_T, of the latent shape
    assert_eq!(read(&w.path("r_edict/seed.npy")).shape(), &[1, 4, 7, 7]);
}

#[test]
fn dpm_solver_inverts_and_reconstructs_with_dpm_solver_sampling() {
    let w = Work::new();
    let bag = bag();
    let common = ["--prompt", "bag", "--steps", "10", "--inversion", "dpm++2m"];
    let mut invert = vec!["invert", bag.as_str()];
    invert.extend_from_slice(&common);
    invert.extend_from_slice(&["-o", "dpm.npy", "--json"]);
    let inv = w.json(&invert);
    assert_eq!(
        (inv["inversion"].as_str(), num(&inv, "model_calls")),
        (Some("dpm++2m"), 10.0)
    );
    assert_eq!(read(&w.path("dpm.npy")).shape(), &[1, 4, 7, 7]);
    let mut rec = vec!["reconstruct", bag.as_str()];
    rec.extend_from_slice(&common);
    rec.extend_from_slice(&["-o", "r_dpm", "--json"]);
    let r = w.json(&rec);
    assert_eq!(r["inversion"], "dpm++2m");
    // sampled back with DPM-Solver++ 2M, the sampler its inverse mirrors
    assert_eq!(r["scheduler"], "dpm++2m");
    assert_eq!(
        [num(&r, "inversion_calls"), num(&r, "sampling_calls")],
        [10.0, 10.0]
    );
    let mse = num(&r, "latent_mse");
    eprintln!("latent MSE, 10 steps: dpm++2m {mse:e}");
    assert!(mse.is_finite() && mse > 0.0, "{r}");
    // the same seed as nao invert's
    assert_eq!(
        read(&w.path("r_dpm/seed.npy")).to_f64_vec(),
        read(&w.path("dpm.npy")).to_f64_vec()
    );
}

#[test]
fn bad_methods_name_the_option_and_the_value() {
    let w = Work::new();
    let bag = bag();
    for (value, says) in [
        ("fixed-point:0", "at least 1"),
        ("fixed-point:abc", "whole number"),
        ("fixed-point:21", "at most 20"),
        ("edict:2", "from 0.5 to 1"),
        ("renoise", "not an inversion method"),
        ("dpm++3m", "not an inversion method"),
    ] {
        for command in ["invert", "reconstruct"] {
            let e = w.fails(&[
                command,
                &bag,
                "--prompt",
                "bag",
                "--inversion",
                value,
                "-o",
                "out",
            ]);
            assert!(
                e.contains("--inversion") && e.contains(value) && e.contains(says),
                "{command} --inversion {value}: {e}"
            );
        }
    }
    assert!(!w.path("out").exists());
}

#[test]
fn another_method_is_another_dataset_and_another_cached_keyframe() {
    let w = Work::new();
    let augment = |out: &'static str, more: &[&'static str]| -> Vec<&'static str> {
        let mut a = vec![
            "augment",
            REAL,
            "-o",
            out,
            "--per-class",
            "1",
            "--steps",
            "3",
            "--path-positions",
            "1",
        ];
        a.extend_from_slice(more);
        a
    };
    w.json(&augment("aug", &["--json"]));
    let config = |out: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(w.path(out).join("run.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["config"].clone()
    };
    // DDIM, the default, is not written: datasets made before the option keep their config
    assert!(
        config("aug").get("inversion").is_none(),
        "{}",
        config("aug")
    );
    let e = w.fails(&augment("aug", &["--inversion", "fixed-point:1"]));
    assert!(
        e.contains("inversion (--inversion): \"ddim\" in run.json, \"fixed-point:1\" now"),
        "{e}"
    );
    w.json(&augment(
        "aug_fp",
        &["--inversion", "fixed-point:1", "--json"],
    ));
    let run_json = std::fs::read_to_string(w.path("aug_fp/run.json")).unwrap();
    assert!(
        run_json.contains("\"inversion\": \"fixed-point:1\""),
        "{run_json}"
    );

    // walk: the inverted keyframe is cached per method
    let keyframes = |dir: &Path| std::fs::read_dir(dir.join("keyframes")).unwrap().count();
    let walk = |method: &str| {
        w.json(&[
            "walk",
            &bag(),
            &format!("{REAL}/bag/01.png"),
            "--prompt",
            "bag",
            "--steps",
            "3",
            "--frames",
            "3",
            "--inversion",
            method,
            "--work-dir",
            "wd",
            "-o",
            "walk.gif",
            "--json",
        ])
    };
    walk("ddim");
    assert_eq!(keyframes(&w.path("wd")), 2);
    walk("ddim");
    assert_eq!(
        keyframes(&w.path("wd")),
        2,
        "the same method reuses its keyframes"
    );
    walk("edict");
    assert_eq!(keyframes(&w.path("wd")), 4, "another method inverts again");
}
