//! Rendering tests: text, grids and plots, checked pixel by pixel where it matters.

use image::{Rgb, RgbImage};
use nao_viz::{
    draw_text, labelled_grid, palette, text_width, tiles_to_frames, DensityPlot, GridOptions,
    GridRow, LinePlot, MarkerGroup, Series, Tile, VizError, GLYPH_SIZE,
};

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// The bounding box (x0, y0, x1, y1), inclusive, of the non-white pixels.
fn ink_box(img: &RgbImage) -> Option<(u32, u32, u32, u32)> {
    let ink: Vec<_> = img
        .enumerate_pixels()
        .filter(|p| *p.2 != WHITE)
        .map(|p| (p.0, p.1))
        .collect();
    let xs = ink.iter().map(|p| p.0);
    let ys = ink.iter().map(|p| p.1);
    Some((xs.clone().min()?, ys.clone().min()?, xs.max()?, ys.max()?))
}

#[test]
fn text_draws_ink_within_its_width() {
    let mut img = RgbImage::from_pixel(200, 40, WHITE);
    draw_text(&mut img, 10, 5, "‖x‖ = 13.96", [0, 0, 0], 2);
    let (x0, y0, x1, y1) = ink_box(&img).expect("text drew nothing");
    assert!(x0 >= 10 && y0 >= 5);
    assert!(
        x1 < 10 + text_width("‖x‖ = 13.96", 2),
        "ink at {x1} past the text width"
    );
    assert!(y1 < 5 + 2 * GLYPH_SIZE);
    assert_eq!(text_width("‖x‖", 3), 3 * 3 * GLYPH_SIZE);
}

#[test]
fn text_is_clipped_at_every_border() {
    let mut img = RgbImage::from_pixel(20, 10, WHITE);
    for (x, y) in [
        (-5, -3),
        (15, 6),
        (-1000, 0),
        (0, i32::MAX),
        (i32::MIN, i32::MIN),
        (18, -7),
    ] {
        draw_text(&mut img, x, y, "Wide text ×χᵢ", [255, 0, 0], 3);
    }
    draw_text(&mut img, 0, 0, "huge", [0, 0, 255], u32::MAX);
    let mut empty = RgbImage::new(0, 0);
    draw_text(&mut empty, 0, 0, "nothing", [0, 0, 0], 1);
    assert!(
        ink_box(&img).is_some(),
        "partly visible text should leave ink"
    );
}

fn tile(value: f32, h: usize, w: usize) -> Tile {
    Tile::new(vec![value; h * w], 1, h, w).unwrap()
}

#[test]
fn grid_size_follows_the_formula() {
    let rows = vec![
        GridRow {
            label: "ab".into(),
            tiles: vec![tile(0.0, 5, 6), tile(1.0, 5, 6), tile(0.5, 5, 6)],
        },
        GridRow {
            label: "longer".into(),
            tiles: vec![tile(0.2, 7, 4)],
        },
    ];
    let o = GridOptions {
        scale: 2,
        padding: 3,
        title: None,
        text_scale: 1,
    };
    let img = labelled_grid(&rows, &o).unwrap();
    // Cell 12×14 (widest 6·2, tallest 7·2), label column 6·8 + 3, no captions.
    assert_eq!(img.width(), 3 + 51 + 3 * (12 + 3));
    assert_eq!(img.height(), 3 + 2 * (14 + 3));
    let captioned = vec![GridRow {
        label: String::new(),
        tiles: vec![tile(0.0, 2, 2).with_caption("13.96")],
    }];
    let o = GridOptions {
        title: Some("t".into()),
        ..GridOptions::default()
    };
    let img = labelled_grid(&captioned, &o).unwrap();
    // Cell width set by the caption (40 px); title line 8 + 4; caption line 4 + 8.
    assert_eq!(img.dimensions(), (4 + 40 + 4, 4 + 12 + 6 + 12 + 4));
}

#[test]
fn tile_pixels_land_where_expected_after_upscaling() {
    // An RGB 2×2 tile whose bottom-right pixel is pure blue, everything else black.
    let mut px = vec![0.0f32; 3 * 2 * 2];
    px[2 * 4 + 3] = 1.0;
    px[0] = 7.0; // out of range: clamped to full red at (0, 0)
    let t = Tile::new(px, 3, 2, 2).unwrap();
    let o = GridOptions {
        scale: 3,
        padding: 4,
        title: None,
        text_scale: 1,
    };
    let img = labelled_grid(
        &[GridRow {
            label: String::new(),
            tiles: vec![t],
        }],
        &o,
    )
    .unwrap();
    assert_eq!(img.dimensions(), (4 + 6 + 4, 4 + 6 + 4));
    for (dx, dy) in [(0, 0), (2, 2)] {
        assert_eq!(img.get_pixel(4 + 3 + dx, 4 + 3 + dy).0, [0, 0, 255]);
        assert_eq!(img.get_pixel(4 + dx, 4 + dy).0, [255, 0, 0]);
        assert_eq!(img.get_pixel(4 + 3 + dx, 4 + dy).0, [0, 0, 0]);
    }
    assert_eq!(*img.get_pixel(3, 3), WHITE);
}

#[test]
fn bad_tiles_and_grids_are_errors() {
    let err = Tile::new(vec![0.0; 10], 3, 4, 4).unwrap_err();
    assert!(matches!(err, VizError::Shape(_)));
    assert!(
        err.to_string().contains("3×4×4") && err.to_string().contains("10"),
        "{err}"
    );
    assert!(Tile::new(vec![0.0; 32], 2, 4, 4).is_err());
    assert!(Tile::new(vec![], 1, 0, 4).is_err());
    let bad = Tile {
        pixels: vec![0.0; 3],
        channels: 1,
        height: 2,
        width: 2,
        caption: None,
    };
    let row = |tiles| {
        vec![GridRow {
            label: "x".into(),
            tiles,
        }]
    };
    assert!(matches!(
        labelled_grid(&row(vec![bad]), &GridOptions::default()),
        Err(VizError::Shape(_))
    ));
    assert!(matches!(
        labelled_grid(&[], &GridOptions::default()),
        Err(VizError::Empty(_))
    ));
    assert!(matches!(
        labelled_grid(&row(vec![]), &GridOptions::default()),
        Err(VizError::Empty(_))
    ));
    let zero = GridOptions {
        scale: 0,
        ..GridOptions::default()
    };
    assert!(matches!(
        labelled_grid(&row(vec![tile(0.0, 2, 2)]), &zero),
        Err(VizError::Invalid(_))
    ));
    let huge = GridOptions {
        scale: 1 << 20,
        ..GridOptions::default()
    };
    assert!(labelled_grid(&row(vec![tile(0.0, 2, 2)]), &huge).is_err());
    assert!(matches!(tiles_to_frames(&[], 2), Err(VizError::Empty(_))));
}

#[test]
fn frames_share_one_size_and_show_their_tile() {
    let frames = tiles_to_frames(&[tile(0.0, 3, 3).with_caption("a"), tile(1.0, 5, 2)], 2).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].dimensions(), frames[1].dimensions());
    let (w, h) = frames[0].dimensions();
    // Cell 8×10 (caption "a" is 8 px wide, tallest tile 5·2), padding 4 around, caption 4 + 8.
    assert_eq!((w, h), (8 + 8, 10 + 12 + 8));
    assert_eq!(frames[0].get_pixel(w / 2, 4 + 5).0, [0, 0, 0]);
}

fn chi_like() -> Vec<(f64, f64)> {
    (0..=200)
        .map(|i| i as f64 * 0.1)
        .map(|x| (x, (-(x - 12.0).powi(2) / 2.0).exp()))
        .collect()
}

#[test]
fn density_markers_sit_at_their_value() {
    let mut plot = DensityPlot::new("‖x‖ vs χ");
    plot.curve = chi_like();
    let (red, blue) = (palette(1), palette(0));
    plot.groups.push(MarkerGroup {
        name: "slerp".into(),
        values: vec![3.0, f64::NAN],
        color: red,
    });
    plot.groups.push(MarkerGroup {
        name: "NAO".into(),
        values: vec![12.0, 25.0],
        color: blue,
    });
    let img = plot.render().unwrap();
    let column_has = |v: f64, c: [u8; 3]| {
        let x = plot.x_to_pixel(v).unwrap();
        (0..img.height()).any(|y| img.get_pixel(x, y).0 == c)
    };
    assert!(column_has(3.0, red) && column_has(12.0, blue) && column_has(25.0, blue));
    assert!(!column_has(18.0, blue) && !column_has(12.0, red));
    // The axis covers the marker beyond the curve, and is ordered.
    assert!(plot.x_to_pixel(3.0) < plot.x_to_pixel(12.0));
    assert!(plot.x_to_pixel(25.0).unwrap() < img.width());
    assert_eq!(plot.x_to_pixel(1e9), None);
    assert_eq!(plot.x_to_pixel(f64::NAN), None);
}

#[test]
fn density_plot_rejects_nothing_to_show_and_tiny_sizes() {
    assert!(matches!(
        DensityPlot::new("empty").render(),
        Err(VizError::Empty(_))
    ));
    let mut plot = DensityPlot::new("many strips");
    plot.curve = chi_like();
    plot.height = 160;
    plot.groups = (0..10)
        .map(|i| MarkerGroup {
            name: i.to_string(),
            values: vec![1.0],
            color: palette(i),
        })
        .collect();
    assert!(matches!(plot.render(), Err(VizError::Invalid(_))));
    assert_eq!(plot.x_to_pixel(1.0), None);
    plot.groups.clear();
    assert!(plot.x_to_pixel(1.0).is_some());
    plot.width = 50;
    assert!(matches!(plot.render(), Err(VizError::Invalid(_))));
    assert_eq!(plot.x_to_pixel(1.0), None);
}

#[test]
fn line_plot_draws_series_and_survives_bad_points_on_log_axis() {
    let mut plot = LinePlot::new("loss");
    plot.log_y = true;
    let color = palette(2);
    let points = vec![
        (0.0, 0.0),
        (1.0, -3.0),
        (2.0, 1.0),
        (3.0, f64::NAN),
        (4.0, 0.01),
        (f64::INFINITY, 5.0),
    ];
    plot.series.push(Series {
        name: "train".into(),
        points,
        color,
    });
    plot.series.push(Series {
        name: "single".into(),
        points: vec![(2.5, 0.1)],
        color: palette(3),
    });
    let img = plot.render().unwrap();
    assert_eq!(img.dimensions(), (800, 500));
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
    assert!(count(color) > 200, "the polyline is missing");
    assert!(count(palette(3)) >= 9, "a one-point series still shows");

    plot.series.truncate(1);
    plot.series[0].points = vec![(0.0, 0.0), (1.0, -1.0)];
    assert!(matches!(plot.render(), Err(VizError::Empty(_))));
    plot.log_y = false;
    assert!(plot.render().is_ok());
    plot.width = 10;
    assert!(matches!(plot.render(), Err(VizError::Invalid(_))));
    assert!(matches!(
        LinePlot::new("none").render(),
        Err(VizError::Empty(_))
    ));
}

#[test]
fn bar_heights_follow_the_values_and_bad_series_are_errors() {
    use nao_viz::{BarChart, BarSeries};
    let colour = [200, 30, 30];
    let mut chart = BarChart::new("bars");
    chart.groups = vec!["a".into(), "b".into(), "c".into()];
    chart.series.push(BarSeries {
        name: "m".into(),
        values: vec![Some(1.0), Some(0.5), None],
        color: colour,
    });
    let img = chart.render().unwrap();
    // painted pixels per third of the picture: the first bar twice the second, none for "c"
    let w = img.width();
    let count = |from: u32, to: u32| {
        img.enumerate_pixels()
            .filter(|(x, _, p)| (from..to).contains(x) && p.0 == colour)
            .count()
    };
    let (a, b) = (count(0, w / 3), count(w / 3, 2 * w / 3));
    assert!(a > 0 && b > 0, "{a} {b}");
    let ratio = a as f64 / b as f64;
    assert!((1.8..2.2).contains(&ratio), "{ratio}");
    chart.series[0].values.pop();
    assert!(matches!(chart.render(), Err(nao_viz::VizError::Shape(_))));
    chart.series[0].values = vec![None, None, None];
    assert!(matches!(chart.render(), Err(nao_viz::VizError::Empty(_))));
}
