//! `nao-longtail`: the long-tail experiment ([`nao_burn_train::longtail`]) from the command
//! line — its arguments, its progress bars and its report.
//!
//! `nao-longtail run --work DIR [--quick] …` runs it all in-process: the real images, the
//! generated sets of the grid (`nao augment`'s work, SeedSelect included), their measures
//! (`nao eval`'s), the classifier trained on every configuration over the seeds (more seeds
//! for those within the spread of a comparison); then writes `results.json`, `longtail.png`
//! and the markdown report. Everything is kept in the working folder (generated
//! sets, finished runs), so a second run reuses it and a killed run resumes. `cargo xtask
//! longtail` runs it.
#![forbid(unsafe_code)]

mod costs;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use nao_augment::{fixed_or_dash, SeedMethod, SourceKind};
use nao_burn_train::longtail::{
    estimate, percent, Comparison, ConfigReport, Costs, Event, ExperimentSpec, LongtailError, Plan,
    Refine, Results, LONG_TAIL, OVERSAMPLE,
};
use nao_burn_train::FashionMnist;
use nao_fs::Outputs;
use serde::Serialize;

#[derive(Debug, Parser)]
// an option given twice takes its last value, so a script can append to a command line
#[command(
    name = "nao-longtail",
    about = "The long-tail experiment",
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole experiment (resuming what the working folder holds) and write the report.
    Run(Box<RunArgs>),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The plumbing check: 1 seed (2 for the rows within the spread), 8 generated images per
    /// rare class made with 4 DDIM steps, prompt-only, normalized and NAO from pairs at 5 and
    /// 60 shots without and with a tiny SeedSelect, a tiny classifier (4 channels, 16 hidden,
    /// 30 steps), 500 test images. Options given beside it win.
    #[arg(long)]
    quick: bool,
    /// Working folder: real images, generated sets, their measures, finished runs.
    #[arg(long, value_name = "DIR")]
    work: PathBuf,
    /// Folder of results.json and longtail.png [default: WORK/results].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The markdown report [default: WORK/results.md].
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Fashion-MNIST's IDX files [default: $NAO_FASHION_MNIST_DIR, else Debian's
    /// dataset-fashion-mnist folder].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Training seeds of every configuration [default: 3; 1 with --quick].
    #[arg(long)]
    seeds: Option<u64>,
    /// Training seeds of the configurations in a comparison within the spread after the first
    /// seeds [default: 5; 2 with --quick]; equal to --seeds: no second pass.
    #[arg(long, value_name = "N")]
    max_seeds: Option<u64>,
    /// Generated images per rare class in every generated set [default: 100; 8 with --quick].
    #[arg(long, value_name = "M")]
    per_class: Option<usize>,
    /// DDIM steps of the generation [default: 20; 4 with --quick].
    #[arg(long)]
    steps: Option<usize>,
    /// Seed methods, a comma list of prompt-only, euclidean, normalized, spherical, gaussian,
    /// nao [default: prompt-only,normalized,nao].
    #[arg(long, value_name = "LIST", value_parser = methods)]
    methods: Option<Methods>,
    /// Seed sources, a comma list of centroid-paths, pairs, subsets [default: all three;
    /// pairs with --quick].
    #[arg(long, value_name = "LIST", value_parser = sources)]
    sources: Option<Sources>,
    /// Refinements, a comma list of none, seedselect [default: none,seedselect].
    #[arg(long, value_name = "LIST", value_parser = refinements)]
    refinements: Option<Refinements>,
    /// Real images per rare class inverted, with every source: a comma list [default: 5].
    #[arg(long, value_name = "LIST", value_parser = counts)]
    shots: Option<Counts>,
    /// Real images per rare class inverted, with the best source of --shots only: a comma list,
    /// or none [default: 60].
    #[arg(long, value_name = "LIST", value_parser = counts_or_none)]
    best_source_shots: Option<Counts>,
    /// Generated sets made, and runs trained, at once (each uses about one core) [default: 2].
    #[arg(long)]
    jobs: Option<usize>,
    /// Score on the first N test images only [default: all 10 000; 500 with --quick].
    #[arg(long, value_name = "N")]
    test_limit: Option<usize>,
    /// Channels of the classifier's first convolution [default: 16; 4 with --quick].
    #[arg(long)]
    channels: Option<usize>,
    /// Width of the classifier's hidden layer [default: 64; 16 with --quick].
    #[arg(long)]
    hidden: Option<usize>,
    /// Optimiser steps per training run [default: 800; 30 with --quick].
    #[arg(long, value_name = "N")]
    train_steps: Option<usize>,
    /// Batch size [default: 64].
    #[arg(long)]
    batch: Option<usize>,
    /// Peak learning rate (Adam, cosine decay) [default: 0.001].
    #[arg(long)]
    lr: Option<f64>,
    /// The command that ran the experiment, for the report [default: this command line].
    #[arg(long, value_name = "TEXT")]
    command: Option<String>,
}

// clap's value parsers need types of their own for lists (a `Vec` would be read as a
// repeated option)
#[derive(Debug, Clone)]
struct Methods(Vec<SeedMethod>);
#[derive(Debug, Clone)]
struct Sources(Vec<SourceKind>);
#[derive(Debug, Clone)]
struct Refinements(Vec<Refine>);
#[derive(Debug, Clone)]
struct Counts(Vec<usize>);

/// The items of a comma list, each parsed by `one`; clap names the option in the error.
fn list<T>(s: &str, one: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    s.split(',').map(|item| one(item.trim())).collect()
}

fn methods(s: &str) -> Result<Methods, String> {
    list(s, |m| m.parse::<SeedMethod>().map_err(|e| e.to_string())).map(Methods)
}

fn sources(s: &str) -> Result<Sources, String> {
    list(s, |name| {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                format!(
                    "'{name}' is not a seed source (one of: {})",
                    SourceKind::ALL.map(SourceKind::name).join(", ")
                )
            })
    })
    .map(Sources)
}

fn refinements(s: &str) -> Result<Refinements, String> {
    list(s, str::parse::<Refine>).map(Refinements)
}

fn counts(s: &str) -> Result<Counts, String> {
    list(s, |n| {
        n.parse::<usize>()
            .map_err(|_| format!("'{n}' is not a count of real images"))
    })
    .map(Counts)
}

fn counts_or_none(s: &str) -> Result<Counts, String> {
    if s == "none" {
        Ok(Counts(Vec::new()))
    } else {
        counts(s)
    }
}

impl RunArgs {
    /// The spec: the published experiment or the plumbing check, with the options given.
    fn spec(&self) -> ExperimentSpec {
        let data = self.data.clone().unwrap_or_else(FashionMnist::default_dir);
        let mut spec = if self.quick {
            ExperimentSpec::quick(data, &self.work)
        } else {
            ExperimentSpec::new(data, &self.work)
        };
        let set = |field: &mut usize, v: Option<usize>| *field = v.unwrap_or(*field);
        // --seeds alone keeps the second pass as many seeds beyond it
        let extra = spec.max_seeds - spec.seeds;
        spec.seeds = self.seeds.unwrap_or(spec.seeds);
        spec.max_seeds = self.max_seeds.unwrap_or(spec.seeds.saturating_add(extra));
        set(&mut spec.generated_per_class, self.per_class);
        set(&mut spec.ddim_steps, self.steps);
        set(&mut spec.jobs, self.jobs);
        set(&mut spec.recipe.channels, self.channels);
        set(&mut spec.recipe.hidden, self.hidden);
        set(&mut spec.recipe.steps, self.train_steps);
        set(&mut spec.recipe.batch, self.batch);
        spec.recipe.lr = self.lr.unwrap_or(spec.recipe.lr);
        spec.test_limit = self.test_limit.or(spec.test_limit);
        let grid = &mut spec.grid;
        if let Some(Methods(v)) = &self.methods {
            grid.methods.clone_from(v);
        }
        if let Some(Sources(v)) = &self.sources {
            grid.sources.clone_from(v);
        }
        if let Some(Refinements(v)) = &self.refinements {
            grid.refinements.clone_from(v);
        }
        if let Some(Counts(v)) = &self.shots {
            grid.shots.clone_from(v);
        }
        if let Some(Counts(v)) = &self.best_source_shots {
            grid.best_source_shots.clone_from(v);
        }
        spec
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let cli = Cli::parse();
    let result = nao_fs::signals::install()
        .map_err(Error::from)
        .and_then(|()| match &cli.command {
            Command::Run(a) => run(a),
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

/// `results.json`: the command that ran the experiment, then its results.
#[derive(Debug, Serialize)]
struct Report<'a> {
    command: &'a str,
    #[serde(flatten)]
    results: &'a Results,
}

fn run(args: &RunArgs) -> Result<(), Error> {
    let plan = Plan::new(args.spec())?;
    let results_dir = args
        .out
        .clone()
        .unwrap_or_else(|| args.work.join("results"));
    let markdown_file = args
        .markdown
        .clone()
        .unwrap_or_else(|| args.work.join("results.md"));
    let command = args.command.clone().unwrap_or_else(|| {
        std::iter::once("nao-longtail".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" ")
    });
    std::fs::create_dir_all(&args.work)
        .map_err(|e| format!("--work {}: cannot create it: {e}", args.work.display()))?;
    // the report's paths are refused now, before an hour of work
    let mut out = Outputs::new();
    out.claim_folder(&results_dir, "--out")?;
    out.claim_file(&markdown_file, "--markdown")?;

    let mut bars = Bars::new();
    // the tiny SeedSelect of --quick is not what the costs were measured with
    if !args.quick {
        let e = estimate(plan.spec(), &Costs::MEASURED)?;
        bars.line(format!(
            "estimated at most {:.0} min on 2 cores ({:.0} s generating, {:.0} s measuring, \
             {:.0} s training the first pass and {:.0} s the second; what the working folder \
             already holds is not counted)",
            e.total / 60.0,
            e.generation,
            e.measuring,
            e.first_pass,
            e.second_pass
        ));
    }
    let results = plan.run(&mut |event| bars.show(event));
    bars.clear();
    let results = results.map_err(|e| -> Error {
        match e {
            LongtailError::Cancelled => format!(
                "interrupted; the finished work is kept in {}, and the same command resumes it",
                args.work.display()
            )
            .into(),
            e => e.into(),
        }
    })?;

    let report = Report {
        command: &command,
        results: &results,
    };
    out.write(
        &results_dir.join("results.json"),
        &serde_json::to_vec_pretty(&report)?,
    )?;
    let png = nao_viz::encode_png(&chart(&results)?)?;
    out.write(&results_dir.join("longtail.png"), &png)?;
    out.write(
        &markdown_file,
        markdown(
            &results,
            plan.spec(),
            &command,
            &results_dir,
            &markdown_file,
        )
        .as_bytes(),
    )?;
    out.commit()?;
    println!("{}", table(&results));
    for line in &results.conclusion {
        println!("- {line}");
    }
    Ok(())
}

/// The progress bars of the experiment's stages; without a terminal (CI logs), a line per
/// finished stage instead.
struct Bars {
    multi: MultiProgress,
    generating: HashMap<String, ProgressBar>,
    /// When each generated set's first event came: its wall time includes the inversions and
    /// the centroids, which the outcome's seconds leave out.
    started: HashMap<String, Instant>,
    scoring: Option<ProgressBar>,
    training: Option<ProgressBar>,
}

impl Bars {
    fn new() -> Self {
        Self {
            multi: MultiProgress::new(),
            generating: HashMap::new(),
            started: HashMap::new(),
            scoring: None,
            training: None,
        }
    }

    fn bar(&self, len: usize, template: &str, prefix: String) -> ProgressBar {
        let pb = self.multi.add(ProgressBar::new(len as u64));
        pb.set_style(ProgressStyle::with_template(template).expect("static template"));
        pb.set_prefix(prefix);
        pb
    }

    fn line(&self, line: String) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    /// Show `event`; stop the experiment at SIGINT/SIGTERM (what is finished is kept).
    fn show(&mut self, event: Event<'_>) -> ControlFlow<()> {
        match event {
            Event::RealImages { per_class, dir } => self.line(format!(
                "{per_class} real images per rare class in {}",
                dir.display()
            )),
            Event::Generating { generation, event } => {
                self.started
                    .entry(generation.to_string())
                    .or_insert_with(Instant::now);
                if let nao_augment::Event::Images { done, todo } = event {
                    let name = generation.to_string();
                    if !self.generating.contains_key(&name) {
                        let pb = self.bar(
                            todo,
                            "{prefix:>12} [{elapsed_precise}] {bar:30} {pos}/{len} images (eta {eta})",
                            name.clone(),
                        );
                        self.generating.insert(name.clone(), pb);
                    }
                    self.generating[&name].set_position(done as u64);
                } else if let nao_augment::Event::Note(note) = event {
                    self.line(format!("{generation}: {note}"));
                }
            }
            Event::Generated {
                generation,
                outcome,
                dir,
            } => {
                if let Some(pb) = self.generating.remove(&generation.to_string()) {
                    pb.finish_and_clear();
                }
                // the seconds are what the cost table of docs/results.md is measured with
                let wall = self
                    .started
                    .get(&generation.to_string())
                    .map_or(0.0, |t| t.elapsed().as_secs_f64());
                self.line(format!(
                    "{generation}: {} images ({} made now in {:.1} s, {wall:.1} s with the \
                     inversions and seeds; {} kept) in {}",
                    outcome.images_total,
                    outcome.made,
                    outcome.generating_seconds,
                    outcome.already_done,
                    dir.display()
                ));
            }
            Event::Evaluating(nao_augment::Event::Scored { done, total }) => {
                // each set is measured on its own: a new count starts a new bar
                if self.scoring.as_ref().is_some_and(|pb| {
                    pb.length() != Some(total as u64) || pb.position() > done as u64
                }) {
                    if let Some(pb) = self.scoring.take() {
                        pb.finish_and_clear();
                    }
                }
                if self.scoring.is_none() {
                    let pb = self.bar(
                        total,
                        "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} images",
                        "measuring the generated images".into(),
                    );
                    self.scoring = Some(pb);
                }
                if let Some(pb) = &self.scoring {
                    pb.set_position(done as u64);
                }
            }
            Event::Runs {
                configurations,
                seeds,
                to_train,
                kept,
                steps_per_run,
                dir,
            } => {
                if let Some(pb) = self.scoring.take() {
                    pb.finish_and_clear();
                }
                self.line(format!(
                    "{configurations} configurations × {seeds} seeds: {to_train} runs to train, \
                     {kept} kept from {}",
                    dir.display()
                ));
                self.training = Some(self.bar(
                    to_train * steps_per_run,
                    "training [{elapsed_precise}] {bar:30} {pos}/{len} steps (eta {eta}) {msg}",
                    String::new(),
                ));
            }
            Event::Step { .. } => {
                if let Some(pb) = &self.training {
                    pb.inc(1);
                }
            }
            Event::RunFinished(r) => self.line(format!(
                "{} seed {}: rare {:.1} %, overall {:.1} % ({:.0} s)",
                r.config,
                r.seed,
                100.0 * r.scores.rare,
                100.0 * r.scores.overall,
                r.seconds
            )),
            _ => {}
        }
        if nao_fs::signals::interrupted() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn clear(&mut self) {
        let bars = self.generating.drain().map(|(_, pb)| pb);
        for pb in bars.chain(self.scoring.take()).chain(self.training.take()) {
            pb.finish_and_clear();
        }
    }
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
        "| configuration | n | training images | rare-class accuracy | overall accuracy | balanced accuracy | rare vs oversample (points) | rare vs long-tail (points) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in &r.configs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.name,
            c.seeds,
            c.train_images,
            percent(&c.rare),
            percent(&c.overall),
            percent(&c.balanced),
            if c.name == OVERSAMPLE {
                "–".into()
            } else {
                delta(&c.rare_vs_oversample)
            },
            if c.name == LONG_TAIL {
                "–".into()
            } else {
                delta(&c.rare_vs_long_tail)
            },
        ));
    }
    s
}

fn markdown(
    r: &Results,
    spec: &ExperimentSpec,
    command: &str,
    results_dir: &Path,
    markdown: &Path,
) -> String {
    let rel = |p: &Path| -> String {
        let base = markdown.parent().unwrap_or(Path::new(""));
        p.strip_prefix(base).unwrap_or(p).display().to_string()
    };
    let png = rel(&results_dir.join("longtail.png"));
    let json = rel(&results_dir.join("results.json"));
    let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let second = if r.more_seeds.is_empty() {
        String::from("No comparison needed more seeds.")
    } else {
        format!(
            "The configurations in a comparison (each NAO row against oversampling and against \
             the same configuration with another method) whose difference stayed within the \
             spread after seeds {} were trained with seeds {} too ({}); the table's n says how \
             many seeds each row has.",
            list(&r.seeds),
            list(&r.more_seed_list),
            r.more_seeds.join(", ")
        )
    };
    let best = match &r.best_source {
        Some(s) => format!(
            " The rows with more shots use the best source of the first rows (the highest mean \
             rare-class accuracy over their methods and refinements): **{s}**."
        ),
        None => String::new(),
    };
    format!(
        "# The long-tail experiment\n\n\
         Does adding `nao augment` images of the rare classes help a classifier trained on a \
         long-tailed set more than oversampling the real ones? Data: the long-tailed \
         Fashion-MNIST training set the embedded model was trained on ({rare} at 1 % of their \
         images: {real} real images each). The protocol is fair: every configuration but the \
         long-tailed reference trains on {per} images of every class — a generated row adds \
         {m} images per rare class (`nao augment` from some of the {real} real ones: the \
         shots) and the real and generated rare images are oversampled together to {per}; \
         oversampling alone is the same with no generated image. The same small classifier \
         ({ch}/{ch2} convolution channels, {hid} hidden units; {steps} Adam steps of batch \
         {batch}, peak learning rate {lr}, random flips) is trained with seeds {seed_list} \
         per configuration and scored on {test} test images: rare-class accuracy (mean recall \
         of the rare classes), overall accuracy and balanced accuracy (mean recall over \
         classes), as mean ± standard deviation over seeds. A difference counts as real only \
         when it exceeds the sum of the two standard deviations. {second}{best}\n\n\
         {table}\n\
         ![rare-class and balanced accuracy per configuration]({png})\n\n\
         ## Conclusion (measured)\n\n{conclusion}\n\n{eval}{costs}\
         ## How it was made\n\n\
         ```sh\n{command}\n```\n\n\
         Wall time {wall:.0} s on this machine ({gen:.0} s generating and measuring the images, \
         {train:.0} s of training and scoring summed over the runs, two at a time). Every run's scores: [{json}]({json}).\n",
        rare = r.rare_classes.join(" and "),
        real = r.real_per_rare_class,
        per = r.balanced_per_class,
        m = r.generated_per_rare_class,
        ch = r.recipe.channels,
        ch2 = 2 * r.recipe.channels,
        hid = r.recipe.hidden,
        steps = r.recipe.steps,
        batch = r.recipe.batch,
        lr = r.recipe.lr,
        seed_list = list(&r.seeds),
        test = r.test_images,
        table = table(r),
        conclusion = r
            .conclusion
            .iter()
            .map(|l| format!("- {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
        eval = eval_section(r),
        costs = costs::section(spec),
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
    // about 70 pixels a configuration, so that two dozen names stay legible
    c.width = (70 * r.configs.len()).max(1000) as _;
    Ok(c.render()?)
}

/// The generated sets as the evaluation measured them.
fn eval_section(r: &Results) -> String {
    let Some(e) = &r.eval else {
        return String::new();
    };
    let mut s = format!(
        "## What the generated images are like\n\n`nao eval` of each generated set against the \
         {} (classifier: {}; k = {}): the classifier's accuracy on them, the Fréchet distance in \
         its feature space (lower is closer to the real images), k-NN precision (generated \
         images that look real) and recall (real images the generated ones cover), coverage, \
         diversity (mean pairwise feature distance; the real images': {}) and the seeds' mean \
         log χ.\n\n| generated set | accuracy | Fréchet distance | precision | recall | coverage | diversity | mean log χ |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        "rare classes' test images",
        e.classifier,
        e.k,
        e.methods
            .first()
            .map(|m| fixed_or_dash(m.overall.real_diversity, 2))
            .unwrap_or_default(),
    );
    for m in &e.methods {
        let o = &m.overall;
        s.push_str(&format!(
            "| {} | {:.1} % | {} | {} | {} | {} | {} | {} |\n",
            m.method,
            100.0 * o.accuracy,
            fixed_or_dash(o.frechet_distance, 2),
            fixed_or_dash(o.precision, 3),
            fixed_or_dash(o.recall, 3),
            fixed_or_dash(o.coverage, 3),
            fixed_or_dash(o.diversity, 2),
            fixed_or_dash(o.mean_log_chi, 2),
        ));
    }
    s.push('\n');
    s
}
