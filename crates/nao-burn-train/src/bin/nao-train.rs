//! `nao-train`: train the embedded model from Fashion-MNIST and write its weights, model card,
//! training report, loss curves and the bundled held-out test images.
//!
//! Run through `cargo xtask train` (release build). Two threads: the autoencoder → latents →
//! noise predictor chain, and the classifier beside it (convolutions in burn's CPU backend use
//! about one core each, so the two chains share the machine's two cores).
#![forbid(unsafe_code)]

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use nao_burn::*;
use nao_burn_train::train::{self, TrainConfig};
use nao_burn_train::{
    long_tail_indices, module_bytes, FashionMnist, ImageSet, DEBIAN_FASHION_MNIST_DIR,
};
use nao_fs::Outputs;

fn usage() -> ! {
    eprintln!(
        "usage: nao-train [--data DIR] [--out DIR] [--images DIR] [--seed S] [--steps-scale F]\n\
         defaults: --data $NAO_FASHION_MNIST_DIR or {DEBIAN_FASHION_MNIST_DIR}, \
         --out crates/nao-burn/weights, --images crates/nao-burn/assets/test-images"
    );
    std::process::exit(2)
}

struct Args {
    data: PathBuf,
    out: PathBuf,
    images: PathBuf,
    config: TrainConfig,
}

fn parse_args() -> Args {
    let mut a = Args {
        data: FashionMnist::default_dir(),
        out: PathBuf::from("crates/nao-burn/weights"),
        images: PathBuf::from("crates/nao-burn/assets/test-images"),
        config: TrainConfig::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--data" => a.data = val().into(),
            "--out" => a.out = val().into(),
            "--images" => a.images = val().into(),
            "--seed" => a.config.seed = val().parse().unwrap_or_else(|_| usage()),
            "--steps-scale" => {
                let f: f64 = val().parse().unwrap_or_else(|_| usage());
                for s in [
                    &mut a.config.autoencoder_stage,
                    &mut a.config.denoiser_stage,
                    &mut a.config.classifier_stage,
                ] {
                    s.steps = ((s.steps as f64 * f).round() as usize).max(1);
                }
            }
            _ => usage(),
        }
    }
    a
}

fn bar(mp: &MultiProgress, len: usize, name: &str) -> ProgressBar {
    let pb = mp.add(ProgressBar::new(len as u64));
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>11} [{elapsed_precise}] {bar:30} {pos}/{len} loss {msg} (eta {eta})",
        )
        .expect("static template"),
    );
    pb.set_prefix(name.to_string());
    pb
}

/// Update a bar; without a terminal (CI logs, `nohup`) print a line every 5 % instead. The
/// trainers stop when this says so: at SIGINT/SIGTERM.
fn report(pb: &ProgressBar, name: &str, i: usize, total: usize, loss: f64) -> ControlFlow<()> {
    pb.set_position(i as u64);
    pb.set_message(format!("{loss:.5}"));
    if pb.is_hidden() && (i % (total / 20).max(1) == 0 || i == total) {
        eprintln!(
            "{name}: step {i}/{total}, loss {loss:.5}, {:.0} s",
            pb.elapsed().as_secs_f64()
        );
    }
    if nao_fs::signals::interrupted() {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    }
}

fn tail_mean(v: &[f64]) -> f64 {
    let n = v.len().clamp(1, 100);
    v[v.len().saturating_sub(n)..].iter().sum::<f64>() / n as f64
}

fn main() {
    if let Err(e) = run(parse_args()) {
        eprintln!("nao-train: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    nao_fs::signals::install()?;
    // Every file of the run appears together at the end, or none does.
    let mut out = Outputs::new();
    out.claim_folder(&args.out, "--out")?;
    out.claim_folder(&args.images, "--images")?;
    let cfg = args.config.clone();
    cfg.check()?;
    let data = FashionMnist::load(&args.data)?;
    let device = Device::flex();
    let tail_idx = long_tail_indices(
        &data.train.labels,
        &cfg.rare_classes,
        cfg.rare_keep,
        cfg.seed,
    )?;
    let long_tail = data.train.subset(&tail_idx);
    eprintln!(
        "Fashion-MNIST: {} training, {} test images; long-tailed set for the noise predictor: {} images, per class {:?}",
        data.train.len(),
        data.test.len(),
        long_tail.len(),
        long_tail.class_counts()
    );

    let mp = MultiProgress::new();
    let diffusion = std::thread::scope(|s| {
        let classifier_job = s.spawn(|| {
            let pb = bar(&mp, cfg.classifier_stage.steps, "classifier");
            let t = Instant::now();
            let r = train::train_classifier(&data.train, &cfg, &device, &mut |n, i, t, l| {
                report(&pb, n, i, t, l)
            });
            pb.finish();
            r.map(|(m, l)| (m, l, t.elapsed().as_secs_f64()))
        });
        let chain = (|| {
            let pb = bar(&mp, cfg.autoencoder_stage.steps, "autoencoder");
            let t = Instant::now();
            let (ae, ae_loss) =
                train::train_autoencoder(&data.train, &cfg, &device, &mut |n, i, t, l| {
                    report(&pb, n, i, t, l)
                })?;
            pb.finish();
            let ae_time = t.elapsed().as_secs_f64();
            let t = Instant::now();
            // The scaling factor comes from the whole training set, as SD's did from its data.
            let all_means = train::encode_means(&ae, &data.train, &device);
            let scale = train::scaling_factor(&all_means);
            let d = cfg.denoiser.latent_dim;
            let latents: Vec<f32> = tail_idx
                .iter()
                .flat_map(|&i| all_means[i * d..(i + 1) * d].iter())
                .map(|&v| (v as f64 * scale) as f32)
                .collect();
            let encode_time = t.elapsed().as_secs_f64();
            let schedule = nao_burn::scheduler_config();
            let ac = nao_sampling::DdimScheduler::new(schedule)?
                .alphas_cumprod()
                .to_vec();
            let pb = bar(&mp, cfg.denoiser_stage.steps, "denoiser");
            let t = Instant::now();
            let (dn, dn_loss) = train::train_denoiser(
                &latents,
                &long_tail.labels,
                &ac,
                &cfg,
                &device,
                &mut |n, i, t, l| report(&pb, n, i, t, l),
            )?;
            pb.finish();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((
                ae,
                ae_loss,
                ae_time,
                scale,
                encode_time,
                dn,
                dn_loss,
                t.elapsed().as_secs_f64(),
            ))
        })();
        let cls = classifier_job.join().expect("classifier thread");
        (chain, cls)
    });
    let (chain, cls) = diffusion;
    let (ae, ae_loss, ae_time, scale, encode_time, dn, dn_loss, dn_time) =
        chain.map_err(|e| e.to_string())?;
    let (classifier, cls_loss, cls_time) = cls?;

    let t = Instant::now();
    let test_accuracy = train::accuracy(&classifier, &data.test, &device);
    let test_recon_mse = train::reconstruction_mse(&ae, &data.test, &device);
    let eval_time = t.elapsed().as_secs_f64();

    // Weights and card.
    let card = ModelCard {
        autoencoder: cfg.autoencoder,
        denoiser: cfg.denoiser,
        classifier: cfg.classifier,
        scaling_factor: scale,
        class_names: CLASS_NAMES.iter().map(|s| s.to_string()).collect(),
        rare_classes: cfg.rare_classes.clone(),
        train_seed: cfg.seed,
    };
    out.write(&args.out.join(AUTOENCODER_FILE), &module_bytes(&ae)?)?;
    out.write(&args.out.join(DENOISER_FILE), &module_bytes(&dn)?)?;
    out.write(&args.out.join(CLASSIFIER_FILE), &module_bytes(&classifier)?)?;
    out.write(
        &args.out.join(CARD_FILE),
        serde_json::to_string_pretty(&card)?.as_bytes(),
    )?;

    // Held-out test images: the first 20 of each class in test-set order.
    let bundled = stage_test_images(&data.test, &args.images, &mut out)?;

    // Loss curves.
    let smooth = |v: &[f64]| -> Vec<(f64, f64)> {
        let w = (v.len() / 100).max(1);
        v.chunks(w)
            .enumerate()
            .map(|(i, c)| {
                (
                    ((i * w) + c.len() / 2) as f64,
                    c.iter().sum::<f64>() / c.len() as f64,
                )
            })
            .collect()
    };
    let mut plot = nao_viz::LinePlot::new("nao-burn training loss (mean per 1 % of the steps)");
    plot.x_label = "step".into();
    plot.y_label = "loss".into();
    plot.log_y = true;
    for (i, (name, l)) in [
        ("autoencoder MSE", &ae_loss),
        ("denoiser eps-MSE", &dn_loss),
        ("classifier cross-entropy", &cls_loss),
    ]
    .into_iter()
    .enumerate()
    {
        plot.series.push(nao_viz::Series {
            name: name.into(),
            points: smooth(l),
            color: nao_viz::palette(i),
        });
    }
    out.write(
        &args.out.join("loss-curve.png"),
        &nao_viz::encode_png(&plot.render()?)?,
    )?;

    let total = started.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "config": cfg,
        "data": {
            "source": args.data.display().to_string(),
            "train_images": data.train.len(),
            "test_images": data.test.len(),
            "long_tail_images": long_tail.len(),
            "long_tail_class_counts": long_tail.class_counts(),
            "bundled_test_images_per_class": bundled,
        },
        "autoencoder": {"steps": cfg.autoencoder_stage.steps, "final_loss": tail_mean(&ae_loss), "test_reconstruction_mse": test_recon_mse, "seconds": ae_time},
        "scaling_factor": scale,
        "encode_seconds": encode_time,
        "denoiser": {"steps": cfg.denoiser_stage.steps, "final_loss": tail_mean(&dn_loss), "seconds": dn_time},
        "classifier": {"steps": cfg.classifier_stage.steps, "final_loss": tail_mean(&cls_loss), "test_accuracy": test_accuracy, "seconds": cls_time},
        "evaluation_seconds": eval_time,
        "total_seconds": total,
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    out.write(
        &args.out.join("training-report.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    let md = format!(
        "# nao-burn training report\n\n\
         Produced by `cargo xtask train` (seed {seed}) on {threads} CPU threads, burn 0.22.1 `flex`.\n\n\
         | | |\n|---|---|\n\
         | training images (autoencoder, classifier) | {ntrain} |\n\
         | long-tailed images (noise predictor) | {nlt} — per class {counts:?} |\n\
         | test images | {ntest} |\n\
         | autoencoder | {aes} steps × {aeb}, final MSE {ael:.5} (pixels in [−1, 1]), test MSE {aet:.5}, {aetime:.0} s |\n\
         | latent scaling factor | {scale:.5} |\n\
         | noise predictor | {dns} steps × {dnb}, final ε-MSE {dnl:.4}, {dntime:.0} s |\n\
         | classifier | {cs} steps × {cb}, final CE {cl:.4}, **test accuracy {acc:.2} %**, {ctime:.0} s |\n\
         | total wall time | {total:.0} s ({min:.1} min) |\n\n\
         ![loss curves](loss-curve.png)\n",
        seed = cfg.seed,
        threads = report["threads"],
        ntrain = data.train.len(),
        nlt = long_tail.len(),
        counts = long_tail.class_counts(),
        ntest = data.test.len(),
        aes = cfg.autoencoder_stage.steps,
        aeb = cfg.autoencoder_stage.batch,
        ael = tail_mean(&ae_loss),
        aet = test_recon_mse,
        aetime = ae_time,
        scale = scale,
        dns = cfg.denoiser_stage.steps,
        dnb = cfg.denoiser_stage.batch,
        dnl = tail_mean(&dn_loss),
        dntime = dn_time,
        cs = cfg.classifier_stage.steps,
        cb = cfg.classifier_stage.batch,
        cl = tail_mean(&cls_loss),
        acc = 100.0 * test_accuracy,
        ctime = cls_time,
        total = total,
        min = total / 60.0,
    );
    out.write(&args.out.join("training-report.md"), md.as_bytes())?;
    out.commit()?;
    eprintln!("{md}");
    Ok(())
}

/// Stage, per class, a strip of the first 20 test images of that class (`<slug>.png`) and an
/// index of their test-set positions; returns the count per class.
fn stage_test_images(
    test: &ImageSet,
    dir: &std::path::Path,
    out: &mut Outputs,
) -> Result<usize, Box<dyn std::error::Error>> {
    const PER_CLASS: usize = 20;
    let mut index = serde_json::Map::new();
    for (c, slug) in CLASS_SLUGS.iter().enumerate() {
        let picks: Vec<usize> = (0..test.len())
            .filter(|&i| test.labels[i] as usize == c)
            .take(PER_CLASS)
            .collect();
        let mut strip = image::GrayImage::new((IMAGE_SIDE * picks.len()) as u32, IMAGE_SIDE as u32);
        for (k, &i) in picks.iter().enumerate() {
            for (p, &v) in test.image(i).iter().enumerate() {
                strip.put_pixel(
                    (k * IMAGE_SIDE + p % IMAGE_SIDE) as u32,
                    (p / IMAGE_SIDE) as u32,
                    image::Luma([v]),
                );
            }
        }
        let mut bytes = Vec::new();
        strip.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )?;
        out.write(&dir.join(format!("{slug}.png")), &bytes)?;
        index.insert(slug.to_string(), serde_json::json!(picks));
    }
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "source": "Fashion-MNIST test set (t10k), never seen in training",
        "image_size": [IMAGE_SIDE, IMAGE_SIDE],
        "per_class": PER_CLASS,
        "test_set_indices": index,
    }))?;
    out.write(&dir.join("index.json"), text.as_bytes())?;
    Ok(PER_CLASS)
}
