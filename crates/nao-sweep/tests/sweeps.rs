//! Both sweeps on the embedded model at small sizes: the seeds are rescaled to the norms asked
//! for, seeds on the χ shell give better images than seeds at 1.5 times its radius, a sweep is
//! deterministic, the reports hold their fields, cancellation stops a sweep, and bad settings
//! are errors naming the option.

use std::ops::ControlFlow;

use nao_augment::SeedMethod;
use nao_burn::{bundled_images, BurnModel, Device, CLASS_NAMES};
use nao_inversion::ResizePolicy;
use nao_sweep::{
    norm_sweep, quiet, sampler_sweep, Event, NormSweepReport, NormSweepSpec, RealClass, RealSet,
    SamplerSweepSpec, SweepError,
};

fn model() -> BurnModel {
    BurnModel::embedded(&Device::flex()).unwrap()
}

/// The bundled test images of the embedded model's classes `indices`.
fn real(model: &BurnModel, indices: &[usize]) -> RealSet {
    RealSet {
        source: "bundled".into(),
        classes: indices
            .iter()
            .map(|&c| {
                let name = CLASS_NAMES[c];
                let images = bundled_images(c).unwrap();
                RealClass::new(model, name, name, images, ResizePolicy::CenterCrop).unwrap()
            })
            .collect(),
    }
}

fn small_norm_spec() -> NormSweepSpec {
    NormSweepSpec {
        scales: vec![0.5, 1.0, 1.5],
        seeds: 8,
        draws: 2,
        samplers: vec!["ddim".parse().unwrap(), "euler-ancestral".parse().unwrap()],
        steps: 8,
        groups: 2,
        per_group: 3,
        ..NormSweepSpec::default()
    }
}

/// A report with its wall-clock time left out (what two runs may differ in).
fn timeless(mut r: NormSweepReport) -> NormSweepReport {
    r.seconds = 0.0;
    r
}

#[test]
fn norm_sweep_rescales_seeds_scores_them_and_is_deterministic() {
    let model = model();
    // trouser and bag: a class the model draws well and a rare one
    let real = real(&model, &[1, 8]);
    let spec = small_norm_spec();
    let mut images_seen = 0;
    let mut steps_seen = 0;
    let report = norm_sweep(&model, &model, &real, &spec, &mut |e| {
        match e {
            Event::Images { done, total } => {
                assert!(
                    done <= total && total == 2 * 3 * 2 * 2 * 8,
                    "{done}/{total}"
                );
                images_seen = done;
            }
            Event::Step => steps_seen += 1,
            _ => {}
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(images_seen, 2 * 3 * 2 * 2 * 8);
    assert!(steps_seen > 0);

    // the seeds the model got have the norms asked for
    let d = report.dim;
    assert_eq!(report.sqrt_d, (d as f64).sqrt());
    assert_eq!(report.samplers.len(), 2);
    for curve in &report.samplers {
        assert_eq!(curve.points.len(), 3);
        for p in &curve.points {
            assert!(
                (p.measured_scale - p.scale).abs() < 1e-5,
                "{}: asked {}, got {}",
                curve.sampler,
                p.scale,
                p.measured_scale
            );
            assert_eq!(p.draws.len(), 2);
            assert_eq!(p.accuracy.n, 2);
            assert_eq!(p.classes.len(), 2);
            assert_eq!(p.classes["bag"].images, 2 * 8);
            assert_eq!(p.draws[0].images, 2 * 8);
            assert!(p.frechet_distance.is_some());
        }
        // log χ is highest at the shell
        let lc: Vec<f64> = curve.points.iter().map(|p| p.log_chi).collect();
        assert!(lc[1] > lc[0] && lc[1] > lc[2], "{lc:?}");
    }
    assert!((report.chi_mode_scale - 1.0).abs() < 0.01);

    // the centroid norms: inverted seeds and every centroid method's (2 groups × 2 classes)
    let names: Vec<&str> = report.seed_norms.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names[0], "inverted seeds");
    assert!(names.contains(&"NAO centroids") && names.contains(&"Euclidean centroids"));
    let group = |n: &str| report.seed_norms.iter().find(|g| g.name == n).unwrap();
    assert_eq!(group("inverted seeds").scales.len(), 2 * 2 * 3);
    assert_eq!(group("NAO centroids").scales.len(), 2 * 2);
    // Euclidean centroids shrink towards the origin, NAO's stay near the shell
    let mean = |n: &str| group(n).spread.unwrap().mean;
    assert!(mean("Euclidean centroids") < mean("inverted seeds"));
    assert!(
        (mean("NAO centroids") - 1.0).abs() < (mean("Euclidean centroids") - 1.0).abs(),
        "{:?}",
        report.seed_norms
    );

    // the files: JSON with the report's fields, Markdown tables, the picture
    let files = report.files().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        ["norm-sweep.json", "norm-sweep.md", "quality-vs-norm.png"]
    );
    let json: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    for field in [
        "model",
        "classifier",
        "dim",
        "chi_mode_scale",
        "settings",
        "samplers",
        "seed_norms",
    ] {
        assert!(!json[field].is_null(), "no {field} in the JSON");
    }
    let point = &json["samplers"][0]["points"][0];
    for field in [
        "scale",
        "measured_scale",
        "log_chi",
        "accuracy",
        "mean_confidence",
        "frechet_distance",
    ] {
        assert!(!point[field].is_null(), "no {field} in a point");
    }
    assert_eq!(json["samplers"][1]["sampler"], "euler-ancestral");
    let md = String::from_utf8(files[1].1.clone()).unwrap();
    assert!(md.contains("| ‖z‖/√d |") && md.contains("| 1.00 |"), "{md}");
    assert!(md.contains("NAO centroids"), "{md}");
    let png = image::load_from_memory(&files[2].1).unwrap();
    assert_eq!(png.width(), 900);
    assert!(png.height() > 900);

    // the same spec gives the same report
    let again = norm_sweep(&model, &model, &real, &spec, &mut quiet).unwrap();
    assert_eq!(timeless(again), timeless(report));
}

#[test]
fn seeds_on_the_chi_shell_make_better_images_than_seeds_half_as_far_outside_it() {
    // (docs/mechanism.md: under a deterministic sampler, quality collapses above the shell;
    // below it, it does not on this model)
    let model = model();
    let real = real(&model, &[1, 3, 7]);
    let spec = NormSweepSpec {
        scales: vec![1.0, 1.5],
        seeds: 12,
        draws: 1,
        samplers: vec!["ddim".parse().unwrap()],
        steps: 10,
        groups: 0,
        ..NormSweepSpec::default()
    };
    let report = norm_sweep(&model, &model, &real, &spec, &mut quiet).unwrap();
    let [shell, outside] = &report.samplers[0].points[..] else {
        panic!("two points")
    };
    let fd = |p: &nao_sweep::NormPoint| p.frechet_distance.unwrap().mean;
    assert!(
        2.0 * fd(shell) < fd(outside),
        "Fréchet distance at the shell {} against {} at 1.5·√d",
        fd(shell),
        fd(outside)
    );
    assert!(
        shell.accuracy.mean > outside.accuracy.mean + 0.2,
        "accuracy {} at the shell, {} at 1.5·√d",
        shell.accuracy.mean,
        outside.accuracy.mean
    );
    assert!(report.seed_norms.is_empty());
}

#[test]
fn sampler_sweep_samples_the_same_seeds_under_every_sampler() {
    let model = model();
    let real = real(&model, &[8]);
    let spec = SamplerSweepSpec {
        samplers: vec!["ddim".parse().unwrap(), "dpm++2m".parse().unwrap()],
        steps: vec![3, 5],
        invert_steps: 5,
        groups: 2,
        per_group: 3,
        interior: 1,
        methods: vec![
            SeedMethod::PromptOnly,
            SeedMethod::Euclidean,
            SeedMethod::Nao,
        ],
        ..SamplerSweepSpec::default()
    };
    let report = sampler_sweep(&model, &model, &real, &spec, &mut quiet).unwrap();
    assert_eq!(report.settings.seeds_per_method, 2 * (1 + 3));
    let class = &report.classes[0];
    assert_eq!(class.class, "bag");
    let runs: Vec<(&str, usize)> = class
        .runs
        .iter()
        .map(|r| (r.sampler.as_str(), r.steps))
        .collect();
    assert_eq!(
        runs,
        [("ddim", 3), ("ddim", 5), ("dpm++2m", 3), ("dpm++2m", 5)]
    );
    for run in &class.runs {
        assert_eq!(run.model_calls, run.steps);
        let keys: Vec<&str> = run.methods.iter().map(|m| m.method.as_str()).collect();
        assert_eq!(keys, ["prompt_only", "euclidean", "nao"]);
        for (m, first) in run.methods.iter().zip(&class.runs[0].methods) {
            // the seeds are made once
            assert_eq!(m.mean_norm, first.mean_norm, "{}", m.method);
            assert_eq!(m.pooled.images, 8);
            assert_eq!(m.accuracy_over_groups.n, 2);
            assert!(m.pooled.mean_log_chi.is_some());
            assert_eq!(m.first_image.len(), 28 * 28);
        }
        assert!(run.methods[0].centroid_accuracy.is_none());
        assert!(run.methods[2].centroid_accuracy.is_some());
    }
    // NAO's seeds sit nearer the shell than Euclidean centroids and their paths
    let m = &class.runs[0].methods;
    assert!(m[2].pooled.mean_log_chi.unwrap() > m[1].pooled.mean_log_chi.unwrap());
    // different samplers give different images from the same seeds
    assert_ne!(
        class.runs[0].methods[2].first_image,
        class.runs[2].methods[2].first_image
    );

    let files = report.files().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(json["settings"]["steps"], serde_json::json!([3, 5]));
    let run = &json["classes"][0]["runs"][0];
    assert_eq!(run["sampler"], "ddim");
    for field in [
        "pooled",
        "accuracy_over_groups",
        "mean_norm",
        "centroid_accuracy",
    ] {
        assert!(
            run["methods"][2].get(field).is_some(),
            "no {field} in a method"
        );
    }
    assert!(run["methods"][0].get("first_image").is_none());
    let md = String::from_utf8(files[1].1.clone()).unwrap();
    assert!(md.contains("| dpm++2m | 5 |"), "{md}");
    assert!(md.contains("Closest to the real images"), "{md}");
    let png = image::load_from_memory(&files[2].1).unwrap();
    assert!(png.width() > 3 * 56 && png.height() > 5 * 56);
}

#[test]
fn a_callback_cancels_a_sweep() {
    let model = model();
    let real = real(&model, &[8]);
    let mut calls = 0;
    let e = norm_sweep(&model, &model, &real, &small_norm_spec(), &mut |e| {
        if matches!(e, Event::Step) {
            calls += 1;
        }
        if calls == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap_err();
    assert!(matches!(e, SweepError::Cancelled), "{e}");
    assert_eq!(calls, 3);
}

#[test]
fn bad_settings_are_errors_naming_the_option() {
    let model = model();
    let real = real(&model, &[8]);
    let norm = |f: fn(&mut NormSweepSpec)| {
        let mut spec = small_norm_spec();
        f(&mut spec);
        norm_sweep(&model, &model, &real, &spec, &mut quiet)
            .unwrap_err()
            .to_string()
    };
    assert!(norm(|s| s.scales = vec![]).contains("--scales 0"));
    assert!(norm(|s| s.scales = vec![1.0, f64::NAN]).contains("scale NaN"));
    assert!(norm(|s| s.scales = vec![-1.0]).contains("scale -1"));
    assert!(norm(|s| s.draws = 0).contains("--draws 0"));
    assert!(norm(|s| s.per_group = 1).contains("--per-group 1"));
    assert!(norm(|s| s.guidance = f64::INFINITY).contains("--guidance inf"));
    let e = norm(|s| s.steps = 5000);
    assert!(e.contains("--steps 5000"), "{e}");
    // 20 bundled images: 5 groups of 5 are too many
    let e = norm(|s| {
        s.groups = 5;
        s.per_group = 5;
    });
    assert!(
        e.contains("'bag' has 20 real images") && e.contains("--groups 5"),
        "{e}"
    );
    let samplers = |f: fn(&mut SamplerSweepSpec)| {
        let mut spec = SamplerSweepSpec {
            steps: vec![2],
            invert_steps: 2,
            ..SamplerSweepSpec::default()
        };
        f(&mut spec);
        sampler_sweep(&model, &model, &real, &spec, &mut quiet)
            .unwrap_err()
            .to_string()
    };
    assert!(samplers(|s| s.steps = vec![0]).contains("--steps 0"));
    assert!(samplers(|s| s.invert_steps = 0).contains("--invert-steps 0"));
    assert!(samplers(|s| s.groups = 0).contains("--groups 0"));
    assert!(samplers(|s| s.methods.clear()).contains("--methods"));
    assert!(samplers(|s| s.samplers.clear()).contains("--schedulers"));
    // no classes
    let empty = RealSet {
        source: "nowhere".into(),
        classes: vec![],
    };
    let e = norm_sweep(&model, &model, &empty, &small_norm_spec(), &mut quiet).unwrap_err();
    assert!(e.to_string().contains("nowhere: no classes"), "{e}");
}
