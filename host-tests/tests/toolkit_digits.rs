//! The training toolkit proven on real data: scikit-learn's handwritten digits (`data/`), the
//! fixed stratified 60/20/20 split of `digits::split(SPLIT_SEED)`, features standardised with the
//! core's z-score scaler fitted on the training split only. Every run is seeded. The figures these
//! tests measure are in the README.

use tinytune::data::preprocess::ScalerKind;
use tinytune::data::sample::{bootstrap, weighted_bootstrap};
use tinytune::ensemble::{
    accuracy as member_accuracy, predict, samme_alpha, samme_reweight, weighted_error, Classifier,
    Combine, Ensemble,
};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::loss::ThresholdedConfig;
use tinytune_host_tests::csv::Dataset;
use tinytune_host_tests::digits;
use tinytune_host_tests::mlp::{self, Fit, Mlp, Objective, Opt};

/// The fixed split, standardised with the training split's statistics.
fn splits() -> (Dataset, Dataset, Dataset) {
    splits_with(digits::SPLIT_SEED)
}

/// The split of `seed`, standardised with the training split's statistics.
fn splits_with(seed: u64) -> (Dataset, Dataset, Dataset) {
    let mut all = digits::load().unwrap();
    digits::scale_to_unit(&mut all);
    let (mut train, mut val, mut test) = digits::split(&all, seed);
    let mut params = vec![0.0f32; 2 * digits::FEATURES];
    let scaler = ScalerKind::Standard
        .fit(&train.data, digits::FEATURES, &mut params)
        .unwrap();
    for d in [&mut train, &mut val, &mut test] {
        scaler.transform(&mut d.data).unwrap();
    }
    (train, val, test)
}

fn mlp(hidden: usize, dropout: f32) -> Mlp {
    Mlp {
        inputs: digits::FEATURES,
        hidden,
        outputs: digits::CLASSES,
        dropout,
    }
}

fn fit(epochs: usize, opt: Opt, seed: u64) -> Fit {
    Fit {
        epochs,
        batch: 32,
        opt,
        noise: 0.0,
        early_stop: None,
        objective: Objective::Classes,
        seed,
    }
}

const ADAM: Opt = Opt::Adam { lr: 2e-3, l2: 0.0 };

/// The first `n` training samples (the split lists them in file order, classes mixed).
fn subset(d: &Dataset, n: usize) -> Dataset {
    d.select(&(0..n).collect::<Vec<_>>()).unwrap()
}

#[test]
fn mlp_reaches_at_least_96_percent_test_accuracy() {
    let (train, val, test) = splits();
    let m = mlp(64, 0.0);
    let t = mlp::fit(&m, &fit(40, ADAM, 1), &train, Some(&val));
    let acc = mlp::accuracy(&m, &Objective::Classes, &t.params, &test);
    println!("mlp 64-64-10 adam: test accuracy {acc:.4}");
    assert!(acc >= 0.96, "test accuracy {acc}");
}

/// The same recipe is not tuned to one split: over the splits with seeds 1..=4 the mean test
/// accuracy is at least 96 % too, and no split falls below 95 %.
#[test]
fn mlp_mean_test_accuracy_over_four_other_splits_is_at_least_96_percent() {
    let m = mlp(64, 0.0);
    let accs: Vec<f32> = (1..=4)
        .map(|seed| {
            let (train, val, test) = splits_with(seed);
            let t = mlp::fit(&m, &fit(40, ADAM, 1), &train, Some(&val));
            mlp::accuracy(&m, &Objective::Classes, &t.params, &test)
        })
        .collect();
    let mean = accs.iter().sum::<f32>() / 4.0;
    println!("mlp 64-64-10 adam, splits 1..=4: {accs:?}, mean {mean:.4}");
    assert!(mean >= 0.96 && accs.iter().all(|&a| a >= 0.95), "{accs:?}");
}

#[test]
fn early_stopping_stops_before_the_limit_and_restores_the_best_validation_weights() {
    let (train, val, _) = splits();
    let m = mlp(128, 0.0);
    let mut f = fit(300, Opt::Adam { lr: 5e-3, l2: 0.0 }, 2);
    f.early_stop = Some((8, 0.0));
    let small = subset(&train, 300);
    let t = mlp::fit(&m, &f, &small, Some(&val));
    let (best_epoch, best_loss) = t.best.unwrap();
    let restored = mlp::mean_loss(&m, &Objective::Classes, &t.params, &val);
    println!(
        "early stopping: ran {} of 300 epochs, best epoch {best_epoch}, best val loss {best_loss:.4}, \
         last {:.4}, restored {restored:.4}",
        t.epochs_run,
        t.val_losses.last().unwrap()
    );
    assert!(t.epochs_run < 300, "ran {}", t.epochs_run);
    assert_eq!(t.epochs_run, best_epoch + 1 + 8);
    assert!(t.val_losses[t.epochs_run - 1] > best_loss);
    assert_eq!(
        restored, best_loss,
        "restored weights give the best validation loss"
    );
}

#[test]
fn l2_lowers_the_weight_norm_at_a_cost_of_at_most_1_point_of_accuracy() {
    let (train, val, test) = splits();
    let m = mlp(64, 0.0);
    let plain = mlp::fit(&m, &fit(40, ADAM, 3), &train, Some(&val));
    let l2 = mlp::fit(
        &m,
        &fit(40, Opt::Adam { lr: 2e-3, l2: 1e-2 }, 3),
        &train,
        Some(&val),
    );
    let (n0, n1) = (
        mlp::weight_norm(&m, &plain.params),
        mlp::weight_norm(&m, &l2.params),
    );
    let a0 = mlp::accuracy(&m, &Objective::Classes, &plain.params, &test);
    let a1 = mlp::accuracy(&m, &Objective::Classes, &l2.params, &test);
    println!("l2: weight norm {n0:.2} -> {n1:.2}, test accuracy {a0:.4} -> {a1:.4}");
    assert!(n1 < n0);
    assert!(a1 >= a0 - 0.01);
}

/// Train−test accuracy gap on a 200-sample training subset, for one configuration.
fn gap(m: &Mlp, f: &Fit, train: &Dataset, test: &Dataset) -> (f32, f32, f32) {
    let t = mlp::fit(m, f, train, None);
    let a_train = mlp::accuracy(m, &Objective::Classes, &t.params, train);
    let a_test = mlp::accuracy(m, &Objective::Classes, &t.params, test);
    (a_train - a_test, a_train, a_test)
}

#[test]
fn dropout_and_noise_each_narrow_the_train_test_gap_on_200_samples() {
    let (train, _, test) = splits();
    let small = subset(&train, 200);
    let f = fit(150, ADAM, 4);
    let base = gap(&mlp(128, 0.0), &f, &small, &test);
    let dropout = gap(&mlp(128, 0.5), &f, &small, &test);
    let noisy = gap(&mlp(128, 0.0), &Fit { noise: 1.0, ..f }, &small, &test);
    println!("gap (train, test): plain {base:?}, dropout 0.5 {dropout:?}, noise 1.0 {noisy:?}");
    assert!(dropout.0 < base.0);
    assert!(noisy.0 < base.0);
}

/// Accuracy of a classifier on a data set.
fn clf_accuracy(c: &dyn Classifier, d: &Dataset) -> f32 {
    let batch = 64;
    let mut probs = vec![0.0f32; batch * c.classes()];
    let mut scratch = vec![0.0f32; c.scratch_len(batch)];
    member_accuracy(c, &d.data, &d.labels, batch, &mut probs, &mut scratch).unwrap()
}

#[test]
fn bagging_7_members_is_at_least_as_accurate_as_its_median_member() {
    let (train, _, test) = splits();
    let m = mlp(32, 0.0);
    let mut rng = SeededRng::seed_from_u64(5);
    let mut members_params = Vec::new();
    for k in 0..7 {
        let mut idx = vec![0usize; train.len()];
        bootstrap(&mut rng, train.len(), &mut idx).unwrap();
        let sample = train.select(&idx).unwrap();
        members_params.push(mlp::fit(&m, &fit(25, ADAM, 100 + k), &sample, None).params);
    }
    let models: Vec<_> = members_params.iter().map(|p| m.model(p)).collect();
    let members: Vec<&dyn Classifier> = models.iter().map(|x| x as &dyn Classifier).collect();
    let mut accs: Vec<f32> = members.iter().map(|c| clf_accuracy(*c, &test)).collect();
    let vote = clf_accuracy(&Ensemble::new(&members, Combine::Vote).unwrap(), &test);
    let mean = clf_accuracy(&Ensemble::new(&members, Combine::Mean).unwrap(), &test);
    accs.sort_by(f32::total_cmp);
    println!("bagging: members {accs:?}, vote {vote:.4}, mean {mean:.4}");
    assert!(mean >= accs[3] && vote >= accs[3]);
}

#[test]
fn adaboost_samme_over_weak_members_beats_its_first_member_by_3_points() {
    let (train, _, test) = splits();
    let weak = mlp(2, 0.0);
    let f = fit(3, ADAM, 0);
    let mut rng = SeededRng::seed_from_u64(6);
    let n = train.len();
    let mut weights = vec![1.0 / n as f32; n];
    let (mut params, mut alphas) = (Vec::new(), Vec::new());
    for k in 0..12u64 {
        let sample = if k == 0 {
            train.clone()
        } else {
            let mut idx = vec![0usize; n];
            weighted_bootstrap(&mut rng, &weights, &mut idx).unwrap();
            train.select(&idx).unwrap()
        };
        let p = mlp::fit(&weak, &Fit { seed: 200 + k, ..f }, &sample, None).params;
        let model = weak.model(&p);
        let mut pred = vec![0u32; n];
        let mut probs = vec![0.0f32; 64 * digits::CLASSES];
        let mut scratch = vec![0.0f32; Classifier::scratch_len(&model, 64)];
        predict(&model, &train.data, 64, &mut pred, &mut probs, &mut scratch).unwrap();
        let err = weighted_error(&weights, &pred, &train.labels).unwrap();
        let alpha = samme_alpha(err, digits::CLASSES).unwrap();
        if alpha <= 0.0 {
            continue;
        }
        samme_reweight(&mut weights, &pred, &train.labels, alpha).unwrap();
        params.push(p);
        alphas.push(alpha);
    }
    let models: Vec<_> = params.iter().map(|p| weak.model(p)).collect();
    let members: Vec<&dyn Classifier> = models.iter().map(|x| x as &dyn Classifier).collect();
    let first = clf_accuracy(members[0], &test);
    let boosted = clf_accuracy(
        &Ensemble::new(&members, Combine::WeightedVote(&alphas)).unwrap(),
        &test,
    );
    println!(
        "adaboost: {} members, first {first:.4}, boosted {boosted:.4}, alphas {alphas:?}",
        members.len()
    );
    assert!(boosted >= first + 0.03);
}

#[test]
fn thresholded_binary_head_matches_bce_within_1_point_and_skips_half_the_updates() {
    let (train, _, test) = splits();
    let m = Mlp {
        inputs: digits::FEATURES,
        hidden: 32,
        outputs: 1,
        dropout: 0.0,
    };
    let bce = Objective::OneVsRest {
        positive: 8,
        thresholded: None,
    };
    let thr = Objective::OneVsRest {
        positive: 8,
        thresholded: Some(ThresholdedConfig::default()),
    };
    let base = |objective| Fit {
        objective,
        ..fit(30, ADAM, 7)
    };
    let a = mlp::fit(&m, &base(bce), &train, None);
    let b = mlp::fit(&m, &base(thr), &train, None);
    let acc_a = mlp::accuracy(&m, &bce, &a.params, &test);
    let acc_b = mlp::accuracy(&m, &thr, &b.params, &test);
    let after_first: usize = b.skipped[1..].iter().sum();
    let frac = after_first as f32 / (train.len() * (b.skipped.len() - 1)) as f32;
    println!("8 vs rest: bce {acc_a:.4}, thresholded {acc_b:.4}, skipped after epoch 1 {frac:.3}, per epoch {:?}", b.skipped);
    assert!((acc_a - acc_b).abs() <= 0.01);
    assert!(frac >= 0.5);
}
