//! `--device`, `nao devices` and `nao export-onnx`: the embedded model on the compiled
//! backends (at least cpu and onnx-cpu, the defaults of nao-cli; CI's build adds wgpu).

mod common;

use common::{read, Work};

/// `$ORT_DYLIB_PATH` must name ONNX Runtime: these tests fail, not skip, without it.
fn check_ort() {
    nao_test_support::ort_library();
}

fn seeds(w: &Work) {
    w.json(&[
        "seed",
        "--shape",
        "4,7,7",
        "--seed",
        "11",
        "--count",
        "3",
        "-o",
        "seeds.npy",
        "--json",
    ]);
}

fn max_abs_diff(a: &nao_npy::NpyArray, b: &nao_npy::NpyArray) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.to_f64_vec()
        .iter()
        .zip(b.to_f64_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn devices_lists_every_device_and_what_is_compiled() {
    check_ort();
    let w = Work::new();
    let v = w.json(&["devices", "--probe", "--json"]);
    let rows = v["devices"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["device"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "cpu",
            "wgpu",
            "tch-cpu",
            "tch-cuda",
            "cuda",
            "onnx-cpu",
            "onnx-cuda"
        ]
    );
    for r in rows {
        let compiled = r["compiled"].as_bool().unwrap();
        let name = r["device"].as_str().unwrap();
        if name == "cpu" || name == "onnx-cpu" {
            assert!(compiled, "{name}");
            assert_eq!(r["works"], true, "{name}: {}", r["message"]);
        }
        if !compiled {
            let msg = r["message"].as_str().unwrap();
            assert!(msg.contains(r["feature"].as_str().unwrap()), "{msg}");
        }
    }
}

#[test]
fn onnx_cpu_samples_like_cpu() {
    check_ort();
    let w = Work::new();
    seeds(&w);
    let mut outs = Vec::new();
    for device in ["cpu", "onnx-cpu"] {
        let v = w.json(&[
            "sample",
            "seeds.npy",
            "--prompt",
            "bag",
            "--steps",
            "10",
            "--guidance",
            "2",
            "--device",
            device,
            "-o",
            device,
            "--save-latents",
            &format!("{device}.npy"),
            "--json",
        ]);
        assert_eq!(v["model"], "embedded");
        outs.push(read(&w.path(&format!("{device}.npy"))));
    }
    let d = max_abs_diff(&outs[0], &outs[1]);
    // the conformance suite's onnx-cpu tolerance for sampling (docs/backends.md)
    assert!(d < 1e-3, "cpu vs onnx-cpu latents differ by {d}");
    assert!(
        d > 0.0,
        "two backends agreeing bit for bit would mean one ran twice"
    );
}

#[test]
fn export_onnx_writes_a_folder_that_runs_on_onnx_cpu() {
    check_ort();
    let w = Work::new();
    let v = w.json(&["export-onnx", "--out", "export", "--json"]);
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "vae_encoder.onnx",
            "vae_decoder.onnx",
            "denoiser.onnx",
            "classifier.onnx",
            "model.json"
        ]
    );
    assert_eq!(v["opset"], 17);
    for f in &files {
        assert!(w.path(&format!("export/{f}")).is_file(), "{f}");
    }
    seeds(&w);
    // the folder's default device is onnx-cpu
    w.json(&[
        "sample",
        "seeds.npy",
        "--model",
        "export",
        "--prompt",
        "sneaker",
        "--steps",
        "5",
        "-o",
        "a",
        "--save-latents",
        "a.npy",
        "--json",
    ]);
    w.json(&[
        "sample",
        "seeds.npy",
        "--prompt",
        "sneaker",
        "--steps",
        "5",
        "--device",
        "onnx-cpu",
        "-o",
        "b",
        "--save-latents",
        "b.npy",
        "--json",
    ]);
    let d = max_abs_diff(&read(&w.path("a.npy")), &read(&w.path("b.npy")));
    assert_eq!(
        d, 0.0,
        "the saved export and the in-memory one are the same model"
    );
    // an export has no safetensors: burn devices cannot run it
    let err = w.fails(&[
        "sample",
        "seeds.npy",
        "--model",
        "export",
        "--prompt",
        "bag",
        "--device",
        "cpu",
        "-o",
        "c",
    ]);
    assert!(
        err.contains("denoiser.safetensors") && err.contains("onnx-cpu"),
        "{err}"
    );
    // a file in the way of the output folder is refused
    std::fs::write(w.path("taken"), b"x").unwrap();
    let err = w.fails(&["export-onnx", "--out", "taken"]);
    assert!(
        err.contains("taken") && err.contains("not a folder"),
        "{err}"
    );
}

#[test]
fn device_errors_name_the_feature_or_the_choices() {
    let w = Work::new();
    seeds(&w);
    let err = w.fails(&[
        "sample",
        "seeds.npy",
        "--prompt",
        "bag",
        "--device",
        "quantum",
        "-o",
        "x",
    ]);
    assert!(
        err.contains("quantum") && err.contains("onnx-cpu") && err.contains("wgpu"),
        "{err}"
    );
    // which devices this build lacks depends on the features the workspace build unified
    // (CI adds wgpu); burn's native cuda can never be built here, so one is always checked
    let v = w.json(&["devices", "--json"]);
    let missing: Vec<(String, String)> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["compiled"] == false)
        .map(|r| {
            (
                r["device"].as_str().unwrap().to_string(),
                r["feature"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(missing.iter().any(|(d, _)| d == "cuda"), "{missing:?}");
    for (device, feature) in &missing {
        let err = w.fails(&[
            "sample",
            "seeds.npy",
            "--prompt",
            "bag",
            "--device",
            device,
            "-o",
            "x",
        ]);
        assert!(
            err.contains(&format!("feature '{feature}'")),
            "{device}: {err}"
        );
        let err = w.fails(&["demo", "--quick", "--device", device, "--out", "d"]);
        assert!(
            err.contains(&format!("feature '{feature}'")),
            "demo {device}: {err}"
        );
    }
    assert!(!w.path("x").exists() && !w.path("d").exists());
}

#[test]
fn a_stable_diffusion_export_needs_an_onnx_device() {
    let w = Work::new();
    seeds(&w);
    let sd = nao_test_support::shared("fixtures/tiny-sd1/onnx");
    let err = w.fails(&[
        "sample",
        "seeds.npy",
        "--model",
        sd.to_str().unwrap(),
        "--prompt",
        "a cat",
        "--device",
        "cpu",
        "-o",
        "x",
    ]);
    assert!(
        err.contains("onnx-cpu") && err.contains("Stable Diffusion"),
        "{err}"
    );
}

#[test]
fn devices_probe_a_given_model_on_the_devices_its_kind_runs_on() {
    let w = Work::new();
    let sd = nao_test_support::shared("fixtures/tiny-sd1/diffusers");
    let sd = sd.to_str().unwrap();
    let v = w.json(&["devices", "--probe", "--model", sd, "--json"]);
    assert_eq!(v["model"], sd);
    for r in v["devices"].as_array().unwrap() {
        let name = r["device"].as_str().unwrap();
        let message = r["message"].as_str().unwrap_or("");
        if r["compiled"] == false {
            assert_eq!(r["works"], serde_json::Value::Null, "{name}");
        } else if name.starts_with("onnx") {
            // a diffusers folder runs on burn's devices only: ONNX Runtime is not probed
            assert_eq!(r["works"], serde_json::Value::Null, "{name}");
            assert!(
                message.contains("not probed") && message.contains("cpu"),
                "{name}: {message}"
            );
        } else if !name.contains("cuda") {
            // cpu, and wgpu where it is compiled in (CI: Mesa's software Vulkan driver)
            assert_eq!(r["works"], true, "{name}: {message}");
            assert!(message.contains("noise prediction in"), "{message}");
        }
    }
    let text = w.run(&["devices", "--probe", "--model", sd, "--dtype", "f32"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with(&format!("probed model: {sd}\n")), "{text}");

    // --model belongs to --probe; a folder without a model is named
    let err = w.fails(&["devices", "--model", sd]);
    assert!(err.contains("--probe"), "{err}");
    let err = w.fails(&["devices", "--probe", "--model", "no_such_model"]);
    assert!(err.contains("no_such_model"), "{err}");
}
