//! A sequential model: layers run one after the other, forward and backward, with every buffer
//! borrowed from the caller.

mod train;

pub use train::{TrainBufferLens, TrainBuffers};

use super::Layer;
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::rng::RngCore;
use crate::train::init::Init;

/// `N` layers of type `L` run in order. `L` is usually [`AnyLayer`](super::AnyLayer), the enum of
/// every f32 layer of this crate (no `dyn`, no allocation); any other type implementing [`Layer`]
/// works too.
///
/// # Buffers
///
/// | buffer | length (f32 values) | used by |
/// |---|---|---|
/// | activation cache | [`cache_len`](Self::cache_len)`(batch)`: every layer's output plus the layers' own caches | `forward_train`, `backward` |
/// | scratch | [`scratch_len`](Self::scratch_len)`(batch)`: two buffers of the widest intermediate activation | `forward`, `backward` |
/// | parameter gradients | [`param_len`](Self::param_len): the trainable layers' parameters, in layer order | `backward` |
///
/// Cache and scratch may be longer than required (so buffers sized for the largest batch serve
/// every smaller one); the other buffers must have exactly the documented length.
///
/// # Example
///
/// A 2 → 4 → 2 classifier, trained one step, with every buffer a fixed-size array (as a board
/// would put them in `static`s):
///
/// ```
/// use tinytune::layers::activation::{ActivationConfig, ActivationKind};
/// use tinytune::layers::dense::DenseConfig;
/// use tinytune::layers::{AnyLayer, Sequential, TrainBuffers};
/// use tinytune::rng::{SeedableRng, SeededRng};
/// use tinytune::train::{init::{FanMode, Init}, loss::softmax_cross_entropy, optim::Sgd};
///
/// # fn main() -> Result<(), tinytune::Error> {
/// let hidden = DenseConfig { in_features: 2, out_features: 4, bias: true };
/// let head = DenseConfig { in_features: 4, out_features: 2, bias: true };
/// let (mut p1, mut p2) = ([0.0f32; 12], [0.0f32; 10]); // param_len() of each
/// let relu = ActivationConfig { kind: ActivationKind::Relu, len: 4 };
/// let mut model = Sequential::new([
///     AnyLayer::from(hidden.init(&mut p1)?),
///     relu.init()?.into(),
///     head.init(&mut p2)?.into(),
/// ])?;
/// let mut rng = SeededRng::seed_from_u64(1);
/// model.init_params(Init::HeNormal(FanMode::FanIn), &mut rng)?;
///
/// // Buffers for batches of up to 2 samples.
/// let lens = model.train_buffer_lens(2);
/// let (mut cache, mut grad_out, mut grads, mut scratch) = ([0.0; 20], [0.0; 4], [0.0; 22], [0.0; 16]);
/// assert_eq!((lens.cache, lens.grad_output, lens.grads, lens.scratch), (20, 4, 22, 16));
/// let mut bufs = TrainBuffers {
///     cache: &mut cache,
///     grad_output: &mut grad_out,
///     grads: &mut grads,
///     scratch: &mut scratch,
///     opt_state: &mut [],
/// };
/// let (x, labels) = ([0.5, -1.0, -0.5, 1.0], [0u32, 1]);
/// let loss = model.train_batch(2, &x, &mut bufs, &mut rng,
///     |logits, grad| softmax_cross_entropy(2, logits, &labels, grad),
///     &mut Sgd::new(0.1))?;
/// assert!(loss.is_finite());
///
/// let mut logits = [0.0f32; 4];
/// model.forward(2, &x, &mut logits, bufs.scratch)?;
/// # Ok(())
/// # }
/// ```
pub struct Sequential<L, const N: usize> {
    layers: [L; N],
}

impl<L: Layer, const N: usize> Sequential<L, N> {
    /// Chains the layers, checking that each layer's per-sample input length equals the output
    /// length of the layer before.
    ///
    /// # Errors
    /// [`Error::Chain`] naming the first layer that does not fit; [`ShapeError::Dimension`] if
    /// `N == 0`.
    pub fn new(layers: [L; N]) -> Result<Self, Error> {
        if N == 0 {
            return Err(ShapeError::Dimension.into());
        }
        for (i, pair) in layers.windows(2).enumerate() {
            let (expected, actual) = (pair[0].output_len(), pair[1].input_len());
            if expected != actual {
                return Err(Error::Chain {
                    layer: i + 1,
                    expected,
                    actual,
                });
            }
        }
        Ok(Sequential { layers })
    }

    /// The layers.
    pub fn layers(&self) -> &[L; N] {
        &self.layers
    }

    /// The layers, for changing parameters or statistics in place.
    pub fn layers_mut(&mut self) -> &mut [L; N] {
        &mut self.layers
    }

    /// Gives the layers back.
    pub fn into_layers(self) -> [L; N] {
        self.layers
    }

    /// Input values per sample.
    pub fn input_len(&self) -> usize {
        self.layers.first().map_or(0, Layer::input_len)
    }

    /// Output values per sample.
    pub fn output_len(&self) -> usize {
        self.layers.last().map_or(0, Layer::output_len)
    }

    /// Number of trainable parameters: the length of the gradient buffer of
    /// [`backward`](Self::backward).
    pub fn param_len(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| l.is_trainable())
            .map(Layer::param_len)
            .sum()
    }

    /// Length of the activation cache for a batch of `batch` samples: every layer's output plus
    /// what each layer saves for its backward pass.
    pub fn cache_len(&self, batch: usize) -> usize {
        self.layers.iter().fold(0usize, |acc, l| {
            acc.saturating_add(batch.saturating_mul(l.output_len()))
                .saturating_add(l.cache_len(batch))
        })
    }

    /// Length of the scratch buffer of [`forward`](Self::forward) and
    /// [`backward`](Self::backward): two buffers of the widest intermediate activation (0 for a
    /// single layer).
    pub fn scratch_len(&self, batch: usize) -> usize {
        let widest = self.layers[..N.saturating_sub(1)]
            .iter()
            .map(Layer::output_len)
            .max()
            .unwrap_or(0);
        batch.saturating_mul(widest).saturating_mul(2)
    }

    /// Inference through every layer (dropout off, batch norm on running statistics).
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `output`: `[batch, output_len()]`
    /// - `scratch`: at least `scratch_len(batch)`
    ///
    /// # Errors
    /// [`ShapeError::Length`] for a wrong input, output or scratch length (nothing written), or
    /// the first error of a layer (for example [`Error::Index`] from an embedding).
    pub fn forward(
        &self,
        batch: usize,
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        super::check_io(
            batch,
            self.input_len(),
            self.output_len(),
            input.len(),
            output.len(),
        )?;
        let needed = self.scratch_len(batch);
        let scratch = min_prefix(Buffer::Scratch, scratch, needed)?;
        let (mut ping, mut pong) = scratch.split_at_mut(needed / 2);
        let mut ping_len = 0;
        for (i, layer) in self.layers.iter().enumerate() {
            let layer_input: &[f32] = if i == 0 { input } else { &ping[..ping_len] };
            if i + 1 == N {
                layer.forward(batch, layer_input, output)?;
            } else {
                let n_out = batch * layer.output_len();
                layer.forward(batch, layer_input, &mut pong[..n_out])?;
                core::mem::swap(&mut ping, &mut pong);
                ping_len = n_out;
            }
        }
        Ok(())
    }

    /// Training-mode forward pass: fills the activation cache and returns the model's output
    /// (the last layer's output, inside `cache`). Dropout layers draw their masks from `rng`;
    /// batch norm layers normalise with batch statistics and update their running statistics.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `cache`: at least `cache_len(batch)`
    /// - returned output: `[batch, output_len()]`
    ///
    /// # Errors
    /// [`ShapeError::Length`] for a wrong input or cache length, or the first error of a layer.
    pub fn forward_train<'c, R: RngCore + ?Sized>(
        &mut self,
        batch: usize,
        input: &[f32],
        cache: &'c mut [f32],
        rng: &mut R,
    ) -> Result<&'c [f32], Error> {
        if batch == 0 {
            return Err(ShapeError::Dimension.into());
        }
        check_len(Buffer::Input, batch * self.input_len(), input.len())?;
        let needed = self.cache_len(batch);
        let mut rest = min_prefix(Buffer::Cache, cache, needed)?;
        let mut layer_input: &[f32] = input;
        let mut output: &'c [f32] = &[];
        for layer in self.layers.iter_mut() {
            let n_out = batch * layer.output_len();
            let n_cache = layer.cache_len(batch);
            let (out, tail) = split_mut(core::mem::take(&mut rest), n_out)?;
            let (layer_cache, tail) = split_mut(tail, n_cache)?;
            layer.forward_train(batch, layer_input, out, layer_cache, rng)?;
            output = out;
            layer_input = output;
            rest = tail;
        }
        Ok(output)
    }

    /// Backward through every layer, after [`forward_train`](Self::forward_train) with the same
    /// `batch`, `input` and `cache`. Adds the gradients of the trainable parameters into `grads`
    /// (trainable layers in order, each in its own parameter order; zero it first unless
    /// accumulating over batches). Layers before the first trainable one are not visited.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `cache`: at least `cache_len(batch)`, as filled by `forward_train`
    /// - `grad_output`: `[batch, output_len()]`, the loss gradient with respect to the output
    /// - `grads`: `[param_len()]`
    /// - `scratch`: at least `scratch_len(batch)`
    ///
    /// # Errors
    /// [`ShapeError::Length`] naming the wrong buffer, or the first error of a layer.
    pub fn backward(
        &self,
        batch: usize,
        input: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grads: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        self.backward_impl(batch, input, cache, grad_output, grads, scratch, None)
    }

    /// [`backward`](Self::backward) that also writes the gradient with respect to the model's
    /// input into `grad_input` (every layer is visited): for a model that is the bottom of a
    /// larger one, as the shared layers of a teacher–student pair.
    ///
    /// # Shapes
    /// As [`backward`](Self::backward), and `grad_input`: `[batch, input_len()]`.
    ///
    /// # Errors
    /// As [`backward`](Self::backward), and [`ShapeError::Length`] naming `GradInput`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_with_input_grad(
        &self,
        batch: usize,
        input: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grads: &mut [f32],
        scratch: &mut [f32],
        grad_input: &mut [f32],
    ) -> Result<(), Error> {
        check_len(
            Buffer::GradInput,
            batch.saturating_mul(self.input_len()),
            grad_input.len(),
        )?;
        self.backward_impl(
            batch,
            input,
            cache,
            grad_output,
            grads,
            scratch,
            Some(grad_input),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn backward_impl(
        &self,
        batch: usize,
        input: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grads: &mut [f32],
        scratch: &mut [f32],
        mut model_grad_input: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        if batch == 0 {
            return Err(ShapeError::Dimension.into());
        }
        check_len(Buffer::Input, batch * self.input_len(), input.len())?;
        check_len(
            Buffer::GradOutput,
            batch * self.output_len(),
            grad_output.len(),
        )?;
        check_len(Buffer::GradParams, self.param_len(), grads.len())?;
        let cache_needed = self.cache_len(batch);
        if cache.len() < cache_needed {
            return Err(ShapeError::Length {
                buffer: Buffer::Cache,
                expected: cache_needed,
                actual: cache.len(),
            }
            .into());
        }
        let needed = self.scratch_len(batch);
        let scratch = min_prefix(Buffer::Scratch, scratch, needed)?;
        // The first layer visited: the first trainable one, or the first of all when the input
        // gradient is wanted.
        let first_trainable = if model_grad_input.is_some() {
            0
        } else {
            match self.layers.iter().position(Layer::is_trainable) {
                Some(i) => i,
                None => return Ok(()),
            }
        };

        // Where each layer's output, cache and parameter gradients are.
        let mut outputs: [&[f32]; N] = [&[]; N];
        let mut caches: [&[f32]; N] = [&[]; N];
        let mut grad_starts = [0usize; N];
        let (mut rest, mut grad_at) = (cache, 0usize);
        for (i, layer) in self.layers.iter().enumerate() {
            let (out, tail) = rest.split_at(batch * layer.output_len());
            let (c, tail) = tail.split_at(layer.cache_len(batch));
            outputs[i] = out;
            caches[i] = c;
            rest = tail;
            grad_starts[i] = grad_at;
            if layer.is_trainable() {
                grad_at += layer.param_len();
            }
        }

        let (mut ping, mut pong) = scratch.split_at_mut(needed / 2);
        let mut ping_len = 0;
        for i in (first_trainable..N).rev() {
            let layer = &self.layers[i];
            let layer_input = if i == 0 { input } else { outputs[i - 1] };
            let layer_grad_out: &[f32] = if i + 1 == N {
                grad_output
            } else {
                &ping[..ping_len]
            };
            let n_in = batch * layer.input_len();
            let grad_in = if i > first_trainable {
                Some(&mut pong[..n_in])
            } else {
                model_grad_input.take()
            };
            let grad_params = if layer.is_trainable() {
                let start = grad_starts[i];
                Some(&mut grads[start..start + layer.param_len()])
            } else {
                None
            };
            layer.backward(
                batch,
                layer_input,
                outputs[i],
                caches[i],
                layer_grad_out,
                grad_in,
                grad_params,
            )?;
            core::mem::swap(&mut ping, &mut pong);
            ping_len = n_in;
        }
        Ok(())
    }

    /// Calls `update(params, grads)` for every trainable layer with its parameters and its part
    /// of `grads` (as filled by [`backward`](Self::backward)): the hook for an optimizer step.
    ///
    /// # Errors
    /// [`ShapeError::Length`] if `grads` is not `param_len()` long.
    pub fn update_params(
        &mut self,
        grads: &[f32],
        mut update: impl FnMut(&mut [f32], &[f32]),
    ) -> Result<(), Error> {
        check_len(Buffer::GradParams, self.param_len(), grads.len())?;
        let mut rest = grads;
        for layer in self.layers.iter_mut().filter(|l| l.is_trainable()) {
            let (g, tail) = rest.split_at(layer.param_len());
            if let Some(p) = layer.params_mut() {
                update(p, g);
            }
            rest = tail;
        }
        Ok(())
    }

    /// Re-initialises every trainable layer's parameters (see [`Layer::init_params`]); frozen
    /// layers are left alone.
    ///
    /// # Errors
    /// [`Error::Config`] as [`Init::fill`].
    pub fn init_params<R: RngCore + ?Sized>(
        &mut self,
        init: Init,
        rng: &mut R,
    ) -> Result<(), Error> {
        for layer in self.layers.iter_mut().filter(|l| l.is_trainable()) {
            layer.init_params(init, rng)?;
        }
        Ok(())
    }
}

/// The first `needed` values of a buffer that must be at least that long.
fn min_prefix(buffer: Buffer, buf: &mut [f32], needed: usize) -> Result<&mut [f32], ShapeError> {
    let actual = buf.len();
    buf.get_mut(..needed).ok_or(ShapeError::Length {
        buffer,
        expected: needed,
        actual,
    })
}

/// `split_at_mut` that reports a short cache instead of panicking.
fn split_mut(buf: &mut [f32], mid: usize) -> Result<(&mut [f32], &mut [f32]), ShapeError> {
    let actual = buf.len();
    buf.split_at_mut_checked(mid).ok_or(ShapeError::Length {
        buffer: Buffer::Cache,
        expected: mid,
        actual,
    })
}

#[cfg(test)]
mod tests;
