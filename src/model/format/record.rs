//! One layer record of the table: the kind tag, 16 configuration words and 3 tensor
//! references (see `docs/ttm-format.md`, "Layer records", for every kind's word layout).
//!
//! [`encode`] and [`decode`] sit side by side so that the two directions of each kind's layout
//! cannot drift apart.

use crate::error::FormatError;
use crate::kernels::generic::softmax::SoftmaxParamsS8;
use crate::kernels::{ActivationS8, Padding};
use crate::layers::activation::{ActivationConfig, ActivationKind};
use crate::layers::batch_norm::BatchNormConfig;
use crate::layers::conv::{Conv1dConfig, Conv2dConfig};
use crate::layers::dense::DenseConfig;
use crate::layers::depthwise::DepthwiseConv2dConfig;
use crate::layers::embedding::EmbeddingConfig;
use crate::layers::layer_norm::LayerNormConfig;
use crate::layers::pool::{GlobalAvgPoolConfig, Pool1dConfig, Pool2dConfig, PoolKind};
use crate::layers::reshape::ReshapeConfig;
use crate::layers::s8::{
    ActivationKindS8, ActivationS8Config, Conv1dS8Config, Conv2dS8Config, DenseS8Config,
    DepthwiseConv2dS8Config, GlobalAvgPoolS8Config, Pool1dS8Config, Pool2dS8Config, PoolKindS8,
};
use crate::model::{Op, TensorsS8};
use crate::num::quant::QuantParams;

/// Number of configuration words in a record.
pub(crate) const WORDS: usize = 16;
/// Number of tensor references in a record.
pub(crate) const TENSORS: usize = 3;
/// Byte offset of the first tensor reference in a record.
pub(crate) const TENSOR_REFS: usize = 4 + 4 * WORDS;

/// Kind tags of the layer records.
pub(crate) mod tag {
    pub const DENSE: u32 = 1;
    pub const CONV1D: u32 = 2;
    pub const CONV2D: u32 = 3;
    pub const DEPTHWISE_CONV2D: u32 = 4;
    pub const BATCH_NORM: u32 = 5;
    pub const LAYER_NORM: u32 = 6;
    pub const EMBEDDING: u32 = 7;
    pub const POOL1D: u32 = 8;
    pub const POOL2D: u32 = 9;
    pub const GLOBAL_AVG_POOL: u32 = 10;
    pub const RESHAPE: u32 = 11;
    pub const ACTIVATION: u32 = 12;
    pub const QUANTIZE: u32 = 13;
    pub const DEQUANTIZE: u32 = 14;
    pub const DENSE_S8: u32 = 32;
    pub const CONV1D_S8: u32 = 33;
    pub const CONV2D_S8: u32 = 34;
    pub const DEPTHWISE_CONV2D_S8: u32 = 35;
    pub const POOL1D_S8: u32 = 36;
    pub const POOL2D_S8: u32 = 37;
    pub const GLOBAL_AVG_POOL_S8: u32 = 38;
    pub const ACTIVATION_S8: u32 = 39;
}

/// A tensor of an op as the writer stores it: its bytes and its element count.
#[derive(Clone, Copy)]
pub(crate) struct TensorBytes<'a> {
    pub bytes: &'a [u8],
    pub count: usize,
}

fn tf32(t: &[f32]) -> Option<TensorBytes<'_>> {
    Some(TensorBytes {
        bytes: bytemuck::cast_slice(t),
        count: t.len(),
    })
}

fn ti32(t: &[i32]) -> Option<TensorBytes<'_>> {
    Some(TensorBytes {
        bytes: bytemuck::cast_slice(t),
        count: t.len(),
    })
}

fn ts8(t: TensorsS8<'_>) -> [Option<TensorBytes<'_>>; TENSORS] {
    [
        Some(TensorBytes {
            bytes: bytemuck::cast_slice(t.weights),
            count: t.weights.len(),
        }),
        t.bias.and_then(ti32),
        ti32(t.requant),
    ]
}

/// The tensors of `op` in reference order (unused slots `None`).
pub(crate) fn tensors<'a>(op: &Op<'a>) -> [Option<TensorBytes<'a>>; TENSORS] {
    match *op {
        Op::Dense(_, p)
        | Op::Conv1d(_, p)
        | Op::Conv2d(_, p)
        | Op::DepthwiseConv2d(_, p)
        | Op::LayerNorm(_, p)
        | Op::Embedding(_, p) => [tf32(p), None, None],
        Op::BatchNorm(_, p, s) => [tf32(p), tf32(s), None],
        Op::DenseS8(_, t)
        | Op::Conv1dS8(_, t)
        | Op::Conv2dS8(_, t)
        | Op::DepthwiseConv2dS8(_, t) => ts8(t),
        _ => [None, None, None],
    }
}

/// Builds the configuration words of a record.
struct Words {
    w: [u32; WORDS],
    n: usize,
    too_large: bool,
}

impl Words {
    fn new() -> Self {
        Words {
            w: [0; WORDS],
            n: 0,
            too_large: false,
        }
    }
    fn raw(mut self, v: u32) -> Self {
        if let Some(slot) = self.w.get_mut(self.n) {
            *slot = v;
        }
        self.n += 1;
        self
    }
    fn u(self, v: usize) -> Self {
        match u32::try_from(v) {
            Ok(v) => self.raw(v),
            Err(_) => {
                let mut s = self.raw(0);
                s.too_large = true;
                s
            }
        }
    }
    fn f(self, v: f32) -> Self {
        self.raw(v.to_bits())
    }
    fn i(self, v: i32) -> Self {
        self.raw(v as u32)
    }
    fn b(self, v: bool) -> Self {
        self.raw(u32::from(v))
    }
    fn pad(self, p: Padding) -> Self {
        self.raw(match p {
            Padding::Valid => 0,
            Padding::Same => 1,
        })
    }
    fn q(self, q: QuantParams) -> Self {
        self.f(q.scale).i(q.zero_point)
    }
    fn act(self, a: ActivationS8) -> Self {
        self.raw(u32::from(a.min as u8) | (u32::from(a.max as u8) << 8))
    }
    fn pool(self, max: bool) -> Self {
        self.raw(if max { 0 } else { 1 })
    }
}

/// The kind tag and configuration words of `op` (layer index `layer` for errors).
///
/// # Errors
/// [`FormatError::TooLarge`] if a dimension exceeds `u32::MAX`; [`FormatError::Unsupported`]
/// for an int8 LeakyReLU (its parameters are private to the kernel).
pub(crate) fn encode(op: &Op<'_>, layer: usize) -> Result<(u32, [u32; WORDS]), FormatError> {
    let w = Words::new();
    let (t, w) = match *op {
        Op::Dense(c, _) => (tag::DENSE, w.u(c.in_features).u(c.out_features).b(c.bias)),
        Op::Conv1d(c, _) => (
            tag::CONV1D,
            w.u(c.len)
                .u(c.in_c)
                .u(c.out_c)
                .u(c.kernel)
                .u(c.stride)
                .u(c.dilation),
        )
            .map_w(|w| w.pad(c.padding).b(c.bias)),
        Op::Conv2d(c, _) => (
            tag::CONV2D,
            w.u(c.in_h)
                .u(c.in_w)
                .u(c.in_c)
                .u(c.out_c)
                .u(c.kernel_h)
                .u(c.kernel_w),
        )
            .map_w(|w| {
                w.u(c.stride_h)
                    .u(c.stride_w)
                    .u(c.dilation_h)
                    .u(c.dilation_w)
                    .pad(c.padding)
                    .b(c.bias)
            }),
        Op::DepthwiseConv2d(c, _) => (
            tag::DEPTHWISE_CONV2D,
            w.u(c.in_h)
                .u(c.in_w)
                .u(c.in_c)
                .u(c.multiplier)
                .u(c.kernel_h)
                .u(c.kernel_w),
        )
            .map_w(|w| {
                w.u(c.stride_h)
                    .u(c.stride_w)
                    .u(c.dilation_h)
                    .u(c.dilation_w)
                    .pad(c.padding)
                    .b(c.bias)
            }),
        Op::BatchNorm(c, _, _) => (
            tag::BATCH_NORM,
            w.u(c.positions).u(c.channels).f(c.eps).f(c.momentum),
        ),
        Op::LayerNorm(c, _) => (tag::LAYER_NORM, w.u(c.positions).u(c.dim).f(c.eps)),
        Op::Embedding(c, _) => (tag::EMBEDDING, w.u(c.vocab).u(c.dim).u(c.seq_len)),
        Op::Pool1d(c) => (
            tag::POOL1D,
            w.pool(c.kind == PoolKind::Max)
                .u(c.len)
                .u(c.channels)
                .u(c.window)
                .u(c.stride)
                .pad(c.padding),
        ),
        Op::Pool2d(c) => (
            tag::POOL2D,
            w.pool(c.kind == PoolKind::Max)
                .u(c.in_h)
                .u(c.in_w)
                .u(c.channels)
                .u(c.window_h),
        )
            .map_w(|w| w.u(c.window_w).u(c.stride_h).u(c.stride_w).pad(c.padding)),
        Op::GlobalAvgPool(c) => (tag::GLOBAL_AVG_POOL, w.u(c.positions).u(c.channels)),
        Op::Reshape(c) => (tag::RESHAPE, w.u(c.len)),
        Op::Activation(c) => {
            let w = w.u(c.len);
            let w = match c.kind {
                ActivationKind::Relu => w.raw(0),
                ActivationKind::Relu6 => w.raw(1),
                ActivationKind::LeakyRelu { alpha } => w.raw(2).f(alpha),
                ActivationKind::Sigmoid => w.raw(3),
                ActivationKind::Tanh => w.raw(4),
                ActivationKind::Gelu => w.raw(5),
                ActivationKind::Softmax { depth } => w.raw(6).u(depth),
            };
            (tag::ACTIVATION, w)
        }
        Op::Quantize { len, params } => (tag::QUANTIZE, w.u(len).q(params)),
        Op::Dequantize { len, params } => (tag::DEQUANTIZE, w.u(len).q(params)),
        Op::DenseS8(c, _) => (
            tag::DENSE_S8,
            w.u(c.in_features)
                .u(c.out_features)
                .q(c.input)
                .q(c.output)
                .act(c.act),
        ),
        Op::Conv1dS8(c, _) => (
            tag::CONV1D_S8,
            w.u(c.len)
                .u(c.in_c)
                .u(c.out_c)
                .u(c.kernel)
                .u(c.stride)
                .u(c.dilation),
        )
            .map_w(|w| w.pad(c.padding).q(c.input).q(c.output).act(c.act)),
        Op::Conv2dS8(c, _) => (
            tag::CONV2D_S8,
            w.u(c.in_h)
                .u(c.in_w)
                .u(c.in_c)
                .u(c.out_c)
                .u(c.kernel_h)
                .u(c.kernel_w),
        )
            .map_w(|w| {
                w.u(c.stride_h)
                    .u(c.stride_w)
                    .u(c.dilation_h)
                    .u(c.dilation_w)
                    .pad(c.padding)
                    .q(c.input)
                    .q(c.output)
                    .act(c.act)
            }),
        Op::DepthwiseConv2dS8(c, _) => (
            tag::DEPTHWISE_CONV2D_S8,
            w.u(c.in_h)
                .u(c.in_w)
                .u(c.in_c)
                .u(c.multiplier)
                .u(c.kernel_h)
                .u(c.kernel_w),
        )
            .map_w(|w| {
                w.u(c.stride_h)
                    .u(c.stride_w)
                    .u(c.dilation_h)
                    .u(c.dilation_w)
                    .pad(c.padding)
                    .q(c.input)
                    .q(c.output)
                    .act(c.act)
            }),
        Op::Pool1dS8(c) => (
            tag::POOL1D_S8,
            w.pool(c.kind == PoolKindS8::Max)
                .u(c.len)
                .u(c.channels)
                .u(c.window)
                .u(c.stride),
        )
            .map_w(|w| w.pad(c.padding).act(c.act)),
        Op::Pool2dS8(c) => (
            tag::POOL2D_S8,
            w.pool(c.kind == PoolKindS8::Max)
                .u(c.in_h)
                .u(c.in_w)
                .u(c.channels)
                .u(c.window_h),
        )
            .map_w(|w| {
                w.u(c.window_w)
                    .u(c.stride_h)
                    .u(c.stride_w)
                    .pad(c.padding)
                    .act(c.act)
            }),
        Op::GlobalAvgPoolS8(c) => (
            tag::GLOBAL_AVG_POOL_S8,
            w.u(c.spatial).u(c.channels).act(c.act),
        ),
        Op::ActivationS8(c) => {
            let w = w.u(c.len);
            let w = match c.kind {
                ActivationKindS8::Relu { quant } => w.raw(0).q(quant),
                ActivationKindS8::Relu6 { quant } => w.raw(1).q(quant),
                ActivationKindS8::LeakyRelu(_) => return Err(FormatError::Unsupported { layer }),
                ActivationKindS8::Sigmoid { input } => w.raw(3).q(input),
                ActivationKindS8::Tanh { input } => w.raw(4).q(input),
                ActivationKindS8::Gelu { input, output } => w.raw(5).q(input).q(output),
                ActivationKindS8::Softmax { params, depth } => w
                    .raw(6)
                    .i(params.input_multiplier)
                    .i(params.input_left_shift)
                    .i(params.diff_min)
                    .u(depth),
            };
            (tag::ACTIVATION_S8, w)
        }
    };
    if w.too_large {
        return Err(FormatError::TooLarge { layer });
    }
    Ok((t, w.w))
}

/// Continues building the words of a tuple `(tag, words)` (keeps long layouts readable).
trait MapWords {
    fn map_w(self, f: impl FnOnce(Words) -> Words) -> Self;
}

impl MapWords for (u32, Words) {
    fn map_w(self, f: impl FnOnce(Words) -> Words) -> Self {
        (self.0, f(self.1))
    }
}

/// Reads one record's words and tensors out of the file.
pub(crate) struct Reader<'a> {
    /// The whole file (8-byte aligned).
    pub file: &'a [u8],
    /// Start of the data section: tensors must lie in `data..file.len()`.
    pub data: usize,
    /// Layer index, for errors.
    pub layer: usize,
    /// Configuration words.
    pub words: [u32; WORDS],
    /// Tensor references `(offset, count)`.
    pub refs: [(u32, u32); TENSORS],
}

/// A sequential cursor over a record's words.
struct Cursor<'r, 'a> {
    r: &'r Reader<'a>,
    i: usize,
}

impl Cursor<'_, '_> {
    fn field(&self, field: &'static str) -> FormatError {
        FormatError::Field {
            layer: self.r.layer,
            field,
        }
    }
    fn raw(&mut self) -> u32 {
        let v = self.r.words.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        v
    }
    fn u(&mut self) -> Result<usize, FormatError> {
        let v = self.raw();
        usize::try_from(v).map_err(|_| self.field("dimension"))
    }
    fn f(&mut self) -> f32 {
        f32::from_bits(self.raw())
    }
    fn i(&mut self) -> i32 {
        self.raw() as i32
    }
    fn b(&mut self) -> Result<bool, FormatError> {
        match self.raw() {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.field("bias")),
        }
    }
    fn pad(&mut self) -> Result<Padding, FormatError> {
        match self.raw() {
            0 => Ok(Padding::Valid),
            1 => Ok(Padding::Same),
            _ => Err(self.field("padding")),
        }
    }
    fn q(&mut self) -> QuantParams {
        let scale = self.f();
        QuantParams {
            scale,
            zero_point: self.i(),
        }
    }
    fn act(&mut self) -> Result<ActivationS8, FormatError> {
        let v = self.raw();
        if v >> 16 != 0 {
            return Err(self.field("act"));
        }
        Ok(ActivationS8 {
            min: (v & 0xFF) as u8 as i8,
            max: ((v >> 8) & 0xFF) as u8 as i8,
        })
    }
    /// `true` for max pooling.
    fn pool(&mut self) -> Result<bool, FormatError> {
        match self.raw() {
            0 => Ok(true),
            1 => Ok(false),
            _ => Err(self.field("pool kind")),
        }
    }
}

impl<'a> Reader<'a> {
    /// The bytes of tensor `slot` holding `count` elements of `size` bytes; an empty slice for
    /// `count == 0`.
    fn bytes(&self, slot: usize, size: usize) -> Result<&'a [u8], FormatError> {
        let (offset, count) = self.refs.get(slot).copied().unwrap_or((0, 0));
        let (offset, len) = (offset as usize, count as usize);
        if len == 0 {
            // Empty, but at the file's (aligned) address: a literal `&[]` has alignment 1 and
            // would not cast to `&[i32]`.
            return Ok(self.file.get(..0).unwrap_or(&[]));
        }
        let layer = self.layer;
        let oob = FormatError::TensorOutOfBounds { layer, offset, len };
        if offset % super::ALIGN != 0 {
            return Err(FormatError::TensorMisaligned { layer, offset });
        }
        let end = len
            .checked_mul(size)
            .and_then(|n| n.checked_add(offset))
            .ok_or(oob)?;
        if offset < self.data {
            return Err(oob);
        }
        self.file.get(offset..end).ok_or(oob)
    }
    pub(crate) fn f32s(&self, slot: usize) -> Result<&'a [f32], FormatError> {
        bytemuck::try_cast_slice(self.bytes(slot, 4)?).map_err(|_| FormatError::Misaligned)
    }
    fn i32s(&self, slot: usize) -> Result<&'a [i32], FormatError> {
        bytemuck::try_cast_slice(self.bytes(slot, 4)?).map_err(|_| FormatError::Misaligned)
    }
    fn s8(&self) -> Result<TensorsS8<'a>, FormatError> {
        let weights =
            bytemuck::try_cast_slice(self.bytes(0, 1)?).map_err(|_| FormatError::Misaligned)?;
        let bias = self.i32s(1)?;
        Ok(TensorsS8 {
            weights,
            bias: if bias.is_empty() { None } else { Some(bias) },
            requant: self.i32s(2)?,
        })
    }

    /// Decodes the record of kind `kind` into an [`Op`] borrowing its tensors from the file.
    /// Only the encoding is checked here (tags, enum fields, tensor bounds and alignment); the
    /// configuration's consistency is checked by the layers' `init` afterwards.
    ///
    /// # Errors
    /// [`FormatError::LayerKind`], [`FormatError::Field`], [`FormatError::TensorOutOfBounds`],
    /// [`FormatError::TensorMisaligned`].
    pub(crate) fn decode(&self, kind: u32) -> Result<Op<'a>, FormatError> {
        let mut c = Cursor { r: self, i: 0 };
        let layer = self.layer;
        Ok(match kind {
            tag::DENSE => Op::Dense(
                DenseConfig {
                    in_features: c.u()?,
                    out_features: c.u()?,
                    bias: c.b()?,
                },
                self.f32s(0)?,
            ),
            tag::CONV1D => Op::Conv1d(
                Conv1dConfig {
                    len: c.u()?,
                    in_c: c.u()?,
                    out_c: c.u()?,
                    kernel: c.u()?,
                    stride: c.u()?,
                    dilation: c.u()?,
                    padding: c.pad()?,
                    bias: c.b()?,
                },
                self.f32s(0)?,
            ),
            tag::CONV2D => Op::Conv2d(
                Conv2dConfig {
                    in_h: c.u()?,
                    in_w: c.u()?,
                    in_c: c.u()?,
                    out_c: c.u()?,
                    kernel_h: c.u()?,
                    kernel_w: c.u()?,
                    stride_h: c.u()?,
                    stride_w: c.u()?,
                    dilation_h: c.u()?,
                    dilation_w: c.u()?,
                    padding: c.pad()?,
                    bias: c.b()?,
                },
                self.f32s(0)?,
            ),
            tag::DEPTHWISE_CONV2D => Op::DepthwiseConv2d(
                DepthwiseConv2dConfig {
                    in_h: c.u()?,
                    in_w: c.u()?,
                    in_c: c.u()?,
                    multiplier: c.u()?,
                    kernel_h: c.u()?,
                    kernel_w: c.u()?,
                    stride_h: c.u()?,
                    stride_w: c.u()?,
                    dilation_h: c.u()?,
                    dilation_w: c.u()?,
                    padding: c.pad()?,
                    bias: c.b()?,
                },
                self.f32s(0)?,
            ),
            tag::BATCH_NORM => Op::BatchNorm(
                BatchNormConfig {
                    positions: c.u()?,
                    channels: c.u()?,
                    eps: c.f(),
                    momentum: c.f(),
                },
                self.f32s(0)?,
                self.f32s(1)?,
            ),
            tag::LAYER_NORM => Op::LayerNorm(
                LayerNormConfig {
                    positions: c.u()?,
                    dim: c.u()?,
                    eps: c.f(),
                },
                self.f32s(0)?,
            ),
            tag::EMBEDDING => Op::Embedding(
                EmbeddingConfig {
                    vocab: c.u()?,
                    dim: c.u()?,
                    seq_len: c.u()?,
                },
                self.f32s(0)?,
            ),
            tag::POOL1D => Op::Pool1d(Pool1dConfig {
                kind: if c.pool()? {
                    PoolKind::Max
                } else {
                    PoolKind::Avg
                },
                len: c.u()?,
                channels: c.u()?,
                window: c.u()?,
                stride: c.u()?,
                padding: c.pad()?,
            }),
            tag::POOL2D => Op::Pool2d(Pool2dConfig {
                kind: if c.pool()? {
                    PoolKind::Max
                } else {
                    PoolKind::Avg
                },
                in_h: c.u()?,
                in_w: c.u()?,
                channels: c.u()?,
                window_h: c.u()?,
                window_w: c.u()?,
                stride_h: c.u()?,
                stride_w: c.u()?,
                padding: c.pad()?,
            }),
            tag::GLOBAL_AVG_POOL => Op::GlobalAvgPool(GlobalAvgPoolConfig {
                positions: c.u()?,
                channels: c.u()?,
            }),
            tag::RESHAPE => Op::Reshape(ReshapeConfig { len: c.u()? }),
            tag::ACTIVATION => {
                let len = c.u()?;
                let kind = match c.raw() {
                    0 => ActivationKind::Relu,
                    1 => ActivationKind::Relu6,
                    2 => ActivationKind::LeakyRelu { alpha: c.f() },
                    3 => ActivationKind::Sigmoid,
                    4 => ActivationKind::Tanh,
                    5 => ActivationKind::Gelu,
                    6 => ActivationKind::Softmax { depth: c.u()? },
                    _ => return Err(c.field("activation kind")),
                };
                Op::Activation(ActivationConfig { kind, len })
            }
            tag::QUANTIZE => Op::Quantize {
                len: c.u()?,
                params: c.q(),
            },
            tag::DEQUANTIZE => Op::Dequantize {
                len: c.u()?,
                params: c.q(),
            },
            tag::DENSE_S8 => Op::DenseS8(
                DenseS8Config {
                    in_features: c.u()?,
                    out_features: c.u()?,
                    input: c.q(),
                    output: c.q(),
                    act: c.act()?,
                },
                self.s8()?,
            ),
            tag::CONV1D_S8 => Op::Conv1dS8(
                Conv1dS8Config {
                    len: c.u()?,
                    in_c: c.u()?,
                    out_c: c.u()?,
                    kernel: c.u()?,
                    stride: c.u()?,
                    dilation: c.u()?,
                    padding: c.pad()?,
                    input: c.q(),
                    output: c.q(),
                    act: c.act()?,
                },
                self.s8()?,
            ),
            tag::CONV2D_S8 => Op::Conv2dS8(
                Conv2dS8Config {
                    in_h: c.u()?,
                    in_w: c.u()?,
                    in_c: c.u()?,
                    out_c: c.u()?,
                    kernel_h: c.u()?,
                    kernel_w: c.u()?,
                    stride_h: c.u()?,
                    stride_w: c.u()?,
                    dilation_h: c.u()?,
                    dilation_w: c.u()?,
                    padding: c.pad()?,
                    input: c.q(),
                    output: c.q(),
                    act: c.act()?,
                },
                self.s8()?,
            ),
            tag::DEPTHWISE_CONV2D_S8 => Op::DepthwiseConv2dS8(
                DepthwiseConv2dS8Config {
                    in_h: c.u()?,
                    in_w: c.u()?,
                    in_c: c.u()?,
                    multiplier: c.u()?,
                    kernel_h: c.u()?,
                    kernel_w: c.u()?,
                    stride_h: c.u()?,
                    stride_w: c.u()?,
                    dilation_h: c.u()?,
                    dilation_w: c.u()?,
                    padding: c.pad()?,
                    input: c.q(),
                    output: c.q(),
                    act: c.act()?,
                },
                self.s8()?,
            ),
            tag::POOL1D_S8 => Op::Pool1dS8(Pool1dS8Config {
                kind: if c.pool()? {
                    PoolKindS8::Max
                } else {
                    PoolKindS8::Avg
                },
                len: c.u()?,
                channels: c.u()?,
                window: c.u()?,
                stride: c.u()?,
                padding: c.pad()?,
                act: c.act()?,
            }),
            tag::POOL2D_S8 => Op::Pool2dS8(Pool2dS8Config {
                kind: if c.pool()? {
                    PoolKindS8::Max
                } else {
                    PoolKindS8::Avg
                },
                in_h: c.u()?,
                in_w: c.u()?,
                channels: c.u()?,
                window_h: c.u()?,
                window_w: c.u()?,
                stride_h: c.u()?,
                stride_w: c.u()?,
                padding: c.pad()?,
                act: c.act()?,
            }),
            tag::GLOBAL_AVG_POOL_S8 => Op::GlobalAvgPoolS8(GlobalAvgPoolS8Config {
                spatial: c.u()?,
                channels: c.u()?,
                act: c.act()?,
            }),
            tag::ACTIVATION_S8 => {
                let len = c.u()?;
                let kind = match c.raw() {
                    0 => ActivationKindS8::Relu { quant: c.q() },
                    1 => ActivationKindS8::Relu6 { quant: c.q() },
                    3 => ActivationKindS8::Sigmoid { input: c.q() },
                    4 => ActivationKindS8::Tanh { input: c.q() },
                    5 => ActivationKindS8::Gelu {
                        input: c.q(),
                        output: c.q(),
                    },
                    6 => {
                        let params = SoftmaxParamsS8 {
                            input_multiplier: c.i(),
                            input_left_shift: c.i(),
                            diff_min: c.i(),
                        };
                        // TFLite's ranges: a Q31 multiplier, a left shift, a non-positive
                        // threshold; anything else was not produced by `SoftmaxParamsS8::new`.
                        if params.input_multiplier < 0
                            || !(0..=31).contains(&params.input_left_shift)
                            || params.diff_min > 0
                        {
                            return Err(c.field("softmax parameters"));
                        }
                        ActivationKindS8::Softmax {
                            params,
                            depth: c.u()?,
                        }
                    }
                    _ => return Err(c.field("activation kind")),
                };
                Op::ActivationS8(ActivationS8Config { len, kind })
            }
            tag => return Err(FormatError::LayerKind { layer, tag }),
        })
    }
}
