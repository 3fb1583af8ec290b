//! The digits transformer of [`crate::transformer`] in int8: its trained f32 parameters
//! quantized the TFLite way, every activation range calibrated by an instrumented f64 forward
//! pass over calibration samples.
//!
//! The int8 pipeline: quantize the input → the per-position embedding as one [`DenseS8`] over
//! `batch · seq` rows → plus the sinusoidal positional encoding as an int8 add ([`add_s8`]) of
//! the quantized table → each [`TransformerEncoderS8`] block → int8 mean pooling over the
//! positions ([`GlobalAvgPoolS8`], output at the last block's quantization) → int8 dense head →
//! argmax of the int8 logits.

use tinytune::kernels::generic::elementwise::{add_s8, AddParamsS8};
use tinytune::kernels::ActivationS8;
use tinytune::layers::attention::SinusoidalEncodingConfig;
use tinytune::layers::s8::attention::{
    encoder_s8_storage_len, quantize_encoder, EncoderRanges, EncoderS8Params, EncoderS8Storage,
    EncoderShapeS8, ScratchS8, TransformerEncoderS8Config,
};
use tinytune::layers::s8::{quantize_dense_weights, DenseS8Config, GlobalAvgPoolS8Config};
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune::Error;

use crate::reference::activation::gelu;
use crate::reference::attention as f64ref;
use crate::transformer::Spec;

/// Layer-norm epsilon of the blocks (the f32 encoder's default).
pub const EPS: f32 = 1e-5;

/// The shape of one encoder block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncoderDims {
    /// Positions per sample.
    pub seq: usize,
    /// Model width.
    pub width: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward hidden width.
    pub ff: usize,
}

/// Every intermediate of the f64 pre-LN encoder block on one sample `x` `[seq, width]`, in the
/// order of `EncoderRanges`: input, LN1, Q, K, V, concatenated heads, MHA output, first
/// residual, LN2, FF1, GELU, FF2, output. `params` in the encoder's layout.
pub fn encoder_f64(
    d: EncoderDims,
    params: &[f64],
    x: &[f64],
    mask: f64ref::Mask,
) -> [Vec<f64>; 13] {
    let (w, f, seq) = (d.width, d.ff, d.seq);
    let mut at = 0;
    let mut take = |n: usize| {
        let s = params[at..at + n].to_vec();
        at += n;
        s
    };
    let (g1, be1) = (take(w), take(w));
    let proj: Vec<(Vec<f64>, Vec<f64>)> = (0..4).map(|_| (take(w * w), take(w))).collect();
    let (g2, be2) = (take(w), take(w));
    let (w1, b1, w2, b2) = (take(f * w), take(f), take(w * f), take(w));
    let h = f64ref::layer_norm(x, w, &g1, &be1, EPS as f64);
    let pr = |i: usize, inp: &[f64]| f64ref::dense(inp, seq, w, w, &proj[i].0, &proj[i].1);
    let (q, k, v) = (pr(0, &h), pr(1, &h), pr(2, &h));
    let hd = w / d.heads;
    let mut concat = vec![0.0; seq * w];
    for hh in 0..d.heads {
        let cols = |m: &[f64]| -> Vec<f64> {
            (0..seq)
                .flat_map(|r| m[r * w + hh * hd..r * w + (hh + 1) * hd].to_vec())
                .collect()
        };
        let o = f64ref::sdpa(&cols(&q), &cols(&k), &cols(&v), seq, hd, mask);
        for r in 0..seq {
            concat[r * w + hh * hd..r * w + (hh + 1) * hd]
                .copy_from_slice(&o[r * hd..(r + 1) * hd]);
        }
    }
    let a = pr(3, &concat);
    let y: Vec<f64> = x.iter().zip(&a).map(|(x, a)| x + a).collect();
    let h2 = f64ref::layer_norm(&y, w, &g2, &be2, EPS as f64);
    let f1 = f64ref::dense(&h2, seq, w, f, &w1, &b1);
    let g: Vec<f64> = f1.iter().map(|&v| gelu(v)).collect();
    let f2 = f64ref::dense(&g, seq, f, w, &w2, &b2);
    let out: Vec<f64> = y.iter().zip(&f2).map(|(y, f)| y + f).collect();
    [x.to_vec(), h, q, k, v, concat, a, y, h2, f1, g, f2, out]
}

/// `(min, max)` of `v`.
pub fn range_of(v: &[f64]) -> (f32, f32) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo as f32, hi as f32)
}

/// The 13 ranges, in the order of [`encoder_f64`]'s intermediates, as `EncoderRanges`.
pub fn encoder_ranges(r: &[(f32, f32); 13]) -> EncoderRanges {
    EncoderRanges {
        input: r[0],
        ln1: r[1],
        q: r[2],
        k: r[3],
        v: r[4],
        attn: r[5],
        mha: r[6],
        resid: r[7],
        ln2: r[8],
        ff1: r[9],
        gelu: r[10],
        ff2: r[11],
        output: r[12],
    }
}

/// An int8 dense layer's storage.
struct DenseStore {
    config: DenseS8Config,
    weights: Vec<i8>,
    bias: Vec<i32>,
    requant: Vec<Requantizer>,
}

impl DenseStore {
    fn new(
        params: &[f32],
        inp: usize,
        out: usize,
        input: QuantParams,
        output: QuantParams,
    ) -> Result<Self, Error> {
        let (w, b) = params.split_at(inp * out);
        let mut s = DenseStore {
            config: DenseS8Config {
                in_features: inp,
                out_features: out,
                input,
                output,
                act: ActivationS8::NONE,
            },
            weights: vec![0; inp * out],
            bias: vec![0; out],
            requant: vec![Requantizer::ZERO; out],
        };
        let mut scales = vec![0.0; out];
        quantize_dense_weights(
            w,
            Some(b),
            out,
            input,
            output,
            &mut s.weights,
            &mut s.bias,
            &mut s.requant,
            &mut scales,
        )?;
        Ok(s)
    }

    fn forward(&self, rows: usize, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
        self.config
            .init(&self.weights, Some(&self.bias), &self.requant)?
            .forward(rows, x, y)
    }

    fn bytes(&self) -> usize {
        self.weights.len()
            + self.bias.len() * size_of::<i32>()
            + self.requant.len() * size_of::<Requantizer>()
    }
}

/// An int8 encoder block's storage.
struct BlockStore {
    config: TransformerEncoderS8Config,
    weights: Vec<i8>,
    bias: Vec<i32>,
    requant: Vec<Requantizer>,
    ln_multiplier: Vec<i32>,
    ln_offset: Vec<i64>,
}

impl BlockStore {
    fn new(d: EncoderDims, params: &[f32], ranges: &EncoderRanges) -> Result<Self, Error> {
        let (lens, scales_len) = encoder_s8_storage_len(d.width, d.ff)?;
        let mut weights = vec![0; lens.weights];
        let mut bias = vec![0; lens.bias];
        let mut requant = vec![Requantizer::ZERO; lens.bias];
        let mut ln_multiplier = vec![0; lens.ln];
        let mut ln_offset = vec![0; lens.ln];
        let mut scales = vec![0f32; scales_len];
        let config = quantize_encoder(
            EncoderShapeS8 {
                seq: d.seq,
                width: d.width,
                heads: d.heads,
                ff: d.ff,
                causal: false,
                eps: EPS,
            },
            params,
            ranges,
            EncoderS8Storage {
                weights: &mut weights,
                bias: &mut bias,
                requant: &mut requant,
                ln_multiplier: &mut ln_multiplier,
                ln_offset: &mut ln_offset,
                scales: &mut scales,
            },
        )?;
        Ok(BlockStore {
            config,
            weights,
            bias,
            requant,
            ln_multiplier,
            ln_offset,
        })
    }

    fn params(&self) -> EncoderS8Params<'_> {
        EncoderS8Params {
            weights: &self.weights,
            bias: &self.bias,
            requant: &self.requant,
            ln_multiplier: &self.ln_multiplier,
            ln_offset: &self.ln_offset,
        }
    }

    fn bytes(&self) -> usize {
        self.weights.len()
            + self.bias.len() * size_of::<i32>()
            + self.requant.len() * size_of::<Requantizer>()
            + self.ln_multiplier.len() * size_of::<i32>()
            + self.ln_offset.len() * size_of::<i64>()
    }
}

/// The int8 digits transformer.
pub struct TransformerS8 {
    spec: Spec,
    input: QuantParams,
    embed: DenseStore,
    pe_table: Vec<i8>,
    pe_add: AddParamsS8,
    blocks: Vec<BlockStore>,
    head: DenseStore,
}

/// The f64 model's activations on one sample: input, embedding and every block's
/// intermediates, logits.
struct Trace {
    input: Vec<f64>,
    embedded: Vec<f64>,
    blocks: Vec<[Vec<f64>; 13]>,
    logits: Vec<f64>,
}

/// Splits the flat f32 parameters into embedding, blocks, head.
fn pieces<'a>(spec: &Spec, params: &'a [f32]) -> (&'a [f32], Vec<&'a [f32]>, &'a [f32]) {
    let embed_len = spec.features * spec.width + spec.width;
    let block_len = f64ref::encoder_param_len(spec.width, spec.ff);
    let (embed, mut rest) = params.split_at(embed_len);
    let mut blocks = Vec::with_capacity(spec.blocks);
    for _ in 0..spec.blocks {
        let (b, r) = rest.split_at(block_len);
        blocks.push(b);
        rest = r;
    }
    (embed, blocks, rest)
}

fn dims(spec: &Spec) -> EncoderDims {
    EncoderDims {
        seq: spec.seq,
        width: spec.width,
        heads: spec.heads,
        ff: spec.ff,
    }
}

/// The f64 forward pass of the whole model on one sample `x` `[seq·features]`.
fn trace(spec: &Spec, params: &[f32], x: &[f32]) -> Trace {
    let to64 = |v: &[f32]| -> Vec<f64> { v.iter().map(|&v| v as f64).collect() };
    let (embed, blocks, head) = pieces(spec, params);
    let (sq, w) = (spec.seq, spec.width);
    let ew = to64(embed);
    let (we, be) = ew.split_at(spec.features * w);
    let input = to64(x);
    let embedded = f64ref::dense(&input, sq, spec.features, w, we, be);
    let mut h: Vec<f64> = embedded
        .iter()
        .enumerate()
        .map(|(k, &e)| {
            let (p, c) = ((k / w) as f64, k % w);
            let omega = 10000f64.powf(-((c / 2 * 2) as f64) / w as f64);
            e + if c % 2 == 0 {
                (p * omega).sin()
            } else {
                (p * omega).cos()
            }
        })
        .collect();
    let mask = f64ref::Mask {
        causal: false,
        valid: sq,
    };
    let mut outs = Vec::with_capacity(blocks.len());
    for b in blocks {
        let t = encoder_f64(dims(spec), &to64(b), &h, mask);
        h = t[12].clone();
        outs.push(t);
    }
    let pooled: Vec<f64> = (0..w)
        .map(|c| (0..sq).map(|p| h[p * w + c]).sum::<f64>() / sq as f64)
        .collect();
    let hw = to64(head);
    let (wh, bh) = hw.split_at(spec.classes * w);
    let logits = f64ref::dense(&pooled, 1, w, spec.classes, wh, bh);
    Trace {
        input,
        embedded,
        blocks: outs,
        logits,
    }
}

/// Running `(min, max)` of many slices.
#[derive(Clone, Copy)]
struct Range(f64, f64);

impl Range {
    const EMPTY: Range = Range(f64::INFINITY, f64::NEG_INFINITY);
    fn add(&mut self, v: &[f64]) {
        let (lo, hi) = range_of(v);
        self.0 = self.0.min(lo as f64);
        self.1 = self.1.max(hi as f64);
    }
    fn pair(self) -> (f32, f32) {
        (self.0 as f32, self.1 as f32)
    }
    fn quant(self) -> Result<QuantParams, Error> {
        Ok(QuantParams::asymmetric_from_min_max(
            self.0 as f32,
            self.1 as f32,
        )?)
    }
}

impl TransformerS8 {
    /// Quantizes the trained f32 `params` of `spec`, every activation range the min/max over
    /// the f64 forward passes on `calib` (`[n, seq·features]` samples).
    ///
    /// # Errors
    /// As the quantization functions (an empty or degenerate range, a bad shape).
    pub fn quantize(spec: &Spec, params: &[f32], calib: &[f32]) -> Result<Self, Error> {
        let (sq, w) = (spec.seq, spec.width);
        let sample = sq * spec.features;
        let (mut input, mut embedded, mut logits) = (Range::EMPTY, Range::EMPTY, Range::EMPTY);
        let mut blocks = vec![[Range::EMPTY; 13]; spec.blocks];
        for x in calib.chunks_exact(sample) {
            let t = trace(spec, params, x);
            input.add(&t.input);
            embedded.add(&t.embedded);
            for (r, b) in blocks.iter_mut().zip(&t.blocks) {
                for (r, v) in r.iter_mut().zip(b) {
                    r.add(v);
                }
            }
            logits.add(&t.logits);
        }
        // Block k + 1's input is block k's output: one range, so one quantization.
        for k in 1..blocks.len() {
            blocks[k][0] = blocks[k - 1][12];
        }
        let (embed_p, block_p, head_p) = pieces(spec, params);
        let q_input = input.quant()?;
        let q_embed = embedded.quant()?;
        let embed = DenseStore::new(embed_p, spec.features, w, q_input, q_embed)?;
        let pe = SinusoidalEncodingConfig { seq: sq, width: w }.init()?;
        let q_pe = QuantParams::asymmetric_from_min_max(-1.0, 1.0)?;
        let pe_table: Vec<i8> = (0..sq * w)
            .map(|k| q_pe.quantize(pe.value(k / w, k % w)))
            .collect();
        let stores = blocks
            .iter()
            .zip(block_p)
            .map(|(r, p)| {
                let ranges: [(f32, f32); 13] = core::array::from_fn(|i| r[i].pair());
                BlockStore::new(dims(spec), p, &encoder_ranges(&ranges))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let first = stores.first().ok_or(Error::Config)?.config.quant.input;
        let pe_add = AddParamsS8::new(
            q_embed.scale,
            q_embed.zero_point,
            q_pe.scale,
            q_pe.zero_point,
            first.scale,
            first.zero_point,
            ActivationS8::NONE,
        )?;
        // Mean pooling keeps its input's quantization: no range of its own.
        let q_pooled = stores.last().ok_or(Error::Config)?.config.quant.output;
        let head = DenseStore::new(head_p, w, spec.classes, q_pooled, logits.quant()?)?;
        Ok(TransformerS8 {
            spec: *spec,
            input: q_input,
            embed,
            pe_table,
            pe_add,
            blocks: stores,
            head,
        })
    }

    /// The int8 logits `[n, classes]` of samples `x` `[n, seq·features]`, in batches of 64.
    ///
    /// # Errors
    /// As the int8 layers' passes.
    pub fn logits(&self, x: &[f32]) -> Result<Vec<i8>, Error> {
        let s = &self.spec;
        let sample = s.seq * s.features;
        let sw = s.seq * s.width;
        let mut out = Vec::with_capacity(x.len() / sample * s.classes);
        for chunk in x.chunks(64 * sample) {
            let batch = chunk.len() / sample;
            let mut xq = vec![0i8; chunk.len()];
            self.input.quantize_slice(chunk, &mut xq)?;
            let mut e = vec![0i8; batch * sw];
            self.embed.forward(batch * s.seq, &xq, &mut e)?;
            let mut h = vec![0i8; batch * sw];
            for (e, h) in e.chunks_exact(sw).zip(h.chunks_exact_mut(sw)) {
                add_s8(&self.pe_add, e, &self.pe_table, h)?;
            }
            let mut next = vec![0i8; batch * sw];
            for b in &self.blocks {
                let enc = b.config.init(b.params())?;
                let sl = enc.scratch_len();
                let (mut bytes, mut words) = (vec![0i8; sl.bytes], vec![0i32; sl.words]);
                let mut scratch = ScratchS8 {
                    bytes: &mut bytes,
                    words: &mut words,
                };
                enc.forward(batch, &h, &mut next, &mut scratch)?;
                std::mem::swap(&mut h, &mut next);
            }
            let pool = GlobalAvgPoolS8Config {
                spatial: s.seq,
                channels: s.width,
                act: ActivationS8::NONE,
            }
            .init()?;
            let mut pooled = vec![0i8; batch * s.width];
            pool.forward(batch, &h, &mut pooled)?;
            let mut logits = vec![0i8; batch * s.classes];
            self.head.forward(batch, &pooled, &mut logits)?;
            out.extend_from_slice(&logits);
        }
        Ok(out)
    }

    /// The predicted class of every sample of `x` (argmax of the int8 logits, the first on a
    /// tie).
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict(&self, x: &[f32]) -> Result<Vec<usize>, Error> {
        Ok(self
            .logits(x)?
            .chunks_exact(self.spec.classes)
            .map(|z| {
                z.iter()
                    .enumerate()
                    .fold((0, i8::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                    .0
            })
            .collect())
    }

    /// Bytes of the int8 model's parameters: int8 weights, int32 biases, requantizers, the
    /// layer-norm constants and the int8 positional table.
    pub fn param_bytes(&self) -> usize {
        self.embed.bytes()
            + self.pe_table.len()
            + self.blocks.iter().map(BlockStore::bytes).sum::<usize>()
            + self.head.bytes()
    }

    /// Bytes of the int8 weight tensors alone (embedding, blocks, head).
    pub fn weight_bytes(&self) -> usize {
        self.embed.weights.len()
            + self.blocks.iter().map(|b| b.weights.len()).sum::<usize>()
            + self.head.weights.len()
    }
}
