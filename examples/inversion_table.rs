//! Round-trip error against network calls for each inversion method (DDIM, fixed-point
//! iterations, EDICT): invert real images, sample them back, compare latents and decoded
//! images. Writes `inversion.json` and `inversion.md` (the table of `docs/inversion.md`).
//!
//! ```sh
//! cargo run --release --features full --example inversion_table -- \
//!     [--steps 50] [--images 10] [--sd ../shared/fixtures/tiny-sd1/diffusers] [--out DIR]
//! ```
//! Without options it runs quickly on the embedded model alone (10 steps, 2 images);
//! `cargo xtask inversion-table` runs the full measurement into `docs/inversion/`.
use std::path::PathBuf;

use nao::backend::{Backend, Tensor};
use nao::embedded::{bundled_images, CLASS_NAMES, NUM_CLASSES};
use nao::inversion::{
    load_image, markdown_table, measure_round_trips, vae_psnr_db, ImageSpec, InversionMethod,
    InversionOptions, ResizePolicy, RoundTripCase,
};
use nao::models::{open_model, Device, ModelSource, OpenOptions};

const METHODS: [&str; 8] = [
    "ddim",
    "fixed-point:1",
    "fixed-point:2",
    "fixed-point:4",
    "fixed-point:4:average",
    "fixed-point:8",
    "edict",
    "dpm++2m",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut steps, mut count, mut sd, mut out) = (10, 2, None, std::env::temp_dir());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--steps" => steps = value()?.parse()?,
            "--images" => count = value()?.parse()?,
            "--sd" => sd = Some(PathBuf::from(value()?)),
            "--out" => out = PathBuf::from(value()?),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let methods: Vec<InversionMethod> = METHODS
        .iter()
        .map(|m| m.parse())
        .collect::<Result<_, _>>()?;
    let options = InversionOptions::default();
    let mut tables = Vec::new();

    // the embedded model: the first bundled test image of `count` classes, each under its name
    let embedded = open_model(
        &ModelSource::Embedded,
        Some(Device::Cpu),
        &OpenOptions::default(),
    )?;
    let model = &embedded.model;
    let mut images = Vec::new();
    for class in 0..count.min(NUM_CLASSES) {
        let all = bundled_images(class)?;
        let image = Tensor::new(vec![1, 1, 28, 28], all.data[..784].to_vec())?;
        let cond = nao::inversion::encode_prompt(model, CLASS_NAMES[class], &options)?;
        images.push((image, cond));
    }
    let cases: Vec<RoundTripCase<'_>> = images
        .iter()
        .map(|(image, conditioning)| RoundTripCase {
            image,
            conditioning,
        })
        .collect();
    let rows = measure_round_trips(model, &cases, &methods, steps)?;
    let what = format!("{} bundled test images (one per class)", cases.len());
    tables.push(("embedded", what, rows, vae_psnr_db(model, &cases)?));

    // the tiny Stable Diffusion fixture (random weights): its 64×64 input and a 64×96 picture
    if let Some(dir) = &sd {
        let opened = open_model(
            &ModelSource::Folder(dir.clone()),
            Some(Device::Cpu),
            &OpenOptions::default(),
        )?;
        let model = &opened.model;
        let spec = ImageSpec::for_model(model.info());
        let cond = nao::inversion::encode_prompt(model, "a photo of a cat", &options)?;
        let root = env!("CARGO_MANIFEST_DIR");
        let files = [
            dir.join("../reference/inversion_input.png"),
            PathBuf::from(root).join("crates/nao-inversion/tests/data/nonsquare/input.png"),
        ];
        let images = files
            .iter()
            .map(|f| load_image(f, &spec, ResizePolicy::None))
            .collect::<Result<Vec<_>, _>>()?;
        let cases: Vec<RoundTripCase<'_>> = images
            .iter()
            .map(|image| RoundTripCase {
                image,
                conditioning: &cond,
            })
            .collect();
        let rows = measure_round_trips(model, &cases, &methods, steps)?;
        let what = "the fixture's 64×64 input and a 64×96 picture".to_string();
        tables.push(("tiny-sd1", what, rows, vae_psnr_db(model, &cases)?));
    }

    let mut md = String::new();
    let mut json = serde_json::Map::new();
    for (name, what, rows, vae) in &tables {
        md += &format!(
            "### {name}: {what}, {steps} steps, guidance 1\n\n{}\nThe VAE alone (encode, \
             decode, no diffusion): {vae:.2} dB.\n\n",
            markdown_table(rows)
        );
        json.insert(
            name.to_string(),
            serde_json::json!({"images": what, "steps": steps, "vae_psnr_db": vae, "rows": rows}),
        );
    }
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("inversion.md"), &md)?;
    std::fs::write(
        out.join("inversion.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    println!(
        "{md}wrote {} and inversion.json",
        out.join("inversion.md").display()
    );
    Ok(())
}
