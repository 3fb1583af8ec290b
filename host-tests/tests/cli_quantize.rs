//! Post-training quantization (`tinytune_cli::quantize`) and the owned model's f32 / int8
//! forwards, checked against f64 references written here, hand-built core int8 layers, and the
//! digits MLP harness.

mod common_h3;

use common_h3::*;
use tinytune::kernels::Padding;
use tinytune::layers::activation::ActivationKind;
use tinytune::layers::pool::{GlobalAvgPoolConfig, Pool2dConfig, PoolKind};
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::s8::{ActivationKindS8, ActivationS8Config, DenseS8Config};
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune::ShapeError;
use tinytune_cli::model::{OwnedModel, OwnedOp, PipelineError};
use tinytune_cli::quantize::{fold_batch_norms, quantize, Calibration, QuantizeOptions};
use tinytune_host_tests::digits;
use tinytune_host_tests::mlp::{self, Fit, Mlp, Objective, Opt};
use tinytune_host_tests::rng::SplitMix64;

/// Dense(5→6) → BN → ReLU → Dense(6→3).
fn dense_bn_model(seed: u64) -> OwnedModel {
    let mut rng = SplitMix64::new(seed);
    model(vec![
        dense(5, 6, &mut rng),
        batch_norm(1, 6, &mut rng),
        act(ActivationKind::Relu, 6),
        dense(6, 3, &mut rng),
    ])
}

/// The f64 reference of [`dense_bn_model`]'s inference forward.
fn dense_bn_ref(m: &OwnedModel, x: &[f32]) -> Vec<f64> {
    let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let (OwnedOp::Dense(_, p0), OwnedOp::BatchNorm(c, bp, bs), OwnedOp::Dense(_, p3)) =
        (&m.ops[0], &m.ops[1], &m.ops[3])
    else {
        panic!("unexpected model")
    };
    let h = dense_ref(&x, p0, 5, 6);
    let h = relu_ref(&batch_norm_ref(&h, bp, bs, 6, f64::from(c.eps)));
    dense_ref(&h, p3, 6, 3)
}

#[test]
fn folded_dense_bn_relu_model_matches_the_f64_reference_of_the_original_within_1e_5() {
    for seed in 1..=4 {
        let m = dense_bn_model(seed);
        let mut rng = SplitMix64::new(100 + seed);
        let x = uniform(&mut rng, 8 * 5, -2.0, 2.0);
        let want = dense_bn_ref(&m, &x);
        let folded = fold_batch_norms(&m).unwrap();
        assert_eq!(folded.ops.len(), 3, "the batch norm is gone");
        assert!(!folded
            .ops
            .iter()
            .any(|op| matches!(op, OwnedOp::BatchNorm(..))));
        for got in [
            m.forward_f32(8, &x).unwrap(),
            folded.forward_f32(8, &x).unwrap(),
        ] {
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (f64::from(*g) - w).abs() <= 1e-5 * (1.0 + w.abs()),
                    "{g} vs {w}"
                );
            }
        }
    }
}

#[test]
fn batch_norm_after_a_layer_without_bias_folds_into_a_new_bias() {
    let mut rng = SplitMix64::new(7);
    let m = model(vec![
        conv2d(4, 4, 2, 3, 3, false, &mut rng),
        batch_norm(16, 3, &mut rng),
    ]);
    let x = uniform(&mut rng, 2 * 32, -1.0, 1.0);
    let folded = fold_batch_norms(&m).unwrap();
    let OwnedOp::Conv2d(c, p) = &folded.ops[0] else {
        panic!()
    };
    assert!(c.bias);
    assert_eq!(p.len(), 3 * 9 * 2 + 3);
    let (a, b) = (
        m.forward_f32(2, &x).unwrap(),
        folded.forward_f32(2, &x).unwrap(),
    );
    for (a, b) in a.iter().zip(&b) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + a.abs()), "{a} vs {b}");
    }
}

#[test]
fn quantized_dense_bn_relu_model_fuses_relu_and_quantizes_weights_per_channel() {
    let m = dense_bn_model(3);
    let mut rng = SplitMix64::new(9);
    let calib = uniform(&mut rng, 200 * 5, -2.0, 2.0);
    let (q, report) = quantize(&m, &calib, QuantizeOptions::default()).unwrap();
    // Quantize, DenseS8 (+ReLU), DenseS8, Dequantize.
    let kinds: Vec<&str> = q.ops.iter().map(|op| op.kind_name()).collect();
    assert_eq!(kinds, ["quantize", "dense_s8", "dense_s8", "dequantize"]);
    let names: Vec<&str> = report.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["layers.0.dense+relu", "layers.3.dense"]);
    let OwnedOp::DenseS8(c, t) = &q.ops[1] else {
        panic!()
    };
    // The fused ReLU clamps at the output zero point.
    assert_eq!(i32::from(c.act.min), c.output.zero_point);
    // Independent check of the weights: per output channel, scale = max|w| / 127 of the
    // folded weights, and every int8 weight is round(w / scale).
    let folded = fold_batch_norms(&m).unwrap();
    let OwnedOp::Dense(_, fp) = &folded.ops[0] else {
        panic!()
    };
    assert_eq!(t.requant.len(), 2 * 6);
    for o in 0..6 {
        let row = &fp[o * 5..o * 5 + 5];
        let scale = row.iter().fold(0.0f64, |m, &w| m.max(f64::from(w).abs())) / 127.0;
        for (i, &w) in row.iter().enumerate() {
            let want = (f64::from(w) / scale).round();
            assert!(
                (f64::from(t.weights[o * 5 + i]) - want).abs() <= 1.0,
                "w[{o},{i}]"
            );
        }
        let bias = f64::from(fp[30 + o]) / (f64::from(c.input.scale) * scale);
        let got = f64::from(t.bias.as_ref().unwrap()[o]);
        assert!(
            (got - bias.round()).abs() <= 1.0,
            "bias {o}: {got} vs {bias}"
        );
        let real = t.requant[2 * o] as f64 * 2f64.powi(t.requant[2 * o + 1] - 31);
        let want = f64::from(c.input.scale) * scale / f64::from(c.output.scale);
        assert!((real / want - 1.0).abs() < 1e-6, "requant {o}");
    }
    // The output range after the fused ReLU starts at 0.
    assert_eq!(report.layers[0].range.0, 0.0);
}

/// The quantized model's int8 forward equals the core's int8 layers built by hand from the same
/// data, bit for bit (after the same dequantization).
#[test]
fn forward_int8_is_bit_exact_with_hand_built_s8_layers() {
    let m = dense_bn_model(5);
    let mut rng = SplitMix64::new(11);
    let calib = uniform(&mut rng, 100 * 5, -2.0, 2.0);
    let (q, _) = quantize(&m, &calib, QuantizeOptions::default()).unwrap();
    let x = uniform(&mut rng, 13 * 5, -2.5, 2.5);
    let got = q.forward_int8(13, &x).unwrap();

    let OwnedOp::Quantize { params: qin, .. } = q.ops[0] else {
        panic!()
    };
    let mut h0 = vec![0i8; x.len()];
    qin.quantize_slice(&x, &mut h0).unwrap();
    let mut h = h0;
    for op in &q.ops[1..3] {
        let OwnedOp::DenseS8(c, t) = op else { panic!() };
        let rq: Vec<Requantizer> = t
            .requant
            .chunks(2)
            .map(|p| Requantizer {
                multiplier: p[0],
                shift: p[1],
            })
            .collect();
        let layer = c.init(&t.weights, t.bias.as_deref(), &rq).unwrap();
        let mut out = vec![0i8; 13 * c.out_features];
        layer.forward(13, &h, &mut out).unwrap();
        h = out;
    }
    let OwnedOp::Dequantize { params: qout, .. } = q.ops[3] else {
        panic!()
    };
    let want: Vec<f32> = h.iter().map(|&v| qout.dequantize(v)).collect();
    assert_eq!(got, want);
}

/// A small CNN touching every mapped operation kind: conv2d → BN → ReLU6 → max pool →
/// depthwise → leaky ReLU → global average pool → reshape → dense → GELU → layer norm (an f32
/// island) → dense → tanh → dense → sigmoid, plus conv1d → softmax in a second model.
#[test]
fn every_operation_kind_quantizes_with_sqnr_above_15_db_on_its_calibration_data() {
    let mut rng = SplitMix64::new(21);
    let m = model(vec![
        conv2d(6, 6, 2, 4, 3, true, &mut rng),
        batch_norm(36, 4, &mut rng),
        act(ActivationKind::Relu6, 144),
        OwnedOp::Pool2d(Pool2dConfig {
            kind: PoolKind::Max,
            in_h: 6,
            in_w: 6,
            channels: 4,
            window_h: 2,
            window_w: 2,
            stride_h: 2,
            stride_w: 2,
            padding: Padding::Valid,
        }),
        depthwise(3, 3, 4, 2, 2, &mut rng),
        act(ActivationKind::LeakyRelu { alpha: 0.1 }, 32),
        OwnedOp::GlobalAvgPool(GlobalAvgPoolConfig {
            positions: 4,
            channels: 8,
        }),
        OwnedOp::Reshape(ReshapeConfig { len: 8 }),
        dense(8, 6, &mut rng),
        act(ActivationKind::Gelu, 6),
        layer_norm(6, &mut rng),
        dense(6, 5, &mut rng),
        act(ActivationKind::Tanh, 5),
        dense(5, 2, &mut rng),
        act(ActivationKind::Sigmoid, 2),
    ]);
    let calib = uniform(&mut rng, 64 * 72, -1.0, 1.0);
    let (q, report) = quantize(&m, &calib, QuantizeOptions::default()).unwrap();
    let kinds: Vec<&str> = q.ops.iter().map(|op| op.kind_name()).collect();
    assert_eq!(
        kinds,
        [
            "quantize",
            "conv2d_s8",
            "pool2d_s8",
            "depthwise_conv2d_s8",
            "activation_s8",
            "global_avg_pool_s8",
            "reshape",
            "dense_s8",
            "activation_s8",
            "dequantize",
            "layer_norm",
            "quantize",
            "dense_s8",
            "activation_s8",
            "dense_s8",
            "activation_s8",
            "dequantize"
        ]
    );
    assert_eq!(report.layers[0].name, "layers.0.conv2d+relu6");
    assert_eq!(report.layers.len(), 13);
    let f = m.forward_f32(64, &calib).unwrap();
    let i8out = q.forward_int8(64, &calib).unwrap();
    let total = sqnr_ref(&f, &i8out);
    println!("cnn: output SQNR {total:.1} dB");
    for l in &report.layers {
        println!("{:32} {:6.1} dB range {:?}", l.name, l.sqnr_db, l.range);
        assert!(
            l.sqnr_db.is_finite() && l.sqnr_db > 15.0,
            "{}: {}",
            l.name,
            l.sqnr_db
        );
    }
    // The last layer's SQNR is the model output's, computed here independently (against the
    // unfolded model, hence the tolerance).
    let last = report.layers.last().unwrap().sqnr_db;
    assert!((last - total).abs() < 1e-3, "{last} vs {total}");

    let seq = model(vec![
        conv1d(8, 2, 3, 3, &mut rng),
        act(ActivationKind::Softmax { depth: 3 }, 18),
    ]);
    let calib = uniform(&mut rng, 32 * 16, -1.0, 1.0);
    let (q, report) = quantize(&seq, &calib, QuantizeOptions::default()).unwrap();
    let OwnedOp::ActivationS8(ActivationS8Config {
        kind: ActivationKindS8::Softmax { depth: 3, .. },
        ..
    }) = q.ops[2]
    else {
        panic!("{:?}", q.ops[2])
    };
    assert_eq!(
        report.layers[1].quant,
        Some(QuantParams {
            scale: 1.0 / 256.0,
            zero_point: -128
        })
    );
    let f = seq.forward_f32(32, &calib).unwrap();
    let got = q.forward_int8(32, &calib).unwrap();
    assert!(sqnr_ref(&f, &got) > 25.0, "{}", sqnr_ref(&f, &got));
}

#[test]
fn per_tensor_weights_are_supported_and_no_worse_than_20_db_on_a_dense_model() {
    let m = dense_bn_model(8);
    let mut rng = SplitMix64::new(12);
    let calib = uniform(&mut rng, 100 * 5, -2.0, 2.0);
    let opts = QuantizeOptions {
        per_channel: false,
        ..QuantizeOptions::default()
    };
    let (q, report) = quantize(&m, &calib, opts).unwrap();
    let OwnedOp::DenseS8(_, t) = &q.ops[1] else {
        panic!()
    };
    assert_eq!(t.requant.len(), 2, "one requantizer");
    for l in &report.layers {
        assert!(l.sqnr_db > 20.0, "{}: {}", l.name, l.sqnr_db);
    }
}

#[test]
fn percentile_calibration_clips_an_injected_outlier() {
    let m = dense_bn_model(2);
    let mut rng = SplitMix64::new(13);
    let mut calib = uniform(&mut rng, 1000 * 5, -1.0, 1.0);
    calib[17] = 50.0;
    let minmax = quantize(&m, &calib, QuantizeOptions::default()).unwrap().1;
    let opts = QuantizeOptions {
        calibration: Calibration::Percentile(99.9),
        per_channel: true,
    };
    let pct = quantize(&m, &calib, opts).unwrap().1;
    let (a, b) = (minmax.input.unwrap(), pct.input.unwrap());
    // Min/max must cover 50 (scale >= 51/255); the 99.9th percentile stays near 1.
    assert!(a.scale >= 51.0 / 255.0 - 1e-6, "{a:?}");
    assert!(b.scale < 2.1 / 255.0, "{b:?}");
    let (ra, rb) = (minmax.layers[0].range, pct.layers[0].range);
    assert!(rb.1 - rb.0 < ra.1 - ra.0, "{ra:?} vs {rb:?}");
}

/// Trains a 64-32-10 MLP on digits with the shared harness (Adam, 15 epochs) and quantizes it
/// with the training split as calibration data: int8 test accuracy within 1 percentage point of
/// f32, every layer's SQNR finite and above 20 dB.
#[test]
fn digits_mlp_int8_accuracy_is_within_1_pp_of_f32_and_sqnr_above_20_db() {
    let mut all = digits::load().unwrap();
    digits::scale_to_unit(&mut all);
    let (train, _, test) = digits::split(&all, digits::SPLIT_SEED);
    let m = Mlp {
        inputs: digits::FEATURES,
        hidden: 32,
        outputs: digits::CLASSES,
        dropout: 0.0,
    };
    let fit = Fit {
        epochs: 15,
        batch: 32,
        opt: Opt::Adam { lr: 2e-3, l2: 0.0 },
        noise: 0.0,
        early_stop: None,
        objective: Objective::Classes,
        seed: 1,
    };
    let t = mlp::fit(&m, &fit, &train, None);
    let f32_acc = mlp::accuracy(&m, &Objective::Classes, &t.params, &test);
    let owned = OwnedModel::from_sequential(&m.model(&t.params));
    assert_eq!(owned.ops.len(), 3, "dropout is left out");
    // The owned model's f32 forward reproduces the harness's logits.
    let harness = m.logits(&t.params, &test);
    let ours = owned.forward_f32(test.len(), &test.data).unwrap();
    for (a, b) in harness.iter().zip(&ours) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + a.abs()));
    }
    let (q, report) = quantize(&owned, &train.data, QuantizeOptions::default()).unwrap();
    let logits = q.forward_int8(test.len(), &test.data).unwrap();
    let correct = logits
        .chunks(digits::CLASSES)
        .zip(&test.labels)
        .filter(|(row, &y)| {
            let best = (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b });
            best as u32 == y
        })
        .count();
    let int8_acc = correct as f32 / test.len() as f32;
    println!("digits 64-32-10: f32 {f32_acc:.4}, int8 {int8_acc:.4}");
    for l in &report.layers {
        println!("{:24} {:6.1} dB", l.name, l.sqnr_db);
        assert!(
            l.sqnr_db.is_finite() && l.sqnr_db > 20.0,
            "{}: {}",
            l.name,
            l.sqnr_db
        );
    }
    assert!(f32_acc > 0.9, "{f32_acc}");
    assert!(
        (int8_acc - f32_acc).abs() <= 0.01,
        "f32 {f32_acc} int8 {int8_acc}"
    );
}

fn invalid_at(e: PipelineError, at_contains: &str) {
    let text = e.to_string();
    assert!(text.contains(at_contains), "{text}");
}

#[test]
fn bad_models_and_calibration_data_are_errors_naming_the_culprit() {
    let mut rng = SplitMix64::new(30);
    let calib = uniform(&mut rng, 10 * 5, -1.0, 1.0);
    let opts = QuantizeOptions::default();
    // A batch norm first, or after an activation, cannot be folded.
    let bn_first = model(vec![batch_norm(1, 5, &mut rng), dense(5, 2, &mut rng)]);
    invalid_at(
        quantize(&bn_first, &calib, opts).unwrap_err(),
        "op 0 (batch_norm)",
    );
    let bn_after_relu = model(vec![
        dense(5, 4, &mut rng),
        act(ActivationKind::Relu, 4),
        batch_norm(1, 4, &mut rng),
    ]);
    invalid_at(
        fold_batch_norms(&bn_after_relu).unwrap_err(),
        "op 2 (batch_norm)",
    );
    // A batch norm over the wrong channel count.
    let wrong_channels = model(vec![dense(5, 4, &mut rng), batch_norm(1, 3, &mut rng)]);
    invalid_at(
        fold_batch_norms(&wrong_channels).unwrap_err(),
        "op 1 (batch_norm)",
    );
    let m = dense_bn_model(1);
    // Empty calibration, and a length that is not a multiple of the input length.
    invalid_at(quantize(&m, &[], opts).unwrap_err(), "calibration");
    invalid_at(quantize(&m, &calib[..7], opts).unwrap_err(), "calibration");
    // NaN calibration data.
    let mut nan = calib.clone();
    nan[3] = f32::NAN;
    invalid_at(quantize(&m, &nan, opts).unwrap_err(), "calibration input");
    // A percentile outside [50, 100].
    let bad = QuantizeOptions {
        calibration: Calibration::Percentile(30.0),
        ..opts
    };
    invalid_at(quantize(&m, &calib, bad).unwrap_err(), "percentile");
    // An empty model.
    assert!(quantize(&OwnedModel::default(), &calib, opts).is_err());
    // An already quantized model.
    let (q, _) = quantize(&m, &calib, opts).unwrap();
    invalid_at(quantize(&q, &calib, opts).unwrap_err(), "op 0 (quantize)");
    invalid_at(
        q.forward_f32(1, &calib[..5]).unwrap_err(),
        "op 0 (quantize)",
    );
    // A wrong input length for the forwards is the core's length error at op 0.
    for e in [
        m.forward_f32(2, &calib[..9]).unwrap_err(),
        q.forward_int8(2, &calib[..9]).unwrap_err(),
    ] {
        match e {
            PipelineError::Core {
                at,
                error:
                    tinytune::Error::Shape(ShapeError::Length {
                        expected: 10,
                        actual: 9,
                        ..
                    }),
            } => {
                assert!(at.starts_with("op 0"), "{at}")
            }
            e => panic!("{e}"),
        }
    }
    // A negative leaky slope has no int8 form.
    let leaky = model(vec![
        dense(5, 3, &mut rng),
        act(ActivationKind::LeakyRelu { alpha: -0.5 }, 3),
    ]);
    invalid_at(
        quantize(&leaky, &calib, opts).unwrap_err(),
        "op 1 (activation)",
    );
    // Corrupt int8 data: odd requant pairs, wrong weight count.
    let mut broken = q.clone();
    if let OwnedOp::DenseS8(_, t) = &mut broken.ops[1] {
        t.requant.pop();
    }
    invalid_at(
        broken.forward_int8(1, &calib[..5]).unwrap_err(),
        "op 1 (dense_s8)",
    );
    let mut broken = q.clone();
    if let OwnedOp::DenseS8(_, t) = &mut broken.ops[1] {
        t.weights.pop();
    }
    invalid_at(
        broken.forward_int8(1, &calib[..5]).unwrap_err(),
        "op 1 (dense_s8)",
    );
    // An int8 op fed f32 activations.
    let mut no_quantize = q.clone();
    no_quantize.ops.remove(0);
    invalid_at(
        no_quantize.forward_int8(1, &calib[..5]).unwrap_err(),
        "op 0 (dense_s8)",
    );
    // batch 0.
    assert!(m.forward_f32(0, &[]).is_err());
}

#[test]
fn a_dense_s8_config_survives_as_op_round_trip() {
    let m = dense_bn_model(4);
    let mut rng = SplitMix64::new(31);
    let calib = uniform(&mut rng, 20 * 5, -1.0, 1.0);
    let (q, _) = quantize(&m, &calib, QuantizeOptions::default()).unwrap();
    let again = OwnedModel::from_ops(&q.ops());
    assert_eq!(again, q);
    let _: Option<DenseS8Config> = None;
}

#[test]
fn from_sequential_copies_parameters_and_running_statistics() {
    use tinytune::layers::batch_norm::BatchNormConfig;
    use tinytune::layers::dense::DenseConfig;
    use tinytune::layers::{AnyLayer, Sequential};
    let dc = DenseConfig {
        in_features: 2,
        out_features: 3,
        bias: true,
    };
    let p: Vec<f32> = (0..9).map(|i| i as f32 * 0.1).collect();
    let bp = [1.0, 2.0, 3.0, 0.1, 0.2, 0.3];
    let bs = [0.5, 0.6, 0.7, 1.5, 1.6, 1.7];
    let seq = Sequential::new([
        AnyLayer::from(dc.init(&p[..]).unwrap()),
        BatchNormConfig::new(1, 3).init(&bp, &bs).unwrap().into(),
    ])
    .unwrap();
    let m = OwnedModel::from_sequential(&seq);
    assert_eq!(m.ops[0], OwnedOp::Dense(dc, p.clone()));
    assert_eq!(
        m.ops[1],
        OwnedOp::BatchNorm(BatchNormConfig::new(1, 3), bp.to_vec(), bs.to_vec())
    );
    assert_eq!((m.input_len().unwrap(), m.output_len().unwrap()), (2, 3));
}

/// TFLite's `MultiplyByQuantizedMultiplier`, written from the specification with i64.
fn tflite_requant(x: i32, multiplier: i32, shift: i32) -> i32 {
    let (left, right) = (shift.max(0), (-shift).max(0));
    let x = ((x as i64) << left).clamp(i32::MIN as i64, i32::MAX as i64);
    let high = if x == i32::MIN as i64 && multiplier == i32::MIN {
        i32::MAX as i64
    } else {
        let ab = x * multiplier as i64;
        let nudge = if ab >= 0 {
            1i64 << 30
        } else {
            1 - (1i64 << 30)
        };
        (ab + nudge) / (1i64 << 31)
    };
    let mask = (1i64 << right) - 1;
    let threshold = (mask >> 1) + i64::from(high < 0);
    ((high >> right) + i64::from((high & mask) > threshold)) as i32
}

/// The quantized dense model's int8 forward equals an exact integer reference of the TFLite
/// int8 dense (accumulate `bias + Σ (x − zp_in) · w` in i64, requantize, add `zp_out`, clamp),
/// run on the operations' own data.
#[test]
fn forward_int8_matches_an_exact_integer_reference_of_the_tflite_dense() {
    let m = dense_bn_model(6);
    let mut rng = SplitMix64::new(14);
    let calib = uniform(&mut rng, 100 * 5, -2.0, 2.0);
    let (q, _) = quantize(&m, &calib, QuantizeOptions::default()).unwrap();
    let x = uniform(&mut rng, 9 * 5, -3.0, 3.0);
    let OwnedOp::Quantize { params: qin, .. } = q.ops[0] else {
        panic!()
    };
    // Quantize as TFLite: f32 division, round half away from zero, saturate.
    let mut h: Vec<i32> = x
        .iter()
        .map(|&v| ((v / qin.scale).round() as i64 + qin.zero_point as i64).clamp(-128, 127) as i32)
        .collect();
    for op in &q.ops[1..3] {
        let OwnedOp::DenseS8(c, t) = op else { panic!() };
        let (inp, out) = (c.in_features, c.out_features);
        h = h
            .chunks(inp)
            .flat_map(|s| {
                (0..out)
                    .map(|o| {
                        let acc: i64 = i64::from(t.bias.as_ref().unwrap()[o])
                            + (0..inp)
                                .map(|i| {
                                    (i64::from(s[i]) - i64::from(c.input.zero_point))
                                        * i64::from(t.weights[o * inp + i])
                                })
                                .sum::<i64>();
                        let r = tflite_requant(acc as i32, t.requant[2 * o], t.requant[2 * o + 1]);
                        (r + c.output.zero_point).clamp(i32::from(c.act.min), i32::from(c.act.max))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    let OwnedOp::Dequantize { params: qout, .. } = q.ops[3] else {
        panic!()
    };
    let want: Vec<f32> = h
        .iter()
        .map(|&v| qout.scale * (v - qout.zero_point) as f32)
        .collect();
    assert_eq!(q.forward_int8(9, &x).unwrap(), want);
}
