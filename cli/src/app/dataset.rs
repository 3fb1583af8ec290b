//! Data preparation of `train` and `eval`: label checks, the stratified split and the z-score
//! scaler.
//!
//! # Labels
//! Labels must be the integers `0..K` for `K ≥ 2` classes, each present in the training file:
//! a label that never occurs below the largest one (e.g. labels 1..=10 with no 0) is an error
//! that names the missing class, rather than a silently untrainable output. (Relabel such data
//! to 0..K-1 first.) In `eval`, a label `≥ K` of the model is an error naming its line.
//!
//! # Split
//! [`split`] calls `tinytune::data::sample::stratified_split` with fractions
//! [`SPLIT_FRACTIONS`] = 70 % train, 15 % validation, 15 % test, per class, from a
//! `SeededRng` seeded with the run's seed. Every part must receive at least one sample.

use tinytune::data::preprocess::ScalerKind;
use tinytune::data::sample::stratified_split;
use tinytune::rng::{SeedableRng, SeededRng};

use super::AppError;
use crate::csv::Dataset;

/// Fractions of each class going to train, validation and test.
pub const SPLIT_FRACTIONS: [f32; 3] = [0.7, 0.15, 0.15];

/// Checks that `data` holds samples with labels `0..K`, `K ≥ 2`, each present; returns `K`.
/// `file` names the data in messages.
///
/// # Errors
/// No samples, a single class, or a class below the largest label with no sample.
pub fn check_classes(file: &str, data: &Dataset) -> Result<usize, AppError> {
    if data.is_empty() {
        return Err(AppError::new(format!(
            "{file}: no samples (the file has a header but no data lines)"
        )));
    }
    let max = data.labels.iter().copied().max().unwrap_or(0) as usize;
    let mut counts = vec![0usize; max + 1];
    for &y in &data.labels {
        if let Some(c) = counts.get_mut(y as usize) {
            *c += 1;
        }
    }
    if max == 0 {
        return Err(AppError::new(format!(
            "{file}: every sample has label 0: a classifier needs at least 2 classes"
        )));
    }
    if let Some(missing) = counts.iter().position(|&c| c == 0) {
        return Err(AppError::new(format!(
            "{file}: labels must be 0..K-1 with every class present: labels go up to {max} but \
             no sample has label {missing} (relabel the classes to 0..K-1)"
        )));
    }
    Ok(max + 1)
}

/// The three parts of a data set.
#[derive(Clone, Debug)]
pub struct Parts {
    /// Training samples.
    pub train: Dataset,
    /// Validation samples.
    pub val: Dataset,
    /// Test samples.
    pub test: Dataset,
}

/// Splits `data` per class into train / validation / test with [`SPLIT_FRACTIONS`] (see the
/// [module docs](self)); each part keeps file order.
///
/// # Errors
/// A part would be empty (too few samples).
pub fn split(file: &str, data: &Dataset, seed: u64) -> Result<Parts, AppError> {
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut order = vec![0usize; data.len()];
    let sizes = stratified_split(&mut rng, &data.labels, SPLIT_FRACTIONS, &mut order)
        .map_err(|e| AppError::new(format!("{file}: cannot split the data: {e}")))?;
    if sizes.train == 0 || sizes.val == 0 || sizes.test == 0 {
        return Err(AppError::new(format!(
            "{file}: too few samples ({}): the 70/15/15 split per class gives {} training, {} \
             validation and {} test samples; each part needs at least one",
            data.len(),
            sizes.train,
            sizes.val,
            sizes.test
        )));
    }
    let (train, val, test) = sizes.parts(&order);
    let pick = |idx: &[usize]| {
        data.select(idx)
            .ok_or_else(|| AppError::new(format!("{file}: internal error: split out of range")))
    };
    Ok(Parts {
        train: pick(train)?,
        val: pick(val)?,
        test: pick(test)?,
    })
}

/// Fits a z-score scaler on `data` and returns its parameters: the `features` offsets (means)
/// then the `features` scales (standard deviations; 1 for a constant feature).
///
/// # Errors
/// `data` is empty.
pub fn fit_standard(data: &Dataset) -> Result<Vec<f32>, AppError> {
    let mut params = vec![0.0f32; 2 * data.features];
    ScalerKind::Standard
        .fit(&data.data, data.features, &mut params)
        .map_err(|e| AppError::new(format!("cannot fit the scaler: {e}")))?;
    Ok(params)
}

/// Applies `y = (x − offset) / scale` per feature to `data` in place; `params` as returned by
/// [`fit_standard`].
///
/// # Errors
/// `params` does not fit `data`'s feature count.
pub fn standardize(data: &mut Dataset, params: &[f32]) -> Result<(), AppError> {
    let scaler =
        tinytune::data::preprocess::Scaler::new(ScalerKind::Standard, data.features, params)
            .map_err(|e| AppError::new(format!("bad scaler parameters: {e}")))?;
    scaler
        .transform(&mut data.data)
        .map_err(|e| AppError::new(format!("cannot scale the data: {e}")))
}
