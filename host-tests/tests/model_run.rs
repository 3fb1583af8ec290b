//! `Model::run` against the same layers run directly (f32 bit-identical, int8 bit-exact), the
//! arena size (exact length works, one byte less fails), prediction and the summary.

mod model_common;

use model_common::*;
use tinytune::kernels::ActivationS8;
use tinytune::layers::s8::{ActivationKindS8, ActivationS8Config, DenseS8Config, LayerS8};
use tinytune::layers::Layer;
use tinytune::model::{Meta, Model, Op, OpSummary};
use tinytune::num::quant::Requantizer;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

/// An activation of the reference runner.
enum Act {
    F(Vec<f32>),
    Q(Vec<i8>),
}

fn rq(pairs: &[i32]) -> Vec<Requantizer> {
    pairs
        .chunks(2)
        .map(|p| Requantizer {
            multiplier: p[0],
            shift: p[1],
        })
        .collect()
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

/// Runs `ops` layer by layer with the layers' own APIs on plain vectors: the reference.
fn reference(ops: &[Op<'_>], meta: &Meta<'_>, batch: usize, input: &[f32]) -> Vec<f32> {
    let mut x = input.to_vec();
    if let Some(s) = meta.scaler {
        s.transform(&mut x).unwrap();
    }
    let mut a = Act::F(x);
    for op in ops {
        a = match (*op, &a) {
            (Op::Dense(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::Conv1d(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::Conv2d(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::DepthwiseConv2d(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::BatchNorm(c, p, s), Act::F(x)) => f32_layer(&c.init(p, s).unwrap(), batch, x),
            (Op::LayerNorm(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::Embedding(c, p), Act::F(x)) => f32_layer(&c.init(p).unwrap(), batch, x),
            (Op::Pool1d(c), Act::F(x)) => f32_layer(&c.init().unwrap(), batch, x),
            (Op::Pool2d(c), Act::F(x)) => f32_layer(&c.init().unwrap(), batch, x),
            (Op::GlobalAvgPool(c), Act::F(x)) => f32_layer(&c.init().unwrap(), batch, x),
            (Op::Activation(c), Act::F(x)) => f32_layer(&c.init().unwrap(), batch, x),
            (Op::Reshape(c), Act::F(x)) => f32_layer(&c.init().unwrap(), batch, x),
            (Op::Reshape(_), Act::Q(x)) => Act::Q(x.clone()),
            (Op::Quantize { params, .. }, Act::F(x)) => {
                Act::Q(x.iter().map(|&v| params.quantize(v)).collect())
            }
            (Op::Dequantize { params, .. }, Act::Q(x)) => {
                Act::F(x.iter().map(|&v| params.dequantize(v)).collect())
            }
            (Op::DenseS8(c, t), Act::Q(x)) => {
                let r = rq(t.requant);
                s8_layer(&c.init(t.weights, t.bias, &r).unwrap(), batch, x)
            }
            (Op::Conv1dS8(c, t), Act::Q(x)) => {
                let r = rq(t.requant);
                s8_layer(&c.init(t.weights, t.bias, &r).unwrap(), batch, x)
            }
            (Op::Conv2dS8(c, t), Act::Q(x)) => {
                let r = rq(t.requant);
                s8_layer(&c.init(t.weights, t.bias, &r).unwrap(), batch, x)
            }
            (Op::DepthwiseConv2dS8(c, t), Act::Q(x)) => {
                let r = rq(t.requant);
                s8_layer(&c.init(t.weights, t.bias, &r).unwrap(), batch, x)
            }
            (Op::Pool1dS8(c), Act::Q(x)) => s8_layer(&c.init().unwrap(), batch, x),
            (Op::Pool2dS8(c), Act::Q(x)) => s8_layer(&c.init().unwrap(), batch, x),
            (Op::GlobalAvgPoolS8(c), Act::Q(x)) => s8_layer(&c.init().unwrap(), batch, x),
            (Op::ActivationS8(c), Act::Q(x)) => s8_layer(&c.init().unwrap(), batch, x),
            (op, _) => panic!("dtype mismatch at {op:?}"),
        };
    }
    match a {
        Act::F(y) => y,
        Act::Q(_) => panic!("int8 output"),
    }
}

/// Runs the file of `ops` through `Model::run` with an exact arena.
fn run_model(ops: &[Op<'_>], meta: &Meta<'_>, batch: usize, input: &[f32]) -> Vec<f32> {
    let file = encode(ops, meta);
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut arena = vec![0u8; model.arena_len(batch).unwrap()];
    let mut requant = vec![Requantizer::ZERO; model.requant_len()];
    let mut out = vec![0.0; batch * model.output_len()];
    model
        .run(batch, input, &mut arena, &mut requant, &mut out)
        .unwrap();
    out
}

/// The int8 MLP: Quantize → DenseS8 → ActivationS8 (ReLU) → DenseS8 → Dequantize.
fn int8_mlp(seed: u64) -> Vec<Op<'static>> {
    let mut rng = SplitMix64::new(seed);
    let (qi, qh, qo) = (q(0.03, 5), q(0.05, -10), q(0.1, 2));
    let d1 = DenseS8Config {
        in_features: 6,
        out_features: 5,
        input: qi,
        output: qh,
        act: ActivationS8::NONE,
    };
    let d2 = DenseS8Config {
        in_features: 5,
        out_features: 3,
        input: qh,
        output: qo,
        act: ActivationS8::NONE,
    };
    vec![
        Op::Quantize { len: 6, params: qi },
        Op::DenseS8(d1, tensors_s8(&mut rng, 30, 5, true, true)),
        Op::ActivationS8(ActivationS8Config {
            len: 5,
            kind: ActivationKindS8::Relu { quant: qh },
        }),
        Op::DenseS8(d2, tensors_s8(&mut rng, 15, 3, false, false)),
        Op::Dequantize { len: 3, params: qo },
    ]
}

fn check_equal(ops: &[Op<'_>], features: usize, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    for batch in [1, 3] {
        let input = rng.f32_vec(batch * features, -2.0, 2.0);
        for meta in [
            Meta::default(),
            Meta {
                scaler: Some(scaler(&mut rng, features)),
                ..Meta::default()
            },
        ] {
            let expected = reference(ops, &meta, batch, &input);
            let got = run_model(ops, &meta, batch, &input);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&got),
                bits(&expected),
                "batch {batch}, scaler {}",
                meta.scaler.is_some()
            );
        }
    }
}

#[test]
fn f32_model_is_bit_identical_to_its_layers() {
    let mut rng = SplitMix64::new(20);
    check_equal(&f32_ops(&mut rng), 32, 21);
}

#[test]
fn int8_model_is_bit_exact_to_its_layers() {
    check_equal(&int8_mlp(22), 6, 23);
}

#[test]
fn mixed_model_of_every_op_kind_matches_its_layers() {
    check_equal(&all_kinds(24), 32, 25);
}

#[test]
fn embedding_model_matches_and_reports_bad_ids() {
    let ops = embedding_model(26);
    let input = [0.0, 4.0, 2.0, 1.0];
    assert_eq!(
        run_model(&ops, &Meta::default(), 2, &input),
        reference(&ops, &Meta::default(), 2, &input)
    );
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut arena = vec![0u8; model.arena_len(1).unwrap()];
    let mut out = [0.0; 3];
    assert!(matches!(
        model.run(1, &[0.0, 5.0], &mut arena, &mut [], &mut out),
        Err(Error::Index { .. })
    ));
}

#[test]
fn the_caller_input_is_not_modified_by_the_scaler() {
    let ops = int8_mlp(27);
    let mut rng = SplitMix64::new(28);
    let meta = Meta {
        scaler: Some(scaler(&mut rng, 6)),
        ..Meta::default()
    };
    let input = rng.f32_vec(6, -1.0, 1.0);
    let copy = input.clone();
    run_model(&ops, &meta, 1, &input);
    assert_eq!(input, copy);
}

#[test]
fn exactly_arena_len_works_and_one_byte_less_is_an_error_at_any_alignment() {
    let file = encode(&all_kinds(29), &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut rng = SplitMix64::new(30);
    for batch in [1, 2, 5] {
        let need = model.arena_len(batch).unwrap();
        // The widest activation: the f32 conv output 4·4·3 values = 192 bytes per sample.
        assert_eq!(need, 3 + 2 * (192 * batch).div_ceil(8) * 8);
        let input = rng.f32_vec(batch * 32, -1.0, 1.0);
        let mut requant = vec![Requantizer::ZERO; model.requant_len()];
        let mut out = vec![0.0; batch * 4];
        let mut big = vec![0u8; need + 4];
        for shift in 0..4 {
            let arena = &mut big[shift..shift + need];
            model
                .run(batch, &input, arena, &mut requant, &mut out)
                .unwrap();
            let short = &mut big[shift..shift + need - 1];
            assert_eq!(
                model.run(batch, &input, short, &mut requant, &mut out),
                Err(Error::Shape(ShapeError::Length {
                    buffer: Buffer::Scratch,
                    expected: need,
                    actual: need - 1
                }))
            );
        }
        // The requantizer scratch: the per-channel DenseS8 borrows 4.
        assert_eq!(model.requant_len(), 4);
        let short = model.requant_len() - 1;
        assert!(matches!(
            model.run(
                batch,
                &input,
                &mut big[..need],
                &mut requant[..short],
                &mut out
            ),
            Err(Error::Shape(ShapeError::Length {
                buffer: Buffer::Requant,
                ..
            }))
        ));
    }
}

#[test]
fn wrong_lengths_and_zero_batch_are_errors_and_leave_output_untouched() {
    let file = encode(&int8_mlp(31), &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut arena = vec![0u8; model.arena_len(2).unwrap()];
    let mut rq = vec![Requantizer::ZERO; model.requant_len()];
    let mut out = vec![9.0; 6];
    let length = |buffer, expected, actual| {
        Err(Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        }))
    };
    assert_eq!(
        model.run(2, &[0.0; 11], &mut arena, &mut rq, &mut out),
        length(Buffer::Input, 12, 11)
    );
    assert_eq!(
        model.run(2, &[0.0; 12], &mut arena, &mut rq, &mut out[..5]),
        length(Buffer::Output, 6, 5)
    );
    assert_eq!(
        model.run(0, &[], &mut arena, &mut rq, &mut out[..0]),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert!(out.iter().all(|&v| v == 9.0));
    assert_eq!(model.arena_len(0), Err(Error::Shape(ShapeError::Dimension)));
}

#[test]
fn predict_is_the_argmax_of_run() {
    let ops = all_kinds(32);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut rng = SplitMix64::new(33);
    let mut arena = vec![0u8; model.arena_len(1).unwrap()];
    let mut rq = vec![Requantizer::ZERO; model.requant_len()];
    for _ in 0..20 {
        let input = rng.f32_vec(32, -3.0, 3.0);
        let expected = reference(&ops, &Meta::default(), 1, &input);
        let best = (0..4).fold(0, |b, i| if expected[i] > expected[b] { i } else { b });
        assert_eq!(model.predict(&input, &mut arena, &mut rq).unwrap(), best);
    }
}

#[test]
fn summary_reports_kinds_lengths_params_and_macs() {
    let ops = all_kinds(34);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let s: Vec<OpSummary> = model.summary().collect();
    assert_eq!(s.len(), ops.len());
    // Conv2d 4×4×2 → 4×4×3, 3×3 kernel: 48 outputs × 9 × 2 MACs, 3·9·2 + 3 parameters.
    assert_eq!(
        s[0],
        OpSummary {
            kind_name: "Conv2d",
            input_len: 32,
            output_len: 48,
            params: 57,
            macs: 864
        }
    );
    // Depthwise 3×3 over 48 outputs; Dense 2 → 8.
    assert_eq!(s[1].macs, 48 * 9);
    assert_eq!(
        (s[13].kind_name, s[13].macs, s[13].params),
        ("Dense", 16, 24)
    );
    // DenseS8 2 → 4 with bias: 8 weights + 4 biases (the requantizers are not parameters).
    let d = s.iter().find(|x| x.kind_name == "DenseS8").unwrap();
    assert_eq!((d.macs, d.params), (8, 12));
    assert_eq!(model.macs(), s.iter().map(|x| x.macs).sum::<usize>());
    assert_eq!(model.flash_len(), file.len);
    // Chain: each input length is the previous output length.
    for w in s.windows(2) {
        assert_eq!(w[0].output_len, w[1].input_len);
    }
}
