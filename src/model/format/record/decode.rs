//! A record's words and tensor references → [`Op`] borrowing from the file.

use super::{tag, TENSORS, WORDS};
use crate::error::FormatError;
#[cfg(feature = "ops-activation")]
use crate::kernels::generic::activation::LeakyReluParamsS8;
#[cfg(feature = "ops-exp-activations")]
use crate::kernels::generic::softmax::SoftmaxParamsS8;
use crate::kernels::ActivationS8;
#[cfg(any(feature = "ops-conv", feature = "ops-pool"))]
use crate::kernels::Padding;
#[cfg(all(feature = "ops-activation", feature = "ops-f32"))]
use crate::layers::activation::{ActivationConfig, ActivationKind};
#[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
use crate::layers::attention::{
    SequenceConfig, SinusoidalEncodingConfig, TransformerEncoderConfig,
};
#[cfg(feature = "ops-norm")]
use crate::layers::batch_norm::BatchNormConfig;
#[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
use crate::layers::conv::{Conv1dConfig, Conv2dConfig};
#[cfg(feature = "ops-f32")]
use crate::layers::dense::DenseConfig;
#[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
use crate::layers::depthwise::DepthwiseConv2dConfig;
#[cfg(feature = "ops-embedding")]
use crate::layers::embedding::EmbeddingConfig;
#[cfg(feature = "ops-norm")]
use crate::layers::layer_norm::LayerNormConfig;
#[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
use crate::layers::pool::{GlobalAvgPoolConfig, Pool1dConfig, Pool2dConfig, PoolKind};
use crate::layers::reshape::ReshapeConfig;
#[cfg(feature = "ops-attention")]
use crate::layers::s8::attention::PositionalAddS8Config;
use crate::layers::s8::DenseS8Config;
#[cfg(feature = "ops-activation")]
use crate::layers::s8::{ActivationKindS8, ActivationS8Config};
#[cfg(feature = "ops-conv")]
use crate::layers::s8::{Conv1dS8Config, Conv2dS8Config, DepthwiseConv2dS8Config};
#[cfg(feature = "ops-pool")]
use crate::layers::s8::{GlobalAvgPoolS8Config, Pool1dS8Config, Pool2dS8Config, PoolKindS8};
#[cfg(feature = "ops-activation")]
use crate::model::support::unknown_activation;
use crate::model::support::unknown_kind;
use crate::model::{Op, TensorsS8};
use crate::num::quant::QuantParams;
#[cfg(feature = "ops-activation")]
use crate::num::quant::Requantizer;

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
pub(super) struct Cursor<'r, 'a> {
    r: &'r Reader<'a>,
    i: usize,
}

impl Cursor<'_, '_> {
    pub(super) fn field(&self, field: &'static str) -> FormatError {
        FormatError::Field {
            layer: self.r.layer,
            field,
        }
    }
    pub(super) fn raw(&mut self) -> u32 {
        let v = self.r.words.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        v
    }
    pub(super) fn u(&mut self) -> Result<usize, FormatError> {
        let v = self.raw();
        usize::try_from(v).map_err(|_| self.field("dimension"))
    }
    pub(super) fn f(&mut self) -> f32 {
        f32::from_bits(self.raw())
    }
    pub(super) fn i(&mut self) -> i32 {
        self.raw() as i32
    }
    #[cfg(feature = "ops-f32")]
    fn b(&mut self) -> Result<bool, FormatError> {
        self.flag("bias")
    }
    /// A bool word named `name` in errors.
    #[cfg(any(feature = "ops-f32", feature = "ops-attention"))]
    pub(super) fn flag(&mut self, name: &'static str) -> Result<bool, FormatError> {
        match self.raw() {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.field(name)),
        }
    }
    #[cfg(any(feature = "ops-conv", feature = "ops-pool"))]
    fn pad(&mut self) -> Result<Padding, FormatError> {
        match self.raw() {
            0 => Ok(Padding::Valid),
            1 => Ok(Padding::Same),
            _ => Err(self.field("padding")),
        }
    }
    pub(super) fn q(&mut self) -> QuantParams {
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
    #[cfg(feature = "ops-pool")]
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
        if offset % crate::model::format::ALIGN != 0 {
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
    pub(super) fn i32s(&self, slot: usize) -> Result<&'a [i32], FormatError> {
        bytemuck::try_cast_slice(self.bytes(slot, 4)?).map_err(|_| FormatError::Misaligned)
    }
    pub(super) fn i8s(&self, slot: usize) -> Result<&'a [i8], FormatError> {
        bytemuck::try_cast_slice(self.bytes(slot, 1)?).map_err(|_| FormatError::Misaligned)
    }
    #[cfg(feature = "ops-attention")]
    pub(super) fn i64s(&self, slot: usize) -> Result<&'a [i64], FormatError> {
        bytemuck::try_cast_slice(self.bytes(slot, 8)?).map_err(|_| FormatError::Misaligned)
    }

    fn s8(&self) -> Result<TensorsS8<'a>, FormatError> {
        let weights = self.i8s(0)?;
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
    /// [`FormatError::LayerKind`], [`FormatError::Unsupported`] (a kind or activation this
    /// build leaves out), [`FormatError::Field`], [`FormatError::TensorOutOfBounds`],
    /// [`FormatError::TensorMisaligned`].
    pub(crate) fn decode(&self, kind: u32) -> Result<Op<'a>, FormatError> {
        let mut c = Cursor { r: self, i: 0 };
        let layer = self.layer;
        Ok(match kind {
            #[cfg(feature = "ops-f32")]
            tag::DENSE => Op::Dense(
                DenseConfig {
                    in_features: c.u()?,
                    out_features: c.u()?,
                    bias: c.b()?,
                },
                self.f32s(0)?,
            ),
            #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
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
            #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
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
            #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
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
            #[cfg(feature = "ops-norm")]
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
            #[cfg(feature = "ops-norm")]
            tag::LAYER_NORM => Op::LayerNorm(
                LayerNormConfig {
                    positions: c.u()?,
                    dim: c.u()?,
                    eps: c.f(),
                },
                self.f32s(0)?,
            ),
            #[cfg(feature = "ops-embedding")]
            tag::EMBEDDING => Op::Embedding(
                EmbeddingConfig {
                    vocab: c.u()?,
                    dim: c.u()?,
                    seq_len: c.u()?,
                },
                self.f32s(0)?,
            ),
            #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
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
            #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
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
            #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
            tag::GLOBAL_AVG_POOL => Op::GlobalAvgPool(GlobalAvgPoolConfig {
                positions: c.u()?,
                channels: c.u()?,
            }),
            tag::RESHAPE => Op::Reshape(ReshapeConfig { len: c.u()? }),
            #[cfg(all(feature = "ops-activation", feature = "ops-f32"))]
            tag::ACTIVATION => {
                let len = c.u()?;
                let code = c.raw();
                let kind = match code {
                    0 => ActivationKind::Relu,
                    1 => ActivationKind::Relu6,
                    2 => ActivationKind::LeakyRelu { alpha: c.f() },
                    #[cfg(all(feature = "ops-exp-activations", feature = "ops-f32"))]
                    3 => ActivationKind::Sigmoid,
                    #[cfg(all(feature = "ops-exp-activations", feature = "ops-f32"))]
                    4 => ActivationKind::Tanh,
                    #[cfg(all(feature = "ops-exp-activations", feature = "ops-f32"))]
                    5 => ActivationKind::Gelu,
                    #[cfg(all(feature = "ops-exp-activations", feature = "ops-f32"))]
                    6 => ActivationKind::Softmax { depth: c.u()? },
                    // An unknown function, or one this build leaves out.
                    _ => {
                        return Err(unknown_activation(
                            layer,
                            kind,
                            code,
                            c.field("activation kind"),
                        ))
                    }
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
            #[cfg(feature = "ops-conv")]
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
            #[cfg(feature = "ops-conv")]
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
            #[cfg(feature = "ops-conv")]
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
            #[cfg(feature = "ops-pool")]
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
            #[cfg(feature = "ops-pool")]
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
            #[cfg(feature = "ops-pool")]
            tag::GLOBAL_AVG_POOL_S8 => Op::GlobalAvgPoolS8(GlobalAvgPoolS8Config {
                spatial: c.u()?,
                channels: c.u()?,
                act: c.act()?,
            }),
            #[cfg(feature = "ops-activation")]
            tag::ACTIVATION_S8 => {
                let len = c.u()?;
                let code = c.raw();
                let kind = match code {
                    0 => ActivationKindS8::Relu { quant: c.q() },
                    1 => ActivationKindS8::Relu6 { quant: c.q() },
                    2 => {
                        let (in_zp, out_zp) = (c.i(), c.i());
                        let identity = Requantizer {
                            multiplier: c.i(),
                            shift: c.i(),
                        };
                        let alpha = Requantizer {
                            multiplier: c.i(),
                            shift: c.i(),
                        };
                        let params = LeakyReluParamsS8::from_parts(in_zp, out_zp, identity, alpha)
                            .map_err(|_| c.field("leaky ReLU parameters"))?;
                        ActivationKindS8::LeakyRelu(params)
                    }
                    #[cfg(feature = "ops-exp-activations")]
                    3 => ActivationKindS8::Sigmoid { input: c.q() },
                    #[cfg(feature = "ops-exp-activations")]
                    4 => ActivationKindS8::Tanh { input: c.q() },
                    #[cfg(feature = "ops-exp-activations")]
                    5 => ActivationKindS8::Gelu {
                        input: c.q(),
                        output: c.q(),
                    },
                    #[cfg(feature = "ops-exp-activations")]
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
                    // An unknown function, or one this build leaves out.
                    _ => {
                        return Err(unknown_activation(
                            layer,
                            kind,
                            code,
                            c.field("activation kind"),
                        ))
                    }
                };
                Op::ActivationS8(ActivationS8Config { len, kind })
            }
            #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
            tag::SINUSOIDAL_ENCODING => Op::SinusoidalEncoding(SinusoidalEncodingConfig {
                seq: c.u()?,
                width: c.u()?,
            }),
            #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
            tag::LEARNED_POSITIONAL_ENCODING => Op::LearnedPositionalEncoding(
                SequenceConfig {
                    seq: c.u()?,
                    width: c.u()?,
                },
                self.f32s(0)?,
            ),
            #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
            tag::TRANSFORMER_ENCODER => Op::TransformerEncoder(
                TransformerEncoderConfig {
                    seq: c.u()?,
                    width: c.u()?,
                    heads: c.u()?,
                    ff: c.u()?,
                    causal: c.flag("causal")?,
                    eps: c.f(),
                    // Not stored: inference has no dropout.
                    dropout: 0.0,
                },
                self.f32s(0)?,
            ),
            #[cfg(feature = "ops-attention")]
            tag::POSITIONAL_ADD_S8 => Op::PositionalAddS8(
                PositionalAddS8Config {
                    seq: c.u()?,
                    width: c.u()?,
                    input: c.q(),
                    table: c.q(),
                    output: c.q(),
                },
                self.i8s(0)?,
            ),
            #[cfg(feature = "ops-attention")]
            tag::TRANSFORMER_ENCODER_S8 => {
                let (config, tensors) = self.encoder_s8(&mut c)?;
                Op::TransformerEncoderS8(config, tensors)
            }
            // An unknown kind, or one this build leaves out (`model::support`: its arm above
            // is not compiled, so nothing of it is linked).
            tag => return Err(unknown_kind(layer, tag)),
        })
    }
}
