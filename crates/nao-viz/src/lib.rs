//! # nao-viz — the pictures nao shows people
//!
//! A small raster toolkit with no font files and no plotting framework, enough for the
//! figures of the project:
//!
//! - [`labelled_grid`]: rows of generated images ([`Tile`]s, CHW floats in [0, 1]), a label
//!   per row and a caption (e.g. the seed norm) under each image.
//! - [`LinePlot`]: training-loss curves, optionally on a log axis, with legend.
//! - [`DensityPlot`]: a density curve (e.g. the χ density of the seed norm) above strips of
//!   ticks marking where each method's seeds actually fall, on one shared x axis.
//! - [`save_png`], [`save_gif`] (with [`tiles_to_frames`] for interpolation paths): written
//!   through a temporary file and renamed, so no half-written figure is ever left behind.
//! - [`decoded_image`]: a VAE decoder's output as an 8-bit image (rounded as diffusers
//!   rounds), [`png_bytes`], numbered [`image_name`]s and the [`ContactSheet`] of many images.
//! - [`draw_text`]: 8×8 bitmap text for anything else.
//!
//! Bad input (wrong shapes, empty data, zero scales) gives a [`VizError`], never a panic.
//!
//! ```
//! use nao_viz::{labelled_grid, tiles_to_frames, GridOptions, GridRow, Tile};
//! let dark = Tile::new(vec![0.1; 8 * 8], 1, 8, 8)?.with_caption("13.96");
//! let light = Tile::new(vec![0.9; 8 * 8], 1, 8, 8)?.with_caption("14.02");
//! let rows = [GridRow { label: "slerp".into(), tiles: vec![dark.clone(), light.clone()] }];
//! let grid = labelled_grid(&rows, &GridOptions { title: Some("paths".into()), ..Default::default() })?;
//! assert!(grid.width() > 2 * 24);
//! let frames = tiles_to_frames(&[dark, light], 4)?;
//! assert_eq!(frames[0].dimensions(), frames[1].dimensions());
//! # Ok::<(), nao_viz::VizError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod axes;
mod bar;
mod decoded;
mod density;
mod draw;
mod error;
mod grid;
mod line;
mod save;
mod text;

pub use axes::{palette, stack_vertically};
pub use bar::{BarChart, BarSeries};
pub use decoded::{decoded_image, image_name, png_bytes, ContactSheet, MAX_SHEET_SIDE};
pub use density::{DensityPlot, MarkerGroup};
pub use error::VizError;
pub use grid::{labelled_grid, tiles_to_frames, GridOptions, GridRow, Tile};
pub use line::{LinePlot, Series};
pub use save::{encode_gif, encode_png, save_gif, save_png};
pub use text::{draw_text, text_width, GLYPH_SIZE};
