//! `nao-longtail`: the data and training parts of the long-tail experiment (`cargo xtask
//! longtail` runs it with `nao augment` in between).
//!
//! - `nao-longtail real --out DIR`: the few real images `nao augment` starts from: `N` images
//!   of each rare class drawn from the long-tailed training set, as `DIR/CLASS/NN.png`.
//! - `nao-longtail train --work DIR --generated METHOD=DIR …`: train the same classifier on
//!   the long-tailed set alone, with the rare classes oversampled, and with each method's
//!   generated images added, over several seeds; score each on the test set; write
//!   `results.json`, the plot and the markdown report. Finished runs are kept in
//!   `DIR/runs/` (keyed by recipe, seed and training set), so a killed run resumes.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use nao_burn::{Device, CLASS_NAMES, CLASS_SLUGS, IMAGE_SIDE, RARE_CLASSES};
use nao_burn_train::longtail::{
    compare, load_class_folder, oversampled, pick_rare_examples, run_key, Comparison, Recipe,
    RunResult, Spread,
};
use nao_burn_train::train::TrainConfig;
use nao_burn_train::{long_tail_indices, FashionMnist, ImageSet};
use nao_fs::Outputs;
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(
    name = "nao-longtail",
    about = "The long-tail experiment's data and training"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the few real images of each rare class that `nao augment` starts from.
    Real(RealArgs),
    /// Train and score every configuration; write the results.
    Train(Box<TrainArgs>),
}

#[derive(Debug, Args)]
struct DataArgs {
    /// Fashion-MNIST's IDX files [default: $NAO_FASHION_MNIST_DIR, else Debian's
    /// dataset-fashion-mnist folder].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Real images per rare class given to `nao augment`.
    #[arg(long, default_value_t = 5)]
    real_per_class: usize,
}

#[derive(Debug, Args)]
struct RealArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Output folder: DIR/CLASS/NN.png.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Also write every test image of the rare classes as DIR/CLASS/NNNN.png (the real
    /// images `nao eval` compares the generated ones with).
    #[arg(long, value_name = "DIR")]
    test_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Working folder: finished runs are kept in DIR/runs/.
    #[arg(long, value_name = "DIR")]
    work: PathBuf,
    /// A method's generated images (`nao augment` output: DIR/CLASS/*.png), as METHOD=DIR;
    /// one per method, in the report's order.
    #[arg(long, value_name = "METHOD=DIR", value_parser = parse_generated)]
    generated: Vec<(String, PathBuf)>,
    /// Generated images per rare class taken from each method's folder.
    #[arg(long, value_name = "M")]
    per_class: usize,
    /// Training seeds per configuration.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Channels of the classifier's first convolution.
    #[arg(long, default_value_t = 16)]
    channels: usize,
    /// Width of the classifier's hidden layer.
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    /// Optimiser steps per run.
    #[arg(long, default_value_t = 800)]
    steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Peak learning rate (Adam, cosine decay).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Score on the first N test images only [default: all 10 000].
    #[arg(long, value_name = "N")]
    test_limit: Option<usize>,
    /// Runs trained at once (burn's CPU convolutions use about one core each).
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Folder of results.json and longtail.png.
    #[arg(long, value_name = "DIR")]
    results: PathBuf,
    /// The markdown report.
    #[arg(long, value_name = "FILE")]
    markdown: PathBuf,
    /// The command that ran the experiment, for the report.
    #[arg(long, default_value = "cargo xtask longtail")]
    command: String,
    /// Seconds the generation (and `nao eval`) took (added to the report's wall time).
    #[arg(long, default_value_t = 0.0)]
    generation_seconds: f64,
    /// `nao eval`'s eval.json for the generated sets, reported beside the training results.
    #[arg(long, value_name = "FILE")]
    eval: Option<PathBuf>,
}

fn parse_generated(s: &str) -> Result<(String, PathBuf), String> {
    let (m, d) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': expected METHOD=DIR"))?;
    if m.is_empty() || d.is_empty() {
        return Err(format!("'{s}': expected METHOD=DIR"));
    }
    Ok((m.to_string(), PathBuf::from(d)))
}

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let cli = Cli::parse();
    let result = nao_fs::signals::install()
        .map_err(Error::from)
        .and_then(|()| match &cli.command {
            Command::Real(a) => real(a),
            Command::Train(a) => train(a),
        });
    if let Err(e) = result {
        eprintln!("nao-longtail: {e}");
        std::process::exit(if nao_fs::signals::interrupted() {
            130
        } else {
            1
        });
    }
}

/// The data, the long-tailed set (as the embedded model was trained on) and its indices.
fn load(args: &DataArgs) -> Result<(FashionMnist, Vec<usize>), Error> {
    let dir = args.data.clone().unwrap_or_else(FashionMnist::default_dir);
    let data = FashionMnist::load(&dir)?;
    let recipe = TrainConfig::default();
    let tail = long_tail_indices(
        &data.train.labels,
        &recipe.rare_classes,
        recipe.rare_keep,
        recipe.seed,
    )?;
    Ok((data, tail))
}

/// Seed of the few-shot picks (fixed: every run starts from the same real images).
const PICK_SEED: u64 = 0x5EED;

fn real(args: &RealArgs) -> Result<(), Error> {
    let (data, tail) = load(&args.data)?;
    let mut out = Outputs::new();
    out.claim_folder(&args.out, "--out")?;
    for class in RARE_CLASSES {
        let picks = pick_rare_examples(
            &data.train.labels,
            &tail,
            class,
            args.data.real_per_class,
            PICK_SEED,
        )?;
        let dir = args.out.join(CLASS_SLUGS[class]);
        for (n, &i) in picks.iter().enumerate() {
            out.write(&dir.join(format!("{n:02}.png")), &png(data.train.image(i))?)?;
        }
    }
    if let Some(test_dir) = &args.test_out {
        out.claim_folder(test_dir, "--test-out")?;
        for class in RARE_CLASSES {
            let dir = test_dir.join(CLASS_SLUGS[class]);
            let of_class = (0..data.test.len()).filter(|&i| data.test.labels[i] as usize == class);
            for (n, i) in of_class.enumerate() {
                out.write(&dir.join(format!("{n:04}.png")), &png(data.test.image(i))?)?;
            }
        }
    }
    out.commit()?;
    eprintln!(
        "{} real images per rare class ({}) in {}",
        args.data.real_per_class,
        RARE_CLASSES.map(|c| CLASS_SLUGS[c]).join(", "),
        args.out.display()
    );
    Ok(())
}

/// A 28×28 grey image as PNG bytes.
fn png(pixels: &[u8]) -> Result<Vec<u8>, Error> {
    let img = image::GrayImage::from_raw(IMAGE_SIDE as u32, IMAGE_SIDE as u32, pixels.to_vec())
        .ok_or("an image is not 28×28 bytes")?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}

/// One configuration: its name, what it is, its training set.
struct Config {
    name: String,
    description: String,
    set: ImageSet,
}

fn configs(args: &TrainArgs, data: &FashionMnist, tail: &[usize]) -> Result<Vec<Config>, Error> {
    let long_tail = data.train.subset(tail);
    let counts = long_tail.class_counts();
    let common = (0..counts.len())
        .filter(|c| !RARE_CLASSES.contains(c))
        .map(|c| counts[c])
        .min()
        .unwrap_or(0);
    let mut out = vec![
        Config {
            name: "long-tail".into(),
            description: format!(
                "the long-tailed set alone ({} images; {} per rare class)",
                long_tail.len(),
                RARE_CLASSES.map(|c| counts[c].to_string()).join(" and ")
            ),
            set: long_tail.clone(),
        },
        Config {
            name: "oversample".into(),
            description: format!(
                "the rare classes' images repeated to {common} each (the smallest common class)"
            ),
            set: long_tail.subset(&oversampled(&long_tail.labels, &RARE_CLASSES, common)),
        },
    ];
    for (method, dir) in &args.generated {
        let mut set = long_tail.clone();
        for class in RARE_CLASSES {
            let gen = load_class_folder(&dir.join(CLASS_SLUGS[class]), class as u8)?;
            if gen.len() < args.per_class {
                return Err(format!(
                    "{}: {} images of {}, {} needed (--per-class)",
                    dir.display(),
                    gen.len(),
                    CLASS_SLUGS[class],
                    args.per_class
                )
                .into());
            }
            let first: Vec<usize> = (0..args.per_class).collect();
            let gen = gen.subset(&first);
            set.pixels.extend_from_slice(&gen.pixels);
            set.labels.extend_from_slice(&gen.labels);
        }
        out.push(Config {
            name: format!("+{method}"),
            description: format!(
                "plus {} `nao augment --method {method}` images per rare class",
                args.per_class
            ),
            set,
        });
    }
    Ok(out)
}

/// A configuration's numbers over seeds.
#[derive(Debug, Serialize)]
struct ConfigReport {
    name: String,
    description: String,
    train_images: usize,
    rare: Spread,
    overall: Spread,
    balanced: Spread,
    /// Rare-class accuracy against the long-tailed set alone.
    rare_vs_long_tail: Comparison,
    /// Rare-class accuracy against oversampling.
    rare_vs_oversample: Comparison,
    /// Overall accuracy against the long-tailed set alone.
    overall_vs_long_tail: Comparison,
}

#[derive(Debug, Serialize)]
struct Results {
    command: String,
    wall_seconds: f64,
    generation_seconds: f64,
    training_seconds: f64,
    recipe: Recipe,
    seeds: Vec<u64>,
    rare_classes: Vec<String>,
    real_per_rare_class: usize,
    generated_per_rare_class: usize,
    test_images: usize,
    configs: Vec<ConfigReport>,
    conclusion: Vec<String>,
    runs: Vec<RunResult>,
    /// `nao eval` of the generated sets against the rare classes' test images, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    eval: Option<serde_json::Value>,
}

fn train(args: &TrainArgs) -> Result<(), Error> {
    let started = Instant::now();
    if args.seeds == 0 || args.jobs == 0 {
        return Err("--seeds and --jobs must be at least 1".into());
    }
    let recipe = Recipe {
        channels: args.channels,
        hidden: args.hidden,
        steps: args.steps,
        batch: args.batch,
        lr: args.lr,
    };
    recipe.config(0).check()?;
    let mut out = Outputs::new();
    out.claim_folder(&args.results, "--results")?;
    out.claim_file(&args.markdown, "--markdown")?;
    let runs_dir = args.work.join("runs");
    std::fs::create_dir_all(&runs_dir)
        .map_err(|e| format!("{}: cannot create: {e}", runs_dir.display()))?;

    let eval = match &args.eval {
        Some(p) => Some(serde_json::from_str::<serde_json::Value>(
            &nao_fs::input::read_text_limited(p, 64 << 20)?,
        )?),
        None => None,
    };
    let (data, tail) = load(&args.data)?;
    let test = match args.test_limit {
        Some(n) => data
            .test
            .subset(&(0..n.min(data.test.len())).collect::<Vec<_>>()),
        None => data.test.clone(),
    };
    let configs = configs(args, &data, &tail)?;
    let seeds: Vec<u64> = (0..args.seeds).collect();

    // Every (configuration, seed), finished ones read back from the working folder.
    let mut done: Vec<RunResult> = Vec::new();
    let mut todo = VecDeque::new();
    for (ci, c) in configs.iter().enumerate() {
        for &seed in &seeds {
            let key = run_key(&recipe, seed, &c.set);
            let file = runs_dir.join(format!("{}-seed{seed}.json", c.name));
            let cached = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| serde_json::from_str::<RunResult>(&t).ok())
                .filter(|r| r.key == key);
            match cached {
                Some(r) => done.push(r),
                None => todo.push_back((ci, seed, key, file)),
            }
        }
    }
    eprintln!(
        "{} configurations × {} seeds: {} runs to train, {} kept from {}",
        configs.len(),
        seeds.len(),
        todo.len(),
        done.len(),
        runs_dir.display()
    );
    let pb = ProgressBar::new((todo.len() * args.steps) as u64);
    pb.set_style(
        ProgressStyle::with_template(
            "training [{elapsed_precise}] {bar:30} {pos}/{len} steps (eta {eta}) {msg}",
        )
        .expect("static template"),
    );
    let queue = Mutex::new(todo);
    let finished = Mutex::new(Vec::new());
    let device = Device::flex();
    std::thread::scope(|s| -> Result<(), Error> {
        let workers: Vec<_> = (0..args.jobs)
            .map(|_| {
                s.spawn(|| -> Result<(), Error> {
                    loop {
                        let Some((ci, seed, key, file)) = queue.lock().expect("queue").pop_front()
                        else {
                            return Ok(());
                        };
                        let c: &Config = &configs[ci];
                        // the trainer stops at SIGINT/SIGTERM; the run is then not kept
                        let (scores, seconds) = recipe.run(
                            &c.set,
                            &test,
                            &RARE_CLASSES,
                            seed,
                            &device,
                            &mut |_, _, _, _| pb.inc(1),
                        )?;
                        let r = RunResult {
                            config: c.name.clone(),
                            seed,
                            key,
                            train_images: c.set.len(),
                            scores,
                            seconds,
                        };
                        let json = serde_json::to_vec_pretty(&r)?;
                        nao_fs::write_file(&file, "--work", &json)?;
                        let line = format!(
                            "{} seed {seed}: rare {:.1} %, overall {:.1} % ({:.0} s)",
                            c.name,
                            100.0 * r.scores.rare,
                            100.0 * r.scores.overall,
                            seconds
                        );
                        if pb.is_hidden() {
                            eprintln!("{line}");
                        } else {
                            pb.println(line);
                        }
                        finished.lock().expect("results").push(r);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("training thread")?;
        }
        Ok(())
    })?;
    pb.finish_and_clear();
    done.extend(finished.into_inner().expect("results"));
    done.sort_by(|a, b| {
        let pos = |r: &RunResult| configs.iter().position(|c| c.name == r.config);
        pos(a).cmp(&pos(b)).then(a.seed.cmp(&b.seed))
    });

    let spread = |name: &str, f: fn(&RunResult) -> f64| {
        Spread::of(
            &done
                .iter()
                .filter(|r| r.config == name)
                .map(f)
                .collect::<Vec<_>>(),
        )
    };
    let rare = |r: &RunResult| r.scores.rare;
    let overall = |r: &RunResult| r.scores.overall;
    let balanced = |r: &RunResult| r.scores.balanced;
    let base_rare = spread("long-tail", rare);
    let over_rare = spread("oversample", rare);
    let base_overall = spread("long-tail", overall);
    let reports: Vec<ConfigReport> = configs
        .iter()
        .map(|c| {
            let r = spread(&c.name, rare);
            let o = spread(&c.name, overall);
            ConfigReport {
                name: c.name.clone(),
                description: c.description.clone(),
                train_images: c.set.len(),
                rare_vs_long_tail: compare(&base_rare, &r),
                rare_vs_oversample: compare(&over_rare, &r),
                overall_vs_long_tail: compare(&base_overall, &o),
                rare: r,
                overall: o,
                balanced: spread(&c.name, balanced),
            }
        })
        .collect();
    let training_seconds = done.iter().map(|r| r.seconds).sum();
    let results = Results {
        command: args.command.clone(),
        wall_seconds: args.generation_seconds + started.elapsed().as_secs_f64(),
        generation_seconds: args.generation_seconds,
        training_seconds,
        recipe,
        seeds,
        rare_classes: RARE_CLASSES.map(|c| CLASS_NAMES[c].to_string()).to_vec(),
        real_per_rare_class: args.data.real_per_class,
        generated_per_rare_class: args.per_class,
        test_images: test.len(),
        conclusion: conclusion(&reports),
        configs: reports,
        runs: done,
        eval,
    };
    let json = serde_json::to_vec_pretty(&results)?;
    out.write(&args.results.join("results.json"), &json)?;
    let png = nao_viz::encode_png(&chart(&results)?)?;
    out.write(&args.results.join("longtail.png"), &png)?;
    out.write(
        &args.markdown,
        markdown(&results, &args.results, &args.markdown).as_bytes(),
    )?;
    out.commit()?;
    println!("{}", table(&results));
    for line in &results.conclusion {
        println!("- {line}");
    }
    Ok(())
}

fn pct(s: &Spread) -> String {
    format!("{:.1} ± {:.1} %", 100.0 * s.mean, 100.0 * s.std)
}

fn delta(c: &Comparison) -> String {
    format!(
        "{:+.1} ({})",
        100.0 * c.difference,
        if c.real { "real" } else { "within spread" }
    )
}

fn table(r: &Results) -> String {
    let mut s = String::from(
        "| configuration | training images | rare-class accuracy | overall accuracy | balanced accuracy | rare vs long-tail (points) | rare vs oversample (points) |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in &r.configs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            c.name,
            c.train_images,
            pct(&c.rare),
            pct(&c.overall),
            pct(&c.balanced),
            if c.name == "long-tail" {
                "–".into()
            } else {
                delta(&c.rare_vs_long_tail)
            },
            if c.name == "oversample" {
                "–".into()
            } else {
                delta(&c.rare_vs_oversample)
            },
        ));
    }
    s
}

/// The measured conclusion, in sentences: each claim says whether it exceeds the seeds' spread.
fn conclusion(configs: &[ConfigReport]) -> Vec<String> {
    let by = |n: &str| configs.iter().find(|c| c.name == n);
    let mut out = Vec::new();
    let seeds = configs.first().map_or(0, |c| c.rare.values.len());
    if seeds < 2 {
        out.push(format!(
            "{seeds} seed: no spread to measure differences against, so no difference below counts as real."
        ));
    }
    let points = |c: &Comparison| {
        format!(
            "{:+.1} points (spread {:.1}: {})",
            100.0 * c.difference,
            100.0 * c.spread,
            if c.real {
                "real"
            } else {
                "not beyond the spread"
            }
        )
    };
    for c in configs.iter().filter(|c| c.name.starts_with('+')) {
        out.push(format!(
            "{}: rare-class accuracy {} against the long-tailed set alone, {} against oversampling; overall accuracy {}.",
            c.name,
            points(&c.rare_vs_long_tail),
            points(&c.rare_vs_oversample),
            points(&c.overall_vs_long_tail),
        ));
    }
    if let Some(o) = by("oversample") {
        out.push(format!(
            "oversampling: rare-class accuracy {} against the long-tailed set alone.",
            points(&o.rare_vs_long_tail)
        ));
    }
    if let Some(nao) = by("+nao") {
        for other in [
            "+normalized",
            "+spherical",
            "+euclidean",
            "+gaussian",
            "+prompt-only",
        ] {
            if let Some(o) = by(other) {
                out.push(format!(
                    "+nao against {other}: rare-class accuracy {}.",
                    points(&compare(&o.rare, &nao.rare))
                ));
            }
        }
    }
    if let Some(best) = configs
        .iter()
        .max_by(|a, b| a.rare.mean.total_cmp(&b.rare.mean))
    {
        let runner_up = configs
            .iter()
            .filter(|c| c.name != best.name)
            .max_by(|a, b| a.rare.mean.total_cmp(&b.rare.mean));
        let lead = runner_up.map(|r| compare(&r.rare, &best.rare));
        out.push(match (runner_up, lead) {
            (Some(r), Some(l)) if l.real => format!(
                "highest rare-class accuracy: {} ({}), ahead of {} by {}.",
                best.name,
                pct(&best.rare),
                r.name,
                points(&l)
            ),
            (Some(r), Some(l)) => format!(
                "highest mean rare-class accuracy: {} ({}), but its lead over {} is {}: no single winner.",
                best.name,
                pct(&best.rare),
                r.name,
                points(&l)
            ),
            _ => format!("one configuration: {}", best.name),
        });
    }
    out
}

fn markdown(r: &Results, results_dir: &Path, markdown: &Path) -> String {
    let rel = |p: &Path| -> String {
        let base = markdown.parent().unwrap_or(Path::new(""));
        p.strip_prefix(base).unwrap_or(p).display().to_string()
    };
    let png = rel(&results_dir.join("longtail.png"));
    let json = rel(&results_dir.join("results.json"));
    format!(
        "# The long-tail experiment\n\n\
         Does adding `nao augment` images of the rare classes help a classifier trained on a \
         long-tailed set? Data: the long-tailed Fashion-MNIST training set the embedded model \
         was trained on ({rare} at 1 % of their images); `nao augment` starts from {real} real \
         images per rare class drawn from it and makes {m} images per rare class with each seed \
         method. The same small classifier ({ch}/{ch2} convolution channels, {hid} hidden \
         units; {steps} Adam steps of batch {batch}, peak learning rate {lr}, random flips) is \
         trained {seeds} times (seeds {seed_list}) per configuration and scored on {test} test \
         images: rare-class accuracy (mean recall of the rare classes), overall accuracy and \
         balanced accuracy (mean recall over classes), as mean ± standard deviation over seeds. \
         A difference counts as real only when it exceeds the sum of the two standard \
         deviations.\n\n\
         {table}\n\
         ![rare-class and balanced accuracy per configuration]({png})\n\n\
         ## Conclusion (measured)\n\n{conclusion}\n\n{eval}\
         ## How it was made\n\n\
         ```sh\n{command}\n```\n\n\
         Wall time {wall:.0} s on this machine ({gen:.0} s generating and measuring the images, \
         {train:.0} s of training and scoring summed over the runs, two at a time). Every run's scores: [{json}]({json}).\n",
        rare = r.rare_classes.join(" and "),
        real = r.real_per_rare_class,
        m = r.generated_per_rare_class,
        ch = r.recipe.channels,
        ch2 = 2 * r.recipe.channels,
        hid = r.recipe.hidden,
        steps = r.recipe.steps,
        batch = r.recipe.batch,
        lr = r.recipe.lr,
        seeds = r.seeds.len(),
        seed_list = r
            .seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        test = r.test_images,
        table = table(r),
        conclusion = r
            .conclusion
            .iter()
            .map(|l| format!("- {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
        eval = eval_section(r),
        command = r.command,
        wall = r.wall_seconds,
        gen = r.generation_seconds,
        train = r.training_seconds,
    )
}

fn chart(r: &Results) -> Result<image::RgbImage, Error> {
    let mut c = nao_viz::BarChart::new(
        "long-tail experiment: accuracy per configuration (mean over seeds)",
    );
    c.y_label = "accuracy".into();
    c.groups = r.configs.iter().map(|c| c.name.clone()).collect();
    let series = |name: &str, i: usize, f: fn(&ConfigReport) -> f64| nao_viz::BarSeries {
        name: name.into(),
        values: r.configs.iter().map(|c| Some(f(c))).collect(),
        color: nao_viz::palette(i),
    };
    c.series = vec![
        series("rare-class accuracy", 0, |c| c.rare.mean),
        series("balanced accuracy", 1, |c| c.balanced.mean),
        series("overall accuracy", 2, |c| c.overall.mean),
    ];
    c.width = 1000;
    Ok(c.render()?)
}

/// The generated sets as `nao eval` measured them, when it did.
fn eval_section(r: &Results) -> String {
    let Some(e) = &r.eval else {
        return String::new();
    };
    let num = |v: &serde_json::Value, digits: usize| {
        v.as_f64()
            .map(|x| format!("{x:.digits$}"))
            .unwrap_or_else(|| "–".into())
    };
    let mut s = format!(
        "## What the generated images are like\n\n`nao eval` of each method's images against the \
         {} (classifier: {}; k = {}): the classifier's accuracy on them, the Fréchet distance in \
         its feature space (lower is closer to the real images), k-NN precision (generated \
         images that look real) and recall (real images the generated ones cover), coverage, \
         diversity (mean pairwise feature distance; the real images': {}) and the seeds' mean \
         log χ.\n\n| method | accuracy | Fréchet distance | precision | recall | coverage | diversity | mean log χ |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        "rare classes' test images",
        e["classifier"].as_str().unwrap_or("?"),
        e["k"],
        e["methods"]
            .get(0)
            .map(|m| num(&m["overall"]["real_diversity"], 2))
            .unwrap_or_default(),
    );
    for m in e["methods"].as_array().into_iter().flatten() {
        let o = &m["overall"];
        s.push_str(&format!(
            "| {} | {} % | {} | {} | {} | {} | {} | {} |\n",
            m["method"].as_str().unwrap_or("?"),
            o["accuracy"]
                .as_f64()
                .map_or("–".into(), |a| format!("{:.1}", 100.0 * a)),
            num(&o["frechet_distance"], 2),
            num(&o["precision"], 3),
            num(&o["recall"], 3),
            num(&o["coverage"], 3),
            num(&o["diversity"], 2),
            num(&o["mean_log_chi"], 2),
        ));
    }
    s.push('\n');
    s
}
