//! `nao walk` end to end on the embedded model: animations decoded back (frame count, size,
//! timing), loops, holds, orbits, perceptual pacing, a killed walk resumed to the identical
//! file, the frames folder, and clear errors for bad keyframes that leave nothing behind.

mod common;

use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{num, Work};
use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::{AnimationDecoder, DynamicImage, Frame, GrayImage};
use serde_json::Value;

/// DDIM steps of every walk here: enough for clothes to look like clothes, few enough to be
/// quick.
const STEPS: &str = "6";

/// Write bundled real Fashion-MNIST test image `index` of `class` as a PNG.
fn real_image(w: &Work, name: &str, class: usize, index: usize) {
    let all = nao_burn::bundled_images(class).unwrap();
    let px = &all.data[index * 784..(index + 1) * 784];
    let bytes = px
        .iter()
        .map(|v| ((v + 1.0) * 127.5).round() as u8)
        .collect();
    GrayImage::from_raw(28, 28, bytes)
        .unwrap()
        .save(w.path(name))
        .unwrap();
}

/// A Gaussian seed of the embedded model's latent shape.
fn seed(w: &Work, name: &str, s: &str) {
    w.json(&[
        "seed", "--shape", "4,7,7", "--seed", s, "-o", name, "--json",
    ]);
}

fn walk(w: &Work, args: &[&str]) -> Value {
    let mut all = vec!["walk", "--prompt", "sneaker", "--steps", STEPS, "--json"];
    all.extend_from_slice(args);
    w.json(&all)
}

fn gif_frames(path: &Path) -> Vec<Frame> {
    let bytes = std::fs::read(path).unwrap();
    GifDecoder::new(Cursor::new(bytes))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap()
}

fn apng_frames(path: &Path) -> Vec<Frame> {
    let bytes = std::fs::read(path).unwrap();
    PngDecoder::new(Cursor::new(bytes))
        .unwrap()
        .apng()
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap()
}

fn delay_ms(f: &Frame) -> f64 {
    let (n, d) = f.delay().numer_denom_ms();
    f64::from(n) / f64::from(d)
}

fn stats(v: &Value) -> &Vec<Value> {
    v["frame_stats"].as_array().expect("frame_stats")
}

#[test]
fn a_gif_through_real_images_and_a_seed() {
    let w = Work::new();
    real_image(&w, "a.png", 7, 0);
    real_image(&w, "b.png", 7, 3);
    seed(&w, "c.npy", "5");
    let v = walk(
        &w,
        &[
            "a.png", "c.npy", "b.png", "-o", "walk.gif", "--frames", "9", "--scale", "2", "--plot",
            "plot.png",
        ],
    );
    assert_eq!(v["format"], "gif");
    assert_eq!(v["frames"], 9);
    assert_eq!(v["periods"], 9);
    assert_eq!(v["method"], "nao");
    assert_eq!(v["size"], serde_json::json!([56, 56]));
    let kinds: Vec<&str> = v["keyframes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["image", "seed", "image"]);

    let frames = gif_frames(&w.path("walk.gif"));
    assert_eq!(frames.len(), 9);
    for f in &frames {
        assert_eq!(f.buffer().dimensions(), (56, 56));
        assert_eq!(delay_ms(f), 40.0);
    }
    // frames are grey and not all alike (the walk moves)
    let first = DynamicImage::ImageRgba8(frames[0].buffer().clone()).to_rgb8();
    assert!(first.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    assert_ne!(frames[0].buffer(), frames[4].buffer());

    let s = stats(&v);
    assert_eq!(s.len(), 9);
    let keyframes: Vec<_> = s.iter().filter_map(|f| f["keyframe"].as_u64()).collect();
    assert_eq!(keyframes, [0, 1, 2]);
    assert_eq!(s[0]["keyframe"], 0);
    assert_eq!(s[8]["keyframe"], 2);
    for (i, f) in s.iter().enumerate() {
        assert!(num(f, "norm") > 0.0 && num(f, "log_chi").is_finite(), "{f}");
        if i > 0 {
            assert!(num(f, "latent_distance") > 0.0, "{f}");
            assert!(num(f, "image_distance") >= 0.0, "{f}");
        } else {
            assert!(f.get("latent_distance").is_none());
        }
    }
    let plot = image::open(w.path("plot.png")).unwrap();
    assert!(plot.width() >= 800 && plot.height() >= 900);
    // the default work folder beside the output is gone once the walk is written
    assert_eq!(v["work_dir_kept"], false);
    assert_eq!(
        w.files(),
        ["a.png", "b.png", "c.npy", "plot.png", "walk.gif"]
    );
}

#[test]
fn a_looping_apng_holds_its_keyframes_at_fps_times_seconds() {
    let w = Work::new();
    seed(&w, "a.npy", "1");
    seed(&w, "b.npy", "2");
    let v = walk(
        &w,
        &[
            "a.npy",
            "b.npy",
            "--loop",
            "--hold",
            "2",
            "--fps",
            "10",
            "--seconds",
            "1.2",
            "--method",
            "slerp",
            "--ease",
            "in-out",
            "-o",
            "loop.png",
        ],
    );
    // 12 periods; 2 keyframes held 2 extra each leave 8 distinct frames on 2 segments
    assert_eq!(
        (v["periods"].as_u64(), v["frames"].as_u64()),
        (Some(12), Some(8))
    );
    assert_eq!(v["loop"], true);
    let frames = apng_frames(&w.path("loop.png"));
    assert_eq!(frames.len(), 8);
    let delays: Vec<f64> = frames.iter().map(delay_ms).collect();
    let s = stats(&v);
    for (i, (d, f)) in delays.iter().zip(s).enumerate() {
        let want = if f.get("keyframe").is_some() {
            300.0
        } else {
            100.0
        };
        assert!((d - want).abs() < 1e-9, "frame {i}: {d} ms");
    }
    assert!((delays.iter().sum::<f64>() - 1200.0).abs() < 1e-9);
    // the loop does not repeat its first frame at the end
    assert!(s.last().unwrap().get("keyframe").is_none());
    assert_ne!(frames[0].buffer(), frames[7].buffer());
    assert_eq!(frames[0].buffer().dimensions(), (28, 28));
}

#[test]
fn the_sampler_is_chosen_reported_and_cached_apart() {
    let w = Work::new();
    seed(&w, "a.npy", "1");
    seed(&w, "b.npy", "2");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "a.npy",
            "b.npy",
            "--frames",
            "4",
            "--method",
            "slerp",
            "--work-dir",
            "work",
            "-o",
            "w.gif",
        ];
        args.extend_from_slice(extra);
        walk(&w, &args)
    };
    let ddim = run(&[]);
    assert_eq!(ddim["scheduler"], "ddim");
    let heun = run(&["--scheduler", "heun"]);
    assert_eq!(heun["scheduler"], "heun");
    // Heun's frames are not DDIM's: none comes from the cache
    assert_eq!(heun["reused"], 0);
    assert_eq!(run(&["--scheduler", "heun"])["reused"], heun["frames"]);
}

#[test]
fn one_keyframe_orbits_only_with_loop() {
    let w = Work::new();
    real_image(&w, "a.png", 9, 2);
    let err = w.fails(&[
        "walk",
        "a.png",
        "--prompt",
        "ankle boot",
        "-o",
        "o.gif",
        "--frames",
        "6",
    ]);
    assert!(
        err.contains("1 keyframe") && err.contains("--loop"),
        "{err}"
    );
    let v = w.json(&[
        "walk",
        "a.png",
        "--loop",
        "--prompt",
        "ankle boot",
        "--steps",
        STEPS,
        "-o",
        "orbit.gif",
        "--frames",
        "6",
        "--json",
    ]);
    assert_eq!(v["method"], "orbit");
    assert_eq!(gif_frames(&w.path("orbit.gif")).len(), 6);
    // every frame of an orbit has the keyframe's norm
    let s = stats(&v);
    let r = num(&s[0], "norm");
    assert!(
        s.iter().all(|f| (num(f, "norm") / r - 1.0).abs() < 1e-6),
        "{s:?}"
    );
    let err = w.fails(&[
        "walk",
        "a.png",
        "--loop",
        "--method",
        "slerp",
        "--prompt",
        "ankle boot",
        "-o",
        "o.gif",
    ]);
    assert!(err.contains("orbit"), "{err}");
}

#[test]
fn perceptual_pacing_evens_out_the_image_change() {
    let w = Work::new();
    seed(&w, "a.npy", "11");
    seed(&w, "b.npy", "12");
    seed(&w, "c.npy", "13");
    let common = [
        "a.npy",
        "b.npy",
        "c.npy",
        "--frames",
        "13",
        "--work-dir",
        "work",
    ];
    let even = walk(&w, &[&common[..], &["-o", "e.gif"]].concat());
    let perceptual = walk(
        &w,
        &[&common[..], &["-o", "p.gif", "--spacing", "perceptual"]].concat(),
    );
    let un = |v: &Value| num(&v["pacing"], "unevenness");
    eprintln!(
        "unevenness: euclidean {:.3}, perceptual {:.3}, passes {}",
        un(&even),
        un(&perceptual),
        perceptual["pacing"]["passes"]
    );
    let passes = perceptual["pacing"]["passes"].as_array().unwrap();
    assert!(!passes.is_empty() && passes.len() <= 3);
    assert!(
        un(&perceptual) < un(&even),
        "perceptual {} vs euclidean {}",
        un(&perceptual),
        un(&even)
    );
    // the explicit work folder is kept, and a rerun samples nothing
    assert_eq!(perceptual["work_dir_kept"], true);
    let again = walk(
        &w,
        &[&common[..], &["-o", "p.gif", "--spacing", "perceptual"]].concat(),
    );
    assert_eq!(again["sampled"], 0);
    assert_eq!(again["reused"], again["frames"]);
}

#[test]
fn a_colour_walk_on_a_stable_diffusion_folder() {
    // The tiny random-weight SD 1.x fixture: RGB 64×64 frames, an image keyframe inverted
    // through its VAE encoder, the colour paths of the GIF and APNG encoders.
    let w = Work::new();
    let model = nao_test_support::shared("fixtures/tiny-sd1/diffusers");
    let model = model.to_str().unwrap();
    std::fs::copy(
        nao_test_support::shared("fixtures/tiny-sd1/reference/inversion_input.png"),
        w.path("photo.png"),
    )
    .unwrap();
    w.json(&[
        "seed", "--shape", "4,8,8", "--seed", "4", "-o", "s.npy", "--json",
    ]);
    for (output, frames) in [
        ("sd.gif", gif_frames as fn(&Path) -> Vec<Frame>),
        ("sd.png", apng_frames),
    ] {
        let v = w.json(&[
            "walk",
            "photo.png",
            "s.npy",
            "--model",
            model,
            "--prompt",
            "a photo of a cat",
            "--steps",
            "4",
            "--frames",
            "6",
            "--loop",
            "-o",
            output,
            "--json",
        ]);
        assert_eq!(v["size"], serde_json::json!([64, 64]), "{output}");
        let decoded = frames(&w.path(output));
        assert_eq!(decoded.len(), 6, "{output}");
        let rgb = DynamicImage::ImageRgba8(decoded[1].buffer().clone()).to_rgb8();
        assert_eq!(rgb.dimensions(), (64, 64));
        assert!(
            rgb.pixels().any(|p| p[0] != p[1] || p[1] != p[2]),
            "{output}: the frames are in colour"
        );
    }
}

/// The same walk, in a fresh folder: `nao walk` with `args` (relative paths).
fn walk_command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nao"));
    // 50 steps a frame: slow enough (~0.1 s a frame) to be killed halfway
    c.args(["walk", "--prompt", "sneaker", "--steps", "50", "--json"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

#[test]
fn a_killed_walk_resumes_to_the_identical_file() {
    let args = [
        "a.png",
        "b.npy",
        "-o",
        "walk.gif",
        "--frames",
        "40",
        "--work-dir",
        "work",
        "--hold",
        "1",
    ];
    let prepare = |w: &Work| {
        real_image(w, "a.png", 7, 5);
        seed(w, "b.npy", "9");
    };
    let whole = Work::new();
    prepare(&whole);
    let out = walk_command(whole.dir.path(), &args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let killed = Work::new();
    prepare(&killed);
    let mut child = walk_command(killed.dir.path(), &args).spawn().unwrap();
    let frames = killed.path("work/frames");
    let start = Instant::now();
    let cached = || {
        std::fs::read_dir(&frames)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
                    .count()
            })
            .unwrap_or(0)
    };
    while cached() < 4 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the walk ended before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no frames cached"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "finished before the kill"
    );
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let before = cached();
    eprintln!("killed after {before} of 38 frames");
    assert!(
        before < 38,
        "{before} frames were cached: not killed midway"
    );
    assert!(!killed.path("walk.gif").exists());

    let out = walk_command(killed.dir.path(), &args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["reused"].as_u64().unwrap() >= before as u64 - 1, "{v}");
    assert!(v["sampled"].as_u64().unwrap() < v["frames"].as_u64().unwrap());
    assert_eq!(
        std::fs::read(killed.path("walk.gif")).unwrap(),
        std::fs::read(whole.path("walk.gif")).unwrap(),
        "the resumed walk differs from the uninterrupted one"
    );
    // no temporary files are left anywhere
    for dir in [killed.dir.path().to_path_buf(), frames] {
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.ends_with(".tmp"), "left behind: {name}");
        }
    }
}

#[test]
fn a_frames_folder_with_the_ffmpeg_line() {
    let w = Work::new();
    seed(&w, "a.npy", "3");
    seed(&w, "b.npy", "4");
    let v = walk(
        &w,
        &[
            "a.npy",
            "b.npy",
            "--frames",
            "7",
            "--hold",
            "1",
            "--frames-dir",
            "fr",
        ],
    );
    let mut files: Vec<_> = std::fs::read_dir(w.path("fr"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    // 7 periods: 5 distinct frames, the two keyframes written twice
    assert_eq!(files.len(), 7);
    assert_eq!(files[0], "00000.png");
    assert_eq!(files[6], "00006.png");
    let a = std::fs::read(w.path("fr/00000.png")).unwrap();
    assert_eq!(a, std::fs::read(w.path("fr/00001.png")).unwrap());
    assert_ne!(a, std::fs::read(w.path("fr/00002.png")).unwrap());
    let line = v["ffmpeg"].as_str().unwrap();
    assert!(
        line.starts_with("ffmpeg -framerate 25 -i 'fr/%05d.png'"),
        "{line}"
    );
    assert_eq!(v["frames"], 5);
}

#[cfg(not(feature = "mp4"))]
#[test]
fn mp4_without_the_feature_points_to_the_frames_folder() {
    let w = Work::new();
    seed(&w, "a.npy", "3");
    seed(&w, "b.npy", "4");
    let err = w.fails(&[
        "walk", "a.npy", "b.npy", "--prompt", "sneaker", "-o", "w.mp4", "--json",
    ]);
    assert!(
        err.contains("`mp4`") && err.contains("--frames-dir"),
        "{err}"
    );
    assert_eq!(w.files(), ["a.npy", "b.npy"]);
}

#[cfg(feature = "mp4")]
#[test]
fn an_mp4_holds_one_sample_per_distinct_frame() {
    let w = Work::new();
    seed(&w, "a.npy", "3");
    seed(&w, "b.npy", "4");
    let v = walk(
        &w,
        &[
            "a.npy", "b.npy", "--frames", "10", "--hold", "2", "--fps", "20", "--scale", "2", "-o",
            "w.mp4",
        ],
    );
    let bytes = std::fs::read(w.path("w.mp4")).unwrap();
    let size = bytes.len() as u64;
    let mut reader = mp4::Mp4Reader::read_header(Cursor::new(bytes), size).unwrap();
    let track = reader.tracks().get(&1).unwrap();
    assert_eq!((track.width(), track.height()), (56, 56));
    assert_eq!(track.sample_count(), 6);
    assert_eq!(track.timescale(), 20);
    let durations: Vec<u32> = (1..=6)
        .map(|i| reader.read_sample(1, i).unwrap().unwrap().duration)
        .collect();
    assert_eq!(durations, [3, 1, 1, 1, 1, 3]);
    assert_eq!(v["frames"], 6);
}

#[test]
fn bad_keyframes_and_options_are_clear_errors_that_write_nothing() {
    let w = Work::new();
    real_image(&w, "a.png", 0, 0);
    seed(&w, "s.npy", "1");
    w.f32_seed("big.npy", &[4, 8, 8], &vec![0.5; 256]);
    w.f32_seed("rgb.npy", &[3, 7, 7], &vec![0.5; 147]);
    w.f32_seed("flat.npy", &[196], &vec![0.5; 196]);
    w.f32_seed("zero.npy", &[4, 7, 7], &[0.0; 196]);
    std::fs::write(w.path("broken.png"), b"\x89PNG not really").unwrap();
    let before = w.files();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["a.png", "big.npy"],
            &["big.npy", "(4, 8, 8)", "(4, 7, 7)", "another model"],
        ),
        (
            &["s.npy", "rgb.npy"],
            &["rgb.npy", "(3, 7, 7)", "4 channels"],
        ),
        (&["s.npy", "flat.npy"], &["flat.npy", "(196,)", "[c, h, w]"]),
        (&["s.npy", "zero.npy"], &["zero.npy", "all zeros"]),
        (&["a.png", "broken.png"], &["broken.png", "PNG or JPEG"]),
        (
            &["a.png", "missing.png"],
            &["missing.png", "no such image file"],
        ),
        (&["s.npy"], &["1 keyframe", "--loop"]),
    ];
    for (keys, needles) in cases {
        let mut args = vec!["walk"];
        args.extend_from_slice(keys);
        args.extend_from_slice(&["--prompt", "sneaker", "--steps", "2", "-o", "o.gif"]);
        let err = w.fails(&args);
        for n in *needles {
            assert!(err.contains(n), "{keys:?}: {n:?} not in: {err}");
        }
        assert_eq!(w.files(), before, "{keys:?} left files behind");
    }
    let options: &[(&[&str], &str)] = &[
        (&["-o", "o.avi"], "unknown video format"),
        (&["-o", "o.gif", "--fps", "60"], "at most 50"),
        (&["-o", "o.gif", "--frames", "3", "--hold", "1"], "too few"),
        (&["-o", "o.gif", "--scale", "0"], "--scale 0"),
        (&[], "nothing to write"),
        (&["-o", "o.gif", "--prompt", "giraffe"], "giraffe"),
    ];
    for (extra, needle) in options {
        let mut args = vec!["walk", "s.npy", "a.png", "--steps", "2"];
        if !extra.contains(&"--prompt") {
            args.extend_from_slice(&["--prompt", "sneaker"]);
        }
        args.extend_from_slice(extra);
        let err = w.fails(&args);
        assert!(err.contains(needle), "{extra:?}: {needle:?} not in: {err}");
        assert_eq!(w.files(), before, "{extra:?} left files behind");
    }
}
