//! [`AnyLayer`]: the enum of every f32 layer, so a [`Sequential`](super::Sequential) can hold a
//! mixed stack without `dyn` or allocation.

use super::activation::Activation;
use super::batch_norm::BatchNorm;
use super::conv::{Conv1d, Conv2d};
use super::dense::Dense;
use super::depthwise::DepthwiseConv2d;
use super::dropout::Dropout;
use super::embedding::Embedding;
use super::layer_norm::LayerNorm;
use super::pool::{GlobalAvgPool, Pool1d, Pool2d};
use super::reshape::Reshape;
use super::Layer;
use crate::error::Error;
use crate::rng::RngCore;
use crate::train::init::Init;

/// Any f32 layer of this crate. Every variant converts with `From`, so a model is written as
/// `Sequential::new([dense.into(), relu.into(), …])`.
pub enum AnyLayer<'a> {
    /// Fully connected.
    Dense(Dense<'a>),
    /// 1-D convolution.
    Conv1d(Conv1d<'a>),
    /// 2-D convolution.
    Conv2d(Conv2d<'a>),
    /// Depthwise 2-D convolution.
    DepthwiseConv2d(DepthwiseConv2d<'a>),
    /// Max or average pooling over a sequence.
    Pool1d(Pool1d),
    /// Max or average pooling over an image.
    Pool2d(Pool2d),
    /// Average over all positions.
    GlobalAvgPool(GlobalAvgPool),
    /// Reshape or flatten (a copy).
    Reshape(Reshape),
    /// Batch normalisation.
    BatchNorm(BatchNorm<'a>),
    /// Layer normalisation.
    LayerNorm(LayerNorm<'a>),
    /// Embedding lookup.
    Embedding(Embedding<'a>),
    /// Inverted dropout.
    Dropout(Dropout),
    /// Elementwise activation or softmax.
    Activation(Activation),
}

/// Runs `$body` with `$l` bound to the inner layer of whichever variant `$self` is.
macro_rules! dispatch {
    ($self:expr, $l:ident => $body:expr) => {
        match $self {
            AnyLayer::Dense($l) => $body,
            AnyLayer::Conv1d($l) => $body,
            AnyLayer::Conv2d($l) => $body,
            AnyLayer::DepthwiseConv2d($l) => $body,
            AnyLayer::Pool1d($l) => $body,
            AnyLayer::Pool2d($l) => $body,
            AnyLayer::GlobalAvgPool($l) => $body,
            AnyLayer::Reshape($l) => $body,
            AnyLayer::BatchNorm($l) => $body,
            AnyLayer::LayerNorm($l) => $body,
            AnyLayer::Embedding($l) => $body,
            AnyLayer::Dropout($l) => $body,
            AnyLayer::Activation($l) => $body,
        }
    };
}

impl Layer for AnyLayer<'_> {
    fn input_len(&self) -> usize {
        dispatch!(self, l => l.input_len())
    }

    fn output_len(&self) -> usize {
        dispatch!(self, l => l.output_len())
    }

    fn param_len(&self) -> usize {
        dispatch!(self, l => l.param_len())
    }

    fn params(&self) -> &[f32] {
        dispatch!(self, l => l.params())
    }

    fn params_mut(&mut self) -> Option<&mut [f32]> {
        dispatch!(self, l => l.params_mut())
    }

    fn is_trainable(&self) -> bool {
        dispatch!(self, l => l.is_trainable())
    }

    fn cache_len(&self, batch: usize) -> usize {
        dispatch!(self, l => l.cache_len(batch))
    }

    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        dispatch!(self, l => l.forward(batch, input, output))
    }

    fn forward_train<R: RngCore + ?Sized>(
        &mut self,
        batch: usize,
        input: &[f32],
        output: &mut [f32],
        cache: &mut [f32],
        rng: &mut R,
    ) -> Result<(), Error> {
        dispatch!(self, l => l.forward_train(batch, input, output, cache, rng))
    }

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
        dispatch!(self, l => l.backward(batch, input, output, cache, grad_output, grad_input, grad_params))
    }

    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        dispatch!(self, l => l.init_params(init, rng))
    }
}

macro_rules! from_layer {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl<'a> From<$ty> for AnyLayer<'a> {
            fn from(l: $ty) -> Self {
                AnyLayer::$variant(l)
            }
        })*
    };
}

from_layer!(
    Dense(Dense<'a>),
    Conv1d(Conv1d<'a>),
    Conv2d(Conv2d<'a>),
    DepthwiseConv2d(DepthwiseConv2d<'a>),
    Pool1d(Pool1d),
    Pool2d(Pool2d),
    GlobalAvgPool(GlobalAvgPool),
    Reshape(Reshape),
    BatchNorm(BatchNorm<'a>),
    LayerNorm(LayerNorm<'a>),
    Embedding(Embedding<'a>),
    Dropout(Dropout),
    Activation(Activation),
);
