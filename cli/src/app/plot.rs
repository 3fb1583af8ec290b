//! PNG plots (plotters, bitmap backend).
//!
//! The plots carry **no text**: plotters draws text through a TrueType font that would have to
//! be shipped with the binary, and none small and permissively licensed is at hand. Numbers the
//! plots show are printed by the commands (tables, `--json`) instead, and each plot's
//! conventions are fixed and documented here.
//!
//! - `learning_curve.png` ([`learning_curve`]): loss per epoch; x from epoch 1 to the last
//!   epoch, y from 0 to the largest loss plotted. Blue: training loss; orange: validation loss;
//!   grey vertical line: the best epoch (the parameters kept). Light grid lines: 10 equal steps
//!   on each axis.
//! - `confusion.png` ([`confusion`]): the confusion matrix, one square per (true class row, top
//!   to bottom 0..K-1; predicted class column, left to right 0..K-1), shaded from white (no
//!   sample) to dark blue (all of the row's samples), i.e. by the row-normalised count: a good
//!   classifier shows a dark diagonal.

use std::path::Path;

use plotters::prelude::*;

use super::fit::EpochStats;
use super::AppError;

const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
const GRID_COLOR: RGBColor = RGBColor(225, 225, 225);
const BEST_COLOR: RGBColor = RGBColor(128, 128, 128);

fn plot_error(path: &Path, e: impl std::fmt::Display) -> AppError {
    AppError::new(format!("{}: cannot draw the plot: {e}", path.display()))
}

/// Draws the learning curve of `history` into the PNG file `path` (see the
/// [module docs](self)).
///
/// # Errors
/// The file cannot be written (or `history` is empty).
pub fn learning_curve(
    path: &Path,
    history: &[EpochStats],
    best_epoch: Option<usize>,
) -> Result<(), AppError> {
    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    if history.is_empty() {
        return Err(err(&"no epochs to plot"));
    }
    let last = history.len() as f32;
    let ymax = history
        .iter()
        .flat_map(|s| [s.train_loss, s.val_loss])
        .filter(|v| v.is_finite())
        .fold(0.0f32, f32::max);
    let ymax = if ymax > 0.0 { ymax * 1.05 } else { 1.0 };
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let x_range = 1.0f32..last.max(2.0);
    let mut chart = ChartBuilder::on(&root)
        .margin(24)
        .build_cartesian_2d(x_range.clone(), 0.0f32..ymax)
        .map_err(|e| err(&e))?;
    for i in 0..=10 {
        let x = x_range.start + (x_range.end - x_range.start) * i as f32 / 10.0;
        let y = ymax * i as f32 / 10.0;
        let lines = [
            vec![(x, 0.0), (x, ymax)],
            vec![(x_range.start, y), (x_range.end, y)],
        ];
        for l in lines {
            chart
                .draw_series(LineSeries::new(l, &GRID_COLOR))
                .map_err(|e| err(&e))?;
        }
    }
    if let Some(b) = best_epoch {
        let b = b as f32;
        chart
            .draw_series(LineSeries::new(
                [(b, 0.0), (b, ymax)],
                BEST_COLOR.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
    }
    for (color, pick) in [
        (
            TRAIN_COLOR,
            (|s: &EpochStats| s.train_loss) as fn(&EpochStats) -> f32,
        ),
        (VAL_COLOR, |s: &EpochStats| s.val_loss),
    ] {
        let points = history
            .iter()
            .map(|s| (s.epoch as f32, pick(s)))
            .filter(|(_, v)| v.is_finite());
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(3)))
            .map_err(|e| err(&e))?;
    }
    // Axes: the left and bottom edges of the plotting area.
    let axes = [
        (x_range.start, ymax),
        (x_range.start, 0.0),
        (x_range.end, 0.0),
    ];
    chart
        .draw_series(LineSeries::new(axes, BLACK.stroke_width(2)))
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

/// Draws the confusion matrix `matrix[true][predicted]` (counts, `K × K`) into the PNG file
/// `path` (see the [module docs](self)).
///
/// # Errors
/// The file cannot be written, or the matrix is empty or not square.
pub fn confusion(path: &Path, matrix: &[Vec<usize>]) -> Result<(), AppError> {
    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    let k = matrix.len();
    if k == 0 || matrix.iter().any(|r| r.len() != k) {
        return Err(err(&"the confusion matrix is not square"));
    }
    let cell = (600 / k).clamp(4, 60) as i32;
    let margin = 10i32;
    let side = (cell * k as i32 + 2 * margin) as u32;
    let root = BitMapBackend::new(path, (side, side)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    for (t, row) in matrix.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            // White (0) to dark blue (1).
            let mix = |hi: f64, lo: f64| (hi + (lo - hi) * share).round() as u8;
            let color = RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0));
            let (x, y) = (margin + p as i32 * cell, margin + t as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                color.filled(),
            ))
            .map_err(|e| err(&e))?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                GRID_COLOR.stroke_width(1),
            ))
            .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))
}
