//! The f32 transformer encoder trained end to end on the digits read as sequences (8 rows of
//! 8 pixels): the fixed stratified 60/20/20 split of `digits::split(SPLIT_SEED)`, pixels
//! standardised with the training split's statistics, every run seeded.

use std::time::Instant;

use tinytune::data::preprocess::ScalerKind;
use tinytune_host_tests::csv::Dataset;
use tinytune_host_tests::digits;
use tinytune_host_tests::transformer::{fit, Spec, Train};

/// The fixed split, standardised with the training split's statistics.
fn splits() -> (Dataset, Dataset, Dataset) {
    let mut all = digits::load().unwrap();
    digits::scale_to_unit(&mut all);
    let (mut train, mut val, mut test) = digits::split(&all, digits::SPLIT_SEED);
    let mut params = vec![0.0f32; 2 * digits::FEATURES];
    let scaler = ScalerKind::Standard
        .fit(&train.data, digits::FEATURES, &mut params)
        .unwrap();
    for d in [&mut train, &mut val, &mut test] {
        scaler.transform(&mut d.data).unwrap();
    }
    (train, val, test)
}

/// Trains `spec` and returns (train, validation, test) accuracy, printing the figures.
fn run(spec: &Spec, cfg: &Train) -> (f32, f32, f32) {
    let (train, val, test) = splits();
    let start = Instant::now();
    let trained = fit(spec, cfg, &train).unwrap();
    let secs = start.elapsed().as_secs_f32();
    let acc = |d: &Dataset| spec.accuracy(&trained.params, d).unwrap();
    let (a_train, a_val, a_test) = (acc(&train), acc(&val), acc(&test));
    println!(
        "transformer blocks {} width {} heads {} ff {} dropout {}: {} params, {} epochs, {:.1} s; \
         loss first {:.3} last {:.3}; accuracy train {:.4} val {:.4} test {:.4}",
        spec.blocks,
        spec.width,
        spec.heads,
        spec.ff,
        spec.dropout,
        spec.param_len().unwrap(),
        cfg.epochs,
        secs,
        trained.losses.first().unwrap(),
        trained.losses.last().unwrap(),
        a_train,
        a_val,
        a_test,
    );
    (a_train, a_val, a_test)
}

fn train_cfg() -> Train {
    Train {
        epochs: 30,
        batch: 32,
        lr: 2e-3,
        seed: 1,
    }
}

#[test]
fn transformer_reaches_at_least_85_percent_test_accuracy() {
    let spec = Spec::digits(16, 2, 32, 1);
    let (_, _, test) = run(&spec, &train_cfg());
    assert!(test >= 0.85, "test accuracy {test}");
}

/// One block against two (and a wider model with dropout), each printed: every variant must
/// also clear 85 %.
#[test]
fn one_and_two_blocks_and_a_wider_model_each_reach_at_least_85_percent() {
    let mut wide = Spec::digits(32, 2, 64, 2);
    wide.dropout = 0.1;
    for spec in [Spec::digits(16, 2, 32, 1), Spec::digits(16, 2, 32, 2), wide] {
        let (_, _, test) = run(&spec, &train_cfg());
        assert!(test >= 0.85, "{spec:?}: test accuracy {test}");
    }
}
