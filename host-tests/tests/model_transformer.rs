//! The transformer ops in `.ttm` models: round trips of each new kind, the int8 encoder's
//! record layout as the spec gives it, `Model::run` on an f32 and an int8 transformer against
//! the same layers called directly (bit-identical / bit-exact), the arena and summary figures,
//! errors for short buffers and bad records (the parser's int8 encoder check against the
//! block's own `init`: `model_transformer_check.rs`).

mod model_common;
mod model_transformer_common;

use model_common::*;
use model_transformer_common::*;
use tinytune::layers::attention::{TransformerEncoder, TransformerEncoderConfig};
use tinytune::layers::s8::attention::{EncoderS8Params, ScratchS8, TransformerEncoderS8};
use tinytune::layers::s8::LayerS8;
use tinytune::layers::Layer;
use tinytune::model::{DType, FormatError, Meta, Model, Op, OpSummary};
use tinytune::num::quant::Requantizer;
use tinytune::{Buffer, Error, QuantError, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

fn rq(pairs: &[i32]) -> Vec<Requantizer> {
    pairs
        .chunks(2)
        .map(|p| Requantizer {
            multiplier: p[0],
            shift: p[1],
        })
        .collect()
}

/// An activation of the reference runner.
#[derive(Clone, Debug, PartialEq)]
enum Act {
    F(Vec<f32>),
    Q(Vec<i8>),
}

fn f32_layer(l: &impl Layer, batch: usize, x: &[f32]) -> Act {
    let mut y = vec![0.0; batch * l.output_len()];
    l.forward(batch, x, &mut y).unwrap();
    Act::F(y)
}

fn s8_layer(l: &impl LayerS8, batch: usize, x: &[i8]) -> Act {
    let mut y = vec![0; batch * l.output_len()];
    l.forward(batch, x, &mut y).unwrap();
    Act::Q(y)
}

fn run_encoder_f32(l: &TransformerEncoder<'_>, batch: usize, x: &[f32]) -> Act {
    let mut y = vec![0.0; x.len()];
    let mut scratch = vec![0.0; l.scratch_len(batch)];
    l.forward(batch, None, x, &mut y, &mut scratch).unwrap();
    Act::F(y)
}

fn run_encoder_s8(l: &TransformerEncoderS8<'_>, batch: usize, x: &[i8]) -> Act {
    let mut y = vec![0; x.len()];
    let need = l.scratch_len();
    let (mut bytes, mut words) = (vec![0i8; need.bytes], vec![0i32; need.words]);
    let mut s = ScratchS8 {
        bytes: &mut bytes,
        words: &mut words,
    };
    l.forward(batch, x, &mut y, &mut s).unwrap();
    Act::Q(y)
}

/// Every activation (the input, then each op's output) of `ops` run with the layers' own APIs
/// on plain vectors: the reference.
fn reference(ops: &[Op<'_>], batch: usize, input: &[f32]) -> Vec<Act> {
    let mut acts = vec![Act::F(input.to_vec())];
    for op in ops {
        let a = match (*op, acts.last().unwrap()) {
            (Op::Conv1d(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::SinusoidalEncoding(c), Act::F(x)) => f32_layer(&c.init().unwrap(), batch, x),
            (Op::LearnedPositionalEncoding(c, p), Act::F(x)) => {
                f32_layer(&c.learned_positions(p).unwrap(), batch, x)
            }
            (Op::TransformerEncoder(c, p), Act::F(x)) => {
                run_encoder_f32(&c.init(p).unwrap(), batch, x)
            }
            (Op::GlobalAvgPool(c), Act::F(x)) => f32_layer(&c.init().unwrap(), batch, x),
            (Op::Dense(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::Quantize { params, .. }, Act::F(x)) => {
                Act::Q(x.iter().map(|&v| params.quantize(v)).collect())
            }
            (Op::Dequantize { params, .. }, Act::Q(x)) => {
                Act::F(x.iter().map(|&v| params.dequantize(v)).collect())
            }
            (Op::Conv1dS8(c, t), Act::Q(x)) => {
                let r = rq(t.requant);
                s8_layer(&c.init(t.weights, t.bias, &r).unwrap(), batch, x)
            }
            (Op::PositionalAddS8(c, t), Act::Q(x)) => s8_layer(&c.init(t).unwrap(), batch, x),
            (Op::TransformerEncoderS8(c, t), Act::Q(x)) => {
                let r = rq(t.requant);
                let l = c
                    .init(EncoderS8Params {
                        weights: t.weights,
                        bias: t.bias,
                        requant: &r,
                        ln_multiplier: t.ln_multiplier,
                        ln_offset: t.ln_offset,
                    })
                    .unwrap();
                run_encoder_s8(&l, batch, x)
            }
            (Op::GlobalAvgPoolS8(c), Act::Q(x)) => s8_layer(&c.init().unwrap(), batch, x),
            (Op::DenseS8(c, t), Act::Q(x)) => {
                let r = rq(t.requant);
                s8_layer(&c.init(t.weights, t.bias, &r).unwrap(), batch, x)
            }
            (op, _) => panic!("unexpected {op:?}"),
        };
        acts.push(a);
    }
    acts
}

/// The bytes of an activation as `run_prefix` returns them.
fn act_bytes(a: &Act) -> (DType, Vec<u8>) {
    match a {
        Act::F(v) => (DType::F32, v.iter().flat_map(|x| x.to_ne_bytes()).collect()),
        Act::Q(v) => (DType::S8, v.iter().map(|&x| x as u8).collect()),
    }
}

/// Runs `ops` through a written and parsed file and compares the output and every prefix with
/// the reference, bit for bit, for several batches.
fn check_against_layers(ops: &[Op<'_>], d: Dims, seed: u64) {
    let file = encode(ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut rng = SplitMix64::new(seed);
    for batch in [1, 3] {
        let input = rng.f32_vec(batch * d.seq * d.features, -2.0, 2.0);
        let acts = reference(ops, batch, &input);
        let mut arena = vec![0u8; model.arena_len(batch).unwrap()];
        let mut requant = vec![Requantizer::ZERO; model.requant_len()];
        let mut out = vec![f32::NAN; batch * d.classes];
        model
            .run(batch, &input, &mut arena, &mut requant, &mut out)
            .unwrap();
        let Act::F(expected) = acts.last().unwrap() else {
            panic!()
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(expected), "batch {batch}");
        assert!(out.iter().all(|v| v.is_finite()));
        for (n, a) in acts.iter().enumerate() {
            let (dtype, bytes) = model
                .run_prefix(n, batch, &input, &mut arena, &mut requant)
                .unwrap();
            assert_eq!((dtype, bytes.to_vec()), act_bytes(a), "prefix {n}");
        }
    }
}

#[test]
fn f32_transformer_model_is_bit_identical_to_its_layers() {
    check_against_layers(&f32_model(1, MAIN, false), MAIN, 2);
    check_against_layers(&f32_model(3, MAIN, true), MAIN, 4);
    check_against_layers(&f32_model(5, SMALL, false), SMALL, 6);
}

#[test]
fn int8_transformer_model_is_bit_exact_to_its_layers() {
    check_against_layers(&s8_model(7, MAIN), MAIN, 8);
    check_against_layers(&s8_model(9, SMALL), SMALL, 10);
    // The encoder's output is not constant: the check can fail.
    let ops = s8_model(7, MAIN);
    let mut rng = SplitMix64::new(11);
    let x = rng.f32_vec(64, -2.0, 2.0);
    let acts = reference(&ops, 1, &x);
    let Act::Q(enc) = &acts[4] else { panic!() };
    assert!(enc.iter().any(|&v| v != enc[0]));
}

#[test]
fn every_transformer_op_round_trips_and_the_file_is_version_1_1() {
    let models = [
        f32_model(12, MAIN, false),
        f32_model(13, MAIN, true),
        f32_model(14, SMALL, true),
        s8_model(15, MAIN),
        s8_model(16, SMALL),
    ];
    let mut kinds = Vec::new();
    for ops in &models {
        let file = encode(ops, &Meta::default());
        // Minor version 1 (bytes 6..8): the file uses 1.1 kinds.
        assert_eq!(&file.bytes()[4..8], &[1, 0, 1, 0]);
        let model = Model::from_bytes(file.bytes()).unwrap();
        assert_eq!(model.ops().collect::<Vec<_>>(), *ops);
        kinds.extend(ops.iter().map(|o| OpSummary::of(o).kind_name));
    }
    for kind in [
        "SinusoidalEncoding",
        "LearnedPositionalEncoding",
        "TransformerEncoder",
        "PositionalAddS8",
        "TransformerEncoderS8",
    ] {
        assert!(kinds.contains(&kind), "{kind}");
    }
    // A file of 1.0 kinds only is still written as 1.0.
    let old = encode(&all_kinds(17), &Meta::default());
    assert_eq!(&old.bytes()[4..8], &[1, 0, 0, 0]);

    // Dropout is not stored: it reads back as 0, everything else unchanged.
    let mut ops = f32_model(18, SMALL, false);
    let Op::TransformerEncoder(c, p) = ops[2] else {
        panic!()
    };
    ops[2] = Op::TransformerEncoder(TransformerEncoderConfig { dropout: 0.25, ..c }, p);
    let file = encode(&ops, &Meta::default());
    let back: Vec<Op> = Model::from_bytes(file.bytes()).unwrap().ops().collect();
    assert_eq!(back[2], Op::TransformerEncoder(c, p));
    assert_eq!(c.dropout, 0.0);
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Byte offset of configuration word `w` of record `layer` (1-record table at 48, 96 bytes).
fn word(layer: usize, w: usize) -> usize {
    48 + 96 * layer + 4 + 4 * w
}

/// Byte offset of tensor reference `slot` of record `layer`.
fn tref(layer: usize, slot: usize) -> usize {
    48 + 96 * layer + 68 + 8 * slot
}

#[test]
fn the_int8_encoder_record_has_the_documented_layout() {
    let ops = s8_model(19, MAIN);
    let Op::TransformerEncoderS8(c, t) = ops[3] else {
        panic!()
    };
    let file = encode(&ops, &Meta::default());
    let b = file.bytes();
    let (w, f) = (MAIN.width, MAIN.ff);
    assert_eq!(u32_at(b, 48 + 96 * 3), 41);
    let words: Vec<u32> = (0..16).map(|i| u32_at(b, word(3, i))).collect();
    assert_eq!(
        words[..8],
        [8, 16, 2, 32, 0, c.eps.to_bits(), c.ln1_shift, c.ln2_shift]
    );
    assert!(words[8..].iter().all(|&x| x == 0));
    // t0: 4·w² + 2·f·w int8 weights.
    let (t0, n0) = (u32_at(b, tref(3, 0)) as usize, u32_at(b, tref(3, 0) + 4));
    assert_eq!(n0 as usize, 4 * w * w + 2 * f * w);
    assert_eq!(&b[t0..t0 + n0 as usize], bytemuck_i8(t.weights));
    // t1: 26 quantization words, bias 5w+f, requantizer pairs 2(5w+f), LN multipliers 2w.
    let (t1, n1) = (
        u32_at(b, tref(3, 1)) as usize,
        u32_at(b, tref(3, 1) + 4) as usize,
    );
    let nb = 5 * w + f;
    assert_eq!(n1, 26 + nb + 2 * nb + 2 * w);
    let block: Vec<i32> = (0..n1).map(|i| u32_at(b, t1 + 4 * i) as i32).collect();
    let qs = [
        c.quant.input,
        c.quant.ln1,
        c.quant.q,
        c.quant.k,
        c.quant.v,
        c.quant.attn,
        c.quant.mha,
        c.quant.resid,
        c.quant.ln2,
        c.quant.ff1,
        c.quant.gelu,
        c.quant.ff2,
        c.quant.output,
    ];
    for (i, p) in qs.iter().enumerate() {
        assert_eq!(block[2 * i] as u32, p.scale.to_bits());
        assert_eq!(block[2 * i + 1], p.zero_point);
    }
    assert_eq!(&block[26..26 + nb], t.bias);
    assert_eq!(&block[26 + nb..26 + 3 * nb], t.requant);
    assert_eq!(&block[26 + 3 * nb..], t.ln_multiplier);
    // t2: 2w little-endian i64, 8-byte aligned.
    let (t2, n2) = (
        u32_at(b, tref(3, 2)) as usize,
        u32_at(b, tref(3, 2) + 4) as usize,
    );
    assert_eq!((n2, t2 % 8), (2 * w, 0));
    let offsets: Vec<i64> = (0..n2)
        .map(|i| i64::from_le_bytes(b[t2 + 8 * i..t2 + 8 * i + 8].try_into().unwrap()))
        .collect();
    assert_eq!(offsets, t.ln_offset);
    // The positional table of layer 2: t0, seq·width int8 values.
    assert_eq!(u32_at(b, 48 + 96 * 2), 40);
    assert_eq!(u32_at(b, tref(2, 0) + 4) as usize, MAIN.seq * w);
}

fn bytemuck_i8(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

fn parse_mutated(base: &AlignedBuf, f: impl FnOnce(&mut [u8])) -> FormatError {
    let mut b = AlignedBuf::from(base.bytes());
    f(b.bytes_mut());
    let bytes = b.bytes_mut();
    bytes[16..20].fill(0);
    let crc = tinytune::model::crc32(bytes);
    bytes[16..20].copy_from_slice(&crc.to_le_bytes());
    Model::from_bytes(b.bytes()).expect_err("mutation must be rejected")
}

fn put(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn bad_transformer_records_are_rejected_with_what_and_where() {
    let file = encode(&s8_model(20, SMALL), &Meta::default());
    let t2 = u32_at(file.bytes(), tref(3, 2));
    let n1 = u32_at(file.bytes(), tref(3, 1) + 4);
    let t1 = u32_at(file.bytes(), tref(3, 1)) as usize;
    // The i64 tensor moved by 4 bytes: misaligned.
    assert_eq!(
        parse_mutated(&file, |b| put(b, tref(3, 2), t2 + 4)),
        FormatError::TensorMisaligned {
            layer: 3,
            offset: t2 as usize + 4
        }
    );
    // 8-byte elements past the end of the file.
    let e = parse_mutated(&file, |b| put(b, tref(3, 2) + 4, u32::MAX / 8));
    assert!(
        matches!(e, FormatError::TensorOutOfBounds { layer: 3, .. }),
        "{e:?}"
    );
    // One word too few in the t1 block.
    let e = parse_mutated(&file, |b| put(b, tref(3, 1) + 4, n1 - 1));
    assert_eq!(
        e,
        FormatError::Shape {
            layer: 3,
            error: ShapeError::Length {
                buffer: Buffer::Bias,
                expected: n1 as usize,
                actual: n1 as usize - 1
            }
        }
    );
    // A NaN scale in the quantization words (the residual sum's).
    let e = parse_mutated(&file, |b| put(b, t1 + 4 * 14, f32::NAN.to_bits()));
    assert!(matches!(e, FormatError::Quant { layer: 3, .. }), "{e:?}");
    // A negative requantizer multiplier (the first pair, after 26 + 5w + f words).
    let nb = 5 * SMALL.width + SMALL.ff;
    let e = parse_mutated(&file, |b| put(b, t1 + 4 * (26 + nb), u32::MAX));
    assert_eq!(
        e,
        FormatError::Quant {
            layer: 3,
            error: QuantError::InvalidMultiplier
        }
    );
    // `causal` must be 0 or 1; heads must divide width; a layer-norm shift in 1..=62.
    assert_eq!(
        parse_mutated(&file, |b| put(b, word(3, 4), 2)),
        FormatError::Field {
            layer: 3,
            field: "causal"
        }
    );
    assert_eq!(
        parse_mutated(&file, |b| put(b, word(3, 2), 3)),
        FormatError::Shape {
            layer: 3,
            error: ShapeError::Dimension
        }
    );
    assert_eq!(
        parse_mutated(&file, |b| put(b, word(3, 6), 63)),
        FormatError::Shape {
            layer: 3,
            error: ShapeError::Dimension
        }
    );
    // The f32 block: a NaN eps and a wrong parameter count.
    let file = encode(&f32_model(21, SMALL, true), &Meta::default());
    assert_eq!(
        parse_mutated(&file, |b| put(b, word(2, 5), f32::NAN.to_bits())),
        FormatError::Config { layer: 2 }
    );
    let n = u32_at(file.bytes(), tref(2, 0) + 4);
    assert!(matches!(
        parse_mutated(&file, |b| put(b, tref(2, 0) + 4, n - 1)),
        FormatError::Shape {
            layer: 2,
            error: ShapeError::Length {
                buffer: Buffer::Params,
                ..
            }
        }
    ));
    // The learned table must be seq·width long; an unknown tag is rejected.
    let n = u32_at(file.bytes(), tref(1, 0) + 4);
    assert!(matches!(
        parse_mutated(&file, |b| put(b, tref(1, 0) + 4, n + 1)),
        FormatError::Shape { layer: 1, .. }
    ));
    assert_eq!(
        parse_mutated(&file, |b| put(b, 48 + 96, 18)),
        FormatError::LayerKind { layer: 1, tag: 18 }
    );
}

/// Hand-computed: (seq, width, heads, ff) = (8, 16, 2, 32).
///
/// f32 model: the widest activation is the embedding output, 8·16 f32 = 512 bytes per sample;
/// the encoder's `scratch_len` is `max(s·w + max(4·s·w + h·s², s·f), 2·s·w + max(2·s·f,
/// 6·s·w)) = max(128 + 640, 256 + 768) = 1024` values, 4096 bytes. Arena:
/// `3 + 2·align8(512·batch) + 4096` = 5123 (batch 1), 6147 (batch 2).
///
/// int8 model: the widest activation is the f32 input, 8·8·4 = 256 bytes per sample; the int8
/// encoder's scratch is `s·w + max(3·s·w, s·(f + w))` = 128 + 384 = 512 bytes and `s` = 8
/// words, 544 bytes. Arena: `3 + 2·align8(256·batch) + 544` = 1059 (batch 1), 1571 (batch 2).
#[test]
fn arena_len_and_summary_of_the_test_models_match_hand_computed_figures() {
    let f = encode(&f32_model(22, MAIN, false), &Meta::default());
    let fm = Model::from_bytes(f.bytes()).unwrap();
    assert_eq!(fm.scratch_len(1).unwrap(), 4096);
    assert_eq!(fm.arena_len(1).unwrap(), 5123);
    assert_eq!(fm.arena_len(2).unwrap(), 6147);
    assert_eq!(fm.requant_len(), 0);
    let s = encode(&s8_model(23, MAIN), &Meta::default());
    let sm = Model::from_bytes(s.bytes()).unwrap();
    assert_eq!(sm.scratch_len(1).unwrap(), 544);
    assert_eq!(sm.scratch_len(5).unwrap(), 544);
    assert_eq!(sm.arena_len(1).unwrap(), 1059);
    assert_eq!(sm.arena_len(2).unwrap(), 1571);
    // One requantizer per bias value of the block: 5·16 + 32.
    assert_eq!(sm.requant_len(), 112);
    // The layer's own figure agrees with the planner's.
    let Op::TransformerEncoderS8(c, t) = sm.ops().nth(3).unwrap() else {
        panic!()
    };
    let r = rq(t.requant);
    let l = c
        .init(EncoderS8Params {
            weights: t.weights,
            bias: t.bias,
            requant: &r,
            ln_multiplier: t.ln_multiplier,
            ln_offset: t.ln_offset,
        })
        .unwrap();
    assert_eq!(l.scratch_len().total_bytes(), 544);
    // A model without encoder blocks has no scratch region.
    let old = encode(&all_kinds(24), &Meta::default());
    assert_eq!(
        Model::from_bytes(old.bytes())
            .unwrap()
            .scratch_len(3)
            .unwrap(),
        0
    );

    // Summary. Encoder MACs: 4·s·w² + 2·s·w·f + 2·w·s² = 8192 + 8192 + 2048 = 18432.
    let row = |kind_name, input_len, output_len, params, macs| OpSummary {
        kind_name,
        input_len,
        output_len,
        params,
        macs,
    };
    let enc_params = 4 * 16 + 4 * (256 + 16) + 2 * 32 * 16 + 32 + 16;
    assert_eq!(enc_params, 2224);
    assert_eq!(
        fm.summary().collect::<Vec<_>>(),
        [
            row("Conv1d", 64, 128, 144, 1024),
            row("SinusoidalEncoding", 128, 128, 0, 0),
            row("TransformerEncoder", 128, 128, 2224, 18432),
            row("GlobalAvgPool", 128, 16, 0, 0),
            row("Dense", 16, 10, 170, 160),
        ]
    );
    assert_eq!(fm.macs(), 19616);
    // int8: weights 2048 + biases 112 + LN multipliers 32 + LN offsets 32 = 2224 values.
    assert_eq!(
        sm.summary().collect::<Vec<_>>(),
        [
            row("Quantize", 64, 64, 0, 0),
            row("Conv1dS8", 64, 128, 144, 1024),
            row("PositionalAddS8", 128, 128, 128, 0),
            row("TransformerEncoderS8", 128, 128, 2224, 18432),
            row("GlobalAvgPoolS8", 128, 16, 0, 0),
            row("DenseS8", 16, 10, 170, 160),
            row("Dequantize", 10, 10, 0, 0),
        ]
    );
    // Causal: s·(s+1)/2 = 36 visible pairs instead of 64: 2·16·36 = 1152 attention MACs.
    let causal = encode(
        &f32_model(
            25,
            Dims {
                causal: true,
                ..MAIN
            },
            true,
        ),
        &Meta::default(),
    );
    let cm = Model::from_bytes(causal.bytes()).unwrap();
    let rows: Vec<OpSummary> = cm.summary().collect();
    assert_eq!(rows[1], row("LearnedPositionalEncoding", 128, 128, 128, 0));
    assert_eq!(rows[2].macs, 8192 + 8192 + 1152);
}

#[test]
fn short_arena_or_requantizers_are_errors_not_panics() {
    for (ops, d) in [
        (f32_model(26, MAIN, false), MAIN),
        (s8_model(27, MAIN), MAIN),
    ] {
        let file = encode(&ops, &Meta::default());
        let model = Model::from_bytes(file.bytes()).unwrap();
        let mut rng = SplitMix64::new(28);
        for batch in [1, 2] {
            let need = model.arena_len(batch).unwrap();
            let input = rng.f32_vec(batch * d.seq * d.features, -1.0, 1.0);
            let mut requant = vec![Requantizer::ZERO; model.requant_len()];
            let mut out = vec![0.0; batch * d.classes];
            let mut big = vec![0u8; need + 4];
            for shift in 0..4 {
                model
                    .run(
                        batch,
                        &input,
                        &mut big[shift..shift + need],
                        &mut requant,
                        &mut out,
                    )
                    .unwrap();
                // One byte short (inside the scratch region), and far short.
                for short in [need - 1, need / 2, 0] {
                    assert_eq!(
                        model.run(
                            batch,
                            &input,
                            &mut big[shift..shift + short],
                            &mut requant,
                            &mut out
                        ),
                        Err(Error::Shape(ShapeError::Length {
                            buffer: Buffer::Scratch,
                            expected: need,
                            actual: short
                        }))
                    );
                }
            }
            if model.requant_len() > 0 {
                let n = model.requant_len() - 1;
                assert!(matches!(
                    model.run(batch, &input, &mut big[..need], &mut requant[..n], &mut out),
                    Err(Error::Shape(ShapeError::Length {
                        buffer: Buffer::Requant,
                        ..
                    }))
                ));
            }
        }
    }
}
