//! A walk from one real image to another along the NAO geodesic between their inverted seeds,
//! paced so that consecutive frames change equally, as a GIF. Killed halfway, it resumes: every
//! sampled frame is cached under the hash of what made it.
//!
//! ```sh
//! cargo run --release --features full --example walk_to_a_gif [-- A.png B.png OUT.gif]
//! ```
use nao::models::{open_model, Device, ModelSource, OpenOptions};
use nao::video::VideoFormat;
use nao::walk::{Event, Keyframe, ModelId, Output, Walk, WalkSpacing, WalkSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let boots = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/real/ankle-boot");
    let mut args = std::env::args().skip(1);
    let a = args.next().unwrap_or(format!("{boots}/00.png"));
    let b = args.next().unwrap_or(format!("{boots}/02.png"));
    let out = args
        .next()
        .map_or(std::env::temp_dir().join("nao-walk.gif"), Into::into);

    let mut spec = WalkSpec::new("ankle boot", out.with_extension("cache"));
    spec.frames = Some(24);
    spec.guidance = 1.0; // the inverted images come back as themselves
    spec.spacing = WalkSpacing::Perceptual; // equal image change between frames
    let keyframes = vec![Keyframe::ImageFile(a.into()), Keyframe::ImageFile(b.into())];
    let walk = Walk::plan(spec, keyframes)?; // checks everything before any work

    let source = ModelSource::Embedded;
    let model = open_model(&source, Some(Device::Cpu), &OpenOptions::default())?.model;
    let id = ModelId::new(source.name(), source.identity()?);
    let mut gif = Vec::new();
    let output = Output::Video {
        format: VideoFormat::Gif,
        out: &mut gif,
    };
    let report = walk.run(&*model, &id, output, &mut |event| {
        if let Event::Sampled { .. } = event {
            eprint!(".");
        }
        std::ops::ControlFlow::Continue(()) // Break would cancel; a rerun resumes
    })?;
    std::fs::write(&out, gif)?;
    let norms = report.frame_stats.iter().map(|f| f.norm);
    let lowest = norms.fold(f64::INFINITY, f64::min);
    println!(
        "\n{}: {} frames; the lowest seed norm on the way is {lowest:.2} (χ mode {:.2})",
        out.display(),
        report.frames,
        report.chi_mode
    );
    Ok(())
}
