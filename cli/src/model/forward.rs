//! Running an [`OwnedModel`]: each operation is built into the core's f32 or int8 layer from
//! exactly its [`Op`](tinytune::model::op::Op) data and run on the whole batch.

use super::error::{At, PipelineError, Result};
use super::op::{requantizers_from_pairs, OwnedOp};
use super::OwnedModel;
use tinytune::layers::attention::{
    LearnedPositionalEncoding, SinusoidalEncoding, TransformerEncoder,
};
use tinytune::layers::s8::attention::{
    EncoderS8Params, PositionalAddS8, ScratchS8, TransformerEncoderS8,
};
use tinytune::layers::s8::{
    ActivationS8Layer, Conv1dS8, Conv2dS8, DenseS8, DepthwiseConv2dS8, GlobalAvgPoolS8, LayerS8,
    Pool1dS8, Pool2dS8,
};
use tinytune::layers::{AnyLayer, Layer, Params};
use tinytune::num::quant::{QuantParams, Requantizer};

/// The activations between two operations: f32 or int8, `[batch, len]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Activations {
    /// f32 values.
    F32(Vec<f32>),
    /// int8 values.
    S8(Vec<i8>),
}

/// An operation built into a runnable core layer.
pub(crate) enum Built<'a> {
    /// An f32 layer (reshape included).
    F32(Box<AnyLayer<'a>>),
    /// An int8 layer.
    S8(Box<dyn LayerS8 + 'a>),
    /// f32 sinusoidal positional encoding.
    Sinusoidal(SinusoidalEncoding),
    /// f32 learned positional encoding.
    Learned(LearnedPositionalEncoding<'a>),
    /// f32 encoder block (inference: no dropout, no padding), with per-call scratch.
    Encoder(Box<TransformerEncoder<'a>>),
    /// int8 encoder block (its configured mask), with per-call scratch.
    EncoderS8(Box<TransformerEncoderS8<'a>>),
    /// f32 → int8 over `len` values per sample.
    Quantize(usize, QuantParams),
    /// int8 → f32 over `len` values per sample.
    Dequantize(usize, QuantParams),
}

impl Built<'_> {
    /// Per-sample `(input, output)` lengths.
    pub(crate) fn lens(&self) -> (usize, usize) {
        match self {
            Built::F32(l) => (l.input_len(), l.output_len()),
            Built::S8(l) => (l.input_len(), l.output_len()),
            Built::Sinusoidal(l) => (l.input_len(), l.output_len()),
            Built::Learned(l) => (l.input_len(), l.output_len()),
            Built::Encoder(l) => (l.io_len(), l.io_len()),
            Built::EncoderS8(l) => (l.len(), l.len()),
            Built::Quantize(len, _) | Built::Dequantize(len, _) => (*len, *len),
        }
    }
}

/// `op i (kind)`: the location of an operation in errors.
pub(crate) fn op_at(i: usize, op: &OwnedOp) -> String {
    format!("op {i} ({})", op.kind_name())
}

/// The requantizers of an int8 layer with weights or of an int8 encoder block (empty for
/// every other operation).
pub(crate) fn op_requantizers(i: usize, op: &OwnedOp) -> Result<Vec<Requantizer>> {
    let pairs = match op {
        OwnedOp::DenseS8(_, t)
        | OwnedOp::Conv1dS8(_, t)
        | OwnedOp::Conv2dS8(_, t)
        | OwnedOp::DepthwiseConv2dS8(_, t) => &t.requant,
        OwnedOp::TransformerEncoderS8(_, t) => &t.requant,
        _ => return Ok(Vec::new()),
    };
    requantizers_from_pairs(pairs).ok_or_else(|| {
        PipelineError::invalid(
            op_at(i, op),
            format!(
                "requant holds {} values, not (multiplier, shift) pairs",
                pairs.len()
            ),
        )
    })
}

/// Builds operation `i` into its core layer; `requant` comes from [`op_requantizers`].
pub(crate) fn build<'a>(
    i: usize,
    op: &'a OwnedOp,
    requant: &'a [Requantizer],
) -> Result<Built<'a>> {
    let at = || op_at(i, op);
    let f = |p: &'a [f32]| Params::Frozen(p);
    Ok(match op {
        OwnedOp::Dense(c, p) => Built::F32(Box::new(c.init(f(p)).at(at)?.into())),
        OwnedOp::Conv1d(c, p) => Built::F32(Box::new(c.init(f(p)).at(at)?.into())),
        OwnedOp::Conv2d(c, p) => Built::F32(Box::new(c.init(f(p)).at(at)?.into())),
        OwnedOp::DepthwiseConv2d(c, p) => Built::F32(Box::new(c.init(f(p)).at(at)?.into())),
        OwnedOp::BatchNorm(c, p, s) => Built::F32(Box::new(c.init(f(p), f(s)).at(at)?.into())),
        OwnedOp::LayerNorm(c, p) => Built::F32(Box::new(c.init(f(p)).at(at)?.into())),
        OwnedOp::Embedding(c, p) => Built::F32(Box::new(c.init(f(p)).at(at)?.into())),
        OwnedOp::Pool1d(c) => Built::F32(Box::new(c.init().at(at)?.into())),
        OwnedOp::Pool2d(c) => Built::F32(Box::new(c.init().at(at)?.into())),
        OwnedOp::GlobalAvgPool(c) => Built::F32(Box::new(c.init().at(at)?.into())),
        OwnedOp::Reshape(c) => Built::F32(Box::new(c.init().at(at)?.into())),
        OwnedOp::Activation(c) => Built::F32(Box::new(c.init().at(at)?.into())),
        OwnedOp::Quantize { len, params } | OwnedOp::Dequantize { len, params } => {
            QuantParams::new(params.scale, params.zero_point).at(at)?;
            if *len == 0 {
                return Err(PipelineError::invalid(at(), "zero values per sample"));
            }
            if matches!(op, OwnedOp::Quantize { .. }) {
                Built::Quantize(*len, *params)
            } else {
                Built::Dequantize(*len, *params)
            }
        }
        OwnedOp::DenseS8(c, t) => {
            let l: DenseS8 = c.init(&t.weights, t.bias.as_deref(), requant).at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::Conv1dS8(c, t) => {
            let l: Conv1dS8 = c.init(&t.weights, t.bias.as_deref(), requant).at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::Conv2dS8(c, t) => {
            let l: Conv2dS8 = c.init(&t.weights, t.bias.as_deref(), requant).at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::DepthwiseConv2dS8(c, t) => {
            let l: DepthwiseConv2dS8 = c.init(&t.weights, t.bias.as_deref(), requant).at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::Pool1dS8(c) => {
            let l: Pool1dS8 = c.init().at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::Pool2dS8(c) => {
            let l: Pool2dS8 = c.init().at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::GlobalAvgPoolS8(c) => {
            let l: GlobalAvgPoolS8 = c.init().at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::ActivationS8(c) => {
            let l: ActivationS8Layer = c.init().at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::SinusoidalEncoding(c) => Built::Sinusoidal(c.init().at(at)?),
        OwnedOp::LearnedPositionalEncoding(c, p) => {
            Built::Learned(c.learned_positions(f(p)).at(at)?)
        }
        OwnedOp::TransformerEncoder(c, p) => Built::Encoder(Box::new(c.init(f(p)).at(at)?)),
        OwnedOp::PositionalAddS8(c, t) => {
            let l: PositionalAddS8 = c.init(t).at(at)?;
            Built::S8(Box::new(l))
        }
        OwnedOp::TransformerEncoderS8(c, t) => {
            let params = EncoderS8Params {
                weights: &t.weights,
                bias: &t.bias,
                requant,
                ln_multiplier: &t.ln_multiplier,
                ln_offset: &t.ln_offset,
            };
            Built::EncoderS8(Box::new(c.init(params).at(at)?))
        }
    })
}

/// `batch * len`, or an error at `at` on overflow.
fn total(batch: usize, len: usize, at: impl FnOnce() -> String) -> Result<usize> {
    batch
        .checked_mul(len)
        .ok_or_else(|| PipelineError::invalid(at(), "batch size overflows"))
}

/// Runs operation `i` on `batch` samples.
pub(crate) fn run_op(
    i: usize,
    op: &OwnedOp,
    batch: usize,
    input: &Activations,
) -> Result<Activations> {
    let at = || op_at(i, op);
    let requant = op_requantizers(i, op)?;
    let built = build(i, op, &requant)?;
    let (_, out_len) = built.lens();
    let n = total(batch, out_len, at)?;
    let expected_in = total(batch, built.lens().0, at)?;
    let wrong = |got: &str| {
        PipelineError::invalid(
            at(),
            format!("takes {} activations but was given {got}", kind_in(&built)),
        )
    };
    match (&built, input) {
        (Built::F32(l), Activations::F32(x)) => {
            let mut out = vec![0.0f32; n];
            l.forward(batch, x, &mut out).at(at)?;
            Ok(Activations::F32(out))
        }
        (Built::S8(l), Activations::S8(x)) => {
            let mut out = vec![0i8; n];
            l.forward(batch, x, &mut out).at(at)?;
            Ok(Activations::S8(out))
        }
        (Built::Sinusoidal(l), Activations::F32(x)) => {
            let mut out = vec![0.0f32; n];
            l.forward(batch, x, &mut out).at(at)?;
            Ok(Activations::F32(out))
        }
        (Built::Learned(l), Activations::F32(x)) => {
            let mut out = vec![0.0f32; n];
            l.forward(batch, x, &mut out).at(at)?;
            Ok(Activations::F32(out))
        }
        (Built::Encoder(l), Activations::F32(x)) => {
            let mut out = vec![0.0f32; n];
            let mut scratch = vec![0.0f32; l.scratch_len(batch)];
            l.forward(batch, None, x, &mut out, &mut scratch).at(at)?;
            Ok(Activations::F32(out))
        }
        (Built::EncoderS8(l), Activations::S8(x)) => {
            let mut out = vec![0i8; n];
            let need = l.scratch_len();
            let (mut bytes, mut words) = (vec![0i8; need.bytes], vec![0i32; need.words]);
            let mut scratch = ScratchS8 {
                bytes: &mut bytes,
                words: &mut words,
            };
            l.forward(batch, x, &mut out, &mut scratch).at(at)?;
            Ok(Activations::S8(out))
        }
        // A reshape copies int8 activations as it copies f32 ones.
        (Built::F32(l), Activations::S8(x)) if matches!(**l, AnyLayer::Reshape(_)) => {
            check_total(x.len(), expected_in, at)?;
            Ok(Activations::S8(x.clone()))
        }
        (Built::Quantize(_, q), Activations::F32(x)) => {
            check_total(x.len(), expected_in, at)?;
            let mut out = vec![0i8; n];
            q.quantize_slice(x, &mut out).at(at)?;
            Ok(Activations::S8(out))
        }
        (Built::Dequantize(_, q), Activations::S8(x)) => {
            check_total(x.len(), expected_in, at)?;
            let mut out = vec![0.0f32; n];
            q.dequantize_slice(x, &mut out).at(at)?;
            Ok(Activations::F32(out))
        }
        (_, Activations::F32(_)) => Err(wrong("f32")),
        (_, Activations::S8(_)) => Err(wrong("int8")),
    }
}

/// "f32" or "int8": what a built operation takes.
fn kind_in(b: &Built<'_>) -> &'static str {
    match b {
        Built::F32(_)
        | Built::Sinusoidal(_)
        | Built::Learned(_)
        | Built::Encoder(_)
        | Built::Quantize(..) => "f32",
        Built::S8(_) | Built::EncoderS8(_) | Built::Dequantize(..) => "int8",
    }
}

/// Checks a quantize/dequantize input length.
fn check_total(actual: usize, expected: usize, at: impl FnOnce() -> String) -> Result<()> {
    if actual == expected {
        Ok(())
    } else {
        Err(PipelineError::core(
            at(),
            tinytune::ShapeError::Length {
                buffer: tinytune::Buffer::Input,
                expected,
                actual,
            },
        ))
    }
}

impl OwnedModel {
    /// Every operation's output on `batch` samples of `input` (f32, `[batch, input_len]`), in
    /// order: element `i` is the output of operation `i`.
    ///
    /// # Errors
    /// An empty model or `batch == 0` ([`PipelineError::Invalid`]); any operation's data or
    /// buffer rejected by the core ([`PipelineError::Core`] naming the operation, e.g. a wrong
    /// input length as `ShapeError::Length { buffer: Input, .. }` at op 0); an int8 operation
    /// given f32 activations or the reverse.
    pub fn trace(&self, batch: usize, input: &[f32]) -> Result<Vec<Activations>> {
        if self.ops.is_empty() {
            return Err(PipelineError::invalid("model", "has no operations"));
        }
        if batch == 0 {
            return Err(PipelineError::invalid("batch", "must be at least 1"));
        }
        let mut outputs: Vec<Activations> = Vec::with_capacity(self.ops.len());
        let first = Activations::F32(input.to_vec());
        for (i, op) in self.ops.iter().enumerate() {
            let x = outputs.last().unwrap_or(&first);
            let y = run_op(i, op, batch, x)?;
            outputs.push(y);
        }
        Ok(outputs)
    }

    /// Runs the model and returns its final f32 output.
    fn run(&self, batch: usize, input: &[f32]) -> Result<Vec<f32>> {
        match self.trace(batch, input)?.pop() {
            Some(Activations::F32(y)) => Ok(y),
            _ => Err(PipelineError::invalid(
                "model",
                "ends with int8 activations (add a Dequantize)",
            )),
        }
    }

    /// Runs an f32 model (batch norm in inference mode) through the core's f32 layers.
    ///
    /// # Shapes
    /// `input`: `[batch, input_len]`; result `[batch, output_len]`.
    ///
    /// # Errors
    /// [`PipelineError::Invalid`] if the model holds an int8 operation; otherwise as
    /// [`trace`](Self::trace).
    pub fn forward_f32(&self, batch: usize, input: &[f32]) -> Result<Vec<f32>> {
        if let Some((i, op)) = self.ops.iter().enumerate().find(|(_, op)| op.is_int8()) {
            return Err(PipelineError::invalid(
                op_at(i, op),
                "forward_f32 runs f32 models only (use forward_int8)",
            ));
        }
        self.run(batch, input)
    }

    /// Runs a quantized model (`Quantize → int8 ops … → Dequantize`, with any f32 operations
    /// between a `Dequantize` and a `Quantize`) through the core's int8 layers, each built from
    /// exactly its operation's data: this is the reference a device running the same operations
    /// reproduces bit for bit.
    ///
    /// # Shapes
    /// `input`: `[batch, input_len]` f32; result `[batch, output_len]` f32.
    ///
    /// # Errors
    /// As [`trace`](Self::trace); [`PipelineError::Invalid`] if the model does not end in f32.
    pub fn forward_int8(&self, batch: usize, input: &[f32]) -> Result<Vec<f32>> {
        self.run(batch, input)
    }
}
