//! Inference of a validated [`Model`]: the preprocessing scaler, then every op between two
//! ping-pong activation buffers carved from one caller arena, the encoder blocks with the
//! arena's scratch region after them (layout in [`plan`](super::plan)).

use crate::error::{check_len, Buffer, DType, Error, ShapeError};
#[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
use crate::layers::attention::TransformerEncoderConfig;
#[cfg(feature = "ops-attention")]
use crate::layers::s8::attention::{EncoderS8Params, ScratchS8, TransformerEncoderS8Config};
use crate::layers::s8::LayerS8;
#[cfg(feature = "ops-f32")]
use crate::layers::Layer;
use crate::model::check::requantizers;
#[cfg(all(feature = "ops-activation", not(feature = "ops-exp-activations")))]
use crate::model::relu::relu;
#[cfg(feature = "ops-attention")]
use crate::model::EncoderTensorsS8;
use crate::model::{Model, Op};
use crate::num::quant::Requantizer;

/// The error for an arena view that cannot hold `n` values (unreachable after the length
/// checks of [`Model::run`], kept so that nothing can panic).
fn scratch(n: usize, actual: usize) -> Error {
    ShapeError::Length {
        buffer: Buffer::Scratch,
        expected: n,
        actual,
    }
    .into()
}

fn f32s(src: &[u8], n: usize) -> Result<&[f32], Error> {
    let bytes = n.checked_mul(4).and_then(|b| src.get(..b));
    bytes
        .and_then(|b| bytemuck::try_cast_slice(b).ok())
        .ok_or(scratch(n, src.len() / 4))
}

fn f32s_mut(dst: &mut [u8], n: usize) -> Result<&mut [f32], Error> {
    let len = dst.len();
    let bytes = n.checked_mul(4).and_then(|b| dst.get_mut(..b));
    bytes
        .and_then(|b| bytemuck::try_cast_slice_mut(b).ok())
        .ok_or(scratch(n, len / 4))
}

fn s8s(src: &[u8], n: usize) -> Result<&[i8], Error> {
    src.get(..n)
        .map(bytemuck::cast_slice)
        .ok_or(scratch(n, src.len()))
}

fn s8s_mut(dst: &mut [u8], n: usize) -> Result<&mut [i8], Error> {
    let len = dst.len();
    dst.get_mut(..n)
        .map(bytemuck::cast_slice_mut)
        .ok_or(scratch(n, len))
}

fn values(batch: usize, len: usize) -> Result<usize, Error> {
    Ok(batch.checked_mul(len).ok_or(ShapeError::Dimension)?)
}

/// Runs an f32 layer from `src` into `dst`; returns its output length per sample.
#[cfg(feature = "ops-f32")]
fn f32_layer<L: Layer>(l: &L, batch: usize, src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    let x = f32s(src, values(batch, l.input_len())?)?;
    let y = f32s_mut(dst, values(batch, l.output_len())?)?;
    l.forward(batch, x, y)?;
    Ok(l.output_len())
}

/// Runs an int8 layer from `src` into `dst`; returns its output length per sample.
fn s8_layer<L: LayerS8>(l: &L, batch: usize, src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    let x = s8s(src, values(batch, l.input_len())?)?;
    let y = s8s_mut(dst, values(batch, l.output_len())?)?;
    l.forward(batch, x, y)?;
    Ok(l.output_len())
}

/// Builds and runs an f32 encoder block (inference: dropout off, no padding) with its scratch
/// carved from `work`; returns its output length per sample.
///
/// Never inlined, as `encoder_s8`: the block's layer structs then live on the stack only
/// while a block runs, not in the frame every model's `run_op` takes.
#[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
#[inline(never)]
fn encoder_f32(
    c: TransformerEncoderConfig,
    p: &[f32],
    batch: usize,
    src: &[u8],
    dst: &mut [u8],
    work: &mut [u8],
) -> Result<usize, Error> {
    let l = c.init(p)?;
    let n = values(batch, l.io_len())?;
    let s = f32s_mut(work, l.scratch_len(batch))?;
    l.forward(batch, None, f32s(src, n)?, f32s_mut(dst, n)?, s)?;
    Ok(l.io_len())
}

/// Builds an int8 encoder block (its requantizers into `requant`) and runs it with its
/// scratch carved from `work` (the `i32` words first: `work` starts 4-byte aligned); returns
/// its output length per sample.
///
/// Never inlined: the block (seven layers and a 256-byte GELU table) is large, and inlined into
/// `run_op` its frame would be reserved on the stack for every op of every model.
#[cfg(feature = "ops-attention")]
#[inline(never)]
fn encoder_s8(
    c: TransformerEncoderS8Config,
    t: EncoderTensorsS8<'_>,
    requant: &mut [Requantizer],
    batch: usize,
    src: &[u8],
    dst: &mut [u8],
    work: &mut [u8],
) -> Result<usize, Error> {
    let rq = requantizers(t.requant, requant)?;
    let l = c.init(EncoderS8Params {
        weights: t.weights,
        bias: t.bias,
        requant: rq,
        ln_multiplier: t.ln_multiplier,
        ln_offset: t.ln_offset,
    })?;
    let n = values(batch, l.len())?;
    let need = l.scratch_len();
    let short = scratch(need.total_bytes(), work.len());
    let word_bytes = need.words.checked_mul(4).ok_or(ShapeError::Dimension)?;
    let total = word_bytes.checked_add(need.bytes).ok_or(short)?;
    let (words, bytes) = work.get_mut(..total).ok_or(short)?.split_at_mut(word_bytes);
    let mut s = ScratchS8 {
        bytes: bytemuck::cast_slice_mut(bytes),
        words: bytemuck::try_cast_slice_mut(words).map_err(|_| short)?,
    };
    l.forward(batch, s8s(src, n)?, s8s_mut(dst, n)?, &mut s)?;
    Ok(l.len())
}

/// Runs one op, building its layer from the borrowed configuration (cheap: the layers only
/// borrow; int8 activations rebuild their 256-entry table) and its requantizers into
/// `requant`; the encoder blocks work in `scratch`. Returns the output length per sample.
///
/// Only the kinds this build supports have an arm (`model::support`): the others are never
/// linked. The reader never yields them; an op of a left-out kind is an [`Error::Config`].
// `work` is used by the encoder blocks only.
#[cfg_attr(not(feature = "ops-attention"), allow(unused_variables))]
fn run_op(
    op: &Op<'_>,
    batch: usize,
    src: &[u8],
    dst: &mut [u8],
    requant: &mut [Requantizer],
    work: &mut [u8],
) -> Result<usize, Error> {
    match *op {
        #[cfg(feature = "ops-f32")]
        Op::Dense(c, p) => f32_layer(&c.init(p)?, batch, src, dst),
        #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
        Op::Conv1d(c, p) => f32_layer(&c.init(p)?, batch, src, dst),
        #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
        Op::Conv2d(c, p) => f32_layer(&c.init(p)?, batch, src, dst),
        #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
        Op::DepthwiseConv2d(c, p) => f32_layer(&c.init(p)?, batch, src, dst),
        #[cfg(feature = "ops-norm")]
        Op::BatchNorm(c, p, s) => f32_layer(&c.init(p, s)?, batch, src, dst),
        #[cfg(feature = "ops-norm")]
        Op::LayerNorm(c, p) => f32_layer(&c.init(p)?, batch, src, dst),
        #[cfg(feature = "ops-embedding")]
        Op::Embedding(c, p) => f32_layer(&c.init(p)?, batch, src, dst),
        #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
        Op::Pool1d(c) => f32_layer(&c.init()?, batch, src, dst),
        #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
        Op::Pool2d(c) => f32_layer(&c.init()?, batch, src, dst),
        #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
        Op::GlobalAvgPool(c) => f32_layer(&c.init()?, batch, src, dst),
        // With the exp-based functions the activation layers are linked anyway, and run the
        // ReLU family too; without them, it runs on its kernels alone.
        #[cfg(all(feature = "ops-exp-activations", feature = "ops-f32"))]
        Op::Activation(c) => f32_layer(&c.init()?, batch, src, dst),
        #[cfg(feature = "ops-exp-activations")]
        Op::ActivationS8(c) => s8_layer(&c.init()?, batch, src, dst),
        #[cfg(all(feature = "ops-activation", not(feature = "ops-exp-activations")))]
        Op::Activation(_) | Op::ActivationS8(_) => relu_activation(op, batch, src, dst),
        // A reshape copies bytes, so the same op serves f32 and int8 activations: the caller
        // passes `src` cut to the current activation's byte length.
        Op::Reshape(c) => {
            c.init()?;
            let out = dst.get_mut(..src.len()).ok_or(scratch(src.len(), 0))?;
            out.copy_from_slice(src);
            Ok(c.len)
        }
        Op::Quantize { len, params } => {
            let n = values(batch, len)?;
            params.quantize_slice(f32s(src, n)?, s8s_mut(dst, n)?)?;
            Ok(len)
        }
        Op::Dequantize { len, params } => {
            let n = values(batch, len)?;
            params.dequantize_slice(s8s(src, n)?, f32s_mut(dst, n)?)?;
            Ok(len)
        }
        Op::DenseS8(c, t) => {
            let rq = requantizers(t.requant, requant)?;
            s8_layer(&c.init(t.weights, t.bias, rq)?, batch, src, dst)
        }
        #[cfg(feature = "ops-conv")]
        Op::Conv1dS8(c, t) => {
            let rq = requantizers(t.requant, requant)?;
            s8_layer(&c.init(t.weights, t.bias, rq)?, batch, src, dst)
        }
        #[cfg(feature = "ops-conv")]
        Op::Conv2dS8(c, t) => {
            let rq = requantizers(t.requant, requant)?;
            s8_layer(&c.init(t.weights, t.bias, rq)?, batch, src, dst)
        }
        #[cfg(feature = "ops-conv")]
        Op::DepthwiseConv2dS8(c, t) => {
            let rq = requantizers(t.requant, requant)?;
            s8_layer(&c.init(t.weights, t.bias, rq)?, batch, src, dst)
        }
        #[cfg(feature = "ops-pool")]
        Op::Pool1dS8(c) => s8_layer(&c.init()?, batch, src, dst),
        #[cfg(feature = "ops-pool")]
        Op::Pool2dS8(c) => s8_layer(&c.init()?, batch, src, dst),
        #[cfg(feature = "ops-pool")]
        Op::GlobalAvgPoolS8(c) => s8_layer(&c.init()?, batch, src, dst),
        #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
        Op::SinusoidalEncoding(c) => f32_layer(&c.init()?, batch, src, dst),
        #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
        Op::LearnedPositionalEncoding(c, p) => f32_layer(&c.learned_positions(p)?, batch, src, dst),
        #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
        Op::TransformerEncoder(c, p) => encoder_f32(c, p, batch, src, dst, work),
        #[cfg(feature = "ops-attention")]
        Op::PositionalAddS8(c, t) => s8_layer(&c.init(t)?, batch, src, dst),
        #[cfg(feature = "ops-attention")]
        Op::TransformerEncoderS8(c, t) => encoder_s8(c, t, requant, batch, src, dst, work),
        #[allow(unreachable_patterns)]
        _ => Err(Error::Config),
    }
}

/// Runs an activation op of the ReLU family on its kernels (`model::relu`): in a build without
/// `ops-exp-activations`, which links no activation layer. Returns the output length per
/// sample.
#[cfg(all(feature = "ops-activation", not(feature = "ops-exp-activations")))]
fn relu_activation(op: &Op<'_>, batch: usize, src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    // Sigmoid, tanh, GELU or softmax: the reader yields none in this build.
    let r = relu(op).ok_or(Error::Config)??;
    let n = values(batch, r.len())?;
    if r.is_f32() {
        r.forward_f32(f32s(src, n)?, f32s_mut(dst, n)?)?;
    } else {
        r.forward_s8(s8s(src, n)?, s8s_mut(dst, n)?)?;
    }
    Ok(r.len())
}

/// Bytes per value of the activation an op produces, given the bytes per value it takes.
fn output_size(op: &Op<'_>, input_size: usize) -> usize {
    match op {
        Op::Quantize { .. } => 1,
        Op::Dequantize { .. } => 4,
        Op::Reshape(_) => input_size,
        Op::DenseS8(..)
        | Op::Conv1dS8(..)
        | Op::Conv2dS8(..)
        | Op::DepthwiseConv2dS8(..)
        | Op::Pool1dS8(..)
        | Op::Pool2dS8(..)
        | Op::GlobalAvgPoolS8(..)
        | Op::ActivationS8(..)
        | Op::PositionalAddS8(..)
        | Op::TransformerEncoderS8(..) => 1,
        _ => 4,
    }
}

impl Model<'_> {
    /// Runs the model on `batch` samples: copies `input` into the arena, applies the stored
    /// scaler (if any) there, runs every op and copies the result into `output`.
    ///
    /// `arena` must hold at least [`arena_len`](Self::arena_len)`(batch)` bytes (any
    /// alignment: the slack for aligning it is included; the transformer encoder blocks'
    /// scratch too); `requant` at least
    /// [`requant_len`](Self::requant_len) requantizers (scratch for the int8 layers'
    /// requantizers, which the file stores as `i32` pairs).
    ///
    /// Results are bit-identical to running the same layers directly. NaN in → NaN out (the
    /// int8 part quantizes NaN as its zero point, as [`QuantParams::quantize`](crate::num::quant::QuantParams::quantize)).
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `output`: `[batch, output_len()]`
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for `batch == 0` or an overflowing size;
    /// [`ShapeError::Length`] naming `Input`, `Output`, `Scratch` (the arena) or `Requant`;
    /// [`Error::Index`] for an embedding id out of range. `output` is written only on success.
    pub fn run(
        &self,
        batch: usize,
        input: &[f32],
        arena: &mut [u8],
        requant: &mut [Requantizer],
        output: &mut [f32],
    ) -> Result<(), Error> {
        check_len(
            Buffer::Output,
            values(batch, self.output_len())?,
            output.len(),
        )?;
        let result = self.run_in_arena(batch, input, arena, requant)?;
        output.copy_from_slice(result);
        Ok(())
    }

    /// Runs one sample and returns the index of the largest output (the predicted class).
    /// NaN outputs are never chosen; if all are NaN the result is 0. Ties give the first.
    ///
    /// # Shapes
    /// `input`: `[input_len()]`.
    ///
    /// # Errors
    /// As [`run`](Self::run) with `batch = 1`.
    pub fn predict(
        &self,
        input: &[f32],
        arena: &mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<usize, Error> {
        let out = self.run_in_arena(1, input, arena, requant)?;
        let mut best: Option<(usize, f32)> = None;
        for (i, &v) in out.iter().enumerate() {
            if !v.is_nan() && best.is_none_or(|(_, b)| v > b) {
                best = Some((i, v));
            }
        }
        Ok(best.map_or(0, |(i, _)| i))
    }

    /// Runs the scaler and the first `ops` operations on `batch` samples and returns the
    /// activation at that point, which lives in the arena: the input to op `ops` (for
    /// `ops = len()`, the model's output; for `ops = 0`, the scaled input). This is the
    /// frozen part of a model whose last operations are replaced, for example by
    /// [`train::finetune`](crate::train::finetune).
    ///
    /// The element type says how to read the bytes: [`DType::F32`]: `4 · batch · n` bytes,
    /// 4-byte aligned, native-endian `f32`s (view them with `bytemuck::cast_slice`);
    /// [`DType::S8`]: `batch · n` bytes, each the bits of an `i8`. The values are exactly
    /// those [`run`](Self::run) computes at that point.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `arena`, `requant`: as [`run`](Self::run)
    ///
    /// # Errors
    /// [`Error::Config`] if `ops > len()`; otherwise as [`run`](Self::run).
    pub fn run_prefix<'r>(
        &self,
        ops: usize,
        batch: usize,
        input: &[f32],
        arena: &'r mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<(DType, &'r [u8]), Error> {
        if ops > self.len() {
            return Err(Error::Config);
        }
        let (size, bytes) = self.run_ops(ops, batch, input, arena, requant)?;
        Ok((if size == 1 { DType::S8 } else { DType::F32 }, bytes))
    }

    /// Runs the model and returns the output, which lives in the arena.
    fn run_in_arena<'r>(
        &self,
        batch: usize,
        input: &[f32],
        arena: &'r mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<&'r [f32], Error> {
        let (_, result) = self.run_ops(self.len(), batch, input, arena, requant)?;
        f32s(result, values(batch, self.output_len())?)
    }

    /// Runs the scaler and the first `ops` operations; returns the bytes per value of the
    /// activation reached and its bytes in the arena.
    fn run_ops<'r>(
        &self,
        ops: usize,
        batch: usize,
        input: &[f32],
        arena: &'r mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<(usize, &'r [u8]), Error> {
        let n_in = values(batch, self.input_len())?;
        check_len(Buffer::Input, n_in, input.len())?;
        let need = self.arena_len(batch)?;
        if arena.len() < need {
            return Err(scratch(need, arena.len()));
        }
        check_len(
            Buffer::Requant,
            self.requant_len(),
            requant.len().min(self.requant_len()),
        )?;
        let skip = (4 - arena.as_ptr() as usize % 4) % 4;
        let buf = self.buffer_len(batch)?;
        let aligned = arena.get_mut(skip..).ok_or(scratch(need, 0))?;
        let (a, rest) = aligned.split_at_mut(buf.min(aligned.len()));
        let (b, work) = rest.split_at_mut(buf.min(rest.len()));
        if b.len() < buf {
            return Err(scratch(need, 0));
        }
        let x = f32s_mut(a, n_in)?;
        x.copy_from_slice(input);
        if let Some(s) = self.scaler() {
            s.transform(x)?;
        }
        // Invariant: `cur_bytes` is the byte length of the current activation, which lives in
        // `a` when `in_a` and in `b` otherwise.
        let (mut in_a, mut size, mut cur_bytes) = (true, 4usize, n_in * 4);
        for op in self.ops().take(ops) {
            let (src, dst) = if in_a { (&*a, &mut *b) } else { (&*b, &mut *a) };
            let src = src.get(..cur_bytes).ok_or(scratch(cur_bytes, 0))?;
            let out_len = run_op(&op, batch, src, dst, requant, work)?;
            size = output_size(&op, size);
            cur_bytes = values(values(batch, out_len)?, size)?;
            in_a = !in_a;
        }
        let result = if in_a { a } else { b };
        let result = result.get(..cur_bytes).ok_or(scratch(cur_bytes, 0))?;
        Ok((size, result))
    }
}
