//! Multi-head self-attention.

mod dims;

pub(super) use dims::Dims;

use super::common::{check_lengths, check_scratch, mask, sub_mut};
use crate::error::{check_len, Buffer, Error};
use crate::layers::{check_io, Params};
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};

/// Configuration of a [`MultiHeadAttention`] layer: self-attention over `seq` positions of
/// `width` features with `heads` heads of `width / heads` features each.
///
/// # Buffers
/// - parameters ([`param_len`](Self::param_len) `= 4 · (width² + width)`), in order:
///   `Wq [width, width], bq [width], Wk, bk, Wv, bv, Wo [width, width], bo [width]` (dense
///   weights `[out, in]`); head `h` uses columns `h·d .. (h+1)·d` of the projected Q, K, V,
///   with `d = width / heads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MultiHeadAttentionConfig {
    /// Positions per sample.
    pub seq: usize,
    /// Features per position (the model width).
    pub width: usize,
    /// Number of heads; divides `width`.
    pub heads: usize,
    /// Whether query `i` sees only keys `j ≤ i`.
    pub causal: bool,
}

impl MultiHeadAttentionConfig {
    /// Number of parameters, `4 · (width² + width)`.
    ///
    /// # Errors
    /// As [`init`](Self::init), without the parameter length.
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(Dims::new(self.seq, self.width, self.heads)?.params)
    }

    /// Validates the configuration and borrows the parameters.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) if `seq`, `width` or `heads` is zero or a size overflows;
    /// [`ShapeError::Parameter`](crate::ShapeError::Parameter) if `heads` does not divide `width`; [`ShapeError::Length`](crate::ShapeError::Length)
    /// with [`Buffer::Params`] if `params` does not hold [`param_len`](Self::param_len) values.
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<MultiHeadAttention<'a>, Error> {
        let dims = Dims::new(self.seq, self.width, self.heads)?;
        let params = params.into();
        check_len(Buffer::Params, dims.params, params.len())?;
        Ok(MultiHeadAttention {
            config: self,
            dims,
            params,
        })
    }
}

/// Multi-head self-attention: per sample `x` `[seq, width]`,
/// `Q = x·Wqᵀ + bq`, `K`, `V` likewise, head `h` attends with its columns of Q, K, V
/// (`softmax(Q_h·K_hᵀ/√d)·V_h`, see [`attention_f32`](crate::kernels::generic::attention::attention_f32)), and the heads, concatenated, go
/// through `Wo`, `bo`.
///
/// Padding is given per call as each sample's valid length (`lengths`, one per sample; `None`
/// for no padding, values `≥ seq` mean no padding): keys from the valid length on are masked
/// for every query, and a query that sees no key gives `bo` (its attention output is zero).
/// Outputs at padded positions are computed like the others (they attend to the valid keys);
/// a pooling over the valid positions ([`MeanPool`](super::MeanPool)) keeps them out of the
/// result.
///
/// The layer does not implement [`Layer`](crate::layers::Layer): it needs scratch memory
/// ([`scratch_len`](Self::scratch_len)) and the valid lengths.
#[derive(Debug)]
pub struct MultiHeadAttention<'a> {
    config: MultiHeadAttentionConfig,
    dims: Dims,
    params: Params<'a>,
}

impl MultiHeadAttention<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &MultiHeadAttentionConfig {
        &self.config
    }

    /// Values per sample of the input and of the output, `seq · width`.
    pub fn io_len(&self) -> usize {
        self.dims.sw
    }

    /// Number of parameters, `4 · (width² + width)`.
    pub fn param_len(&self) -> usize {
        self.dims.params
    }

    /// The parameters, in the documented order.
    pub fn params(&self) -> &[f32] {
        self.params.as_slice()
    }

    /// The parameters for writing, or `None` if frozen.
    pub fn params_mut(&mut self) -> Option<&mut [f32]> {
        self.params.as_mut_slice()
    }

    /// Whether the parameters may be updated.
    pub fn is_trainable(&self) -> bool {
        self.params.is_trainable()
    }

    /// Scratch values every call needs (at least; the same for every `batch`, samples are
    /// processed one at a time): `4·seq·width + heads·seq²` (forward: Q, K, V, the
    /// concatenated heads, the probabilities; backward uses `4·seq·width` of it).
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        self.dims.saved
    }

    /// Values [`forward_train`](Self::forward_train) saves for backward:
    /// `batch · (4·seq·width + heads·seq²)` (Q, K, V, the concatenated heads and the
    /// probabilities of each sample). Saturates on overflow (the length checks then fail).
    pub fn cache_len(&self, batch: usize) -> usize {
        batch.saturating_mul(self.dims.saved)
    }

    /// Weights from `init` (fans `width`, `width`), biases zero.
    ///
    /// # Errors
    /// [`Error::Frozen`] if the parameters are frozen; [`Error::Config`] as [`Init::fill`].
    pub fn init_params<R: RngCore + ?Sized>(
        &mut self,
        init: Init,
        rng: &mut R,
    ) -> Result<(), Error> {
        let d = self.dims;
        let params = self.params.as_mut_slice().ok_or(Error::Frozen)?;
        init_mha(&d, params, init, rng)
    }

    fn check(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: usize,
        output: usize,
    ) -> Result<(), Error> {
        check_io(batch, self.dims.sw, self.dims.sw, input, output)?;
        check_lengths(lengths, batch)?;
        Ok(())
    }

    /// Inference.
    ///
    /// # Shapes
    /// - `lengths`: `[batch]` valid lengths, or `None`
    /// - `input`, `output`: `[batch, seq, width]`
    /// - `scratch`: at least [`scratch_len`](Self::scratch_len) values, overwritten
    ///
    /// # Errors
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) if `batch == 0` or a size overflows; [`ShapeError::Length`](crate::ShapeError::Length)
    /// naming the first wrong buffer (`Input`, `Output`, `Input2` for `lengths`, `Scratch`).
    /// Nothing is written to `output` on a length error.
    pub fn forward(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        self.check(batch, lengths, input.len(), output.len())?;
        check_scratch(self.dims.saved, scratch.len())?;
        let d = &self.dims;
        let work = sub_mut(scratch, 0, d.saved);
        for (b, (x, y)) in input
            .chunks_exact(d.sw)
            .zip(output.chunks_exact_mut(d.sw))
            .enumerate()
        {
            let m = mask(self.config.causal, lengths, b, d.seq);
            d.forward(self.params.as_slice(), m, x, y, work)?;
        }
        Ok(())
    }

    /// Training forward: as [`forward`](Self::forward), saving what backward needs in `cache`
    /// (no scratch needed).
    ///
    /// # Shapes
    /// As [`forward`](Self::forward), and `cache`: [`cache_len`](Self::cache_len) values.
    ///
    /// # Errors
    /// As [`forward`](Self::forward), and [`ShapeError::Length`](crate::ShapeError::Length) with [`Buffer::Cache`].
    pub fn forward_train(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
        cache: &mut [f32],
    ) -> Result<(), Error> {
        self.check(batch, lengths, input.len(), output.len())?;
        check_len(Buffer::Cache, self.cache_len(batch), cache.len())?;
        let d = &self.dims;
        let samples = input.chunks_exact(d.sw).zip(output.chunks_exact_mut(d.sw));
        for (b, ((x, y), c)) in samples.zip(cache.chunks_exact_mut(d.saved)).enumerate() {
            let m = mask(self.config.causal, lengths, b, d.seq);
            d.forward(self.params.as_slice(), m, x, y, c)?;
        }
        Ok(())
    }

    /// Backward: overwrites `grad_input` (when given) with `dL/d input` and adds `dL/d params`
    /// into `grad_params` (when given, in the parameter order).
    ///
    /// # Shapes
    /// - `lengths`: as given to [`forward_train`](Self::forward_train)
    /// - `input`, `output`, `grad_output`, `grad_input`: `[batch, seq, width]`
    /// - `cache`: as filled by [`forward_train`](Self::forward_train)
    /// - `grad_params`: [`param_len`](Self::param_len) values
    /// - `scratch`: at least [`scratch_len`](Self::scratch_len) values, overwritten
    ///
    /// # Errors
    /// [`ShapeError::Length`](crate::ShapeError::Length) naming the first wrong buffer (`Input`, `Output`, `Input2`,
    /// `Cache`, `GradOutput`, `GradInput`, `GradParams`, `Scratch`); [`Error::Frozen`] if
    /// `grad_params` is given for frozen parameters. Nothing is written on error.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        mut grad_input: Option<&mut [f32]>,
        mut grad_params: Option<&mut [f32]>,
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        self.check(batch, lengths, input.len(), output.len())?;
        let d = &self.dims;
        check_len(Buffer::Cache, self.cache_len(batch), cache.len())?;
        check_len(Buffer::GradOutput, output.len(), grad_output.len())?;
        if let Some(g) = grad_input.as_deref() {
            check_len(Buffer::GradInput, input.len(), g.len())?;
        }
        if let Some(g) = grad_params.as_deref() {
            if !self.is_trainable() {
                return Err(Error::Frozen);
            }
            check_len(Buffer::GradParams, d.params, g.len())?;
        }
        check_scratch(4 * d.sw, scratch.len())?;
        let work = sub_mut(scratch, 0, 4 * d.sw);
        let per_sample = input
            .chunks_exact(d.sw)
            .zip(cache.chunks_exact(d.saved))
            .zip(grad_output.chunks_exact(d.sw));
        for (b, ((x, c), go)) in per_sample.enumerate() {
            let m = mask(self.config.causal, lengths, b, d.seq);
            let gx = grad_input
                .as_deref_mut()
                .map(|g| sub_mut(g, b * d.sw, d.sw));
            d.backward(
                self.params.as_slice(),
                m,
                x,
                c,
                go,
                gx,
                grad_params.as_deref_mut(),
                work,
            )?;
        }
        Ok(())
    }
}

/// Initialises MHA parameters: each projection's weights from `init` (fans `width`, `width`),
/// its bias zero.
pub(super) fn init_mha<R: RngCore + ?Sized>(
    d: &Dims,
    params: &mut [f32],
    init: Init,
    rng: &mut R,
) -> Result<(), Error> {
    let fans = Fans {
        fan_in: d.width,
        fan_out: d.width,
    };
    for block in params.chunks_exact_mut(d.block) {
        let (w, b) = block.split_at_mut(d.width * d.width);
        init.fill(w, fans, rng)?;
        b.fill(0.0);
    }
    Ok(())
}
