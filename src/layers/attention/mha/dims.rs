//! The computation of multi-head self-attention over validated sizes ([`Dims`]): forward and
//! backward over raw slices, shared by [`MultiHeadAttention`](super::MultiHeadAttention) and the
//! encoder block.

use crate::error::{product, Error, ShapeError};
use crate::kernels::generic::attention::{attention_f32, AttentionMask, AttentionShape};
use crate::kernels::generic::dense::{dense_f32, DenseShape};
use crate::kernels::generic::grad::attention::attention_backward_f32;
use crate::kernels::generic::grad::dense::dense_backward_f32;
use crate::kernels::ActivationF32;
use crate::layers::attention::common::{sub, sub_mut, take, take_mut, take_opt};

/// The gradients of one projection: weights, bias (each absent without `grad_params`).
type WeightsBiasGrad<'g> = (Option<&'g mut [f32]>, Option<&'g mut [f32]>);

/// The validated sizes of one multi-head attention, all products checked once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::layers::attention) struct Dims {
    pub(in crate::layers::attention) seq: usize,
    pub(in crate::layers::attention) width: usize,
    pub(in crate::layers::attention) heads: usize,
    pub(in crate::layers::attention) head_dim: usize,
    /// `seq · width`, one activation.
    pub(in crate::layers::attention) sw: usize,
    /// `heads · seq · seq`, the attention probabilities.
    pub(in crate::layers::attention) probs: usize,
    /// `width² + width`, one projection's weights and bias.
    pub(in crate::layers::attention) block: usize,
    /// `4 · block`.
    pub(in crate::layers::attention) params: usize,
    /// `4 · sw + probs`: Q, K, V, the concatenated heads and the probabilities.
    pub(in crate::layers::attention) saved: usize,
}

impl Dims {
    pub(in crate::layers::attention) fn new(
        seq: usize,
        width: usize,
        heads: usize,
    ) -> Result<Dims, ShapeError> {
        if seq == 0 || width == 0 || heads == 0 {
            return Err(ShapeError::Dimension);
        }
        if !width.is_multiple_of(heads) {
            return Err(ShapeError::Parameter);
        }
        let sw = product(&[seq, width])?;
        let probs = product(&[heads, seq, seq])?;
        let block = product(&[width, width])?
            .checked_add(width)
            .ok_or(ShapeError::Dimension)?;
        let params = product(&[4, block])?;
        let saved = product(&[4, sw])?
            .checked_add(probs)
            .ok_or(ShapeError::Dimension)?;
        Ok(Dims {
            seq,
            width,
            heads,
            head_dim: width / heads,
            sw,
            probs,
            block,
            params,
            saved,
        })
    }

    fn head(&self) -> AttentionShape {
        AttentionShape {
            seq: self.seq,
            head_dim: self.head_dim,
            stride: self.width,
        }
    }

    /// Values one head spans in a `[seq, width]` buffer.
    fn head_len(&self) -> usize {
        (self.seq - 1) * self.width + self.head_dim
    }

    fn proj(&self) -> DenseShape {
        DenseShape {
            batch: self.seq,
            in_features: self.width,
            out_features: self.width,
        }
    }

    /// Projection `i` (0: Q, 1: K, 2: V, 3: output) of `params`: weights, bias.
    fn weights<'p>(&self, params: &'p [f32], i: usize) -> (&'p [f32], &'p [f32]) {
        let block = sub(params, i * self.block, self.block);
        block.split_at((self.width * self.width).min(block.len()))
    }

    /// `x · Wᵀ + b` with projection `i`.
    fn project(&self, params: &[f32], i: usize, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        let (w, b) = self.weights(params, i);
        Ok(dense_f32(
            self.proj(),
            x,
            w,
            Some(b),
            ActivationF32::NONE,
            out,
        )?)
    }

    /// Forward of one sample `x` `[seq, width]` into `out`, leaving Q, K, V, the concatenated
    /// heads and the probabilities in `saved` (`self.saved` values).
    pub(in crate::layers::attention) fn forward(
        &self,
        params: &[f32],
        mask: AttentionMask,
        x: &[f32],
        out: &mut [f32],
        saved: &mut [f32],
    ) -> Result<(), Error> {
        let mut rest = saved;
        let q = take_mut(&mut rest, self.sw);
        let k = take_mut(&mut rest, self.sw);
        let v = take_mut(&mut rest, self.sw);
        let a = take_mut(&mut rest, self.sw);
        let p = take_mut(&mut rest, self.probs);
        self.project(params, 0, x, q)?;
        self.project(params, 1, x, k)?;
        self.project(params, 2, x, v)?;
        let (d, n, ss) = (self.head_dim, self.head_len(), self.seq * self.seq);
        for h in 0..self.heads {
            attention_f32(
                self.head(),
                mask,
                sub(q, h * d, n),
                sub(k, h * d, n),
                sub(v, h * d, n),
                sub_mut(p, h * ss, ss),
                sub_mut(a, h * d, n),
            )?;
        }
        self.project(params, 3, a, out)
    }

    /// Q, K, V and the concatenated heads (`sw` values each), as [`forward`](Self::forward)
    /// leaves them at the start of `saved` (the probabilities follow them).
    pub(in crate::layers::attention) fn saved_parts<'s>(&self, saved: &'s [f32]) -> [&'s [f32]; 4] {
        let mut rest = saved;
        [(); 4].map(|()| take(&mut rest, self.sw))
    }

    /// Backward of one sample: from `saved` (as [`forward`](Self::forward) left it) and
    /// `grad_out`, overwrites `grad_x` and adds the parameter gradients into `grad_params`.
    /// `work` holds `4 · sw` values.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::layers::attention) fn backward(
        &self,
        params: &[f32],
        mask: AttentionMask,
        x: &[f32],
        saved: &[f32],
        grad_out: &[f32],
        mut grad_x: Option<&mut [f32]>,
        grad_params: Option<&mut [f32]>,
        work: &mut [f32],
    ) -> Result<(), Error> {
        let [q, k, v, a] = self.saved_parts(saved);
        let p = sub(saved, 4 * self.sw, self.probs);
        let mut rest = work;
        let da = take_mut(&mut rest, self.sw);
        let dq = take_mut(&mut rest, self.sw);
        let dk = take_mut(&mut rest, self.sw);
        let dv = take_mut(&mut rest, self.sw);
        let ww = self.width * self.width;
        let mut g = grad_params;
        let mut grads: [WeightsBiasGrad; 4] = Default::default();
        for slot in grads.iter_mut() {
            let w = take_opt(&mut g, ww);
            *slot = (w, take_opt(&mut g, self.width));
        }
        let [gq, gk, gv, go] = grads;

        let (wo, _) = self.weights(params, 3);
        dense_backward_f32(self.proj(), a, wo, grad_out, Some(da), go.0, go.1)?;
        let (d, n, ss) = (self.head_dim, self.head_len(), self.seq * self.seq);
        for h in 0..self.heads {
            attention_backward_f32(
                self.head(),
                mask,
                sub(q, h * d, n),
                sub(k, h * d, n),
                sub(v, h * d, n),
                sub(p, h * ss, ss),
                sub(a, h * d, n),
                sub(da, h * d, n),
                sub_mut(dq, h * d, n),
                sub_mut(dk, h * d, n),
                sub_mut(dv, h * d, n),
            )?;
        }
        // x feeds Q, K and V: the first projection writes grad_x, the other two go through
        // `da` (free now) and are added.
        let (wq, _) = self.weights(params, 0);
        dense_backward_f32(self.proj(), x, wq, dq, grad_x.as_deref_mut(), gq.0, gq.1)?;
        for (i, dy, gw) in [(1, &*dk, gk), (2, &*dv, gv)] {
            let (w, _) = self.weights(params, i);
            match grad_x.as_deref_mut() {
                Some(gx) => {
                    dense_backward_f32(self.proj(), x, w, dy, Some(&mut *da), gw.0, gw.1)?;
                    for (g, &t) in gx.iter_mut().zip(da.iter()) {
                        *g += t;
                    }
                }
                None => dense_backward_f32(self.proj(), x, w, dy, None, gw.0, gw.1)?,
            }
        }
        Ok(())
    }
}
