//! Shared helpers of the ensemble tests: a classifier that returns a fixed probability table,
//! and f64 references.
#![allow(dead_code)]

use std::cell::Cell;
use tinytune::ensemble::Classifier;
use tinytune::{Buffer, Error, ShapeError};

/// A classifier returning fixed rows: the single input value of a sample is its row index into
/// `rows` (`[n, classes]`). It asks for `scratch_per_sample` scratch values per sample, checks it
/// got them and scribbles over them (so a combiner relying on scratch contents would fail).
pub struct Table {
    pub classes: usize,
    pub rows: Vec<f32>,
    pub scratch_per_sample: usize,
    /// Length of the scratch slice of the last call.
    pub last_scratch: Cell<usize>,
}

impl Table {
    pub fn new(classes: usize, rows: &[f32]) -> Self {
        Table {
            classes,
            rows: rows.to_vec(),
            scratch_per_sample: 2,
            last_scratch: Cell::new(0),
        }
    }
}

impl Classifier for Table {
    fn classes(&self) -> usize {
        self.classes
    }
    fn input_len(&self) -> usize {
        1
    }
    fn scratch_len(&self, batch: usize) -> usize {
        batch * self.scratch_per_sample
    }
    fn predict_proba(
        &self,
        batch: usize,
        input: &[f32],
        probs: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        assert_eq!(input.len(), batch);
        assert_eq!(probs.len(), batch * self.classes);
        assert!(scratch.len() >= self.scratch_len(batch));
        self.last_scratch.set(scratch.len());
        scratch.fill(-1234.0);
        for (x, out) in input.iter().zip(probs.chunks_exact_mut(self.classes)) {
            let i = *x as usize;
            let row = self
                .rows
                .get(i * self.classes..(i + 1) * self.classes)
                .ok_or(Error::Shape(ShapeError::Length {
                    buffer: Buffer::Input,
                    expected: 0,
                    actual: i,
                }))?;
            out.copy_from_slice(row);
        }
        Ok(())
    }
}

/// Row-wise softmax in f64.
pub fn softmax_rows(x: &[f64], depth: usize) -> Vec<f64> {
    x.chunks(depth)
        .flat_map(|row| {
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| v / s)
        })
        .collect()
}

/// Index of the first maximum.
pub fn argmax_f64(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// `|a - b| <= tol` elementwise, with the position in the message.
pub fn assert_all_close(actual: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "lengths");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a as f64 - e).abs() <= tol,
            "at {i}: got {a}, expected {e} (tol {tol})"
        );
    }
}
