//! Kernels: pure functions over caller-owned slices, in the style of CMSIS-NN.
//!
//! # Contracts shared by every kernel
//!
//! - Tensors are dense, row-major, and feature maps are NHWC (`[batch, height, width, channels]`);
//!   each kernel's `# Shapes` section gives its layouts.
//! - Every slice length is checked once on entry against the shape; a mismatch returns
//!   [`ShapeError`] and writes nothing. Kernels never panic.
//! - int8 kernels follow the TFLite int8 specification: inputs carry an offset (`-zero_point`),
//!   products are accumulated in `i32`, an `i32` bias is added, the sum is requantized per output
//!   channel with a [`Requantizer`], the output offset added, and the result clamped to a fused
//!   activation range ([`ActivationS8`]).
//! - Kernels that need scratch memory have a `*_scratch_len` function returning the number of
//!   elements the caller must provide.
//!
//! [`generic`] holds the portable reference implementations; architecture-specific kernels are
//! selected at compile time and must agree with them bit for bit (int8) or within a stated
//! tolerance (f32). The functions at this level ([`dense_s8`], [`conv2d_s8`], [`conv1d_s8`])
//! are the ones the layers call: the tuned kernel of the target (Cortex-M4/M7 DSP, Cortex-M0,
//! RV32), or `generic` where there is none.

#[cfg(any(tinytune_dsp, tinytune_armv6m, target_arch = "riscv32", test))]
mod cortex_m;
pub(crate) mod cortex_m_dw;
mod fast;
pub mod generic;

pub use fast::{conv1d_s8, conv2d_s8, dense_s8};

use crate::error::{Buffer, ShapeError};
use crate::num::quant::Requantizer;

/// Output clamp of an int8 kernel: the fused activation, expressed in the output's quantized
/// domain (for example ReLU6 is `[quantize(0), quantize(6)]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ActivationS8 {
    /// Smallest output value.
    pub min: i8,
    /// Largest output value.
    pub max: i8,
}

impl ActivationS8 {
    /// No activation: the whole int8 range.
    pub const NONE: ActivationS8 = ActivationS8 {
        min: i8::MIN,
        max: i8::MAX,
    };

    /// Clamps an already offset output value into the range and narrows it to `i8`.
    ///
    /// A range with `min > max` does not panic: the result is then `max`.
    #[inline]
    pub fn clamp(self, x: i32) -> i8 {
        // `max` then `min` rather than `i32::clamp`, which panics when `min > max`; the fields are
        // public, so a malformed range must still have a defined result.
        x.max(self.min as i32).min(self.max as i32) as i8
    }
}

/// Quantization arguments of an int8 kernel with a weight tensor (dense, convolutions), following
/// the TFLite int8 specification.
///
/// Weights are symmetric (zero point 0), so they carry no offset. The kernel computes, for each
/// output element of output channel `c`,
/// `clamp(requant[c].apply(bias[c] + sum((input + input_offset) * weight)) + output_offset)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QuantArgsS8<'a> {
    /// Added to every input value: `-input_zero_point`.
    pub input_offset: i32,
    /// Added to every requantized accumulator: `output_zero_point`.
    pub output_offset: i32,
    /// Requantizers: a slice of length 1 (per-tensor) or one per output channel (per-channel).
    pub requant: &'a [Requantizer],
    /// Fused activation, in the output's quantized domain.
    pub act: ActivationS8,
}

impl QuantArgsS8<'_> {
    /// Checks that `requant` has length 1 or `channels`.
    ///
    /// The error reports `channels` as the expected length: per-channel is the general case.
    pub(crate) fn check_requant(&self, channels: usize) -> Result<(), ShapeError> {
        let actual = self.requant.len();
        if actual == 1 || actual == channels {
            Ok(())
        } else {
            Err(ShapeError::Length {
                buffer: Buffer::Requant,
                expected: channels,
                actual,
            })
        }
    }

    /// Turns the `i32` accumulator of output channel `channel` into the int8 output.
    ///
    /// Callers have run [`check_requant`](Self::check_requant), so the index is in bounds. The
    /// output offset is added with saturation: for in-spec offsets (`-128..=127`) it never
    /// saturates, and for any other value the clamp that follows gives the same result as exact
    /// arithmetic would.
    #[inline]
    pub(crate) fn output(&self, acc: i32, channel: usize) -> i8 {
        let requant = if self.requant.len() == 1 {
            self.requant[0]
        } else {
            self.requant[channel]
        };
        self.act
            .clamp(requant.apply(acc).saturating_add(self.output_offset))
    }
}

/// Output clamp of an f32 kernel (fused activation): `[min, max]`, for example `[0, inf]` for
/// ReLU. NaN inputs stay NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ActivationF32 {
    /// Smallest output value.
    pub min: f32,
    /// Largest output value.
    pub max: f32,
}

impl ActivationF32 {
    /// No activation.
    pub const NONE: ActivationF32 = ActivationF32 {
        min: f32::NEG_INFINITY,
        max: f32::INFINITY,
    };
    /// ReLU: `max(x, 0)`.
    pub const RELU: ActivationF32 = ActivationF32 {
        min: 0.0,
        max: f32::INFINITY,
    };
    /// ReLU6: `min(max(x, 0), 6)`.
    pub const RELU6: ActivationF32 = ActivationF32 { min: 0.0, max: 6.0 };

    /// Clamps `x` into the range; NaN is passed through unchanged.
    #[inline]
    pub fn clamp(self, x: f32) -> f32 {
        if x < self.min {
            self.min
        } else if x > self.max {
            self.max
        } else {
            x
        }
    }
}

/// Padding of convolutions and pooling, as TFLite/TensorFlow define it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// No padding: only windows that fit entirely inside the input.
    /// `out = ceil((in - dilation*(k-1)) / stride)`.
    Valid,
    /// Zero padding so that `out = ceil(in / stride)`; the total padding is split with the smaller
    /// half before (top/left) and the larger after, as TensorFlow does.
    Same,
}

/// Output length and padding before, along one spatial axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AxisGeometry {
    /// Output length.
    pub out: usize,
    /// Zero padding before the first input element (top or left).
    pub pad_before: usize,
}

/// Computes output length and leading padding along one axis.
///
/// # Errors
/// [`ShapeError::Parameter`] if `kernel`, `stride` or `dilation` is zero, or the output would be
/// empty; [`ShapeError::Dimension`] if `input` is zero or the effective kernel size overflows.
pub fn axis_geometry(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> Result<AxisGeometry, ShapeError> {
    if kernel == 0 || stride == 0 || dilation == 0 {
        return Err(ShapeError::Parameter);
    }
    if input == 0 {
        return Err(ShapeError::Dimension);
    }
    let effective = (kernel - 1)
        .checked_mul(dilation)
        .and_then(|v| v.checked_add(1))
        .ok_or(ShapeError::Dimension)?;
    match padding {
        Padding::Valid => {
            if effective > input {
                return Err(ShapeError::Parameter);
            }
            Ok(AxisGeometry {
                out: (input - effective) / stride + 1,
                pad_before: 0,
            })
        }
        Padding::Same => {
            let out = input.div_ceil(stride);
            let needed = (out - 1)
                .checked_mul(stride)
                .and_then(|v| v.checked_add(effective))
                .ok_or(ShapeError::Dimension)?;
            let total = needed.saturating_sub(input);
            Ok(AxisGeometry {
                out,
                pad_before: total / 2,
            })
        }
    }
}
