//! The pre-LN transformer encoder block.
//!
//! - `config`: [`TransformerEncoderConfig`] and the validated sizes;
//! - `norm`: the layer norms (forward and the recomputation backward needs);
//! - `forward`: inference (plain or observed, see [`EncoderStage`]) and training forward;
//! - `backward`: the backward pass;
//! - `stage`: [`EncoderStage`], the named intermediate activations.

mod backward;
mod config;
mod forward;
mod norm;
mod stage;

pub use config::TransformerEncoderConfig;
pub use stage::EncoderStage;

use super::common::{check_lengths, take_mut};
use super::mha::init_mha;
use crate::error::Error;
use crate::layers::{check_io, Params};
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};
use config::EncDims;

/// A pre-LN transformer encoder block (Xiong et al. 2020), per sample `x` `[seq, width]`:
///
/// ```text
/// y   = x + dropout(MHA(LN1(x)))
/// out = y + dropout(W2 · GELU(W1 · LN2(y) + b1) + b2)
/// ```
///
/// with GELU in its exact (erf) form and inverted dropout (training only: each value kept with
/// probability `1 - dropout` and scaled by `1 / (1 - dropout)`; the identity in inference). The
/// masks are drawn from the caller's rng in `forward_train` and kept in the cache, so
/// `backward` uses exactly them. Padding (`lengths`) masks keys as in
/// [`MultiHeadAttention`](super::MultiHeadAttention).
///
/// Like the attention layer it takes explicit scratch and lengths instead of implementing
/// [`Layer`](crate::layers::Layer). [`forward_observed`](Self::forward_observed) runs inference
/// while reporting every intermediate activation ([`EncoderStage`]), the ranges an int8 block
/// is calibrated from.
#[derive(Debug)]
pub struct TransformerEncoder<'a> {
    config: TransformerEncoderConfig,
    dims: EncDims,
    /// `1 - dropout`.
    keep: f32,
    params: Params<'a>,
}

impl TransformerEncoder<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &TransformerEncoderConfig {
        &self.config
    }

    /// Values per sample of the input and of the output, `seq · width`.
    pub fn io_len(&self) -> usize {
        self.dims.mha.sw
    }

    /// Number of parameters.
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

    /// Scratch values every call needs (at least; the same for every `batch`): with
    /// `s, w, h, f` = seq, width, heads, ff,
    /// `max(s·w + max(4·s·w + h·s², s·f), 2·s·w + max(2·s·f, 6·s·w))`.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        self.dims.scratch
    }

    /// Values [`forward_train`](Self::forward_train) saves for backward:
    /// `batch · (4·s + 7·s·w + h·s² + s·f)` (layer-norm statistics, the attention's Q, K, V,
    /// heads and probabilities, the two dropout masks, the first residual sum and the
    /// feed-forward pre-activation). Saturates on overflow (the length checks then fail).
    pub fn cache_len(&self, batch: usize) -> usize {
        batch.saturating_mul(self.dims.cache)
    }

    /// Layer-norm scales 1 and shifts 0, every weight matrix from `init` with its fans, biases 0.
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
        let mut r = params;
        let [ln1, mha, ln2, w1, b1, w2, b2] = d.lens().map(|n| take_mut(&mut r, n));
        for ln in [ln1, ln2] {
            let (gamma, beta) = ln.split_at_mut(d.mha.width);
            gamma.fill(1.0);
            beta.fill(0.0);
        }
        for b in [b1, b2] {
            b.fill(0.0);
        }
        init_mha(&d.mha, mha, init, rng)?;
        let (w, f) = (d.mha.width, d.ff);
        init.fill(
            w1,
            Fans {
                fan_in: w,
                fan_out: f,
            },
            rng,
        )?;
        init.fill(
            w2,
            Fans {
                fan_in: f,
                fan_out: w,
            },
            rng,
        )
    }

    fn check(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: usize,
        output: usize,
    ) -> Result<(), Error> {
        let sw = self.dims.mha.sw;
        check_io(batch, sw, sw, input, output)?;
        check_lengths(lengths, batch)?;
        Ok(())
    }
}
