//! Bitmap text from the 8×8 `font8x8` glyphs: enough for labels, captions and tick labels
//! without shipping a font file or a text shaper.

use font8x8::legacy::BASIC_LEGACY;
use image::RgbImage;

use crate::draw::fill_rect;

/// Width and height of one glyph, in pixels, before scaling.
pub const GLYPH_SIZE: u32 = 8;

/// The ASCII character drawn for `c`. The font only has ASCII, so the few non-ASCII symbols
/// that appear in the project's labels get a look-alike, and everything else a `?` (visible,
/// so a missing glyph is noticed rather than silently dropped).
fn ascii_for(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '‖' => b'|',
        'χ' | '×' => b'x',
        '−' | '–' | '—' => b'-',
        '·' => b'.',
        '≈' => b'~',
        'μ' => b'u',
        'σ' => b's',
        _ => b'?',
    }
}

/// Width in pixels of `text` drawn at `scale` (one line; every character is one glyph).
pub fn text_width(text: &str, scale: u32) -> u32 {
    let n = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
    n.saturating_mul(GLYPH_SIZE).saturating_mul(scale)
}

/// Draws one line of `text` with its top-left corner at (`x`, `y`), each glyph pixel a
/// `scale`×`scale` block of `color`. Anything outside the image is clipped, so labels may
/// start off-image or run past the border; `scale` 0 draws nothing.
pub fn draw_text(img: &mut RgbImage, x: i32, y: i32, text: &str, color: [u8; 3], scale: u32) {
    let w = i64::from(img.width());
    let s = i64::from(scale);
    let advance = i64::from(GLYPH_SIZE) * s;
    // i64 throughout: x + i * advance cannot overflow for any i32 origin and u32 scale.
    for (i, c) in text.chars().enumerate() {
        let gx = i64::from(x) + i as i64 * advance;
        if gx >= w || s == 0 {
            break;
        }
        if gx + advance <= 0 {
            continue;
        }
        let rows = BASIC_LEGACY[usize::from(ascii_for(c))];
        for (row, bits) in rows.iter().enumerate() {
            for col in 0..GLYPH_SIZE {
                // font8x8 stores the leftmost pixel in the lowest bit.
                if bits >> col & 1 == 0 {
                    continue;
                }
                let px = gx + i64::from(col) * s;
                let py = i64::from(y) + row as i64 * s;
                fill_rect(img, px, py, s, s, color);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_symbols_map_to_look_alikes() {
        assert_eq!(ascii_for('‖'), b'|');
        assert_eq!(ascii_for('χ'), b'x');
        assert_eq!(ascii_for('ᵢ'), b'?');
        assert_eq!(ascii_for('\n'), b'?');
    }
}
