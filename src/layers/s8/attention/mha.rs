//! int8 multi-head self-attention: four int8 dense projections around the integer attention
//! kernel of each head.

use super::{check_scratch, ScratchLen, ScratchS8};
use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::attention_s8::{
    attention_s8, AttentionMask, AttentionParamsS8, AttentionShape, ATTENTION_MAX_HEAD_DIM,
    ATTENTION_MAX_SEQ,
};
use crate::kernels::ActivationS8;
use crate::layers::check_io;
use crate::layers::s8::{DenseS8, DenseS8Config};
use crate::num::quant::{QuantParams, Requantizer};

/// Configuration of int8 multi-head self-attention over one sample `[seq, width]`,
/// `width = heads · head_dim`.
///
/// `Q = X·Wqᵀ + bq`, `K`, `V` alike (int8 dense layers, per-channel weights); head `h` attends
/// with columns `h·head_dim .. (h+1)·head_dim` of each (the integer kernel
/// [`attention_s8`]); the heads' outputs, concatenated, go through `Wo, bo`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MultiHeadAttentionS8Config {
    /// Positions per sample, in `1..=65536`.
    pub seq: usize,
    /// Values per position.
    pub width: usize,
    /// Number of heads; divides `width`.
    pub heads: usize,
    /// Quantization of the input.
    pub input: QuantParams,
    /// Quantization of the projected queries.
    pub q: QuantParams,
    /// Quantization of the projected keys.
    pub k: QuantParams,
    /// Quantization of the projected values.
    pub v: QuantParams,
    /// Quantization of the concatenated head outputs (the input of `Wo`).
    pub attn: QuantParams,
    /// Quantization of the output.
    pub output: QuantParams,
    /// Whether query `i` sees only keys `j <= i`.
    pub causal: bool,
}

/// The borrowed int8 parameters of a [`MultiHeadAttentionS8`], in the f32 layout's order.
#[derive(Clone, Copy, Debug)]
pub struct MhaS8Params<'a> {
    /// `Wq, Wk, Wv, Wo`, each `[width, width]` (`[out, in]`, symmetric int8): `4·width²`.
    pub weights: &'a [i8],
    /// `bq, bk, bv, bo`, each `[width]` at its accumulator's scale: `4·width`.
    pub bias: &'a [i32],
    /// One requantizer per output channel of each projection, same order: `4·width`.
    pub requant: &'a [Requantizer],
}

impl MultiHeadAttentionS8Config {
    /// `width / heads`, or [`ShapeError::Dimension`] when `heads` is 0 or does not divide
    /// `width`, or a dimension is 0 or above the kernel's limits.
    pub fn head_dim(&self) -> Result<usize, ShapeError> {
        if self.heads == 0
            || self.width == 0
            || self.seq == 0
            || self.seq > ATTENTION_MAX_SEQ
            || !self.width.is_multiple_of(self.heads)
        {
            return Err(ShapeError::Dimension);
        }
        let d = self.width / self.heads;
        if d > ATTENTION_MAX_HEAD_DIM {
            return Err(ShapeError::Dimension);
        }
        Ok(d)
    }

    /// Lengths of the three parameter slices: `(4·width², 4·width, 4·width)`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn params_len(&self) -> Result<(usize, usize, usize), ShapeError> {
        let w = product(&[4, self.width, self.width])?;
        let b = product(&[4, self.width])?;
        Ok((w, b, b))
    }

    /// Validates the configuration and borrows the parameters.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] (see [`head_dim`](Self::head_dim), or an overflowing size);
    /// [`ShapeError::Length`] naming `Weights`, `Bias` or `Requant`; [`Error::Quant`] for an
    /// invalid quantization or a multiplier that cannot be represented.
    pub fn init<'a>(self, params: MhaS8Params<'a>) -> Result<MultiHeadAttentionS8<'a>, Error> {
        let d = self.head_dim()?;
        let (wl, bl, rl) = self.params_len()?;
        check_len(Buffer::Weights, wl, params.weights.len())?;
        check_len(Buffer::Bias, bl, params.bias.len())?;
        check_len(Buffer::Requant, rl, params.requant.len())?;
        let w = self.width;
        let ww = w * w;
        let dense = |i: usize, input: QuantParams, output: QuantParams| {
            let cfg = DenseS8Config {
                in_features: w,
                out_features: w,
                input,
                output,
                act: ActivationS8::NONE,
            };
            cfg.init(
                params.weights.get(i * ww..(i + 1) * ww).unwrap_or(&[]),
                Some(params.bias.get(i * w..(i + 1) * w).unwrap_or(&[])),
                params.requant.get(i * w..(i + 1) * w).unwrap_or(&[]),
            )
        };
        let q = dense(0, self.input, self.q)?;
        let k = dense(1, self.input, self.k)?;
        let v = dense(2, self.input, self.v)?;
        let o = dense(3, self.attn, self.output)?;
        let head = AttentionParamsS8::new(d, self.q, self.k, self.v, self.attn)?;
        let len = product(&[self.seq, w])?;
        // 3·seq·width must fit too.
        product(&[3, len])?;
        Ok(MultiHeadAttentionS8 {
            config: self,
            proj: [q, k, v, o],
            head,
            head_dim: d,
            len,
        })
    }
}

/// int8 multi-head self-attention, built by [`MultiHeadAttentionS8Config::init`].
#[derive(Clone, Copy, Debug)]
pub struct MultiHeadAttentionS8<'a> {
    config: MultiHeadAttentionS8Config,
    proj: [DenseS8<'a>; 4],
    head: AttentionParamsS8,
    head_dim: usize,
    len: usize,
}

impl MultiHeadAttentionS8<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &MultiHeadAttentionS8Config {
        &self.config
    }

    /// The integer attention constants shared by the heads.
    pub fn head_params(&self) -> &AttentionParamsS8 {
        &self.head
    }

    /// Values per sample, `seq · width` (input and output).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a validated layer has at least one value per sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Scratch of [`forward`](Self::forward): `3·seq·width` bytes (K, V and the concatenated
    /// heads; Q lives in `output` until `Wo` overwrites it) and `seq` words (one score row).
    /// Independent of the batch: samples run one after the other.
    pub fn scratch_len(&self) -> ScratchLen {
        ScratchLen {
            bytes: 3 * self.len,
            words: self.config.seq,
        }
    }

    /// Runs the layer with the configuration's mask (`causal`, no padding).
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, seq, width]`; `scratch`: at least
    /// [`scratch_len`](Self::scratch_len).
    ///
    /// # Errors
    /// As [`forward_masked`](Self::forward_masked).
    pub fn forward(
        &self,
        batch: usize,
        input: &[i8],
        output: &mut [i8],
        scratch: &mut ScratchS8<'_>,
    ) -> Result<(), Error> {
        let mask = AttentionMask {
            causal: self.config.causal,
            valid: self.config.seq,
        };
        self.forward_masked(batch, input, output, scratch, mask)
    }

    /// Runs the layer with an explicit mask (for example the padding of a shorter sequence:
    /// `valid` real positions, the rest masked as keys for every query).
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, seq, width]`; `scratch`: at least
    /// [`scratch_len`](Self::scratch_len).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or a size overflows; [`ShapeError::Length`]
    /// (`Input`, `Output`, or `Scratch` when too short). Nothing is written on error.
    pub fn forward_masked(
        &self,
        batch: usize,
        input: &[i8],
        output: &mut [i8],
        scratch: &mut ScratchS8<'_>,
        mask: AttentionMask,
    ) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        check_scratch(&self.scratch_len(), scratch)?;
        let n = self.len;
        let (kv, rest) = scratch.bytes.split_at_mut(2 * n);
        let (k, v) = kv.split_at_mut(n);
        let concat = rest.get_mut(..n).unwrap_or(&mut []);
        for (x, out) in input.chunks_exact(n).zip(output.chunks_exact_mut(n)) {
            self.attend(x, out, k, v, concat, scratch.words, mask)?;
        }
        Ok(())
    }

    /// One sample: projections into `out` (Q), `k`, `v`; heads into `concat`; `Wo` into `out`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn attend(
        &self,
        x: &[i8],
        out: &mut [i8],
        k: &mut [i8],
        v: &mut [i8],
        concat: &mut [i8],
        words: &mut [i32],
        mask: AttentionMask,
    ) -> Result<(), Error> {
        let seq = self.config.seq;
        let [pq, pk, pv, po] = &self.proj;
        pq.forward(seq, x, out)?;
        pk.forward(seq, x, k)?;
        pv.forward(seq, x, v)?;
        let shape = AttentionShape {
            seq,
            head_dim: self.head_dim,
            stride: self.config.width,
        };
        for h in 0..self.config.heads {
            let c = h * self.head_dim;
            attention_s8(
                &self.head,
                shape,
                mask,
                out.get(c..).unwrap_or(&[]),
                k.get(c..).unwrap_or(&[]),
                v.get(c..).unwrap_or(&[]),
                concat.get_mut(c..).unwrap_or(&mut []),
                words,
            )?;
        }
        po.forward(seq, concat, out)
    }
}
