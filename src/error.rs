//! Error types, one small `Copy` enum per area. None carries a string: they are cheap to return
//! from a kernel on a microcontroller and print through `Display` on the host or `defmt` on a board.

use core::fmt;

/// Which buffer of a kernel call an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Buffer {
    /// The (first) input.
    Input,
    /// The second input of a binary operation (elementwise add/mul, the right side of a matmul).
    Input2,
    /// The weights (filter) tensor.
    Weights,
    /// The bias vector.
    Bias,
    /// The per-channel requantization parameters.
    Requant,
    /// The output.
    Output,
    /// Caller-provided scratch memory.
    Scratch,
}

impl fmt::Display for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Buffer::Input => "input",
            Buffer::Input2 => "second input",
            Buffer::Weights => "weights",
            Buffer::Bias => "bias",
            Buffer::Requant => "requantization parameters",
            Buffer::Output => "output",
            Buffer::Scratch => "scratch",
        };
        f.write_str(name)
    }
}

/// A shape or buffer-length problem found when a kernel or layer is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ShapeError {
    /// A buffer's length differs from the length the shape requires.
    Length {
        /// The buffer concerned.
        buffer: Buffer,
        /// The length the shape requires (for scratch: the minimum).
        expected: usize,
        /// The length that was passed.
        actual: usize,
    },
    /// A dimension is zero where it must not be, or a product of dimensions overflows `usize`.
    Dimension,
    /// A geometric parameter (stride, dilation, kernel size, channel multiplier) is zero or makes
    /// the output empty.
    Parameter,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::Length {
                buffer,
                expected,
                actual,
            } => write!(
                f,
                "{buffer} has length {actual}, the shape requires {expected}"
            ),
            ShapeError::Dimension => {
                f.write_str("a dimension is zero or the element count overflows")
            }
            ShapeError::Parameter => f.write_str(
                "a stride, dilation, kernel size or channel multiplier is zero or leaves no output",
            ),
        }
    }
}

impl core::error::Error for ShapeError {}

/// A quantization parameter that cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum QuantError {
    /// A scale is zero, negative, NaN or infinite.
    InvalidScale,
    /// A zero point lies outside the range of the quantized type.
    InvalidZeroPoint,
    /// A real multiplier is negative, NaN, infinite or outside the range the requantizer represents.
    InvalidMultiplier,
    /// The number of per-channel parameters does not match the number of channels.
    ChannelCount,
    /// A real range to quantize is empty, NaN or infinite.
    InvalidRange,
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuantError::InvalidScale => "scale must be finite and greater than zero",
            QuantError::InvalidZeroPoint => "zero point outside the range of the quantized type",
            QuantError::InvalidMultiplier => {
                "real multiplier must be finite, non-negative and representable"
            }
            QuantError::ChannelCount => "per-channel parameter count differs from channel count",
            QuantError::InvalidRange => "range must be finite with min <= max",
        })
    }
}

impl core::error::Error for QuantError {}

/// Returns `Ok(())` when `actual == expected`, else the [`ShapeError::Length`] naming `buffer`.
#[inline]
pub(crate) fn check_len(buffer: Buffer, expected: usize, actual: usize) -> Result<(), ShapeError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ShapeError::Length {
            buffer,
            expected,
            actual,
        })
    }
}

/// Product of dimensions, or [`ShapeError::Dimension`] on overflow.
#[inline]
pub(crate) fn product(dims: &[usize]) -> Result<usize, ShapeError> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(ShapeError::Dimension)
}
