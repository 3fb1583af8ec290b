//! [`TransformerEncoderConfig`] and the validated sizes of a block.

use super::TransformerEncoder;
use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::dense::DenseShape;
use crate::layers::attention::common::{take, take_opt};
use crate::layers::attention::mha::Dims;
use crate::layers::Params;

/// Configuration of a [`TransformerEncoder`] block.
///
/// # Buffers
/// - parameters ([`param_len`](Self::param_len) `= 4·w + 4·(w² + w) + 2·f·w + f + w` for
///   width `w` and feed-forward width `f`), in order: `ln1.gamma [w], ln1.beta [w]`, the
///   [`MultiHeadAttention`](crate::layers::attention::MultiHeadAttention) parameters (`Wq, bq,
///   Wk, bk, Wv, bv, Wo, bo`), `ln2.gamma [w], ln2.beta [w], W1 [f, w], b1 [f], W2 [w, f],
///   b2 [w]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TransformerEncoderConfig {
    /// Positions per sample.
    pub seq: usize,
    /// Features per position.
    pub width: usize,
    /// Attention heads; divides `width`.
    pub heads: usize,
    /// Width of the feed-forward hidden layer.
    pub ff: usize,
    /// Dropout rate in training, in `[0, 1)`, on the attention output and on the feed-forward
    /// output before each residual addition.
    pub dropout: f32,
    /// Whether attention is causal.
    pub causal: bool,
    /// Layer-norm epsilon; finite and `> 0`.
    pub eps: f32,
}

impl TransformerEncoderConfig {
    /// A configuration without dropout, not causal, with `eps = 1e-5`.
    pub fn new(seq: usize, width: usize, heads: usize, ff: usize) -> Self {
        TransformerEncoderConfig {
            seq,
            width,
            heads,
            ff,
            dropout: 0.0,
            causal: false,
            eps: 1e-5,
        }
    }

    fn dims(&self) -> Result<EncDims, Error> {
        let mha = Dims::new(self.seq, self.width, self.heads)?;
        if self.ff == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let (s, w, f) = (self.seq, self.width, self.ff);
        let sf = product(&[s, f])?;
        let fw = product(&[f, w])?;
        let add = |xs: &[usize]| {
            xs.iter()
                .try_fold(0usize, |a, &x| a.checked_add(x))
                .ok_or(ShapeError::Dimension)
        };
        let w4 = product(&[4, w])?;
        let params = add(&[w4, mha.params, fw, f, fw, w])?;
        let s4 = product(&[4, s])?;
        let sw3 = product(&[3, mha.sw])?;
        let cache = add(&[s4, mha.saved, sw3, sf])?;
        let fwd = add(&[mha.sw, mha.saved.max(sf)])?;
        let bwd = add(&[
            product(&[2, mha.sw])?,
            product(&[2, sf])?.max(product(&[6, mha.sw])?),
        ])?;
        Ok(EncDims {
            mha,
            ff: f,
            sf,
            params,
            cache,
            scratch: fwd.max(bwd),
        })
    }

    /// Number of parameters, `4·w + 4·(w² + w) + 2·f·w + f + w`.
    ///
    /// # Errors
    /// As [`init`](Self::init), without the parameter length and the configuration values.
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(self.dims()?.params)
    }

    /// Validates the configuration and borrows the parameters.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a size is zero or overflows; [`ShapeError::Parameter`] if
    /// `heads` does not divide `width`; [`ShapeError::Length`] with [`Buffer::Params`] for a
    /// wrong parameter length; [`Error::Config`] if `dropout` is outside `[0, 1)` or `eps` is
    /// not finite and positive.
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<TransformerEncoder<'a>, Error> {
        let dims = self.dims()?;
        let params = params.into();
        check_len(Buffer::Params, dims.params, params.len())?;
        // Written so that NaN fails.
        if !(self.dropout >= 0.0 && self.dropout < 1.0 && self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::Config);
        }
        Ok(TransformerEncoder {
            config: self,
            dims,
            keep: 1.0 - self.dropout,
            params,
        })
    }
}

/// The validated sizes of a block, all products checked once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct EncDims {
    pub(super) mha: Dims,
    pub(super) ff: usize,
    /// `seq · ff`, the feed-forward hidden activation.
    pub(super) sf: usize,
    pub(super) params: usize,
    /// Cache values per sample.
    pub(super) cache: usize,
    /// Scratch values of any call.
    pub(super) scratch: usize,
}

/// The parameter blocks, in order; each layer norm's gamma and beta as one `[2, w]` block
/// (the layout the layer-norm backward kernel takes for its gradients).
pub(super) struct Parts<T> {
    pub(super) ln1: T,
    pub(super) mha: T,
    pub(super) ln2: T,
    pub(super) w1: T,
    pub(super) b1: T,
    pub(super) w2: T,
    pub(super) b2: T,
}

impl<T> Parts<T> {
    fn new([ln1, mha, ln2, w1, b1, w2, b2]: [T; 7]) -> Self {
        Parts {
            ln1,
            mha,
            ln2,
            w1,
            b1,
            w2,
            b2,
        }
    }
}

impl EncDims {
    /// The lengths of the parameter blocks, in order.
    pub(super) fn lens(&self) -> [usize; 7] {
        let (w, f) = (self.mha.width, self.ff);
        [2 * w, self.mha.params, 2 * w, f * w, f, w * f, w]
    }

    pub(super) fn parts<'p>(&self, params: &'p [f32]) -> Parts<&'p [f32]> {
        let mut r = params;
        Parts::new(self.lens().map(|n| take(&mut r, n)))
    }

    pub(super) fn grad_parts<'p>(
        &self,
        grads: Option<&'p mut [f32]>,
    ) -> Parts<Option<&'p mut [f32]>> {
        let mut r = grads;
        Parts::new(self.lens().map(|n| take_opt(&mut r, n)))
    }

    pub(super) fn ff1(&self) -> DenseShape {
        DenseShape {
            batch: self.mha.seq,
            in_features: self.mha.width,
            out_features: self.ff,
        }
    }

    pub(super) fn ff2(&self) -> DenseShape {
        DenseShape {
            batch: self.mha.seq,
            in_features: self.ff,
            out_features: self.mha.width,
        }
    }
}
