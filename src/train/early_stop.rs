//! Early stopping on a validation loss, keeping a copy of the best parameters in a caller
//! buffer.
//!
//! ```
//! use tinytune::train::early_stop::{Decision, EarlyStopping};
//! # fn main() -> Result<(), tinytune::Error> {
//! let mut stop = EarlyStopping::new(2, 0.0)?;
//! let (mut params, mut best) = ([0.0f32; 3], [0.0f32; 3]);
//! for (epoch, val_loss) in [1.0, 0.5, 0.7, 0.8, 0.4].into_iter().enumerate() {
//!     params = [epoch as f32; 3]; // ... one epoch of training ...
//!     if stop.observe(epoch, val_loss, &params, &mut best)? == Decision::Stop {
//!         break;
//!     }
//! }
//! assert_eq!(stop.best_epoch(), Some(1));
//! stop.restore(&mut params, &best)?;
//! assert_eq!(params, [1.0; 3]);
//! # Ok(())
//! # }
//! ```

use crate::error::{check_len, Buffer, Error};

/// What the training loop should do after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Decision {
    /// Train another epoch.
    Continue,
    /// Stop: no improvement for `patience` epochs.
    Stop,
}

/// Stops training once the validation loss has not improved for `patience` consecutive epochs.
///
/// An epoch *improves* when `val_loss < best_loss − min_delta` (strictly; the first finite loss
/// always improves). A NaN (or `+inf`) loss never improves. After an improvement the count of
/// epochs without one restarts at 0; [`observe`](Self::observe) returns [`Decision::Stop`] when
/// that count reaches `patience` (so `patience = 0` stops at the first epoch without
/// improvement), and keeps returning it until an improvement.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f32,
    best_loss: f32,
    best_epoch: Option<usize>,
    bad_epochs: usize,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without an improvement of more than `min_delta`.
    ///
    /// # Errors
    /// [`Error::Config`] if `min_delta` is negative, NaN or infinite.
    pub fn new(patience: usize, min_delta: f32) -> Result<Self, Error> {
        if !(min_delta.is_finite() && min_delta >= 0.0) {
            return Err(Error::Config);
        }
        Ok(EarlyStopping {
            patience,
            min_delta,
            best_loss: f32::INFINITY,
            best_epoch: None,
            bad_epochs: 0,
        })
    }

    /// Records the validation loss of `epoch`. On an improvement it copies `params` into
    /// `best` and remembers `epoch` and `val_loss`; otherwise it counts one more epoch without
    /// improvement.
    ///
    /// # Shapes
    /// - `params`, `best`: `[n]`, the same length
    ///
    /// # Errors
    /// [`ShapeError::Length`](crate::ShapeError::Length) naming `Params` if `best.len()` differs
    /// from `params.len()` (nothing is recorded then).
    pub fn observe(
        &mut self,
        epoch: usize,
        val_loss: f32,
        params: &[f32],
        best: &mut [f32],
    ) -> Result<Decision, Error> {
        check_len(Buffer::Params, params.len(), best.len())?;
        let improved = if self.best_epoch.is_none() {
            val_loss < f32::INFINITY
        } else {
            val_loss < self.best_loss - self.min_delta
        };
        if improved {
            best.copy_from_slice(params);
            self.best_loss = val_loss;
            self.best_epoch = Some(epoch);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs = self.bad_epochs.saturating_add(1);
        }
        Ok(if self.bad_epochs >= self.patience && !improved {
            Decision::Stop
        } else {
            Decision::Continue
        })
    }

    /// Copies the best parameters back into `params`. Returns `false` (copying nothing) if no
    /// epoch has improved yet (every loss was NaN or `+inf`).
    ///
    /// # Shapes
    /// - `params`, `best`: `[n]`, the same length
    ///
    /// # Errors
    /// [`ShapeError::Length`](crate::ShapeError::Length) naming `Params` if the lengths differ.
    pub fn restore(&self, params: &mut [f32], best: &[f32]) -> Result<bool, Error> {
        check_len(Buffer::Params, best.len(), params.len())?;
        if self.best_epoch.is_none() {
            return Ok(false);
        }
        params.copy_from_slice(best);
        Ok(true)
    }

    /// The epoch of the best loss so far (`None` before the first improvement).
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// The best validation loss so far (`inf` before the first improvement).
    pub fn best_loss(&self) -> f32 {
        self.best_loss
    }

    /// Consecutive epochs without improvement.
    pub fn bad_epochs(&self) -> usize {
        self.bad_epochs
    }

    /// The configured patience.
    pub fn patience(&self) -> usize {
        self.patience
    }

    /// The configured minimum improvement.
    pub fn min_delta(&self) -> f32 {
        self.min_delta
    }

    /// Forgets the history (for a new training run); the settings stay.
    pub fn reset(&mut self) {
        self.best_loss = f32::INFINITY;
        self.best_epoch = None;
        self.bad_epochs = 0;
    }
}
