//! Labelled grids of small images: one row per method or seed set, one tile per sample, the
//! row label on the left and a caption (e.g. the seed norm) under each tile.

use image::{Rgb, RgbImage};

use crate::draw::fill_rect;
use crate::text::{draw_text, text_width, GLYPH_SIZE};
use crate::VizError;

/// Largest picture (in pixels) the crate will allocate; beyond this a typo in a scale is far
/// more likely than a real need, and the allocation could take the process down.
pub(crate) const MAX_PIXELS: u64 = 1 << 28;

const WHITE: [u8; 3] = [255, 255, 255];
const LABEL: [u8; 3] = [0, 0, 0];
const CAPTION: [u8; 3] = [70, 70, 70];

/// One image of a grid: `channels`×`height`×`width` values in CHW order, each in [0, 1]
/// (values outside are clamped, NaN shows as black).
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// Pixel values, channel-major (all of channel 0, then channel 1, …).
    pub pixels: Vec<f32>,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Small text drawn under the tile, if any.
    pub caption: Option<String>,
}

impl Tile {
    /// A tile without caption; errors if `channels` is not 1 or 3, a side is 0, or
    /// `pixels.len()` is not `channels * height * width`.
    pub fn new(
        pixels: Vec<f32>,
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Tile, VizError> {
        let tile = Tile {
            pixels,
            channels,
            height,
            width,
            caption: None,
        };
        tile.check()?;
        Ok(tile)
    }

    /// The same tile with `caption` under it.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Fields are public, so every renderer checks again rather than trusting `new`.
    pub(crate) fn check(&self) -> Result<(), VizError> {
        let shape = format!("{}×{}×{}", self.channels, self.height, self.width);
        if self.channels != 1 && self.channels != 3 {
            return Err(VizError::Shape(format!(
                "tile {shape}: channels must be 1 or 3"
            )));
        }
        let expected = self
            .channels
            .checked_mul(self.height)
            .and_then(|n| n.checked_mul(self.width));
        match expected {
            _ if self.height == 0 || self.width == 0 => {
                Err(VizError::Shape(format!("tile {shape}: empty image")))
            }
            Some(n) if n == self.pixels.len() => Ok(()),
            _ => Err(VizError::Shape(format!(
                "tile {shape} (channels×height×width) needs {} values, got {}",
                expected.map_or("too many".to_string(), |n| n.to_string()),
                self.pixels.len()
            ))),
        }
    }

    /// The 8-bit colour of pixel (`y`, `x`).
    fn rgb(&self, y: usize, x: usize) -> [u8; 3] {
        let plane = self.height * self.width;
        let at = |c: usize| {
            let v = self.pixels[c * plane + y * self.width + x];
            // `clamp` keeps NaN, and `NaN as u8` is 0: black, as documented.
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        };
        if self.channels == 1 {
            [at(0); 3]
        } else {
            [at(0), at(1), at(2)]
        }
    }
}

/// One row of a grid: a label and its tiles, left to right.
#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    /// Text at the left of the row (may be empty).
    pub label: String,
    /// The images of the row; rows may differ in length.
    pub tiles: Vec<Tile>,
}

/// Layout of [`labelled_grid`].
#[derive(Debug, Clone, PartialEq)]
pub struct GridOptions {
    /// Nearest-neighbour upscaling of every tile (default 3); must be at least 1.
    pub scale: u32,
    /// Gap in pixels around and between cells (default 4).
    pub padding: u32,
    /// A line of text above the grid.
    pub title: Option<String>,
    /// Scale of all text (default 1, i.e. 8-pixel glyphs); must be at least 1.
    pub text_scale: u32,
}

impl Default for GridOptions {
    fn default() -> Self {
        GridOptions {
            scale: 3,
            padding: 4,
            title: None,
            text_scale: 1,
        }
    }
}

/// Sizes shared by every cell, so tiles line up in columns however they differ.
struct Cells {
    w: u64,
    h: u64,
    caption_h: u64,
}

fn cells<'a>(tiles: impl Iterator<Item = &'a Tile>, o: &GridOptions) -> Result<Cells, VizError> {
    if o.scale == 0 || o.text_scale == 0 {
        return Err(VizError::Invalid(format!(
            "scale {} and text_scale {} must both be at least 1",
            o.scale, o.text_scale
        )));
    }
    let (s, line) = (
        u64::from(o.scale),
        u64::from(GLYPH_SIZE) * u64::from(o.text_scale),
    );
    let mut c = Cells {
        w: 0,
        h: 0,
        caption_h: 0,
    };
    let mut any = false;
    for t in tiles {
        t.check()?;
        any = true;
        c.w = c.w.max((t.width as u64).saturating_mul(s));
        c.h = c.h.max((t.height as u64).saturating_mul(s));
        if let Some(cap) = &t.caption {
            c.w = c.w.max(u64::from(text_width(cap, o.text_scale)));
            c.caption_h = u64::from(o.padding) + line;
        }
    }
    if !any {
        return Err(VizError::Empty("the grid has no tiles".into()));
    }
    // Checked here so that all later sums of cell sizes stay far from overflow.
    if c.w.saturating_mul(c.h) > MAX_PIXELS {
        return Err(VizError::Invalid(format!(
            "one cell would be {}×{} pixels, too large",
            c.w, c.h
        )));
    }
    Ok(c)
}

fn blank(w: u64, h: u64) -> Result<RgbImage, VizError> {
    if w.saturating_mul(h) > MAX_PIXELS {
        return Err(VizError::Invalid(format!(
            "picture would be {w}×{h} pixels, too large"
        )));
    }
    Ok(RgbImage::from_pixel(w as u32, h as u32, Rgb(WHITE)))
}

/// Draws `t` centred in the cell at (`x`, `y`) and its caption centred under the cell.
fn draw_cell(img: &mut RgbImage, t: &Tile, x: u64, y: u64, c: &Cells, o: &GridOptions) {
    let s = u64::from(o.scale);
    let x0 = x + (c.w - t.width as u64 * s) / 2;
    let y0 = y + (c.h - t.height as u64 * s) / 2;
    for ty in 0..t.height {
        for tx in 0..t.width {
            let (px, py) = (x0 + tx as u64 * s, y0 + ty as u64 * s);
            fill_rect(img, px as i64, py as i64, s as i64, s as i64, t.rgb(ty, tx));
        }
    }
    if let Some(cap) = &t.caption {
        let cx = x + (c.w - u64::from(text_width(cap, o.text_scale))) / 2;
        let cy = y + c.h + u64::from(o.padding);
        draw_text(img, cx as i32, cy as i32, cap, CAPTION, o.text_scale);
    }
}

/// Renders rows of tiles on white, with row labels on the left and captions under tiles.
///
/// With `p` = padding, `line` = 8 × text_scale, a cell `cw`×`ch` as large as the largest
/// upscaled tile (and as wide as the widest caption), `cap` = `p + line` if any tile has a
/// caption (else 0), `lw` = width of the longest label plus `p` (0 if all labels are empty)
/// and `title` = `line + p` with a title (else 0), the picture is
/// `p + lw + columns·(cw + p)` wide (at least the title's width plus `2p`) and
/// `p + title + rows·(ch + cap + p)` high. Tiles are centred in their cells.
///
/// Errors on no rows, no tiles at all, a badly shaped tile, or a zero scale.
///
/// ```
/// use nao_viz::{labelled_grid, GridOptions, GridRow, Tile};
/// let tile = Tile::new(vec![0.5; 3 * 4 * 4], 3, 4, 4)?.with_caption("13.96");
/// let rows = vec![GridRow { label: "NAO".into(), tiles: vec![tile.clone(), tile] }];
/// let img = labelled_grid(&rows, &GridOptions::default())?;
/// // 4 + (24 + 4) + 2·(40 + 4) wide: the 5-character caption (40 px) sets the cell width.
/// assert_eq!(img.width(), 4 + 28 + 2 * 44);
/// assert_eq!(img.height(), 4 + (12 + 12 + 4));
/// # Ok::<(), nao_viz::VizError>(())
/// ```
pub fn labelled_grid(rows: &[GridRow], options: &GridOptions) -> Result<RgbImage, VizError> {
    if rows.is_empty() {
        return Err(VizError::Empty("the grid has no rows".into()));
    }
    let c = cells(rows.iter().flat_map(|r| &r.tiles), options)?;
    let (p, ts) = (u64::from(options.padding), options.text_scale);
    let line = u64::from(GLYPH_SIZE) * u64::from(ts);
    let label_w = rows
        .iter()
        .map(|r| u64::from(text_width(&r.label, ts)))
        .max()
        .unwrap_or(0);
    let label_col = if label_w > 0 { label_w + p } else { 0 };
    let title_h = if options.title.is_some() { line + p } else { 0 };
    let columns = rows.iter().map(|r| r.tiles.len()).max().unwrap_or(0) as u64;
    let title_w = options
        .title
        .as_deref()
        .map_or(0, |t| u64::from(text_width(t, ts)) + 2 * p);
    let row_h = c.h + c.caption_h + p;
    let grid_w = columns
        .saturating_mul(c.w + p)
        .saturating_add(p + label_col);
    let width = grid_w.max(title_w);
    let height = (rows.len() as u64)
        .saturating_mul(row_h)
        .saturating_add(p + title_h);
    let mut img = blank(width, height)?;
    if let Some(t) = &options.title {
        draw_text(&mut img, p as i32, p as i32, t, LABEL, ts);
    }
    for (r, row) in rows.iter().enumerate() {
        let y = p + title_h + r as u64 * row_h;
        let label_y = y + c.h.saturating_sub(line) / 2;
        draw_text(&mut img, p as i32, label_y as i32, &row.label, LABEL, ts);
        for (i, tile) in row.tiles.iter().enumerate() {
            draw_cell(
                &mut img,
                tile,
                p + label_col + i as u64 * (c.w + p),
                y,
                &c,
                options,
            );
        }
    }
    Ok(img)
}

/// One picture per tile, all the same size (cells as in [`labelled_grid`] with default
/// padding and text scale), each tile upscaled by `scale` with its caption under it: the
/// frames of an animation along an interpolation path, ready for [`crate::save_gif`].
pub fn tiles_to_frames(tiles: &[Tile], scale: u32) -> Result<Vec<RgbImage>, VizError> {
    let o = GridOptions {
        scale,
        ..GridOptions::default()
    };
    let c = cells(tiles.iter(), &o)?;
    let p = u64::from(o.padding);
    let (w, h) = (c.w + 2 * p, c.h + c.caption_h + 2 * p);
    tiles
        .iter()
        .map(|t| {
            let mut img = blank(w, h)?;
            draw_cell(&mut img, t, p, p, &c, &o);
            Ok(img)
        })
        .collect()
}
