//! Per-feature preprocessing fitted on training data: mean subtraction, min-max scaling and
//! z-score standardisation, plus a streaming mean/variance accumulator ([`Welford`]) for data
//! that arrives one sample at a time on the device.
//!
//! Samples are rows of `features` values: a data set is `[n, features]`, row-major.
//!
//! # One formula for every kind
//! Every [`ScalerKind`] fits one `offset` and one `scale` per feature and transforms with
//!
//! ```text
//! y = (x − offset) / scale        inverse:  x = y · scale + offset
//! ```
//!
//! | kind                     | offset             | scale                 | range of `y` on the fit data |
//! |--------------------------|--------------------|-----------------------|------------------------------|
//! | [`ScalerKind::Center`]   | mean               | 1                     | mean 0                       |
//! | [`ScalerKind::MinMax`]   | min                | max − min             | `[0, 1]`                     |
//! | [`ScalerKind::MinMaxSymmetric`] | mid = (min + max) / 2 | max(max − mid, mid − min) ≈ (max − min) / 2 | `[−1, 1]` |
//! | [`ScalerKind::Standard`] | mean               | population std. dev.  | mean 0, variance 1           |
//!
//! **Constant features** (max = min, or zero variance) get scale 1, never a division by zero: they
//! map to 0, which is the mean for `Center`/`Standard`, the low end of the range for `MinMax` and
//! the midpoint for `MinMaxSymmetric`. A scale that rounds to zero or to a subnormal (a spread
//! below `f32::MIN_POSITIVE`) counts as constant.
//!
//! **NaN**: a NaN anywhere in a feature's column makes that feature's offset and scale NaN, so
//! the transform maps the feature to NaN everywhere (the other features are unaffected); a NaN
//! passed to [`Scaler::transform`] gives NaN for that value only. Infinite values give
//! non-finite parameters the same way.
//!
//! The parameters live in a caller buffer of [`params_len`]`(features)` values: the `features`
//! offsets first, then the `features` scales. [`Scaler`] borrows them; it serialises to a small,
//! checksummed byte format (see [`Scaler::to_bytes`]).

mod bytes;
mod welford;

pub use bytes::{peek_header, serialized_len};
pub use welford::Welford;

use crate::error::{check_len, Buffer, Error, ShapeError};

/// The per-feature transform a [`Scaler`] applies (see the [module docs](self) for the formulas).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScalerKind {
    /// Mean subtraction: `y = x − mean`.
    Center,
    /// Min-max scaling to `[0, 1]`: `y = (x − min) / (max − min)`.
    MinMax,
    /// Min-max scaling to `[−1, 1]`: `y = (x − mid) / half_range`.
    MinMaxSymmetric,
    /// Z-score standardisation: `y = (x − mean) / std` (population standard deviation).
    Standard,
}

impl ScalerKind {
    /// The tag byte of this kind in the serialised format.
    pub const fn tag(self) -> u8 {
        match self {
            ScalerKind::Center => 1,
            ScalerKind::MinMax => 2,
            ScalerKind::MinMaxSymmetric => 3,
            ScalerKind::Standard => 4,
        }
    }

    /// The kind with serialised tag `tag`, if any.
    pub const fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(ScalerKind::Center),
            2 => Some(ScalerKind::MinMax),
            3 => Some(ScalerKind::MinMaxSymmetric),
            4 => Some(ScalerKind::Standard),
            _ => None,
        }
    }

    /// Fits the offsets and scales of this kind on `data` and returns a [`Scaler`] borrowing them.
    ///
    /// The mean and variance are two-pass with compensated (Kahan) sums in `f32`, so a large
    /// common offset does not cost precision.
    ///
    /// # Shapes
    /// `data`: `[n, features]` with `n ≥ 1`; `params`: [`params_len`]`(features)` (offsets, then
    /// scales). `params` is fully overwritten.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `features` is 0 or `data` is empty;
    /// [`ShapeError::Length`] (`Input`) if `data.len()` is not a multiple of `features`,
    /// (`Params`) if `params.len() != 2 · features`.
    pub fn fit<'a>(
        self,
        data: &[f32],
        features: usize,
        params: &'a mut [f32],
    ) -> Result<Scaler<'a>, Error> {
        let rows = rows_of(data, features)?;
        if rows == 0 {
            return Err(ShapeError::Dimension.into());
        }
        check_len(Buffer::Params, params_len(features)?, params.len())?;
        let (offsets, scales) = params.split_at_mut(features);
        for (j, (offset, scale)) in offsets.iter_mut().zip(scales.iter_mut()).enumerate() {
            let column = data.iter().skip(j).step_by(features);
            let (o, s) = match self {
                ScalerKind::Center => (mean(column.clone(), rows), 1.0),
                ScalerKind::Standard => {
                    let m = mean(column.clone(), rows);
                    let var = kahan_sum(column.map(|&x| (x - m) * (x - m))) / rows as f32;
                    (m, crate::num::math::sqrt(var))
                }
                ScalerKind::MinMax | ScalerKind::MinMaxSymmetric => {
                    let (lo, hi) = min_max(column);
                    if self == ScalerKind::MinMax {
                        (lo, hi - lo)
                    } else {
                        // Halves first: (lo + hi) could overflow for huge finite values. The
                        // midpoint is rounded to f32, so the scale is its larger distance to an
                        // end: rounding is monotone, so the fit data land in [−1, 1] exactly.
                        let mid = 0.5 * lo + 0.5 * hi;
                        (mid, (hi - mid).max(mid - lo))
                    }
                }
            };
            // A NaN in the column poisons both parameters of its feature (see the module docs).
            let poisoned = o.is_nan() || s.is_nan();
            *offset = if poisoned { f32::NAN } else { o };
            *scale = if poisoned { f32::NAN } else { constant_safe(s) };
        }
        Ok(Scaler {
            kind: self,
            features,
            params,
        })
    }
}

/// Length of a scaler's parameter buffer: `2 · features` (offsets, then scales).
///
/// # Errors
/// [`ShapeError::Dimension`] if `features` is 0 or `2 · features` overflows.
pub fn params_len(features: usize) -> Result<usize, Error> {
    if features == 0 {
        return Err(ShapeError::Dimension.into());
    }
    features
        .checked_mul(2)
        .ok_or(Error::Shape(ShapeError::Dimension))
}

/// A fitted per-feature transform, borrowing its offsets and scales from a caller buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scaler<'a> {
    kind: ScalerKind,
    features: usize,
    params: &'a [f32],
}

impl<'a> Scaler<'a> {
    /// A scaler over already-fitted parameters (for example read back from flash).
    ///
    /// # Shapes
    /// `params`: [`params_len`]`(features)` values, offsets then scales.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `features` is 0; [`ShapeError::Length`] (`Params`) if
    /// `params.len() != 2 · features`. The values themselves are not checked (NaN parameters
    /// are how a NaN column is recorded).
    pub fn new(kind: ScalerKind, features: usize, params: &'a [f32]) -> Result<Self, Error> {
        check_len(Buffer::Params, params_len(features)?, params.len())?;
        Ok(Scaler {
            kind,
            features,
            params,
        })
    }

    /// The kind of transform.
    pub fn kind(&self) -> ScalerKind {
        self.kind
    }

    /// Values per sample.
    pub fn features(&self) -> usize {
        self.features
    }

    /// The per-feature offsets (`features` values).
    pub fn offsets(&self) -> &'a [f32] {
        self.params.get(..self.features).unwrap_or(&[])
    }

    /// The per-feature scales (`features` values, each > 0 unless NaN).
    pub fn scales(&self) -> &'a [f32] {
        self.params.get(self.features..).unwrap_or(&[])
    }

    /// The whole parameter buffer (offsets, then scales).
    pub fn params(&self) -> &'a [f32] {
        self.params
    }

    /// Transforms `data` in place: `y = (x − offset) / scale` per feature.
    ///
    /// # Shapes
    /// `data`: `[n, features]` for any `n ≥ 0`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Input`) if `data.len()` is not a multiple of `features`; nothing
    /// is written then.
    pub fn transform(&self, data: &mut [f32]) -> Result<(), Error> {
        rows_of(data, self.features)?;
        for row in data.chunks_exact_mut(self.features) {
            for ((x, o), s) in row.iter_mut().zip(self.offsets()).zip(self.scales()) {
                *x = (*x - o) / s;
            }
        }
        Ok(())
    }

    /// Undoes [`transform`](Self::transform) in place: `x = y · scale + offset` per feature.
    ///
    /// # Shapes
    /// `data`: `[n, features]` for any `n ≥ 0`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Input`) if `data.len()` is not a multiple of `features`; nothing
    /// is written then.
    pub fn inverse_transform(&self, data: &mut [f32]) -> Result<(), Error> {
        rows_of(data, self.features)?;
        for row in data.chunks_exact_mut(self.features) {
            for ((x, o), s) in row.iter_mut().zip(self.offsets()).zip(self.scales()) {
                *x = *x * s + o;
            }
        }
        Ok(())
    }
}

/// Number of rows of `data` (`[n, features]`), checking `features > 0` and divisibility.
pub(crate) fn rows_of<T>(data: &[T], features: usize) -> Result<usize, Error> {
    if features == 0 {
        return Err(ShapeError::Dimension.into());
    }
    let rows = data.len() / features;
    check_len(Buffer::Input, rows * features, data.len())?;
    Ok(rows)
}

/// A scale that is zero, subnormal or negative zero becomes 1 (constant feature); NaN stays NaN.
fn constant_safe(scale: f32) -> f32 {
    if scale < f32::MIN_POSITIVE {
        1.0
    } else {
        scale
    }
}

/// Kahan-compensated sum: the error stays O(ε) instead of O(n ε) for a column of `n` values.
fn kahan_sum<'a>(values: impl Iterator<Item = f32> + 'a) -> f32 {
    let (mut sum, mut carry) = (0.0f32, 0.0f32);
    for v in values {
        let y = v - carry;
        let t = sum + y;
        carry = (t - sum) - y;
        sum = t;
    }
    sum
}

/// Mean of a column: compensated sum, then a second compensated pass on the residuals (so the
/// result is as accurate as the f32 data allows even with a large common offset).
fn mean<'a>(column: impl Iterator<Item = &'a f32> + Clone, rows: usize) -> f32 {
    let n = rows as f32;
    let first = kahan_sum(column.clone().copied()) / n;
    first + kahan_sum(column.map(|&x| x - first)) / n
}

/// Minimum and maximum of a column; NaN for both if the column holds a NaN.
fn min_max<'a>(column: impl Iterator<Item = &'a f32>) -> (f32, f32) {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &x in column {
        if x.is_nan() {
            return (f32::NAN, f32::NAN);
        }
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (lo, hi)
}
