//! Weight initialisation, all drawn from an injected [`RngCore`].
//!
//! # Why not zeros, and why not any fixed variance
//!
//! **All-zero (or all-equal) weights never learn.** Every unit of a layer then computes the same
//! output and receives the same gradient, so after any number of steps the units are still
//! identical: the symmetry between them is never broken and a layer of width `n` behaves like a
//! layer of width 1. (Biases may start at zero; the weights must not.) Use [`Init::Zeros`] and
//! [`Init::Constant`] for biases and normalisation parameters only.
//!
//! **A fixed variance is fragile with depth.** A unit sums `fan_in` products, so the variance of
//! its output is `fan_in · Var(w) · E[x²]`. With a fixed `σ` that factor is not 1: it compounds
//! through the layers, and activations (and gradients) grow or vanish geometrically with depth.
//! The scaled schemes pick `Var(w)` so the factor is 1:
//!
//! | scheme | variance | for |
//! |---|---|---|
//! | Xavier/Glorot | `2 / (fan_in + fan_out)` | tanh, sigmoid, linear |
//! | He/Kaiming | `2 / fan` (fan-in keeps forward activations, fan-out keeps gradients) | ReLU family |
//! | LeCun | `1 / fan_in` | SELU, linear |
//!
//! The uniform variants draw from `U(-a, a)` with `a = sqrt(3 · variance)`; the normal variants
//! from `N(0, variance)` (not truncated).

use crate::error::Error;
use crate::rng::{normal_f32, uniform_range_f32, RngCore};

/// The fan-in and fan-out of a weight tensor: the number of inputs each output unit sums, and the
/// number of outputs each input feeds. Dense `[out, in]`: `(in, out)`; convolution
/// `[out_c, kh, kw, in_c]`: `(kh·kw·in_c, kh·kw·out_c)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fans {
    /// Inputs summed by one output unit.
    pub fan_in: usize,
    /// Outputs one input contributes to.
    pub fan_out: usize,
}

/// Which fan He initialisation preserves the variance over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FanMode {
    /// Keep the variance of the forward activations (the usual choice).
    FanIn,
    /// Keep the variance of the backward gradients.
    FanOut,
}

/// An initialisation scheme.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Init {
    /// All zeros. For biases; weights initialised this way never break symmetry (module docs).
    Zeros,
    /// Every value equal to the constant. For biases and normalisation scales.
    Constant(f32),
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower bound (inclusive).
        low: f32,
        /// Upper bound (exclusive).
        high: f32,
    },
    /// Normal with the given mean and standard deviation.
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        std: f32,
    },
    /// Xavier/Glorot uniform: `U(-a, a)`, `a = sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Xavier/Glorot normal: `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He/Kaiming uniform: `U(-a, a)`, `a = sqrt(6 / fan)`.
    HeUniform(FanMode),
    /// He/Kaiming normal: `N(0, 2 / fan)`.
    HeNormal(FanMode),
    /// LeCun uniform: `U(-a, a)`, `a = sqrt(3 / fan_in)`.
    LeCunUniform,
    /// LeCun normal: `N(0, 1 / fan_in)`.
    LeCunNormal,
}

impl Init {
    /// The variance a scaled scheme gives each weight, or `None` for the schemes with explicit
    /// parameters.
    ///
    /// # Errors
    /// [`Error::Config`] if a fan the scheme divides by is zero.
    pub fn variance(&self, fans: Fans) -> Result<Option<f32>, Error> {
        let inv = |n: usize| {
            if n == 0 {
                Err(Error::Config)
            } else {
                Ok(1.0 / n as f32)
            }
        };
        let fan = |mode: FanMode| match mode {
            FanMode::FanIn => fans.fan_in,
            FanMode::FanOut => fans.fan_out,
        };
        Ok(Some(match *self {
            Init::Zeros | Init::Constant(_) | Init::Uniform { .. } | Init::Normal { .. } => {
                return Ok(None)
            }
            Init::XavierUniform | Init::XavierNormal => {
                2.0 * inv(fans.fan_in.saturating_add(fans.fan_out))?
            }
            Init::HeUniform(mode) | Init::HeNormal(mode) => 2.0 * inv(fan(mode))?,
            Init::LeCunUniform | Init::LeCunNormal => inv(fans.fan_in)?,
        }))
    }

    /// Fills `weights` with this scheme.
    ///
    /// # Errors
    /// [`Error::Config`] if a fan the scheme divides by is zero, or an explicit parameter is not
    /// finite (or a standard deviation is negative, or `low > high`). Nothing is written on error.
    pub fn fill<R: RngCore + ?Sized>(
        &self,
        weights: &mut [f32],
        fans: Fans,
        rng: &mut R,
    ) -> Result<(), Error> {
        match *self {
            Init::Zeros => constant(weights, 0.0),
            Init::Constant(c) => constant(weights, c),
            Init::Uniform { low, high } => uniform(rng, weights, low, high),
            Init::Normal { mean, std } => normal(rng, weights, mean, std),
            Init::XavierUniform | Init::HeUniform(_) | Init::LeCunUniform => {
                let var = self.variance(fans)?.ok_or(Error::Config)?;
                let a = crate::num::math::sqrt(3.0 * var);
                uniform(rng, weights, -a, a)
            }
            Init::XavierNormal | Init::HeNormal(_) | Init::LeCunNormal => {
                let var = self.variance(fans)?.ok_or(Error::Config)?;
                normal(rng, weights, 0.0, crate::num::math::sqrt(var))
            }
        }
    }
}

/// Sets every value to zero.
pub fn zeros(weights: &mut [f32]) {
    weights.fill(0.0);
}

/// Sets every value to `value`.
///
/// # Errors
/// [`Error::Config`] if `value` is not finite.
pub fn constant(weights: &mut [f32], value: f32) -> Result<(), Error> {
    if !value.is_finite() {
        return Err(Error::Config);
    }
    weights.fill(value);
    Ok(())
}

/// Fills with independent uniform samples in `[low, high)`.
///
/// # Errors
/// [`Error::Config`] if a bound is not finite or `low > high`.
pub fn uniform<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    low: f32,
    high: f32,
) -> Result<(), Error> {
    if !(low.is_finite() && high.is_finite() && low <= high) {
        return Err(Error::Config);
    }
    for w in weights {
        *w = uniform_range_f32(rng, low, high);
    }
    Ok(())
}

/// Fills with independent normal samples `N(mean, std²)`.
///
/// # Errors
/// [`Error::Config`] if `mean` or `std` is not finite or `std` is negative.
pub fn normal<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    mean: f32,
    std: f32,
) -> Result<(), Error> {
    if !(mean.is_finite() && std.is_finite() && std >= 0.0) {
        return Err(Error::Config);
    }
    for w in weights {
        *w = mean + std * normal_f32(rng);
    }
    Ok(())
}

/// Xavier/Glorot uniform (see [`Init::XavierUniform`]).
///
/// # Errors
/// [`Error::Config`] if both fans are zero.
pub fn xavier_uniform<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    fans: Fans,
) -> Result<(), Error> {
    Init::XavierUniform.fill(weights, fans, rng)
}

/// Xavier/Glorot normal (see [`Init::XavierNormal`]).
///
/// # Errors
/// [`Error::Config`] if both fans are zero.
pub fn xavier_normal<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    fans: Fans,
) -> Result<(), Error> {
    Init::XavierNormal.fill(weights, fans, rng)
}

/// He/Kaiming uniform (see [`Init::HeUniform`]).
///
/// # Errors
/// [`Error::Config`] if the chosen fan is zero.
pub fn he_uniform<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    fans: Fans,
    mode: FanMode,
) -> Result<(), Error> {
    Init::HeUniform(mode).fill(weights, fans, rng)
}

/// He/Kaiming normal (see [`Init::HeNormal`]).
///
/// # Errors
/// [`Error::Config`] if the chosen fan is zero.
pub fn he_normal<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    fans: Fans,
    mode: FanMode,
) -> Result<(), Error> {
    Init::HeNormal(mode).fill(weights, fans, rng)
}

/// LeCun uniform (see [`Init::LeCunUniform`]).
///
/// # Errors
/// [`Error::Config`] if `fan_in` is zero.
pub fn lecun_uniform<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    fans: Fans,
) -> Result<(), Error> {
    Init::LeCunUniform.fill(weights, fans, rng)
}

/// LeCun normal (see [`Init::LeCunNormal`]).
///
/// # Errors
/// [`Error::Config`] if `fan_in` is zero.
pub fn lecun_normal<R: RngCore + ?Sized>(
    rng: &mut R,
    weights: &mut [f32],
    fans: Fans,
) -> Result<(), Error> {
    Init::LeCunNormal.fill(weights, fans, rng)
}
