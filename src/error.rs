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
    /// A layer's parameters (weights and biases in the layer's documented order).
    Params,
    /// A layer's running statistics (batch norm's running mean and variance).
    Stats,
    /// The activation cache a training forward pass fills and the backward pass reads.
    Cache,
    /// The gradient with respect to a layer's output, passed into backward.
    GradOutput,
    /// The gradient with respect to a layer's input, written by backward.
    GradInput,
    /// The gradients with respect to the parameters, accumulated by backward.
    GradParams,
    /// Training targets (labels or regression values).
    Targets,
    /// An optimizer's state (momentum, Adam moments).
    OptimizerState,
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
            Buffer::Params => "parameters",
            Buffer::Stats => "running statistics",
            Buffer::Cache => "activation cache",
            Buffer::GradOutput => "output gradient",
            Buffer::GradInput => "input gradient",
            Buffer::GradParams => "parameter gradients",
            Buffer::Targets => "targets",
            Buffer::OptimizerState => "optimizer state",
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

/// An error of a layer, a model or a training step: the union of the area errors, plus the
/// conditions only a layer can meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A shape, geometry or buffer length is wrong.
    Shape(ShapeError),
    /// A quantization parameter cannot be used.
    Quant(QuantError),
    /// An index input (an embedding's token id) is not an integer in `0..len`.
    Index {
        /// Position of the offending value in the input.
        position: usize,
        /// Number of valid indices (the vocabulary size).
        len: usize,
    },
    /// A configuration value outside its domain (a dropout rate outside `[0, 1)`, a negative
    /// epsilon or momentum, a non-finite constant).
    Config,
    /// In a sequential model, the input length of layer `layer` differs from the output length of
    /// the layer before it.
    Chain {
        /// Index of the layer whose input does not fit.
        layer: usize,
        /// Per-sample output length of the layer before.
        expected: usize,
        /// Per-sample input length of this layer.
        actual: usize,
    },
    /// A training call needs to write parameters or statistics that were given read-only
    /// (for example batch norm in training mode with frozen running statistics).
    Frozen,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(e) => write!(f, "shape error: {e}"),
            Error::Quant(e) => write!(f, "quantization error: {e}"),
            Error::Index { position, len } => write!(
                f,
                "input value at position {position} is not an integer index below {len}"
            ),
            Error::Config => f.write_str("a configuration value is outside its domain"),
            Error::Chain {
                layer,
                expected,
                actual,
            } => write!(
                f,
                "layer {layer} takes {actual} values per sample, the layer before gives {expected}"
            ),
            Error::Frozen => {
                f.write_str("training needs to write parameters that were given read-only")
            }
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Shape(e) => Some(e),
            Error::Quant(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ShapeError> for Error {
    fn from(e: ShapeError) -> Self {
        Error::Shape(e)
    }
}

impl From<QuantError> for Error {
    fn from(e: QuantError) -> Self {
        Error::Quant(e)
    }
}

impl From<crate::num::quant::QuantizeError> for Error {
    fn from(e: crate::num::quant::QuantizeError) -> Self {
        match e {
            crate::num::quant::QuantizeError::Shape(e) => Error::Shape(e),
            crate::num::quant::QuantizeError::Quant(e) => Error::Quant(e),
        }
    }
}

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
