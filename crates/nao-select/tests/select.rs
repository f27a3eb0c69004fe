//! SeedSelect on the embedded model: the gradient against central finite differences, the
//! loss going down, the same result from the same input, and bad input named.

use std::ops::ControlFlow;

use nao_prior::{GaussianSeeds, RngName};
use nao_select::{refine, EmbeddedNet, Problem, Schedule, SelectConfig, SelectError, Target};

const BAG: usize = 8;

fn net() -> EmbeddedNet {
    EmbeddedNet::embedded(&nao_burn::Device::flex(), BAG).unwrap()
}

fn real(n: usize) -> nao_backend::Tensor {
    let bags = nao_burn::bundled_images(BAG).unwrap();
    nao_backend::Tensor::new(vec![n, 1, 28, 28], bags.data[..n * 784].to_vec()).unwrap()
}

fn seeds(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, seed);
    (0..n).map(|_| rng.seed(196)).collect()
}

fn go(_: nao_select::Event) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

#[test]
fn the_gradient_matches_central_differences() {
    let net = net();
    let target = Target::from_images(&net, &net, &real(5)).unwrap();
    for (guidance, checkpointing) in [(1.0, true), (3.0, true), (1.0, false)] {
        let mut config = SelectConfig::from_nao();
        config.steps = 6;
        config.guidance = guidance;
        config.checkpointing = checkpointing;
        let schedule = Schedule::new(&nao_burn::scheduler_config(), config.steps).unwrap();
        let problem = Problem {
            net: &net,
            encoder: &net,
            target: &target,
            schedule: &schedule,
            config: &config,
        };
        let z = seeds(1, 3).remove(0);
        let (loss, grad) = problem.loss_and_grad(std::slice::from_ref(&z)).unwrap();
        assert!(loss[0].is_finite() && loss[0] > 0.0);
        // the gradient's own direction (its derivative there is its norm), then random ones;
        // the forward pass runs in f32, so its rounding noise is absolute: errors are measured
        // against the gradient's norm
        let g_norm = nao_prior::norm(&grad[0]);
        let mut directions = vec![grad[0].iter().map(|g| g / g_norm).collect::<Vec<f64>>()];
        let mut rng = GaussianSeeds::new(RngName::ChaCha20, 11);
        for _ in 0..3 {
            let v: Vec<f64> = rng.seed(196);
            let norm = nao_prior::norm(&v);
            directions.push(v.iter().map(|x| x / norm).collect());
        }
        for (i, v) in directions.iter().enumerate() {
            let h = 1e-2;
            let shifted = |s: f64| -> Vec<f32> {
                z.iter()
                    .zip(v)
                    .map(|(&a, &b)| (f64::from(a) + s * h * b) as f32)
                    .collect()
            };
            let l = problem.loss(&[shifted(1.0), shifted(-1.0)]).unwrap();
            let fd = (l[0] - l[1]) / (2.0 * h);
            let analytic: f64 = grad[0].iter().zip(v).map(|(g, b)| g * b).sum();
            assert!(
                (fd - analytic).abs() < 5e-3 * g_norm,
                "guidance {guidance}, checkpointing {checkpointing}, direction {i}: finite \
                 differences {fd}, gradient {analytic} (gradient norm {g_norm})"
            );
        }
    }
}

#[test]
fn checkpointing_gives_the_gradient_of_the_whole_graph() {
    let net = net();
    let target = Target::from_images(&net, &net, &real(5)).unwrap();
    let mut grads = Vec::new();
    for checkpointing in [true, false] {
        let mut config = SelectConfig::from_nao();
        config.steps = 8;
        config.checkpointing = checkpointing;
        let schedule = Schedule::new(&nao_burn::scheduler_config(), 8).unwrap();
        let problem = Problem {
            net: &net,
            encoder: &net,
            target: &target,
            schedule: &schedule,
            config: &config,
        };
        grads.push(problem.loss_and_grad(&seeds(2, 5)).unwrap());
    }
    assert_eq!(grads[0].0, grads[1].0, "the same losses");
    for (a, b) in grads[0].1.iter().flatten().zip(grads[1].1.iter().flatten()) {
        assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
fn the_loss_goes_down_and_the_result_repeats() {
    let net = net();
    let target = Target::from_images(&net, &net, &real(5)).unwrap();
    let mut config = SelectConfig::from_random();
    config.iterations = 8;
    config.steps = 10;
    let z = seeds(3, 7);
    let a = refine(&net, &net, &target, &z, &config, &mut go).unwrap();
    for r in &a {
        let (first, last) = (r.losses[0], *r.losses.last().unwrap());
        assert!(last < first, "loss {first} → {last}: {:?}", r.losses);
        assert_ne!(r.seed, z[0]);
        assert!(r.norm_before > 0.0 && r.norm_after > 0.0 && r.log_chi_after.is_finite());
    }
    let b = refine(&net, &net, &target, &z, &config, &mut go).unwrap();
    assert_eq!(
        a, b,
        "the same seeds and configuration give the same result"
    );
    // cancelling stops it
    let e = refine(&net, &net, &target, &z, &config, &mut |_| {
        ControlFlow::Break(())
    });
    assert!(matches!(e, Err(SelectError::Cancelled)));
}

#[test]
fn bad_input_is_named() {
    let net = net();
    let empty = nao_backend::Tensor::new(vec![0, 1, 28, 28], vec![]).unwrap();
    let e = Target::from_images(&net, &net, &empty)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no real images"), "{e}");
    let wrong = nao_backend::Tensor::new(vec![1, 3, 32, 32], vec![0.0; 3 * 32 * 32]).unwrap();
    let e = Target::from_images(&net, &net, &wrong)
        .unwrap_err()
        .to_string();
    assert!(e.contains("28×28") && e.contains("32×32"), "{e}");
    let mut nan = real(2);
    nan.data[5] = f32::NAN;
    let e = Target::from_images(&net, &net, &nan)
        .unwrap_err()
        .to_string();
    assert!(e.contains("non-finite"), "{e}");
    let target = Target::from_images(&net, &net, &real(2)).unwrap();
    let mut z = seeds(1, 1);
    z[0][7] = f32::NAN;
    let config = SelectConfig::from_nao();
    let e = refine(&net, &net, &target, &z, &config, &mut go)
        .unwrap_err()
        .to_string();
    assert!(e.contains("seed 0") && e.contains("non-finite"), "{e}");
    let e = refine(&net, &net, &target, &[vec![0.5; 10]], &config, &mut go)
        .unwrap_err()
        .to_string();
    assert!(e.contains("seed 0 has 10 values"), "{e}");
    let mut bad = SelectConfig::from_nao();
    bad.lr = f64::NAN;
    let e = refine(&net, &net, &target, &seeds(1, 1), &bad, &mut go)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--select-lr"), "{e}");
    assert!(EmbeddedNet::embedded(&nao_burn::Device::flex(), 10).is_err());
}

#[test]
fn a_refined_seed_samples_to_the_same_latent_through_the_ordinary_pipeline() {
    use nao_select::{step, DiffusionNet};
    let net = net();
    let plain = nao_burn::BurnModel::embedded(&nao_burn::Device::flex()).unwrap();
    for guidance in [1.0, 3.0] {
        let k = 10;
        let schedule = Schedule::new(net.scheduler(), k).unwrap();
        let flat: Vec<f32> = seeds(3, 9).concat();
        let mut x = burn::tensor::Tensor::<4>::from_data(
            burn::tensor::TensorData::new(flat.clone(), [3, 4, 7, 7]),
            net.device(),
        );
        for s in &schedule.steps {
            x = step(&net, &schedule, s, x, guidance).unwrap().latents;
        }
        let ours: Vec<f32> = x.into_data().try_to_vec::<f32>().unwrap();
        let options = nao_sampling::SampleOptions::default()
            .with_steps(k)
            .with_guidance_scale(guidance);
        let cond = nao_sampling::encode_prompt(&plain, "bag", &options).unwrap();
        let seeds = nao_backend::Tensor::new(vec![3, 4, 7, 7], flat).unwrap();
        let theirs = nao_sampling::sample(&plain, &seeds, &cond, &options, |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let diff = ours
            .iter()
            .zip(&theirs.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-4, "guidance {guidance}: max |Δ| {diff}");
    }
}
