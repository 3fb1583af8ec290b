//! Validation of one [`Op`]: builds its layer once (through the layer's own `…Config::init`, so
//! the file parser checks exactly what the layers check; the int8 encoder block through the
//! `init`s of its parts, see `check_encoder.rs`) and reports its per-sample input and output
//! lengths, element types, requantizer count and scratch.

use crate::error::{Buffer, DType, Error, QuantError, ShapeError};
#[cfg(feature = "ops-attention")]
use crate::layers::s8::LayerS8;
use crate::layers::Layer;
#[cfg(feature = "ops-attention")]
use crate::model::check_encoder::check_encoder_s8;
#[cfg(all(feature = "ops-activation", not(feature = "ops-exp-activations")))]
use crate::model::relu::relu;
use crate::model::{Op, TensorsS8};
use crate::num::quant::{QuantParams, Requantizer};

/// What the planner and the chain check need to know about one validated [`Op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpInfo {
    /// Values per sample in.
    pub input_len: usize,
    /// Values per sample out.
    pub output_len: usize,
    /// Element type in (`None`: either, as for a reshape).
    pub input: Option<DType>,
    /// Element type out (`None`: the same as in).
    pub output: Option<DType>,
    /// Requantizers the layer borrows (0 for layers without).
    pub requant: usize,
    /// Arena scratch bytes the op needs whatever the batch (the int8 encoder's), 0 for most.
    pub scratch: usize,
    /// Whether the op is an f32 encoder block, whose scratch the planner asks for each batch.
    pub f32_encoder: bool,
}

impl OpInfo {
    #[cfg(any(
        feature = "ops-f32",
        all(feature = "ops-activation", not(feature = "ops-exp-activations"))
    ))]
    fn f32(input_len: usize, output_len: usize) -> Self {
        OpInfo {
            input_len,
            output_len,
            input: Some(DType::F32),
            output: Some(DType::F32),
            requant: 0,
            scratch: 0,
            f32_encoder: false,
        }
    }

    fn s8(input_len: usize, output_len: usize, requant: usize) -> Self {
        OpInfo {
            input_len,
            output_len,
            input: Some(DType::S8),
            output: Some(DType::S8),
            requant,
            scratch: 0,
            f32_encoder: false,
        }
    }
}

#[cfg(feature = "ops-f32")]
fn f32_layer<L: Layer>(layer: L) -> OpInfo {
    OpInfo::f32(layer.input_len(), layer.output_len())
}

/// Checks an int8 layer's requantizer pairs: an even count of 2 or `2 · channels` values, each
/// multiplier in `0..=i32::MAX` and shift in `-31..=30` (the range
/// [`Requantizer::from_real`] produces). Returns the number of requantizers.
pub(crate) fn check_requant(pairs: &[i32], channels: usize) -> Result<usize, Error> {
    let expected = channels.checked_mul(2).ok_or(ShapeError::Dimension)?;
    if pairs.len() != 2 && pairs.len() != expected {
        return Err(ShapeError::Length {
            buffer: Buffer::Requant,
            expected,
            actual: pairs.len(),
        }
        .into());
    }
    for pair in pairs.chunks_exact(2) {
        if let [m, s] = *pair {
            if m < 0 || !(-31..=30).contains(&s) {
                return Err(QuantError::InvalidMultiplier.into());
            }
        }
    }
    Ok(pairs.len() / 2)
}

/// Converts the interleaved `(multiplier, shift)` pairs into `scratch` and returns the filled
/// part.
///
/// # Errors
/// [`ShapeError::Length`] (`Requant`) if `scratch` holds fewer than `pairs.len() / 2` values.
pub(crate) fn requantizers<'s>(
    pairs: &[i32],
    scratch: &'s mut [Requantizer],
) -> Result<&'s [Requantizer], Error> {
    let n = pairs.len() / 2;
    let actual = scratch.len();
    let Some(out) = scratch.get_mut(..n) else {
        return Err(ShapeError::Length {
            buffer: Buffer::Requant,
            expected: n,
            actual,
        }
        .into());
    };
    for (r, pair) in out.iter_mut().zip(pairs.chunks_exact(2)) {
        if let [multiplier, shift] = *pair {
            *r = Requantizer { multiplier, shift };
        }
    }
    Ok(out)
}

/// A quantize/dequantize op's parameters must be valid and its length nonzero.
fn check_quant_op(len: usize, params: QuantParams, input: DType) -> Result<OpInfo, Error> {
    if len == 0 {
        return Err(ShapeError::Dimension.into());
    }
    QuantParams::new(params.scale, params.zero_point)?;
    let output = match input {
        DType::F32 => DType::S8,
        DType::S8 => DType::F32,
    };
    Ok(OpInfo {
        input_len: len,
        output_len: len,
        input: Some(input),
        output: Some(output),
        requant: 0,
        scratch: 0,
        f32_encoder: false,
    })
}

/// The single requantizer used to validate an int8 layer's shapes (any count of 1 is valid; the
/// real count is checked by [`check_requant`]).
const ONE: &[Requantizer] = &[Requantizer::ZERO];

/// Validates `op` as its layer's `init` does (and the requantizers as [`check_requant`]) and
/// returns its [`OpInfo`].
///
/// # Errors
/// Whatever the layer's `init` returns for this configuration and these tensors;
/// [`Error::Config`] for a kind this build leaves out (`model::support`).
pub(crate) fn check_op(op: &Op<'_>) -> Result<OpInfo, Error> {
    let s8 = |t: &TensorsS8<'_>, channels: usize| check_requant(t.requant, channels);
    Ok(match *op {
        #[cfg(feature = "ops-f32")]
        Op::Dense(c, p) => f32_layer(c.init(p)?),
        #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
        Op::Conv1d(c, p) => f32_layer(c.init(p)?),
        #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
        Op::Conv2d(c, p) => f32_layer(c.init(p)?),
        #[cfg(all(feature = "ops-conv", feature = "ops-f32"))]
        Op::DepthwiseConv2d(c, p) => f32_layer(c.init(p)?),
        #[cfg(feature = "ops-norm")]
        Op::BatchNorm(c, p, s) => f32_layer(c.init(p, s)?),
        #[cfg(feature = "ops-norm")]
        Op::LayerNorm(c, p) => f32_layer(c.init(p)?),
        #[cfg(feature = "ops-embedding")]
        Op::Embedding(c, p) => f32_layer(c.init(p)?),
        #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
        Op::Pool1d(c) => f32_layer(c.init()?),
        #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
        Op::Pool2d(c) => f32_layer(c.init()?),
        #[cfg(all(feature = "ops-pool", feature = "ops-f32"))]
        Op::GlobalAvgPool(c) => f32_layer(c.init()?),
        #[cfg(all(feature = "ops-exp-activations", feature = "ops-f32"))]
        Op::Activation(c) => f32_layer(c.init()?),
        #[cfg(feature = "ops-exp-activations")]
        Op::ActivationS8(c) => {
            let l = c.init()?;
            OpInfo::s8(l.input_len(), l.output_len(), 0)
        }
        #[cfg(all(feature = "ops-activation", not(feature = "ops-exp-activations")))]
        Op::Activation(_) | Op::ActivationS8(_) => check_activation(op)?,
        Op::Reshape(c) => {
            let l = c.init()?;
            OpInfo {
                input_len: l.input_len(),
                output_len: l.output_len(),
                input: None,
                output: None,
                requant: 0,
                scratch: 0,
                f32_encoder: false,
            }
        }
        Op::Quantize { len, params } => check_quant_op(len, params, DType::F32)?,
        Op::Dequantize { len, params } => check_quant_op(len, params, DType::S8)?,
        Op::DenseS8(c, t) => {
            let l = c.init(t.weights, t.bias, ONE)?;
            OpInfo::s8(l.input_len(), l.output_len(), s8(&t, c.out_features)?)
        }
        #[cfg(feature = "ops-conv")]
        Op::Conv1dS8(c, t) => {
            let l = c.init(t.weights, t.bias, ONE)?;
            OpInfo::s8(l.input_len(), l.output_len(), s8(&t, c.out_c)?)
        }
        #[cfg(feature = "ops-conv")]
        Op::Conv2dS8(c, t) => {
            let l = c.init(t.weights, t.bias, ONE)?;
            OpInfo::s8(l.input_len(), l.output_len(), s8(&t, c.out_c)?)
        }
        #[cfg(feature = "ops-conv")]
        Op::DepthwiseConv2dS8(c, t) => {
            let l = c.init(t.weights, t.bias, ONE)?;
            let channels = c
                .in_c
                .checked_mul(c.multiplier)
                .ok_or(ShapeError::Dimension)?;
            OpInfo::s8(l.input_len(), l.output_len(), s8(&t, channels)?)
        }
        #[cfg(feature = "ops-pool")]
        Op::Pool1dS8(c) => {
            let l = c.init()?;
            OpInfo::s8(l.input_len(), l.output_len(), 0)
        }
        #[cfg(feature = "ops-pool")]
        Op::Pool2dS8(c) => {
            let l = c.init()?;
            OpInfo::s8(l.input_len(), l.output_len(), 0)
        }
        #[cfg(feature = "ops-pool")]
        Op::GlobalAvgPoolS8(c) => {
            let l = c.init()?;
            OpInfo::s8(l.input_len(), l.output_len(), 0)
        }
        #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
        Op::SinusoidalEncoding(c) => f32_layer(c.init()?),
        #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
        Op::LearnedPositionalEncoding(c, p) => f32_layer(c.learned_positions(p)?),
        #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
        Op::TransformerEncoder(c, p) => {
            let l = c.init(p)?;
            OpInfo {
                f32_encoder: true,
                ..OpInfo::f32(l.io_len(), l.io_len())
            }
        }
        #[cfg(feature = "ops-attention")]
        Op::PositionalAddS8(c, t) => {
            let l = c.init(t)?;
            OpInfo::s8(l.input_len(), l.output_len(), 0)
        }
        #[cfg(feature = "ops-attention")]
        Op::TransformerEncoderS8(c, ref t) => {
            let e = check_encoder_s8(&c, t)?;
            // Words first (4-byte aligned at the start of the scratch region), then bytes.
            let scratch = e
                .scratch
                .words
                .checked_mul(4)
                .and_then(|w| w.checked_add(e.scratch.bytes))
                .ok_or(ShapeError::Dimension)?;
            OpInfo {
                scratch,
                ..OpInfo::s8(e.len, e.len, e.requant)
            }
        }
        // A kind this build leaves out (`model::support`): the reader never yields one, and
        // the writer rejects one built in code before it gets here.
        #[allow(unreachable_patterns)]
        _ => return Err(Error::Config),
    })
}

/// Validates an activation op of the ReLU family as the runner runs it (`model::relu`), in a
/// build without `ops-exp-activations`.
#[cfg(all(feature = "ops-activation", not(feature = "ops-exp-activations")))]
fn check_activation(op: &Op<'_>) -> Result<OpInfo, Error> {
    // Sigmoid, tanh, GELU or softmax: the reader yields none in this build.
    let r = relu(op).ok_or(Error::Config)??;
    let len = r.len();
    Ok(if r.is_f32() {
        OpInfo::f32(len, len)
    } else {
        OpInfo::s8(len, len, 0)
    })
}

/// What a whole validated chain of ops gives the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChainInfo {
    /// Values per sample into the first op (f32).
    pub input_len: usize,
    /// Values per sample out of the last op (f32).
    pub output_len: usize,
    /// Bytes per sample of the widest activation (the input, or any op's output).
    pub widest: usize,
    /// The most requantizers any op borrows.
    pub requant: usize,
    /// The most arena scratch bytes any op needs whatever the batch (int8 encoders).
    pub scratch: usize,
    /// Whether an op is an f32 encoder block (whose scratch is asked for each batch).
    pub f32_encoder: bool,
    /// Number of ops.
    pub len: usize,
}

/// Validates every op (as [`check_op`]) and the chain: each op's input length equals the
/// previous output length, f32 and int8 activations meet only through quantize/dequantize, and
/// the model takes and gives f32.
///
/// # Errors
/// The first error found, with its layer index.
pub(crate) fn check_chain<'a, I>(ops: I) -> Result<ChainInfo, crate::error::FormatError>
where
    I: IntoIterator<Item = Result<Op<'a>, crate::error::FormatError>>,
{
    use crate::error::FormatError as F;
    let mut info: Option<ChainInfo> = None;
    let mut dtype = DType::F32;
    for (layer, op) in ops.into_iter().enumerate() {
        let op = op?;
        let i = check_op(&op).map_err(|e| match e {
            Error::Shape(error) => F::Shape { layer, error },
            Error::Quant(error) => F::Quant { layer, error },
            _ => F::Config { layer },
        })?;
        if let Some(expected) = i.input {
            if expected != dtype {
                return Err(F::DType {
                    layer,
                    expected,
                    actual: dtype,
                });
            }
        }
        let bytes = |len: usize, d: DType| match d {
            DType::F32 => len.checked_mul(4),
            DType::S8 => Some(len),
        };
        let c = match info {
            None => ChainInfo {
                input_len: i.input_len,
                output_len: i.input_len,
                widest: bytes(i.input_len, DType::F32).ok_or(F::TooLarge { layer })?,
                requant: 0,
                scratch: 0,
                f32_encoder: false,
                len: 0,
            },
            Some(c) => c,
        };
        if c.output_len != i.input_len {
            return Err(F::Chain {
                layer,
                expected: c.output_len,
                actual: i.input_len,
            });
        }
        dtype = i.output.unwrap_or(dtype);
        let out_bytes = bytes(i.output_len, dtype).ok_or(F::TooLarge { layer })?;
        info = Some(ChainInfo {
            output_len: i.output_len,
            widest: c.widest.max(out_bytes),
            requant: c.requant.max(i.requant),
            scratch: c.scratch.max(i.scratch),
            f32_encoder: c.f32_encoder || i.f32_encoder,
            len: layer + 1,
            ..c
        });
    }
    let info = info.ok_or(F::Empty)?;
    if dtype != DType::F32 {
        return Err(F::DType {
            layer: info.len,
            expected: DType::F32,
            actual: dtype,
        });
    }
    Ok(info)
}
