//! The demo as a library: its settings checked before any model call, progress counted in
//! model batches, cancellation, and every file it makes.

use std::ops::ControlFlow;

use nao_burn::{BurnModel, Device};
use nao_demo::{DemoError, DemoSpec, Event};

fn input_error(spec: &DemoSpec) -> String {
    match spec.check() {
        Err(DemoError::Input(m)) => m,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn every_setting_is_checked_and_named() {
    assert_eq!(DemoSpec::new(false).check().unwrap(), "ddim");
    let quick = DemoSpec::new(true);
    let with = |f: &dyn Fn(&mut DemoSpec)| {
        let mut s = quick.clone();
        f(&mut s);
        s
    };
    let e = input_error(&with(&|s| s.steps = 0));
    assert!(e.contains("--steps 0"), "{e}");
    let e = input_error(&with(&|s| {
        s.scheduler = Some("pndm".parse().unwrap());
        s.steps = 3;
    }));
    assert!(e.contains("--steps 3") && e.contains("at least 4"), "{e}");
    let e = input_error(&with(&|s| s.groups = 5));
    assert!(e.contains("--groups 5") && e.contains("1 to 4"), "{e}");
    for g in [0.5, f64::NAN, 1e9] {
        let e = input_error(&with(&|s| s.guidance = g));
        assert!(e.contains(&format!("--guidance {g}")), "{e}");
    }
    let e = input_error(&with(&|s| s.interpolation_class = 10));
    assert!(e.contains("--interpolation-class 10"), "{e}");
    let euler = with(&|s| s.scheduler = Some("euler".parse().unwrap()));
    assert_eq!(euler.check().unwrap(), "euler");
}

#[test]
fn a_bad_spec_is_refused_before_any_model_call() {
    let model = BurnModel::embedded(&Device::flex()).unwrap();
    let mut spec = DemoSpec::new(true);
    spec.groups = 0;
    let mut events = 0;
    let e = nao_demo::run(&model, &model, &spec, &mut |_| {
        events += 1;
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(e.to_string().contains("--groups 0"), "{e}");
    assert_eq!(events, 0);
}

#[test]
fn the_callback_cancels_within_the_first_batch() {
    let model = BurnModel::embedded(&Device::flex()).unwrap();
    let mut steps = 0;
    let e = nao_demo::run(&model, &model, &DemoSpec::new(true), &mut |event| {
        assert_eq!(event, Event::Step, "no batch can finish before the cancel");
        steps += 1;
        if steps == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap_err();
    assert!(matches!(e, DemoError::Cancelled), "{e}");
    assert_eq!(steps, 3);
}

#[test]
fn a_short_demo_reports_every_batch_and_makes_every_file() {
    let model = BurnModel::embedded(&Device::flex()).unwrap();
    let mut spec = DemoSpec::new(true);
    spec.steps = 2;
    spec.out = "somewhere/demo".into();
    let mut batches = Vec::new();
    let demo = nao_demo::run(&model, &model, &spec, &mut |event| {
        if let Event::Batch { done, total } = event {
            batches.push((done, total));
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    let total = spec.model_batches();
    assert_eq!(batches, (1..=total).map(|i| (i, total)).collect::<Vec<_>>());
    let names: Vec<String> = demo
        .files
        .iter()
        .map(|(p, _)| {
            assert!(p.starts_with("somewhere/demo"), "{}", p.display());
            p.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    let expected = [
        "interpolation.png",
        "interpolation-nao.gif",
        "rare-bag.png",
        "rare-ankle-boot.png",
        "norms.png",
        "report.json",
        "report.md",
    ];
    assert_eq!(names, expected);
    for (path, bytes) in &demo.files[..5] {
        let img = image::load_from_memory(bytes).unwrap();
        assert!(img.width() > 28 && img.height() > 28, "{}", path.display());
    }
    // report.json is the report, and names each picture where it is meant to be
    let json: serde_json::Value = serde_json::from_slice(&demo.files[5].1).unwrap();
    assert_eq!(json["settings"]["steps"], 2);
    assert_eq!(json["files"]["norms"], "somewhere/demo/norms.png");
    let report = &demo.report;
    assert_eq!(report.rare_concepts.len(), 2);
    for scores in report.rare_concepts.values() {
        let keys: Vec<&str> = scores.keys().map(String::as_str).collect();
        let mut expected = nao_demo::method_keys();
        expected.sort();
        assert_eq!(keys, expected);
    }
    let md = String::from_utf8(demo.files[6].1.clone()).unwrap();
    assert!(md.contains(&report.table()), "{md}");
}

#[test]
fn seedselect_follows_short_samplers_with_its_last_weights() {
    let mut spec = DemoSpec::new(true);
    assert_eq!(
        spec.select_config(),
        nao_select::SelectConfig {
            steps: 10,
            ..nao_select::SelectConfig::from_nao()
        }
    );
    spec.steps = 2;
    let config = spec.select_config();
    assert_eq!(config.steps, 2);
    let weights = nao_select::SelectConfig::from_nao().semantic_weights;
    assert_eq!(config.semantic_weights, weights[weights.len() - 2..]);
    spec.steps = 1;
    assert_eq!(
        spec.select_config().semantic_weights,
        weights[weights.len() - 1..]
    );
    assert!(spec.check().is_ok());
}
