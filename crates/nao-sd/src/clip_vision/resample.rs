//! The two resizes of the image encoder's inputs: Pillow's separable resampling of 8-bit images
//! (what transformers' `CLIPImageProcessor` runs through `PIL.Image.resize`), reproduced
//! exactly, fixed-point arithmetic included; and PyTorch's bicubic `interpolate` as two
//! interpolation matrices, so that resizing decoded images stays a differentiable burn
//! operation.

/// Pillow's resampling filters, by the numbers `preprocessor_config.json` stores in `resample`
/// (`PIL.Image.Resampling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resample {
    /// `1`: Lanczos (windowed sinc over 3 lobes).
    Lanczos,
    /// `2`: bilinear (triangle filter).
    Bilinear,
    /// `3`: bicubic (Keys' cubic with a = −0.5), CLIP's.
    Bicubic,
    /// `4`: box.
    Box,
    /// `5`: Hamming-windowed sinc over 1 lobe.
    Hamming,
}

impl Resample {
    /// The filter of Pillow's number for it (`0`, nearest, is another code path in Pillow and
    /// is not offered).
    pub fn from_pil(n: u64) -> Option<Self> {
        Some(match n {
            1 => Self::Lanczos,
            2 => Self::Bilinear,
            3 => Self::Bicubic,
            4 => Self::Box,
            5 => Self::Hamming,
            _ => return None,
        })
    }

    /// Half the width of the filter, in source pixels at scale 1.
    fn support(self) -> f64 {
        match self {
            Self::Box => 0.5,
            Self::Bilinear | Self::Hamming => 1.0,
            Self::Bicubic => 2.0,
            Self::Lanczos => 3.0,
        }
    }

    /// The filter's weight at `x`, as Pillow's `Resample.c` computes it (in double precision,
    /// its float constants included).
    fn weight(self, x: f64) -> f64 {
        match self {
            Self::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            Self::Hamming => {
                let x = x.abs();
                if x == 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    let x = x * std::f64::consts::PI;
                    // Pillow writes the window's constants as C floats (0.54f, 0.46f)
                    x.sin() / x * (f64::from(0.54f32) + f64::from(0.46f32) * x.cos())
                }
            }
            Self::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Self::Lanczos => {
                let sinc = |x: f64| {
                    if x == 0.0 {
                        1.0
                    } else {
                        let x = x * std::f64::consts::PI;
                        x.sin() / x
                    }
                };
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

/// Fractional bits of Pillow's fixed-point coefficients for 8-bit images (`PRECISION_BITS`).
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// For each output position along one axis: the first source index and the fixed-point
/// weights of the source indices from it (Pillow's `precompute_coeffs` and
/// `normalize_coeffs_8bpc`).
fn pil_coefficients(in_size: usize, out_size: usize, filter: Resample) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let ss = 1.0 / filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            // C's (int) casts truncate toward zero, as `as` does
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let weights: Vec<f64> = (xmin..xmax.max(xmin))
                .map(|x| filter.weight((x as f64 - center + 0.5) * ss))
                .collect();
            let total: f64 = weights.iter().sum();
            let one = f64::from(1u32 << PRECISION_BITS);
            let fixed = weights
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    if w < 0.0 {
                        (-0.5 + w * one) as i32
                    } else {
                        (0.5 + w * one) as i32
                    }
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

/// A fixed-point sum back to a byte: Pillow's `clip8` (round half up, clamp to 0..=255).
fn clip8(sum: i64) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resize an interleaved 8-bit image of `channels` channels from `width × height` to
/// `out_width × out_height` as Pillow's `Image.resize(…, resample=filter)` does: a horizontal
/// pass (when the width changes), rounded to bytes, then a vertical pass (when the height
/// changes), with Pillow's fixed-point coefficients, so the bytes are the same as Pillow's.
pub(crate) fn pil_resize(
    pixels: &[u8],
    (width, height): (usize, usize),
    channels: usize,
    (out_width, out_height): (usize, usize),
    filter: Resample,
) -> Vec<u8> {
    let half = 1i64 << (PRECISION_BITS - 1);
    let mut image = pixels.to_vec();
    let mut w = width;
    if out_width != width {
        let coeffs = pil_coefficients(width, out_width, filter);
        let mut out = vec![0u8; out_width * height * channels];
        for y in 0..height {
            let row = &image[y * w * channels..(y + 1) * w * channels];
            for (xx, (xmin, k)) in coeffs.iter().enumerate() {
                for c in 0..channels {
                    let sum = k.iter().enumerate().fold(half, |s, (i, &k)| {
                        s + i64::from(row[(xmin + i) * channels + c]) * i64::from(k)
                    });
                    out[(y * out_width + xx) * channels + c] = clip8(sum);
                }
            }
        }
        image = out;
        w = out_width;
    }
    if out_height != height {
        let coeffs = pil_coefficients(height, out_height, filter);
        let mut out = vec![0u8; w * out_height * channels];
        for (yy, (ymin, k)) in coeffs.iter().enumerate() {
            for x in 0..w * channels {
                let sum = k.iter().enumerate().fold(half, |s, (i, &k)| {
                    s + i64::from(image[(ymin + i) * w * channels + x]) * i64::from(k)
                });
                out[yy * w * channels + x] = clip8(sum);
            }
        }
        image = out;
    }
    image
}

/// PyTorch's bicubic interpolation (`F.interpolate(mode="bicubic", align_corners=False)`,
/// no antialiasing) from `in_size` to `out_size` samples along one axis, as a row-major
/// `[out_size, in_size]` matrix: output `i` samples the source at `(i + ½)·in/out − ½` with
/// Keys' cubic (a = −0.75) over four neighbours, indices clamped to the border (weights of a
/// clamped index add up). The scale and the weights are computed in f32, as PyTorch does for
/// f32 inputs.
pub(crate) fn bicubic_matrix(in_size: usize, out_size: usize) -> Vec<f32> {
    const A: f32 = -0.75;
    let near = |x: f32| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let far = |x: f32| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    let scale = in_size as f32 / out_size as f32;
    let mut m = vec![0f32; out_size * in_size];
    for i in 0..out_size {
        let real = scale * (i as f32 + 0.5) - 0.5;
        let index = real.floor();
        let t = real - index;
        let weights = [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)];
        for (j, w) in weights.into_iter().enumerate() {
            let source = (index as i64 - 1 + j as i64).clamp(0, in_size as i64 - 1) as usize;
            m[i * in_size + source] += w;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_integrate_to_one_and_vanish_at_their_support() {
        for f in [
            Resample::Box,
            Resample::Bilinear,
            Resample::Hamming,
            Resample::Bicubic,
            Resample::Lanczos,
        ] {
            assert_eq!(f.weight(0.0), 1.0, "{f:?}");
            assert_eq!(f.weight(f.support() + 1e-9), 0.0, "{f:?}");
            // interpolating filters: 0 at the other integers
            if f != Resample::Box {
                assert!(f.weight(1.0).abs() < 1e-12, "{f:?}");
            }
        }
        assert_eq!(Resample::from_pil(3), Some(Resample::Bicubic));
        assert_eq!(Resample::from_pil(0), None);
    }

    #[test]
    fn same_size_and_constant_images_are_unchanged() {
        let px: Vec<u8> = (0..5 * 4 * 3).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(pil_resize(&px, (5, 4), 3, (5, 4), Resample::Bicubic), px);
        let flat = vec![77u8; 9 * 7];
        for f in [Resample::Bicubic, Resample::Lanczos, Resample::Bilinear] {
            let out = pil_resize(&flat, (9, 7), 1, (4, 11), f);
            assert!(out.iter().all(|&v| v == 77), "{f:?}");
        }
    }

    #[test]
    fn bicubic_rows_sum_to_one_and_the_identity_is_exact() {
        for (i, o) in [(7, 3), (3, 7), (64, 48), (1, 5)] {
            let m = bicubic_matrix(i, o);
            for row in m.chunks(i) {
                let s: f32 = row.iter().sum();
                assert!((s - 1.0).abs() < 1e-6, "{i}→{o}: {s}");
            }
        }
        let m = bicubic_matrix(4, 4);
        for r in 0..4 {
            for c in 0..4 {
                assert_eq!(m[r * 4 + c], if r == c { 1.0 } else { 0.0 });
            }
        }
    }
}
