//! The digits transformer (1 block, width 16, 2 heads, ff 32) trained in f32 exactly as in
//! `transformer_digits_int8.rs`, written as an owned model (Conv1d kernel 1 for the
//! per-position embedding, sinusoidal encoding, encoder block, global average pooling, dense
//! head) and quantized by the host pipeline (`tinytune_cli::quantize`, calibrated on the
//! training split): the owned f32 model gives the trained model's logits, and the int8 model's
//! test accuracy stays within 2 percentage points of the f32 one.
//!
//! Training takes about 2 s here: the test profile optimises the core crate.

use tinytune::data::preprocess::ScalerKind;
use tinytune::kernels::Padding;
use tinytune::layers::attention::{SinusoidalEncodingConfig, TransformerEncoderConfig};
use tinytune::layers::conv::Conv1dConfig;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::pool::GlobalAvgPoolConfig;
use tinytune::train::loss::argmax;
use tinytune_cli::model::{OwnedModel, OwnedOp};
use tinytune_cli::quantize::{quantize, QuantizeOptions};
use tinytune_host_tests::csv::Dataset;
use tinytune_host_tests::digits;
use tinytune_host_tests::reference::attention::encoder_param_len;
use tinytune_host_tests::transformer::{fit, Spec, Train};
use tinytune_host_tests::transformer_s8::TransformerS8;

/// The fixed split, standardised with the training split's statistics.
fn splits() -> (Dataset, Dataset) {
    let mut all = digits::load().unwrap();
    digits::scale_to_unit(&mut all);
    let (mut train, _, mut test) = digits::split(&all, digits::SPLIT_SEED);
    let mut params = vec![0.0f32; 2 * digits::FEATURES];
    let scaler = ScalerKind::Standard
        .fit(&train.data, digits::FEATURES, &mut params)
        .unwrap();
    for d in [&mut train, &mut test] {
        scaler.transform(&mut d.data).unwrap();
    }
    (train, test)
}

/// The owned model of `spec`'s flat parameters (embedding dense `[width, features]` + bias,
/// the blocks, head dense `[classes, width]` + bias): the embedding is a Conv1d of kernel 1,
/// whose weights `[out, 1, in]` are the dense weights in the same order.
fn owned_model(spec: &Spec, params: &[f32]) -> OwnedModel {
    let (s, w) = (spec.seq, spec.width);
    let embed_len = spec.features * w + w;
    let (embed, mut rest) = params.split_at(embed_len);
    let mut ops = vec![
        OwnedOp::Conv1d(
            Conv1dConfig {
                len: s,
                in_c: spec.features,
                out_c: w,
                kernel: 1,
                stride: 1,
                dilation: 1,
                padding: Padding::Valid,
                bias: true,
            },
            embed.to_vec(),
        ),
        OwnedOp::SinusoidalEncoding(SinusoidalEncodingConfig { seq: s, width: w }),
    ];
    for _ in 0..spec.blocks {
        let (b, r) = rest.split_at(encoder_param_len(w, spec.ff));
        ops.push(OwnedOp::TransformerEncoder(
            TransformerEncoderConfig::new(s, w, spec.heads, spec.ff),
            b.to_vec(),
        ));
        rest = r;
    }
    ops.push(OwnedOp::GlobalAvgPool(GlobalAvgPoolConfig {
        positions: s,
        channels: w,
    }));
    ops.push(OwnedOp::Dense(
        DenseConfig {
            in_features: w,
            out_features: spec.classes,
            bias: true,
        },
        rest.to_vec(),
    ));
    OwnedModel::new(ops)
}

fn accuracy(pred: &[usize], data: &Dataset) -> f64 {
    let ok = pred
        .iter()
        .zip(&data.labels)
        .filter(|(&p, &y)| p == y as usize)
        .count();
    ok as f64 / data.len() as f64
}

#[test]
fn quantized_owned_digits_transformer_is_within_2_points_of_f32() {
    let (train, test) = splits();
    let spec = Spec::digits(16, 2, 32, 1);
    let cfg = Train {
        epochs: 30,
        batch: 32,
        lr: 2e-3,
        seed: 1,
    };
    let params = fit(&spec, &cfg, &train).unwrap().params;
    let n = test.len();
    let model = owned_model(&spec, &params);

    // The owned f32 model is the trained model (mean pooling there, global average pooling
    // here: the same mean, summed in another order).
    let trained = spec.logits(&params, &test).unwrap();
    let f32_logits = model.forward_f32(n, &test.data).unwrap();
    for (a, b) in f32_logits.iter().zip(&trained) {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
    }
    let f32_pred: Vec<usize> = f32_logits.chunks_exact(spec.classes).map(argmax).collect();

    let (q, report) = quantize(&model, &train.data, QuantizeOptions::default()).unwrap();
    let kinds: Vec<&str> = q.ops.iter().map(OwnedOp::kind_name).collect();
    assert_eq!(
        kinds,
        [
            "quantize",
            "conv1d_s8",
            "positional_add_s8",
            "transformer_encoder_s8",
            "global_avg_pool_s8",
            "dense_s8",
            "dequantize"
        ]
    );
    let s8_pred: Vec<usize> = q
        .forward_int8(n, &test.data)
        .unwrap()
        .chunks_exact(spec.classes)
        .map(argmax)
        .collect();
    // For comparison: the hand-built int8 pipeline of the harness on the same parameters.
    let harness = TransformerS8::quantize(&spec, &params, &train.data).unwrap();
    let harness_pred = harness.predict(&test.data).unwrap();

    let (a32, a8, ah) = (
        accuracy(&f32_pred, &test),
        accuracy(&s8_pred, &test),
        accuracy(&harness_pred, &test),
    );
    let agree = f32_pred
        .iter()
        .zip(&s8_pred)
        .filter(|(a, b)| a == b)
        .count();
    println!(
        "test accuracy f32 {a32:.4}, int8 (quantize) {a8:.4} ({:+.2} points), int8 (harness) \
         {ah:.4}; argmax agreement with f32 {agree}/{n}; SQNR {}",
        100.0 * (a8 - a32),
        report
            .layers
            .iter()
            .map(|l| format!("{} {:.1} dB", l.name, l.sqnr_db))
            .collect::<Vec<_>>()
            .join(", "),
    );
    assert!(a32 >= 0.85, "f32 test accuracy {a32}");
    assert!((a8 - a32).abs() <= 0.02, "int8 {a8} against f32 {a32}");
}
