//! Every format written frame by frame, then decoded by an independent decoder (the `image`
//! crate for GIF and APNG; the `mp4` crate's reader and OpenH264's decoder for MP4): frame
//! count, size, durations and pixels.

use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::{AnimationDecoder, DynamicImage, GrayImage, RgbImage};
use nao_video::{VideoFormat, VideoSpec, VideoWriter};

const W: u32 = 48;
const H: u32 = 32;

/// A smooth, colourful moving pattern (what a latent walk looks like, more or less).
fn colour_frame(i: usize) -> RgbImage {
    RgbImage::from_fn(W, H, |x, y| {
        let t = i as f64 * 0.3;
        let (x, y) = (f64::from(x) / 9.0, f64::from(y) / 7.0);
        let c = |phase: f64| (127.5 + 120.0 * (x + phase + t).sin() * (y - phase).cos()) as u8;
        image::Rgb([c(0.0), c(2.0), c(4.0)])
    })
}

fn grey_frame(i: usize) -> GrayImage {
    GrayImage::from_fn(W, H, |x, y| {
        image::Luma([((x * 5 + y * 3) as usize + 17 * i) as u8])
    })
}

fn encode(format: VideoFormat, spec: &VideoSpec, frames: &[(DynamicImage, u32)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut video = VideoWriter::new(format, spec, &mut bytes).unwrap();
    for (f, ticks) in frames {
        video.push(f, *ticks).unwrap();
    }
    let summary = video.finish().unwrap();
    assert_eq!(summary.frames as usize, frames.len());
    assert_eq!(
        summary.ticks,
        frames.iter().map(|(_, t)| u64::from(*t)).sum::<u64>()
    );
    bytes
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10()
}

/// Decoded frames and their delays in milliseconds.
fn decode(frames: Vec<image::Frame>) -> Vec<(RgbImage, f64)> {
    frames
        .into_iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            (
                DynamicImage::ImageRgba8(f.into_buffer()).to_rgb8(),
                f64::from(n) / f64::from(d),
            )
        })
        .collect()
}

fn ticks(n: usize) -> Vec<u32> {
    // the first and last frames held, as keyframes are
    (0..n)
        .map(|i| if i == 0 || i == n - 1 { 3 } else { 1 })
        .collect()
}

#[test]
fn grey_gif_is_exact_and_keeps_time() {
    let n = 7;
    let frames: Vec<_> = (0..n)
        .map(|i| (DynamicImage::ImageLuma8(grey_frame(i)), ticks(n)[i]))
        .collect();
    let spec = VideoSpec::new(W, H, 30, n as u32).grey(true);
    let bytes = encode(VideoFormat::Gif, &spec, &frames);
    let decoded = decode(
        GifDecoder::new(Cursor::new(bytes))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
    );
    assert_eq!(decoded.len(), n);
    for ((img, _), (want, _)) in decoded.iter().zip(&frames) {
        assert_eq!(img.dimensions(), (W, H));
        assert_eq!(img, &want.to_rgb8(), "the grey palette is exact");
    }
    // 9 + 5 + 9 = … frame periods at 30 fps: the total is exact to the hundredth.
    let total: f64 = decoded.iter().map(|(_, ms)| ms).sum();
    let want = 1000.0 * ticks(n).iter().sum::<u32>() as f64 / 30.0;
    assert!((total - want).abs() <= 5.0, "{total} ms vs {want} ms");
    let first = decoded[0].1;
    assert!((first - 100.0).abs() <= 10.0, "held frame: {first} ms");
}

#[test]
fn colour_gif_palettes_are_good() {
    let n = 6;
    let frames: Vec<_> = (0..n)
        .map(|i| (DynamicImage::ImageRgb8(colour_frame(i)), 1))
        .collect();
    let spec = VideoSpec::new(W, H, 25, n as u32);
    let bytes = encode(VideoFormat::Gif, &spec, &frames);
    let decoded = decode(
        GifDecoder::new(Cursor::new(bytes.clone()))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
    );
    assert_eq!(decoded.len(), n);
    for ((img, ms), (want, _)) in decoded.iter().zip(&frames) {
        assert_eq!(*ms, 40.0);
        let p = psnr(img.as_raw(), want.to_rgb8().as_raw());
        // Three independent colour waves on 1536 pixels are a hard case for 256 colours:
        // NeuQuant learning from every pixel scores 28.6 dB, from one in ten 23.5 dB.
        assert!(p > 27.0, "PSNR {p:.1} dB");
    }
    eprintln!(
        "colour GIF: {} bytes for {n} frames of {W}×{H}",
        bytes.len()
    );
}

#[test]
fn apng_is_lossless_in_grey_and_colour() {
    let n = 5;
    for grey in [true, false] {
        let frames: Vec<_> = (0..n)
            .map(|i| {
                let img = if grey {
                    DynamicImage::ImageLuma8(grey_frame(i))
                } else {
                    DynamicImage::ImageRgb8(colour_frame(i))
                };
                (img, ticks(n)[i])
            })
            .collect();
        let spec = VideoSpec::new(W, H, 24, n as u32).grey(grey);
        let bytes = encode(VideoFormat::Apng, &spec, &frames);
        let decoded = decode(
            PngDecoder::new(Cursor::new(bytes))
                .unwrap()
                .apng()
                .unwrap()
                .into_frames()
                .collect_frames()
                .unwrap(),
        );
        assert_eq!(decoded.len(), n, "grey {grey}");
        for (i, ((img, ms), (want, t))) in decoded.iter().zip(&frames).enumerate() {
            assert_eq!(img, &want.to_rgb8(), "frame {i}, grey {grey}");
            let expected = 1000.0 * f64::from(*t) / 24.0;
            assert!((ms - expected).abs() < 1e-6, "frame {i}: {ms} ms");
        }
    }
}

#[test]
fn bad_frames_and_specs_are_errors() {
    let mut sink = Vec::new();
    let spec = VideoSpec::new(W, H, 25, 2);
    let mut v = VideoWriter::new(VideoFormat::Gif, &spec, &mut sink).unwrap();
    let small = DynamicImage::ImageRgb8(RgbImage::new(W - 1, H));
    let err = v.push(&small, 1).unwrap_err().to_string();
    assert!(err.contains("47×32") && err.contains("48×32"), "{err}");
    let ok = DynamicImage::ImageRgb8(colour_frame(0));
    assert!(v
        .push(&ok, 0)
        .unwrap_err()
        .to_string()
        .contains("0 frame periods"));
    v.push(&ok, 1).unwrap();
    let err = v.finish().unwrap_err().to_string();
    assert!(
        err.contains("1 frame(s) pushed") && err.contains("2"),
        "{err}"
    );

    for (format, spec, needle) in [
        (VideoFormat::Gif, VideoSpec::new(W, H, 60, 1), "1 to 50"),
        (VideoFormat::Apng, VideoSpec::new(W, H, 0, 1), "1 to 120"),
        (VideoFormat::Apng, VideoSpec::new(0, H, 25, 1), "no pixels"),
        (
            VideoFormat::Gif,
            VideoSpec::new(70_000, 2, 25, 1),
            "largest side",
        ),
        (
            VideoFormat::Apng,
            VideoSpec::new(W, H, 25, 0),
            "at least one frame",
        ),
    ] {
        let err = VideoWriter::new(format, &spec, &mut sink)
            .err()
            .unwrap_or_else(|| panic!("{format} {spec:?} accepted"))
            .to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// Without the feature, MP4 is refused with the feature's name (the CLI then offers the
/// frames folder and the ffmpeg line).
#[cfg(not(feature = "mp4"))]
#[test]
fn mp4_needs_the_feature() {
    let mut sink = Vec::new();
    let spec = VideoSpec::new(W, H, 25, 1);
    let err = VideoWriter::new(VideoFormat::Mp4, &spec, &mut sink)
        .err()
        .unwrap();
    assert!(matches!(
        err,
        nao_video::VideoError::Unavailable(VideoFormat::Mp4)
    ));
    assert!(err.to_string().contains("`mp4`"), "{err}");
    assert!(!VideoFormat::Mp4.is_available());
}

#[cfg(feature = "mp4")]
#[test]
fn mp4_decodes_to_the_frames_with_their_durations() {
    use openh264::decoder::Decoder;

    let n = 12;
    let t = ticks(n);
    let frames: Vec<_> = (0..n)
        .map(|i| (DynamicImage::ImageRgb8(colour_frame(i)), t[i]))
        .collect();
    let spec = VideoSpec::new(W, H, 25, n as u32);
    let bytes = encode(VideoFormat::Mp4, &spec, &frames);
    // the same frames give the same bytes (one encoder thread)
    assert_eq!(bytes, encode(VideoFormat::Mp4, &spec, &frames));
    assert!(VideoFormat::Mp4.is_available());

    let size = bytes.len() as u64;
    let mut reader = mp4::Mp4Reader::read_header(Cursor::new(bytes), size).unwrap();
    let track = reader.tracks().get(&1).expect("a video track");
    assert_eq!((track.width(), track.height()), (W as u16, H as u16));
    assert_eq!(track.sample_count() as usize, n);
    assert_eq!(track.timescale(), 25);
    let avcc = track.trak.mdia.minf.stbl.stsd.avc1.clone().unwrap().avcc;
    let annex_b = |nal: &[u8]| [&[0, 0, 0, 1][..], nal].concat();
    let mut decoder = Decoder::new().unwrap();
    let params = [
        annex_b(&avcc.sequence_parameter_sets[0].bytes),
        annex_b(&avcc.picture_parameter_sets[0].bytes),
    ]
    .concat();
    decoder.decode(&params).unwrap();
    let mut worst = f64::INFINITY;
    for i in 0..n {
        let sample = reader.read_sample(1, i as u32 + 1).unwrap().unwrap();
        assert_eq!(sample.duration, t[i], "sample {i}");
        assert_eq!(sample.is_sync, i == 0, "sample {i}");
        let mut packet = Vec::new();
        let mut rest = &sample.bytes[..];
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            packet.extend(annex_b(&rest[4..4 + len]));
            rest = &rest[4 + len..];
        }
        let yuv = decoder
            .decode(&packet)
            .unwrap()
            .expect("a picture per sample");
        let mut rgb = vec![0; (W * H * 3) as usize];
        yuv.write_rgb8(&mut rgb);
        worst = worst.min(psnr(&rgb, frames[i].0.to_rgb8().as_raw()));
    }
    // 4:2:0 chroma on a pattern with colour detail at the pixel scale caps this well below
    // the grey channel's fidelity; smooth generated images do better.
    assert!(worst > 28.0, "worst PSNR {worst:.1} dB");
    eprintln!("MP4: worst PSNR {worst:.1} dB over {n} frames");
}

#[test]
fn the_ffmpeg_line_quotes_paths() {
    let line = nao_video::ffmpeg_command("it's here".as_ref(), 30, "out dir/w.mp4".as_ref());
    assert!(line.contains(r"'it'\''s here/%05d.png'"), "{line}");
    assert!(line.contains("'out dir/w.mp4'") && line.contains("-framerate 30"));
}
