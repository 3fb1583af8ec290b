//! Streaming per-feature mean and variance (Welford's algorithm), for statistics gathered one
//! sample at a time on the device.

use crate::error::{check_len, Buffer, Error, ShapeError};

/// Streaming per-feature mean and variance over a caller buffer.
///
/// # State layout
/// The state is `3 · features` values ([`Welford::state_len`]), three blocks of `features`:
///
/// 1. `shift`: the first sample seen;
/// 2. `mean`: the running mean of `x − shift`;
/// 3. `m2`: the running sum of squared deviations from the mean.
///
/// plus the sample count held in the struct ([`count`](Self::count)). Accumulating `x − shift`
/// rather than `x` is what keeps `f32` accurate when the data sit on a large offset (1e6 + noise
/// of size 1): the differences are exact, and the running mean stays small so its increments
/// `δ / n` are not rounded away. Per sample, with `d = x − shift`:
///
/// ```text
/// n ← n + 1;   δ = d − mean;   mean ← mean + δ / n;   m2 ← m2 + δ · (d − mean)
/// ```
///
/// Two accumulators merge with Chan et al.'s pairwise formula ([`merge`](Self::merge)).
/// A NaN in a sample makes that feature's statistics NaN from then on.
#[derive(Debug, PartialEq)]
pub struct Welford<'a> {
    count: u64,
    features: usize,
    state: &'a mut [f32],
}

impl<'a> Welford<'a> {
    /// Length of the state buffer: `3 · features`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `features` is 0 or the length overflows.
    pub fn state_len(features: usize) -> Result<usize, Error> {
        if features == 0 {
            return Err(ShapeError::Dimension.into());
        }
        features
            .checked_mul(3)
            .ok_or(Error::Shape(ShapeError::Dimension))
    }

    /// An empty accumulator; zeroes `state`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `features` is 0; [`ShapeError::Length`] (`Stats`) if
    /// `state.len() != 3 · features`.
    pub fn new(features: usize, state: &'a mut [f32]) -> Result<Self, Error> {
        check_len(Buffer::Stats, Self::state_len(features)?, state.len())?;
        state.fill(0.0);
        Ok(Welford {
            count: 0,
            features,
            state,
        })
    }

    /// Continues from a saved state and count (for example after a reboot).
    ///
    /// # Errors
    /// As [`new`](Self::new); `state` is left as given.
    pub fn resume(features: usize, count: u64, state: &'a mut [f32]) -> Result<Self, Error> {
        check_len(Buffer::Stats, Self::state_len(features)?, state.len())?;
        Ok(Welford {
            count,
            features,
            state,
        })
    }

    /// Number of samples accumulated.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Values per sample.
    pub fn features(&self) -> usize {
        self.features
    }

    /// The raw state (layout in the [type docs](Self)), to save alongside [`count`](Self::count).
    pub fn state(&self) -> &[f32] {
        self.state
    }

    fn blocks(&self) -> (&[f32], &[f32], &[f32]) {
        let (shift, rest) = self.state.split_at(self.features.min(self.state.len()));
        let (mean, m2) = rest.split_at(self.features.min(rest.len()));
        (shift, mean, m2)
    }

    fn blocks_mut(&mut self) -> (&mut [f32], &mut [f32], &mut [f32]) {
        let f = self.features;
        let (shift, rest) = self.state.split_at_mut(f.min(self.state.len()));
        let (mean, m2) = rest.split_at_mut(f.min(rest.len()));
        (shift, mean, m2)
    }

    /// Adds one sample.
    ///
    /// # Shapes
    /// `sample`: `[features]`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Input`) if `sample.len() != features`; nothing changes then.
    pub fn update(&mut self, sample: &[f32]) -> Result<(), Error> {
        check_len(Buffer::Input, self.features, sample.len())?;
        let first = self.count == 0;
        self.count = self.count.saturating_add(1);
        let n = self.count as f32;
        let (shift, mean, m2) = self.blocks_mut();
        if first {
            shift.copy_from_slice(sample);
            mean.fill(0.0);
            m2.fill(0.0);
            // A NaN first sample must still poison the feature (d would be NaN − NaN anyway).
            for ((x, mu), s) in sample.iter().zip(mean.iter_mut()).zip(m2.iter_mut()) {
                if x.is_nan() {
                    *mu = f32::NAN;
                    *s = f32::NAN;
                }
            }
            return Ok(());
        }
        for (((x, k), mu), s) in sample.iter().zip(shift.iter()).zip(mean).zip(m2) {
            let d = x - k;
            let delta = d - *mu;
            *mu += delta / n;
            *s += delta * (d - *mu);
        }
        Ok(())
    }

    /// Writes the per-feature mean (`shift + mean`); NaN for every feature if no sample was seen.
    ///
    /// # Shapes
    /// `out`: `[features]`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Output`) if `out.len() != features`.
    pub fn mean(&self, out: &mut [f32]) -> Result<(), Error> {
        check_len(Buffer::Output, self.features, out.len())?;
        let (shift, mean, _) = self.blocks();
        let empty = self.count == 0;
        for ((o, k), mu) in out.iter_mut().zip(shift).zip(mean) {
            *o = if empty { f32::NAN } else { k + mu };
        }
        Ok(())
    }

    /// Writes the per-feature population variance `m2 / n` (NaN if no sample was seen).
    ///
    /// # Shapes
    /// `out`: `[features]`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Output`) if `out.len() != features`.
    pub fn variance(&self, out: &mut [f32]) -> Result<(), Error> {
        self.m2_over(self.count, out)
    }

    /// Writes the per-feature sample (unbiased) variance `m2 / (n − 1)` (NaN if fewer than two
    /// samples were seen).
    ///
    /// # Shapes
    /// `out`: `[features]`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Output`) if `out.len() != features`.
    pub fn sample_variance(&self, out: &mut [f32]) -> Result<(), Error> {
        self.m2_over(self.count.saturating_sub(1), out)
    }

    fn m2_over(&self, divisor: u64, out: &mut [f32]) -> Result<(), Error> {
        check_len(Buffer::Output, self.features, out.len())?;
        let (_, _, m2) = self.blocks();
        for (o, s) in out.iter_mut().zip(m2) {
            // Rounding can leave m2 a hair below zero for a constant feature: clamp to 0
            // (by comparison, so a NaN stays NaN).
            let s = if *s < 0.0 { 0.0 } else { *s };
            *o = if divisor == 0 {
                f32::NAN
            } else {
                s / divisor as f32
            };
        }
        Ok(())
    }

    /// Adds the samples of `other` (Chan et al.'s pairwise update): afterwards `self` describes
    /// the union of both sample sets. With `δ` the difference of the two means, `n = nₐ + n_b`:
    ///
    /// ```text
    /// mean = meanₐ + δ · n_b / n;   m2 = m2ₐ + m2_b + δ² · nₐ · n_b / n
    /// ```
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Stats`) if the feature counts differ; nothing changes then.
    pub fn merge(&mut self, other: &Welford<'_>) -> Result<(), Error> {
        check_len(Buffer::Stats, self.features, other.features)?;
        if other.count == 0 {
            return Ok(());
        }
        if self.count == 0 {
            self.state.copy_from_slice(other.state);
            self.count = other.count;
            return Ok(());
        }
        let (na, nb) = (self.count as f32, other.count as f32);
        self.count = self.count.saturating_add(other.count);
        let n = self.count as f32;
        let (bshift, bmean, bm2) = other.blocks();
        let (shift, mean, m2) = self.blocks_mut();
        let others = bshift.iter().zip(bmean).zip(bm2);
        for (((k, mu), s), ((kb, mub), sb)) in shift.iter().zip(mean).zip(m2).zip(others) {
            // The other mean expressed relative to our shift.
            let delta = (kb - k) + mub - *mu;
            *mu += delta * (nb / n);
            *s += sb + delta * delta * (na * (nb / n));
        }
        Ok(())
    }
}
