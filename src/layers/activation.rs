//! Activation layer: an elementwise function (ReLU, ReLU6, leaky ReLU, sigmoid, tanh, GELU) or a
//! softmax over consecutive groups of values (f32, no parameters, no cache).
//!
//! Forward copies the input to the output and applies the in-place kernel of
//! [`kernels::generic::activation`](crate::kernels::generic::activation), or runs
//! [`softmax_f32`] out of place. Backward uses the derivative in the cheapest exact form the
//! kernels of [`grad::activation`](crate::kernels::generic::grad::activation) offer: from the
//! input for the piecewise-linear functions and GELU, from the output for sigmoid, tanh and
//! softmax.

use crate::error::{Error, ShapeError};
use crate::kernels::generic::activation::{
    gelu_f32, leaky_relu_f32, relu6_f32, relu_f32, sigmoid_f32, tanh_f32,
};
use crate::kernels::generic::grad::activation::{
    gelu_backward_f32, leaky_relu_backward_f32, relu6_backward_f32, relu_backward_f32,
    sigmoid_backward_f32, softmax_backward_f32, tanh_backward_f32,
};
use crate::kernels::generic::softmax::softmax_f32;
use crate::layers::{check_backward, check_io, Layer};

/// The function an [`Activation`] layer applies.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ActivationKind {
    /// `max(x, 0)`; derivative 1 for `x > 0`, 0 for `x <= 0`.
    Relu,
    /// `min(max(x, 0), 6)`; derivative 1 on `(0, 6)`, 0 elsewhere.
    Relu6,
    /// `x` for `x >= 0`, `alpha * x` below; derivative 1 for `x >= 0`, `alpha` below. `alpha`
    /// must be finite.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// `1 / (1 + e^-x)`; derivative `y (1 - y)`.
    Sigmoid,
    /// `tanh x`; derivative `1 - y²`.
    Tanh,
    /// Exact GELU `x Φ(x)`; derivative `Φ(x) + x φ(x)`.
    Gelu,
    /// Softmax over each consecutive group of `depth` values (the last axis of a
    /// `[…, depth]` tensor); `depth` must divide the layer's `len`.
    Softmax {
        /// Number of values normalised together.
        depth: usize,
    },
}

/// An activation layer over `len` values per sample (any shape; it is elementwise, or grouped
/// by `depth` for softmax). No parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ActivationConfig {
    /// The function.
    pub kind: ActivationKind,
    /// Values per sample.
    pub len: usize,
}

impl ActivationConfig {
    /// Validates the configuration and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `len` or a softmax `depth` is 0; [`ShapeError::Parameter`] if
    /// a softmax `depth` does not divide `len`; [`Error::Config`] if a leaky ReLU `alpha` is NaN
    /// or infinite.
    pub fn init(self) -> Result<Activation, Error> {
        if self.len == 0 {
            return Err(ShapeError::Dimension.into());
        }
        match self.kind {
            ActivationKind::Softmax { depth: 0 } => return Err(ShapeError::Dimension.into()),
            ActivationKind::Softmax { depth } if !self.len.is_multiple_of(depth) => {
                return Err(ShapeError::Parameter.into())
            }
            ActivationKind::LeakyRelu { alpha } if !alpha.is_finite() => return Err(Error::Config),
            _ => {}
        }
        Ok(Activation { config: self })
    }
}

/// An activation layer; see [`ActivationConfig`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Activation {
    config: ActivationConfig,
}

impl Activation {
    /// The configuration.
    pub fn config(&self) -> &ActivationConfig {
        &self.config
    }

    /// The function applied.
    pub fn kind(&self) -> ActivationKind {
        self.config.kind
    }
}

impl Layer for Activation {
    fn input_len(&self) -> usize {
        self.config.len
    }

    fn output_len(&self) -> usize {
        self.config.len
    }

    /// Applies the function. NaN inputs give NaN outputs (softmax: NaN or +inf anywhere in a
    /// group makes the whole group NaN).
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, len]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the batch size overflows;
    /// [`ShapeError::Length`] (`Input`, `Output`) for a wrong buffer length. Nothing is written
    /// on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        let len = self.config.len;
        check_io(batch, len, len, input.len(), output.len())?;
        if let ActivationKind::Softmax { depth } = self.config.kind {
            softmax_f32(depth, input, output)?;
            return Ok(());
        }
        output.copy_from_slice(input);
        match self.config.kind {
            ActivationKind::Relu => relu_f32(output),
            ActivationKind::Relu6 => relu6_f32(output),
            ActivationKind::LeakyRelu { alpha } => leaky_relu_f32(output, alpha),
            ActivationKind::Sigmoid => sigmoid_f32(output),
            ActivationKind::Tanh => tanh_f32(output),
            ActivationKind::Gelu => gelu_f32(output),
            // Handled above.
            ActivationKind::Softmax { .. } => {}
        }
        Ok(())
    }

    /// Writes the input gradient `grad_output ⊙ f'` (softmax: `y ⊙ (g - Σ g ⊙ y)` per group).
    /// The derivative is taken from `input` (ReLU, ReLU6, leaky ReLU, GELU) or `output`
    /// (sigmoid, tanh, softmax). NaN there or in `grad_output` gives NaN gradients.
    ///
    /// # Shapes
    /// `input`, `output`, `grad_output`, `grad_input`: `[batch, len]`; `cache`: empty;
    /// `grad_params`: empty if given.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0; [`ShapeError::Length`] naming the first buffer
    /// of wrong length. Nothing is written on error.
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
        let Some(gi) = grad_input else {
            return Ok(());
        };
        let (x, y, g) = (input, output, grad_output);
        match self.config.kind {
            ActivationKind::Relu => relu_backward_f32(x, g, gi)?,
            ActivationKind::Relu6 => relu6_backward_f32(x, g, gi)?,
            ActivationKind::LeakyRelu { alpha } => leaky_relu_backward_f32(alpha, x, g, gi)?,
            ActivationKind::Sigmoid => sigmoid_backward_f32(y, g, gi)?,
            ActivationKind::Tanh => tanh_backward_f32(y, g, gi)?,
            ActivationKind::Gelu => gelu_backward_f32(x, g, gi)?,
            ActivationKind::Softmax { depth } => softmax_backward_f32(depth, y, g, gi)?,
        }
        Ok(())
    }
}
