//! Helpers shared by the attention test files.
#![allow(dead_code)]

use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

/// Forward tolerance: `|got - want| <= FWD_TOL · max(|want|, 1)`.
pub const FWD_TOL: f64 = 1e-5;

/// Asserts an f32 result equals an f64 reference within [`FWD_TOL`].
pub fn assert_fwd(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= FWD_TOL * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w} (error {err:.2e})"
        );
    }
}

/// The shape error of a wrong buffer length.
pub fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Error {
    Error::Shape(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

/// A uniform integer in `lo..=hi`.
pub fn pick(r: &mut SplitMix64, lo: usize, hi: usize) -> usize {
    r.range_i64(lo as i64, hi as i64) as usize
}

/// Per-sample valid lengths: full, or random in `0..=seq` (0 included on purpose).
pub fn lengths(r: &mut SplitMix64, batch: usize, seq: usize, padded: bool) -> Vec<usize> {
    (0..batch)
        .map(|_| if padded { pick(r, 0, seq) } else { seq })
        .collect()
}

/// Splits `x` into consecutive slices of the given lengths.
pub fn split<'a>(mut x: &'a [f64], lens: &[usize]) -> Vec<&'a [f64]> {
    lens.iter()
        .map(|&n| {
            let (a, b) = x.split_at(n);
            x = b;
            a
        })
        .collect()
}
