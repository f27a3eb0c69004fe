//! Invert two real images of a rare class into seeds, take their NAO centroid, and sample it:
//! the model's image of the point "between" them, on the χ shell where seeds live — where the
//! plain average of the seeds falls inside it.
//!
//! ```sh
//! cargo run --release --features full --example centroid_of_two_images [-- A.png B.png OUT.png]
//! ```
use nao::backend::{Backend, Tensor};
use nao::centroid::{centroid, CentroidMethod, CentroidOptions};
use nao::inversion::{invert, load_image, ImageSpec, InversionOptions, ResizePolicy};
use nao::models::{open_model, Device, ModelSource, OpenOptions};
use nao::sampling::{no_progress, sample, SampleOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bags = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/real/bag");
    let mut args = std::env::args().skip(1);
    let a = args.next().unwrap_or(format!("{bags}/00.png"));
    let b = args.next().unwrap_or(format!("{bags}/01.png"));
    let out = args
        .next()
        .map_or(std::env::temp_dir().join("nao-centroid.png"), Into::into);

    // the embedded Fashion-MNIST model on the CPU; its prompts are class names
    let opened = open_model(
        &ModelSource::Embedded,
        Some(Device::Cpu),
        &OpenOptions::default(),
    )?;
    let (model, prompt) = (opened.model, "bag");
    let spec = ImageSpec::for_model(model.info());
    let inversion = InversionOptions::default().with_steps(50);
    let text = nao::inversion::encode_prompt(&model, prompt, &inversion)?;

    // images → seeds (DDIM inversion)
    let mut seeds: Vec<Vec<f64>> = Vec::new();
    for path in [&a, &b] {
        let image = load_image(path, &spec, ResizePolicy::CenterCrop)?;
        let z = invert(&model, &image, &text, &inversion, no_progress)?;
        seeds.push(z.data.iter().map(|&v| f64::from(v)).collect());
    }
    let views: Vec<&[f64]> = seeds.iter().map(Vec::as_slice).collect();
    let chi = nao::prior::ChiPrior::new(seeds[0].len())?;
    let mut nao = Vec::new();
    for method in [CentroidMethod::Euclidean, CentroidMethod::Nao] {
        let c = centroid(method, &views, &CentroidOptions::default(), None)?.centroid;
        let r = nao::prior::norm(&c);
        println!(
            "{method} centroid: norm {r:.2}, log χ {:.2} (seeds live near ‖z‖ = {:.2})",
            chi.log_pdf(r),
            chi.mode()
        );
        nao = c;
    }

    // the NAO centroid → an image (DDIM sampling, then the VAE decoder)
    let sampling = SampleOptions::default()
        .with_steps(50)
        .with_guidance_scale(1.0);
    let text = nao::sampling::encode_prompt(&model, prompt, &sampling)?;
    let [c, h, w] = model.info().latent_shape(spec.height, spec.width)?;
    let seed = Tensor::new(vec![1, c, h, w], nao.iter().map(|&v| v as f32).collect())?;
    let latents = sample(&model, &seed, &text, &sampling, no_progress)?;
    let image = model.decode_latents(&latents)?; // [1, 1, 28, 28] in [0, 1]
    let (ch, ih, iw) = (spec.channels, spec.height, spec.width);
    let png = nao::viz::png_bytes(&nao::viz::decoded_image(&image.data, ch, ih, iw)?)?;
    std::fs::write(&out, png)?;
    println!("the NAO centroid's image: {}", out.display());
    Ok(())
}
