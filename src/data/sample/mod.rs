//! Sampling: shuffles, bootstrap resampling, stratified and k-fold splits, mini-batches and
//! gathering rows by index. Data sets are `[n, features]` row-major `f32` with one `u32` label
//! per row; randomness comes from an injected [`RngCore`].

mod split;

pub use split::{kfold, kfold_indices, stratified_split, Fold, Split};

use crate::data::preprocess::rows_of;
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::rng::RngCore;

/// A uniform integer in `0..n` without modulo bias (Lemire's multiply-and-reject); 0 if `n` is 0.
///
/// Draws one `u32` per attempt when `n ≤ 2³²`, else one `u64`; the expected number of attempts
/// is below 2.
pub fn uniform_below<R: RngCore + ?Sized>(rng: &mut R, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    if let Ok(n32) = u32::try_from(n) {
        let threshold = n32.wrapping_neg() % n32; // 2³² mod n: the biased low zone
        loop {
            let m = u64::from(rng.next_u32()) * u64::from(n32);
            if (m as u32) >= threshold {
                return (m >> 32) as usize;
            }
        }
    }
    let n64 = n as u64;
    let threshold = n64.wrapping_neg() % n64;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n64);
        if (m as u64) >= threshold {
            return (m >> 64) as usize;
        }
    }
}

/// Shuffles `items` in place uniformly at random (Fisher–Yates: every permutation has
/// probability `1 / n!`, given a uniform generator).
pub fn shuffle<T, R: RngCore + ?Sized>(rng: &mut R, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = uniform_below(rng, i + 1);
        items.swap(i, j);
    }
}

/// Shuffles the rows of `data` and `labels` with the same permutation (Fisher–Yates), so row
/// `i` keeps its label.
///
/// # Shapes
/// `data`: `[n, features]`; `labels`: `[n]`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `features` is 0; [`ShapeError::Length`] (`Input`) if
/// `data.len() != labels.len() · features`. Nothing moves on error.
pub fn shuffle_rows<R: RngCore + ?Sized>(
    rng: &mut R,
    data: &mut [f32],
    features: usize,
    labels: &mut [u32],
) -> Result<(), Error> {
    if features == 0 {
        return Err(ShapeError::Dimension.into());
    }
    let expected = labels
        .len()
        .checked_mul(features)
        .ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Input, expected, data.len())?;
    for i in (1..labels.len()).rev() {
        let j = uniform_below(rng, i + 1);
        if j == i {
            continue;
        }
        labels.swap(i, j);
        // j < i: row j lies in the head, row i starts the tail.
        let (head, tail) = data.split_at_mut(i * features);
        if let (Some(a), Some(b)) = (
            head.get_mut(j * features..(j + 1) * features),
            tail.get_mut(..features),
        ) {
            a.swap_with_slice(b);
        }
    }
    Ok(())
}

/// Bootstrap resampling: fills `out` with indices drawn uniformly from `0..n` with replacement
/// (`out.len()` draws; the classic bootstrap uses `out.len() == n`, which leaves about
/// `1 − 1/e ≈ 63.2 %` of the indices distinct).
///
/// # Errors
/// [`ShapeError::Dimension`] if `n` is 0 and `out` is not empty.
pub fn bootstrap<R: RngCore + ?Sized>(
    rng: &mut R,
    n: usize,
    out: &mut [usize],
) -> Result<(), Error> {
    if n == 0 && !out.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    for o in out.iter_mut() {
        *o = uniform_below(rng, n);
    }
    Ok(())
}

/// Weighted bootstrap (resampling for boosting): fills `out` with indices drawn with
/// replacement, index `i` with probability `weights[i] / Σ weights`.
///
/// Runs in `O(m log m + n)` for `m = out.len()` draws over `n` weights without extra memory:
/// it draws `m` uniform 32-bit numbers into `out`, sorts them, walks the cumulative weights
/// (summed in `f64`) once to turn each into an index, then shuffles `out` so the draws come in
/// random order. Zero-weight indices are never drawn.
///
/// # Errors
/// [`ShapeError::Dimension`] if `weights` is empty; [`Error::Config`] if a weight is negative,
/// NaN or infinite, or all are zero. `out` is written only on success.
pub fn weighted_bootstrap<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &[f32],
    out: &mut [usize],
) -> Result<(), Error> {
    if weights.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    let mut total = 0.0f64;
    for &w in weights {
        if !w.is_finite() || w < 0.0 {
            return Err(Error::Config);
        }
        total += f64::from(w);
    }
    if total <= 0.0 {
        return Err(Error::Config);
    }
    // The last index with positive weight: the fallback if rounding puts a target at the total.
    let last = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
    for o in out.iter_mut() {
        *o = rng.next_u32() as usize;
    }
    out.sort_unstable();
    let mut index = 0;
    let mut cumulative = weights.first().map_or(0.0, |&w| f64::from(w));
    for o in out.iter_mut() {
        let target = (*o as f64 + 0.5) * (total / 4_294_967_296.0);
        while cumulative <= target && index < last {
            index += 1;
            cumulative += weights.get(index).map_or(0.0, |&w| f64::from(w));
        }
        *o = index;
    }
    shuffle(rng, out);
    Ok(())
}

/// Copies the rows `indices` of `data` into `out`, in order (to materialise a subset, a bootstrap
/// sample or a fold).
///
/// # Shapes
/// `data`: `[n, features]`; `indices`: `[m]`, each `< n`; `out`: `[m, features]`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `features` is 0; [`ShapeError::Length`] (`Input`) if `data.len()`
/// is not a multiple of `features`, (`Output`) if `out.len() != m · features`;
/// [`Error::Index`] `{ position, len: n }` for the first index out of range. `out` is written only
/// on success.
pub fn gather_rows(
    data: &[f32],
    features: usize,
    indices: &[usize],
    out: &mut [f32],
) -> Result<(), Error> {
    let rows = rows_of(data, features)?;
    let expected = indices
        .len()
        .checked_mul(features)
        .ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Output, expected, out.len())?;
    check_indices(indices, rows)?;
    for (dst, &i) in out.chunks_exact_mut(features).zip(indices) {
        if let Some(src) = data.get(i * features..(i + 1) * features) {
            dst.copy_from_slice(src);
        }
    }
    Ok(())
}

/// Copies `labels[indices[k]]` into `out[k]` (the labels matching [`gather_rows`]).
///
/// # Errors
/// [`ShapeError::Length`] (`Output`) if `out.len() != indices.len()`; [`Error::Index`] for the
/// first index `≥ labels.len()`. `out` is written only on success.
pub fn gather_labels(labels: &[u32], indices: &[usize], out: &mut [u32]) -> Result<(), Error> {
    check_len(Buffer::Output, indices.len(), out.len())?;
    check_indices(indices, labels.len())?;
    for (o, &i) in out.iter_mut().zip(indices) {
        *o = labels.get(i).copied().unwrap_or(0);
    }
    Ok(())
}

fn check_indices(indices: &[usize], len: usize) -> Result<(), Error> {
    match indices.iter().position(|&i| i >= len) {
        Some(position) => Err(Error::Index { position, len }),
        None => Ok(()),
    }
}

/// Mini-batches over borrowed data and labels, in order: `batch_size` rows at a time, the last
/// batch shorter if `n` is not a multiple of `batch_size` (no row is dropped). Shuffle first
/// ([`shuffle_rows`]) for a random order per epoch.
///
/// # Shapes
/// `data`: `[n, features]`; `labels`: `[n]`; yields `([b, features], [b])` with `b ≤ batch_size`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `features` is 0; [`Error::Config`] if `batch_size` is 0;
/// [`ShapeError::Length`] (`Input`) if `data.len() != labels.len() · features`.
pub fn batches<'a>(
    data: &'a [f32],
    features: usize,
    labels: &'a [u32],
    batch_size: usize,
) -> Result<Batches<'a>, Error> {
    if features == 0 {
        return Err(ShapeError::Dimension.into());
    }
    if batch_size == 0 {
        return Err(Error::Config);
    }
    let expected = labels
        .len()
        .checked_mul(features)
        .ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Input, expected, data.len())?;
    let rows_per_chunk = batch_size.saturating_mul(features);
    Ok(Batches {
        inner: data.chunks(rows_per_chunk).zip(labels.chunks(batch_size)),
    })
}

/// The iterator of [`batches`]: `(&[f32], &[u32])` pairs of whole rows and their labels.
#[derive(Clone, Debug)]
pub struct Batches<'a> {
    inner: core::iter::Zip<core::slice::Chunks<'a, f32>, core::slice::Chunks<'a, u32>>,
}

impl<'a> Iterator for Batches<'a> {
    type Item = (&'a [f32], &'a [u32]);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Batches<'_> {}
