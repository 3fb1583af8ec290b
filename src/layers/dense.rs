//! The f32 dense (fully connected) layer.

use crate::error::{product, Error, ShapeError};
use crate::kernels::generic::dense::{dense_f32, DenseShape};
use crate::kernels::generic::grad::dense::dense_backward_f32;
use crate::kernels::ActivationF32;
use crate::layers::weighted::{layer_params, WeightsBias};
use crate::layers::{check_backward, check_io, Layer, Params};
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};

/// A dense layer: `y[o] = bias[o] + sum_i x[i] * w[o, i]` per sample, without activation
/// (activations are layers of their own).
///
/// Parameters, in order: the weights `[out_features, in_features]` (one row per output, the
/// layout of [`dense_f32`]), then, if `bias`, the bias `[out_features]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DenseConfig {
    /// Inputs per sample.
    pub in_features: usize,
    /// Outputs per sample (neurons).
    pub out_features: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl DenseConfig {
    /// Number of weights, `out_features * in_features`.
    fn weights_len(&self) -> Result<usize, ShapeError> {
        if self.in_features == 0 || self.out_features == 0 {
            return Err(ShapeError::Dimension);
        }
        product(&[self.out_features, self.in_features])
    }

    /// Number of parameters: `out_features * in_features`, plus `out_features` with a bias.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the count overflows.
    pub fn param_len(&self) -> Result<usize, Error> {
        let weights = self.weights_len()?;
        let bias = if self.bias { self.out_features } else { 0 };
        Ok(weights.checked_add(bias).ok_or(ShapeError::Dimension)?)
    }

    /// Validates the configuration and the parameter length and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or a count overflows;
    /// [`ShapeError::Length`] with [`Buffer::Params`](crate::Buffer::Params) if `params` does not hold
    /// [`param_len`](Self::param_len) values.
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<Dense<'a>, Error> {
        let bias_len = if self.bias { self.out_features } else { 0 };
        let params = WeightsBias::new(params.into(), self.weights_len()?, bias_len)?;
        Ok(Dense {
            config: self,
            params,
        })
    }
}

/// The f32 dense layer built by [`DenseConfig::init`].
#[derive(Debug)]
pub struct Dense<'a> {
    config: DenseConfig,
    params: WeightsBias<'a>,
}

impl Dense<'_> {
    /// The configuration.
    pub fn config(&self) -> &DenseConfig {
        &self.config
    }

    /// The weights, `[out_features, in_features]`.
    pub fn weights(&self) -> &[f32] {
        self.params.weights()
    }

    /// The bias, `[out_features]`, or `None` without bias.
    pub fn bias(&self) -> Option<&[f32]> {
        self.params.bias()
    }

    /// Fan-in and fan-out of the weights: `(in_features, out_features)`.
    pub fn fans(&self) -> Fans {
        Fans {
            fan_in: self.config.in_features,
            fan_out: self.config.out_features,
        }
    }

    fn shape(&self, batch: usize) -> DenseShape {
        DenseShape {
            batch,
            in_features: self.config.in_features,
            out_features: self.config.out_features,
        }
    }
}

impl Layer for Dense<'_> {
    fn input_len(&self) -> usize {
        self.config.in_features
    }

    fn output_len(&self) -> usize {
        self.config.out_features
    }

    layer_params!(params);

    /// `output[b, o] = bias[o] + sum_i input[b, i] * weights[o, i]` ([`dense_f32`], no
    /// activation). NaN in, NaN out.
    ///
    /// # Shapes
    /// - `input`: `[batch, in_features]`
    /// - `output`: `[batch, out_features]`
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for `batch == 0` or an overflowing size; [`ShapeError::Length`]
    /// for a wrong input or output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(
            batch,
            self.input_len(),
            self.output_len(),
            input.len(),
            output.len(),
        )?;
        dense_f32(
            self.shape(batch),
            input,
            self.weights(),
            self.bias(),
            ActivationF32::NONE,
            output,
        )?;
        Ok(())
    }

    /// Input gradient `grad_input[b, i] = sum_o grad_output[b, o] * weights[o, i]` (overwritten);
    /// weight gradient `sum_b grad_output[b, o] * input[b, i]` and bias gradient
    /// `sum_b grad_output[b, o]` added into `grad_params` ([`dense_backward_f32`]). Reads
    /// `input`; `output` is only length-checked and `cache` must be empty.
    ///
    /// # Shapes
    /// - `input`, `grad_input`: `[batch, in_features]`
    /// - `output`, `grad_output`: `[batch, out_features]`
    /// - `cache`: `[]`
    /// - `grad_params`: the parameter layout of [`DenseConfig`]
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for `batch == 0`; [`ShapeError::Length`] naming the first wrong
    /// buffer; [`Error::Frozen`] if `grad_params` is given and the parameters are frozen. Nothing
    /// is written on error.
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grad_input: Option<&mut [f32]>,
        grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        check_backward(
            self,
            batch,
            input.len(),
            output.len(),
            cache.len(),
            grad_output.len(),
            grad_input.as_deref().map(<[f32]>::len),
            grad_params.as_deref().map(<[f32]>::len),
        )?;
        // In range: `check_backward` checked `grad_params` against `param_len`.
        let (grad_weights, grad_bias) = self.params.split_grads(grad_params);
        dense_backward_f32(
            self.shape(batch),
            input,
            self.weights(),
            grad_output,
            grad_input,
            grad_weights,
            grad_bias,
        )?;
        Ok(())
    }

    /// Weights from `init` with [`fans`](Dense::fans), bias zero.
    ///
    /// # Errors
    /// [`Error::Frozen`] for frozen parameters; [`Error::Config`] as [`Init::fill`]. Nothing is
    /// written on error.
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let fans = self.fans();
        self.params.init(init, fans, rng)
    }
}
