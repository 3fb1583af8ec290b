//! int8 dense (fully connected) layer.

use super::{check_forward, LayerS8, WeightsS8};
use crate::error::Error;
use crate::kernels::generic::dense::DenseShape;
use crate::kernels::{dense_s8, ActivationS8};
use crate::num::quant::{QuantParams, Requantizer};

/// Configuration of an int8 dense layer: `y = act(W x + b)` in TFLite's int8 arithmetic.
///
/// Parameters (borrowed by [`init`](Self::init)): weights `[out_features, in_features]`
/// (symmetric int8, zero point 0, as [`quantize_dense_weights`](super::quantize_dense_weights)
/// produces them), an optional int32 bias `[out_features]` at scale `input.scale · weight_scale`,
/// and requantizers `[1]` (per-tensor) or `[out_features]` (per-channel).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DenseS8Config {
    /// Input values per sample.
    pub in_features: usize,
    /// Output values per sample.
    pub out_features: usize,
    /// Quantization of the input.
    pub input: QuantParams,
    /// Quantization of the output.
    pub output: QuantParams,
    /// Fused activation in the output's quantized domain (see
    /// [`activation_range_s8`](super::activation_range_s8)); [`ActivationS8::NONE`] for none.
    pub act: ActivationS8,
}

impl DenseS8Config {
    fn shape(&self, batch: usize) -> DenseShape {
        DenseShape {
            batch,
            in_features: self.in_features,
            out_features: self.out_features,
        }
    }

    /// Validates the configuration and the borrowed parameters and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) for a zero or overflowing
    /// dimension; [`ShapeError::Length`](crate::ShapeError::Length) naming `Weights`, `Bias` or
    /// `Requant` (which must have length 1 or `out_features`) for a wrong length;
    /// [`Error::Quant`] for an input or output scale that is not finite and positive or a zero
    /// point outside `-128..=127`; [`Error::Config`] if `act.min > act.max`.
    pub fn init<'a>(
        self,
        weights: &'a [i8],
        bias: Option<&'a [i32]>,
        requant: &'a [Requantizer],
    ) -> Result<DenseS8<'a>, Error> {
        let shape = self.shape(1);
        let weights_len = shape.weights_len()?;
        let params = WeightsS8::new(
            weights,
            bias,
            requant,
            weights_len,
            self.out_features,
            (self.input, self.output, self.act),
        )?;
        Ok(DenseS8 {
            config: self,
            params,
        })
    }
}

/// An int8 dense layer, built by [`DenseS8Config::init`].
#[derive(Clone, Copy, Debug)]
pub struct DenseS8<'a> {
    config: DenseS8Config,
    params: WeightsS8<'a>,
}

impl<'a> DenseS8<'a> {
    /// The validated configuration.
    pub fn config(&self) -> &DenseS8Config {
        &self.config
    }

    /// The int8 weights, `[out_features, in_features]`.
    pub fn weights(&self) -> &'a [i8] {
        self.params.weights
    }

    /// The int32 bias, `[out_features]`, if any.
    pub fn bias(&self) -> Option<&'a [i32]> {
        self.params.bias
    }

    /// The requantizers, `[1]` or `[out_features]`.
    pub fn requant(&self) -> &'a [Requantizer] {
        self.params.requant
    }

    /// Input values per sample, `in_features`.
    pub fn input_len(&self) -> usize {
        self.config.in_features
    }

    /// Output values per sample, `out_features`.
    pub fn output_len(&self) -> usize {
        self.config.out_features
    }

    /// Runs the layer: `output[b, o] = clamp(requant[o](bias[o] + Σ_i (input[b, i] − input_zp) ·
    /// weights[o, i]) + output_zp)`, as [`dense_s8`] (the target's fastest kernel, bit-exact
    /// with `generic`).
    ///
    /// # Shapes
    /// `input`: `[batch, in_features]`; `output`: `[batch, out_features]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) if `batch` is 0 or a size
    /// overflows; [`ShapeError::Length`](crate::ShapeError::Length) (`Input` or `Output`) for a
    /// wrong buffer length. Nothing is written on error.
    pub fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        let c = &self.config;
        check_forward(
            batch,
            self.input_len(),
            self.output_len(),
            input.len(),
            output.len(),
        )?;
        let q = self.params.args(c.input, c.output, c.act);
        dense_s8(
            c.shape(batch),
            &q,
            input,
            self.params.weights,
            self.params.bias,
            output,
        )?;
        Ok(())
    }
}

impl LayerS8 for DenseS8<'_> {
    fn input_len(&self) -> usize {
        DenseS8::input_len(self)
    }

    fn output_len(&self) -> usize {
        DenseS8::output_len(self)
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        DenseS8::forward(self, batch, input, output)
    }
}
