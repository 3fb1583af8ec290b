//! Layers: configured once, then run forward (and, in f32, backward) over caller buffers.
//!
//! Every layer follows the same pattern:
//!
//! - A `…Config { … }` struct describes it; `config.param_len()` says how many parameters it
//!   has, and `config.init(params)` validates every shape once and returns the layer, or an
//!   [`Error`]. The layer borrows its parameters as [`Params`]: `&[f32]` (frozen, for example in
//!   flash) or `&mut [f32]` (trainable, in RAM).
//! - Shapes are per sample; the batch size is an argument of each call, and the buffers are
//!   `[batch, …]` row-major (feature maps NHWC).
//! - f32 layers implement [`Layer`]: `forward` (inference), `forward_train` (training mode: dropout
//!   draws its mask, batch norm uses batch statistics; whatever backward needs beyond the layer's
//!   input and output goes into a caller cache of [`Layer::cache_len`] values) and `backward`
//!   (gradient with respect to the input, and accumulated gradients of the parameters).
//! - int8 inference layers live in [`s8`]; they take the quantized weights and requantizers
//!   computed on the host and never allocate.
//!
//! No layer in the table below needs scratch memory beyond its cache; [`Sequential`] needs two
//! activation-sized buffers, which it sizes itself. The attention layers ([`attention`]:
//! multi-head self-attention, the pre-LN transformer encoder block, positional encodings, class
//! token, sequence pooling) need scratch for their projections and scores, so they have their
//! own `forward`/`backward` methods with a caller scratch of `scratch_len(batch)` values and a
//! per-sample padding mask; their int8 inference counterparts are in [`s8::attention`]. They are
//! not (yet) part of [`AnyLayer`] and [`Sequential`].
//!
//! # The f32 layers
//!
//! | layer | parameters, in order | cache (f32 values) |
//! |---|---|---|
//! | [`dense::Dense`] | weights `[out, in]`, bias `[out]` | 0 |
//! | [`conv::Conv1d`] | weights `[out_c, kernel, in_c]`, bias `[out_c]` | 0 |
//! | [`conv::Conv2d`] | weights `[out_c, kh, kw, in_c]` (OHWI), bias `[out_c]` | 0 |
//! | [`depthwise::DepthwiseConv2d`] | weights `[kh, kw, in_c·multiplier]`, bias `[in_c·multiplier]` | 0 |
//! | [`pool::Pool1d`], [`pool::Pool2d`] (max, average), [`pool::GlobalAvgPool`] | none | 0 |
//! | [`reshape::Reshape`] (= [`reshape::Flatten`]) | none | 0 |
//! | [`batch_norm::BatchNorm`] | gamma `[c]`, beta `[c]`; running mean and variance as separate statistics | `2·c` |
//! | [`layer_norm::LayerNorm`] | gamma `[dim]`, beta `[dim]` | `2·batch·positions` |
//! | [`embedding::Embedding`] | table `[vocab, dim]` | 0 |
//! | [`dropout::Dropout`] | none | `batch·len` (the mask) |
//! | [`activation::Activation`]: ReLU, ReLU6, leaky ReLU, sigmoid, tanh, GELU, softmax | none | 0 |
//!
//! [`fold`] folds an inference batch norm into the dense or convolution layer before it, for
//! deployment. [`AnyLayer`] is the enum of all of them that [`Sequential`] runs.

mod any;
mod params;

pub mod activation;
pub mod attention;
pub mod batch_norm;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod dropout;
pub mod embedding;
pub mod fold;
pub mod layer_norm;
pub mod pool;
pub mod reshape;
pub mod s8;
mod sequential;
mod weighted;

pub use any::AnyLayer;
pub use params::Params;
pub use sequential::{Sequential, TrainBufferLens, TrainBuffers};

use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::rng::RngCore;
use crate::train::init::Init;

/// An f32 layer that can run forward and backward. Implemented by every f32 layer type, and by
/// the enum [`Sequential`] runs over.
///
/// # Contract
///
/// - Lengths are per sample: `input` holds `batch * input_len()` values, `output`
///   `batch * output_len()`. Every method checks the buffer lengths it is given and returns
///   [`ShapeError::Length`] (naming the buffer) or [`ShapeError::Dimension`] (`batch == 0`)
///   before writing anything. No method panics on any input; NaN inputs give NaN outputs.
/// - `backward` is called with the same `batch`, `input` and `cache` as the `forward_train` that
///   produced `output`. It **overwrites** `grad_input` (when given) and **adds** the parameter
///   gradients into `grad_params` (when given; `param_len()` values in the layer's parameter
///   order), so gradients can be accumulated over several batches. It must not be given
///   `grad_params` for frozen parameters; it then returns [`Error::Frozen`].
pub trait Layer {
    /// Number of input values per sample.
    fn input_len(&self) -> usize;

    /// Number of output values per sample.
    fn output_len(&self) -> usize;

    /// Number of parameters (0 for layers without any).
    fn param_len(&self) -> usize {
        0
    }

    /// The parameters, in the layer's documented order (empty for layers without any).
    fn params(&self) -> &[f32] {
        &[]
    }

    /// The parameters for writing, or `None` if they are frozen or the layer has none.
    fn params_mut(&mut self) -> Option<&mut [f32]> {
        None
    }

    /// Whether the parameters may be updated (false for frozen parameters and for layers
    /// without any).
    fn is_trainable(&self) -> bool {
        false
    }

    /// Number of f32 values `forward_train` saves for `backward` beyond the input and output,
    /// for a batch of `batch` samples.
    fn cache_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }

    /// Inference: dropout is the identity, batch norm uses its running statistics.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `output`: `[batch, output_len()]`
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong buffer length or `batch == 0`; [`Error::Index`] for an
    /// embedding id out of range.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error>;

    /// Training mode: dropout draws a mask from `rng`, batch norm normalises with the batch's
    /// statistics and updates its running statistics. Fills `cache` (of `cache_len(batch)`
    /// values) for `backward`. The default runs `forward`.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `output`: `[batch, output_len()]`
    /// - `cache`: `[cache_len(batch)]`
    ///
    /// # Errors
    /// As `forward`, plus [`Error::Frozen`] if the layer must update statistics it was given
    /// read-only.
    fn forward_train<R: RngCore + ?Sized>(
        &mut self,
        batch: usize,
        input: &[f32],
        output: &mut [f32],
        cache: &mut [f32],
        rng: &mut R,
    ) -> Result<(), Error> {
        let _ = rng;
        check_len(Buffer::Cache, self.cache_len(batch), cache.len())?;
        self.forward(batch, input, output)
    }

    /// Backward: from `grad_output` (`dL/d output`), writes `dL/d input` into `grad_input` if
    /// given and adds `dL/d params` into `grad_params` if given.
    ///
    /// # Shapes
    /// - `input`, `grad_input`: `[batch, input_len()]`
    /// - `output`, `grad_output`: `[batch, output_len()]`
    /// - `cache`: `[cache_len(batch)]`, as `forward_train` filled it
    /// - `grad_params`: `[param_len()]`
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong buffer length; [`Error::Frozen`] if `grad_params` is given for
    /// frozen parameters.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grad_input: Option<&mut [f32]>,
        grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error>;

    /// Re-initialises the parameters: weights with `init` (given the layer's fans), biases and
    /// shifts with zeros, normalisation scales with ones. Layers without parameters do nothing.
    ///
    /// # Errors
    /// [`Error::Frozen`] if the parameters are frozen; [`Error::Config`] as [`Init::fill`].
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let _ = (init, rng);
        Ok(())
    }
}

/// Checks `batch > 0` and the input and output lengths of a call with per-sample lengths
/// `input_len` and `output_len`. Returns `(batch * input_len, batch * output_len)`.
pub(crate) fn check_io(
    batch: usize,
    input_len: usize,
    output_len: usize,
    input: usize,
    output: usize,
) -> Result<(usize, usize), ShapeError> {
    if batch == 0 {
        return Err(ShapeError::Dimension);
    }
    let n_in = batch.checked_mul(input_len).ok_or(ShapeError::Dimension)?;
    let n_out = batch.checked_mul(output_len).ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Input, n_in, input)?;
    check_len(Buffer::Output, n_out, output)?;
    Ok((n_in, n_out))
}

/// Checks the buffers of a backward call: input, output, the cache, the output gradient, and
/// (when given) the input gradient and the parameter gradients: `grad_params` for a layer whose
/// parameters are frozen is [`Error::Frozen`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_backward<L: Layer + ?Sized>(
    layer: &L,
    batch: usize,
    input: usize,
    output: usize,
    cache: usize,
    grad_output: usize,
    grad_input: Option<usize>,
    grad_params: Option<usize>,
) -> Result<(), Error> {
    let (n_in, n_out) = check_io(batch, layer.input_len(), layer.output_len(), input, output)?;
    check_len(Buffer::Cache, layer.cache_len(batch), cache)?;
    check_len(Buffer::GradOutput, n_out, grad_output)?;
    if let Some(g) = grad_input {
        check_len(Buffer::GradInput, n_in, g)?;
    }
    if let Some(g) = grad_params {
        if !layer.is_trainable() && layer.param_len() > 0 {
            return Err(Error::Frozen);
        }
        check_len(Buffer::GradParams, layer.param_len(), g)?;
    }
    Ok(())
}
