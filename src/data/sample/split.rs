//! Train/validation/test splits: stratified by class, and k-fold cross-validation.

use core::ops::Range;

use super::shuffle;
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::rng::RngCore;

/// Sizes of the three parts of a [`stratified_split`]; the order buffer holds the train indices
/// first, then validation, then test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Split {
    /// Number of training indices (`order[..train]`).
    pub train: usize,
    /// Number of validation indices (`order[train..train + val]`).
    pub val: usize,
    /// Number of test indices (the rest of `order`).
    pub test: usize,
}

impl Split {
    /// The three parts `(train, val, test)` of the order buffer filled by [`stratified_split`]
    /// (empty parts if `order` is shorter than the split, which cannot happen for that buffer).
    pub fn parts<'o>(&self, order: &'o [usize]) -> (&'o [usize], &'o [usize], &'o [usize]) {
        let (train, rest) = order.split_at(self.train.min(order.len()));
        let (val, test) = rest.split_at(self.val.min(rest.len()));
        (train, val, test)
    }
}

/// Splits the sample indices `0..n` into train, validation and test parts keeping the class
/// proportions: `order` receives a permutation of `0..n` (train, then validation, then test;
/// each part in ascending index order) and the sizes come back as a [`Split`].
///
/// Within each class of `m` samples, chosen uniformly at random, the first `round(m · c₁)` go to
/// train and the next `round(m · c₂) − round(m · c₁)` to validation, the rest to test, with
/// cumulative fractions `c₁ = f_train / Σf`, `c₂ = (f_train + f_val) / Σf` and rounding half up.
/// Rounding the cumulative counts keeps every class's part sizes within one sample of
/// `m · f` (train and test within ½) and their sum exactly `m`.
///
/// # Shapes
/// `labels`: `[n]` (any `u32` values; each distinct value is a class); `order`: `[n]`.
///
/// # Errors
/// [`ShapeError::Length`] (`Output`) if `order.len() != labels.len()`; [`Error::Config`] if a
/// fraction is negative or not finite or the fractions do not sum to 1 within 1e-3;
/// [`ShapeError::Dimension`] if `3 · n` overflows `usize`.
pub fn stratified_split<R: RngCore + ?Sized>(
    rng: &mut R,
    labels: &[u32],
    fractions: [f32; 3],
    order: &mut [usize],
) -> Result<Split, Error> {
    let n = labels.len();
    check_len(Buffer::Output, n, order.len())?;
    if fractions.iter().any(|f| !f.is_finite() || *f < 0.0) {
        return Err(Error::Config);
    }
    let sum: f64 = fractions.iter().map(|&f| f64::from(f)).sum();
    if (sum - 1.0).abs() > 1e-3 {
        return Err(Error::Config);
    }
    n.checked_mul(3).ok_or(ShapeError::Dimension)?;
    let c1 = f64::from(fractions[0]) / sum;
    let c2 = (f64::from(fractions[0]) + f64::from(fractions[1])) / sum;

    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
    let label_of = |i: usize| labels.get(i).copied().unwrap_or(u32::MAX);
    order.sort_unstable_by_key(|&i| label_of(i));

    // Each class is now a contiguous segment: shuffle it, then tag each index with its part
    // (index + part · n) so one sort groups the parts without extra memory.
    let mut split = Split {
        train: 0,
        val: 0,
        test: 0,
    };
    let mut rest: &mut [usize] = order;
    while let Some(&first) = rest.first() {
        let class = label_of(first);
        let m = rest
            .iter()
            .position(|&i| label_of(i) != class)
            .unwrap_or(rest.len());
        let (segment, tail) = core::mem::take(&mut rest).split_at_mut(m);
        rest = tail;
        shuffle(rng, segment);
        let b = ((m as f64 * c2 + 0.5) as usize).min(m);
        let a = ((m as f64 * c1 + 0.5) as usize).min(b);
        for (k, v) in segment.iter_mut().enumerate() {
            let part = usize::from(k >= a) + usize::from(k >= b);
            *v += part * n;
        }
        split.train += a;
        split.val += b - a;
        split.test += m - b;
    }
    order.sort_unstable();
    for v in order.iter_mut() {
        *v %= n.max(1);
    }
    Ok(split)
}

/// One fold of k-fold cross-validation over `0..n`: the validation range and the training
/// indices around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fold {
    /// Number of samples.
    pub n: usize,
    /// First validation index.
    pub start: usize,
    /// One past the last validation index.
    pub end: usize,
}

impl Fold {
    /// The validation indices `start..end`.
    pub fn validation(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The training indices: `0..start` and `end..n`.
    pub fn train(&self) -> (Range<usize>, Range<usize>) {
        (0..self.start, self.end..self.n)
    }

    /// Number of validation indices.
    pub fn val_len(&self) -> usize {
        self.end - self.start
    }

    /// Number of training indices.
    pub fn train_len(&self) -> usize {
        self.n - self.val_len()
    }
}

/// Fold `fold` of `k`-fold cross-validation over the indices `0..n`: contiguous validation
/// blocks, the first `n mod k` folds one sample larger (sizes `⌊n/k⌋ + 1`, then `⌊n/k⌋`), so
/// the `k` validation blocks partition `0..n` exactly. For random folds, shuffle the data (or an
/// index permutation) once before and map the ranges through it.
///
/// # Errors
/// [`Error::Config`] if `k < 2` or `k > n`; [`Error::Index`] `{ position: fold, len: k }` if
/// `fold ≥ k`.
pub fn kfold(n: usize, k: usize, fold: usize) -> Result<Fold, Error> {
    if k < 2 || k > n {
        return Err(Error::Config);
    }
    if fold >= k {
        return Err(Error::Index {
            position: fold,
            len: k,
        });
    }
    let (base, extra) = (n / k, n % k);
    let start = fold * base + fold.min(extra);
    let end = start + base + usize::from(fold < extra);
    Ok(Fold { n, start, end })
}

/// [`kfold`], writing the training indices (ascending) into `train` and the validation indices
/// into `val`.
///
/// # Shapes
/// `train`: `[fold.train_len()]`; `val`: `[fold.val_len()]`.
///
/// # Errors
/// As [`kfold`]; [`ShapeError::Length`] (`Output`) if `train` or `val` has the wrong length
/// (`expected` tells which). Nothing is written on error.
pub fn kfold_indices(
    n: usize,
    k: usize,
    fold: usize,
    train: &mut [usize],
    val: &mut [usize],
) -> Result<Fold, Error> {
    let f = kfold(n, k, fold)?;
    check_len(Buffer::Output, f.train_len(), train.len())?;
    check_len(Buffer::Output, f.val_len(), val.len())?;
    let (before, after) = f.train();
    for (t, i) in train.iter_mut().zip(before.chain(after)) {
        *t = i;
    }
    for (v, i) in val.iter_mut().zip(f.validation()) {
        *v = i;
    }
    Ok(f)
}
