//! A trained digits classifier through the whole deployment path: quantized by the host
//! pipeline, written as a `.ttm` with its preprocessing and class names, parsed back, and run by
//! the core's `Model::run`, whose int8 outputs must equal the host's quantized forward bit for bit.

use tinytune::data::preprocess::ScalerKind;
use tinytune::model::Model;
use tinytune::num::quant::Requantizer;
use tinytune_cli::model::OwnedModel;
use tinytune_cli::quantize::{quantize, QuantizeOptions};
use tinytune_cli::ttm::{encode, rust_snippet, AlignedBytes, Preprocessing};
use tinytune_host_tests::digits;
use tinytune_host_tests::mlp::{self, Fit, Mlp, Objective, Opt};

#[test]
fn ttm_model_run_equals_the_host_int8_forward_bit_for_bit_and_int8_is_within_1_point_of_f32() {
    let mut all = digits::load().unwrap();
    digits::scale_to_unit(&mut all);
    let (train, val, test) = digits::split(&all, digits::SPLIT_SEED);
    // Standardisation fitted on the training split: applied by hand for training, stored in
    // the model file for the device.
    let mut scaler_params = vec![0.0f32; 2 * digits::FEATURES];
    let scaler = ScalerKind::Standard
        .fit(&train.data, digits::FEATURES, &mut scaler_params)
        .unwrap();
    let standardise = |d: &[f32]| {
        let mut d = d.to_vec();
        scaler.transform(&mut d).unwrap();
        d
    };
    let (train_z, val_z, test_z) = (
        standardise(&train.data),
        standardise(&val.data),
        standardise(&test.data),
    );
    let m = Mlp {
        inputs: digits::FEATURES,
        hidden: 32,
        outputs: digits::CLASSES,
        dropout: 0.0,
    };
    let mut train_s = train.clone();
    train_s.data = train_z.clone();
    let mut val_s = val.clone();
    val_s.data = val_z;
    let fit = Fit {
        epochs: 30,
        batch: 32,
        opt: Opt::Adam { lr: 2e-3, l2: 0.0 },
        noise: 0.0,
        early_stop: None,
        objective: Objective::Classes,
        seed: 11,
    };
    let trained = mlp::fit(&m, &fit, &train_s, Some(&val_s));
    let f32_model = OwnedModel::from_sequential(&m.model(&trained.params));
    let (int8_model, report) = quantize(&f32_model, &train_z, QuantizeOptions::default()).unwrap();

    let names: Vec<String> = (0..10).map(|d| format!("digit {d}")).collect();
    let prep = Preprocessing {
        kind: ScalerKind::Standard,
        params: scaler_params.clone(),
    };
    let bytes = encode(&int8_model, Some(&prep), digits::CLASSES, &names).unwrap();
    let file = AlignedBytes::new(&bytes);
    let model = file.model().unwrap();
    assert_eq!(model.flash_len(), bytes.len());
    assert_eq!(model.class_names().nth(3), Some("digit 3"));

    // The device path: raw (÷16) pixels in, the file's own scaler applied by `run`.
    let n = test.len();
    let mut arena = vec![0u8; model.arena_len(n).unwrap()];
    let mut requant = vec![Requantizer::ZERO; model.requant_len()];
    let mut device = vec![0.0f32; n * digits::CLASSES];
    model
        .run(n, &test.data, &mut arena, &mut requant, &mut device)
        .unwrap();
    let host = int8_model.forward_int8(n, &test_z).unwrap();
    let same_bits = device
        .iter()
        .zip(&host)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same_bits, "Model::run differs from the host's int8 forward");

    let acc = |logits: &[f32]| {
        let pred = Objective::Classes.predictions(logits, digits::CLASSES);
        pred.iter()
            .zip(&test.labels)
            .filter(|(p, y)| p == y)
            .count() as f32
            / n as f32
    };
    let acc_f32 = acc(&f32_model.forward_f32(n, &test_z).unwrap());
    let acc_int8 = acc(&device);
    println!(
        "ttm: {} B, arena {} B for one sample, f32 {acc_f32:.4}, int8 {acc_int8:.4}, SQNR {:?}",
        bytes.len(),
        model.arena_len(1).unwrap(),
        report.layers.iter().map(|l| l.sqnr_db).collect::<Vec<_>>()
    );
    assert!(
        (acc_f32 - acc_int8).abs() <= 0.01,
        "f32 {acc_f32} int8 {acc_int8}"
    );
    let snippet = rust_snippet("student.ttm", &model);
    assert!(snippet.contains("include_model!(\"student.ttm\")"));
}

#[test]
fn a_file_that_is_not_a_model_is_an_error_that_says_so() {
    let file = AlignedBytes::new(b"definitely not a model file, just some text");
    let Err(err) = file.model() else {
        panic!("a text file was accepted as a model")
    };
    let err = err.to_string();
    assert!(err.starts_with("model file:"), "{err}");
    assert!(Model::from_bytes(&[]).is_err());
}
