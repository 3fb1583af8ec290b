//! int8 activation layer: ReLU/ReLU6 clamps, LeakyReLU, lookup-table functions and softmax.

use super::{check_forward, check_quant, LayerS8};
use crate::error::{Error, ShapeError};
use crate::kernels::generic::activation::{
    leaky_relu_s8, relu6_range_s8, relu_range_s8, LeakyReluParamsS8, LutS8,
};
use crate::kernels::generic::softmax::{softmax_s8, SoftmaxParamsS8};
use crate::kernels::ActivationS8;
use crate::num::quant::QuantParams;

/// Output scale of the int8 softmax (TFLite's required output quantization): `1/256`.
pub const SOFTMAX_OUTPUT_SCALE: f32 = 1.0 / 256.0;
/// Output zero point of the int8 softmax: `-128` (probability 0).
pub const SOFTMAX_OUTPUT_ZERO_POINT: i32 = -128;

/// The function an [`ActivationS8Layer`] computes, with the quantization it needs (see the
/// table in the [module documentation](super)).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ActivationKindS8 {
    /// `max(x, 0)`: a clamp to `[zero_point, 127]`; the output keeps the input quantization
    /// `quant`.
    Relu {
        /// Quantization of the input and the output.
        quant: QuantParams,
    },
    /// `min(max(x, 0), 6)`: a clamp to `[zero_point, zero_point + round(6 / scale)]`; the output
    /// keeps the input quantization `quant`.
    Relu6 {
        /// Quantization of the input and the output.
        quant: QuantParams,
    },
    /// `x` for `x >= 0`, `alpha * x` below, between the quantizations the parameters were built
    /// for ([`LeakyReluParamsS8::new`]).
    LeakyRelu(LeakyReluParamsS8),
    /// Logistic sigmoid through a 256-entry table built in `init` ([`LutS8::sigmoid`]); the
    /// output has scale 1/256 and zero point -128.
    Sigmoid {
        /// Quantization of the input.
        input: QuantParams,
    },
    /// Hyperbolic tangent through a table built in `init` ([`LutS8::tanh`]); the output has
    /// scale 1/128 and zero point 0.
    Tanh {
        /// Quantization of the input.
        input: QuantParams,
    },
    /// GELU (erf form) through a table built in `init` ([`LutS8::gelu`]).
    Gelu {
        /// Quantization of the input.
        input: QuantParams,
        /// Quantization of the output.
        output: QuantParams,
    },
    /// Softmax over consecutive rows of `depth` values (the last axis); the output has scale
    /// [`SOFTMAX_OUTPUT_SCALE`] and zero point [`SOFTMAX_OUTPUT_ZERO_POINT`].
    Softmax {
        /// Parameters from the input scale and `beta` ([`SoftmaxParamsS8::new`]).
        params: SoftmaxParamsS8,
        /// Row length; must divide the layer's `len`.
        depth: usize,
    },
}

/// Configuration of an int8 activation layer: `len` values per sample in, `len` out.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ActivationS8Config {
    /// Values per sample.
    pub len: usize,
    /// The function and its quantization.
    pub kind: ActivationKindS8,
}

/// What a validated activation layer runs.
// No allocator to box the table into: a layer costs 264 bytes whatever its function, which is
// the price of building the table once in `init` instead of per call.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Clamp(ActivationS8),
    Leaky(LeakyReluParamsS8),
    Lut(LutS8),
    Softmax(SoftmaxParamsS8, usize),
}

impl ActivationS8Config {
    /// Validates the configuration, builds the lookup table of sigmoid, tanh or GELU, and returns
    /// the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `len` is 0, or if a softmax `depth` is 0 or does not divide
    /// `len`; [`Error::Quant`] for a scale that is not finite and positive or a zero point outside
    /// `-128..=127`.
    pub fn init(self) -> Result<ActivationS8Layer, Error> {
        if self.len == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let op = match self.kind {
            ActivationKindS8::Relu { quant } => {
                check_quant(quant)?;
                Op::Clamp(relu_range_s8(quant.zero_point))
            }
            ActivationKindS8::Relu6 { quant } => {
                Op::Clamp(relu6_range_s8(quant.scale, quant.zero_point)?)
            }
            ActivationKindS8::LeakyRelu(p) => Op::Leaky(p),
            ActivationKindS8::Sigmoid { input } => {
                Op::Lut(LutS8::sigmoid(input.scale, input.zero_point)?)
            }
            ActivationKindS8::Tanh { input } => {
                Op::Lut(LutS8::tanh(input.scale, input.zero_point)?)
            }
            ActivationKindS8::Gelu { input, output } => Op::Lut(LutS8::gelu(
                input.scale,
                input.zero_point,
                output.scale,
                output.zero_point,
            )?),
            ActivationKindS8::Softmax { params, depth } => {
                if depth == 0 || !self.len.is_multiple_of(depth) {
                    return Err(ShapeError::Dimension.into());
                }
                Op::Softmax(params, depth)
            }
        };
        Ok(ActivationS8Layer { config: self, op })
    }
}

/// An int8 activation layer, built by [`ActivationS8Config::init`]. Owns its lookup table (256
/// bytes) when it has one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationS8Layer {
    config: ActivationS8Config,
    op: Op,
}

impl ActivationS8Layer {
    /// The validated configuration.
    pub fn config(&self) -> &ActivationS8Config {
        &self.config
    }

    /// Input values per sample, `len`.
    pub fn input_len(&self) -> usize {
        self.config.len
    }

    /// Output values per sample, `len`.
    pub fn output_len(&self) -> usize {
        self.config.len
    }

    /// Applies the activation elementwise (softmax: row by row) from `input` into `output`.
    ///
    /// # Shapes
    /// `input` and `output`: `[batch, len]` (softmax rows are `[batch * len / depth, depth]`).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or a size overflows; [`ShapeError::Length`]
    /// (`Input` or `Output`) for a wrong buffer length. Nothing is written on error.
    pub fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        let len = self.config.len;
        check_forward(batch, len, len, input.len(), output.len())?;
        match &self.op {
            Op::Clamp(act) => {
                for (o, &x) in output.iter_mut().zip(input) {
                    *o = act.clamp(i32::from(x));
                }
            }
            Op::Leaky(p) => leaky_relu_s8(p, input, output)?,
            Op::Lut(lut) => lut.apply_to(input, output)?,
            Op::Softmax(p, depth) => softmax_s8(p, *depth, input, output)?,
        }
        Ok(())
    }
}

impl LayerS8 for ActivationS8Layer {
    fn input_len(&self) -> usize {
        self.config.len
    }

    fn output_len(&self) -> usize {
        self.config.len
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        ActivationS8Layer::forward(self, batch, input, output)
    }
}
