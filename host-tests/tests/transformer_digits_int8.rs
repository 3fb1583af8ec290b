//! The digits transformer (1 block, width 16) trained in f32 exactly as in
//! `transformer_digits.rs`, then quantized to int8 with every activation range calibrated on
//! the training split: its test accuracy must stay within 2 percentage points of the f32 one.

use tinytune::data::preprocess::ScalerKind;
use tinytune::train::loss::argmax;
use tinytune_host_tests::csv::Dataset;
use tinytune_host_tests::digits;
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

#[test]
fn int8_transformer_test_accuracy_within_2_points_of_f32() {
    let (train, test) = splits();
    let spec = Spec::digits(16, 2, 32, 1);
    let cfg = Train {
        epochs: 30,
        batch: 32,
        lr: 2e-3,
        seed: 1,
    };
    let params = fit(&spec, &cfg, &train).unwrap().params;
    let f32_pred: Vec<usize> = spec
        .logits(&params, &test)
        .unwrap()
        .chunks_exact(spec.classes)
        .map(argmax)
        .collect();
    let model = TransformerS8::quantize(&spec, &params, &train.data).unwrap();
    let s8_pred = model.predict(&test.data).unwrap();
    let n = test.len();
    assert_eq!((f32_pred.len(), s8_pred.len()), (n, n));
    let acc = |p: &[usize]| {
        p.iter()
            .zip(&test.labels)
            .filter(|(&p, &y)| p == y as usize)
            .count() as f64
            / n as f64
    };
    let (a32, a8) = (acc(&f32_pred), acc(&s8_pred));
    let agree = f32_pred
        .iter()
        .zip(&s8_pred)
        .filter(|(a, b)| a == b)
        .count();
    println!(
        "test accuracy f32 {a32:.4}, int8 {a8:.4} ({:+.2} points); argmax agreement {agree}/{n} \
         ({:.4}); int8 parameters {} B ({} B of int8 weights), f32 parameters {} B",
        100.0 * (a8 - a32),
        agree as f64 / n as f64,
        model.param_bytes(),
        model.weight_bytes(),
        4 * spec.param_len().unwrap(),
    );
    assert!(a32 >= 0.85, "f32 test accuracy {a32}");
    assert!((a8 - a32).abs() <= 0.02, "int8 {a8} against f32 {a32}");
}
