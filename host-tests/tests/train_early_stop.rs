//! Early stopping on scripted validation-loss sequences: the stopping epoch, the best epoch and
//! loss, exact restoration of the best parameters, and the patience / min_delta / NaN edges.

use tinytune::train::early_stop::{Decision, EarlyStopping};
use tinytune::{Buffer, Error, ShapeError};

/// Feeds `losses` (epoch k's parameters are `[k, −k, 0.5 k]`) until `Stop`; returns the epoch
/// that stopped (None if never), the stopper, the final params and the best buffer.
fn run(
    patience: usize,
    min_delta: f32,
    losses: &[f32],
) -> (Option<usize>, EarlyStopping, [f32; 3], [f32; 3]) {
    let mut stop = EarlyStopping::new(patience, min_delta).unwrap();
    let (mut params, mut best) = ([0.0f32; 3], [9.0f32; 3]);
    for (epoch, &loss) in losses.iter().enumerate() {
        let k = epoch as f32;
        params = [k, -k, 0.5 * k];
        if stop.observe(epoch, loss, &params, &mut best).unwrap() == Decision::Stop {
            return (Some(epoch), stop, params, best);
        }
    }
    (None, stop, params, best)
}

/// Falls to 0.4 at epoch 3, then rises: with patience 3 it stops at epoch 6 (three epochs
/// without improvement) and restores epoch 3's parameters exactly.
#[test]
fn falling_then_rising_loss_stops_after_patience_and_restores_best() {
    let losses = [1.0, 0.8, 0.6, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7];
    let (stopped, stop, mut params, best) = run(3, 0.0, &losses);
    assert_eq!(stopped, Some(6));
    assert_eq!(stop.best_epoch(), Some(3));
    assert_eq!(stop.best_loss(), 0.4);
    assert_eq!(best, [3.0, -3.0, 1.5]);
    assert_eq!(params, [6.0, -6.0, 3.0]);
    assert_eq!(stop.restore(&mut params, &best), Ok(true));
    assert_eq!(params, [3.0, -3.0, 1.5]);
}

/// An improvement within the patience window resets the count.
#[test]
fn an_improvement_inside_the_window_resets_the_count() {
    let losses = [1.0, 1.1, 1.2, 0.9, 1.0, 1.0, 1.0];
    let (stopped, stop, _, best) = run(3, 0.0, &losses);
    assert_eq!(stopped, Some(6));
    assert_eq!(stop.best_epoch(), Some(3));
    assert_eq!(best, [3.0, -3.0, 1.5]);
}

#[test]
fn patience_zero_stops_at_the_first_epoch_without_improvement() {
    let (stopped, stop, _, _) = run(0, 0.0, &[1.0, 0.9, 0.9, 0.1]);
    assert_eq!(stopped, Some(2)); // an equal loss is not an improvement
    assert_eq!(stop.best_epoch(), Some(1));
}

/// With min_delta 0.1 only drops of more than 0.1 count: 1.0 → 0.95 → 0.91 are not
/// improvements, 0.85 is (0.15 below the best 1.0); a drop of exactly min_delta is not.
#[test]
fn min_delta_requires_a_drop_of_more_than_it() {
    let (stopped, stop, _, best) = run(3, 0.1, &[1.0, 0.95, 0.91, 0.85, 0.8, 0.75, 0.75]);
    assert_eq!(stop.best_epoch(), Some(3));
    assert_eq!(best, [3.0, -3.0, 1.5]);
    assert_eq!(stopped, Some(6));
    let (stopped, stop, _, _) = run(1, 0.25, &[1.0, 0.75]);
    assert_eq!((stopped, stop.best_epoch()), (Some(1), Some(0)));
}

/// NaN never improves (and is not stored as the best); a later finite improvement still counts.
#[test]
fn nan_loss_counts_as_no_improvement() {
    let (stopped, stop, _, best) = run(2, 0.0, &[1.0, f32::NAN, 0.5, f32::NAN, f32::NAN]);
    assert_eq!(stopped, Some(4));
    assert_eq!(stop.best_epoch(), Some(2));
    assert_eq!(stop.best_loss(), 0.5);
    assert_eq!(best, [2.0, -2.0, 1.0]);
    // Only NaN: no best, restore copies nothing and says so.
    let (stopped, stop, mut params, best) = run(1, 0.0, &[f32::NAN, f32::NAN]);
    assert_eq!((stopped, stop.best_epoch()), (Some(0), None));
    assert_eq!(best, [9.0; 3]);
    assert_eq!(stop.restore(&mut params, &best), Ok(false));
    assert_eq!(params, [0.0, 0.0, 0.0]);
}

#[test]
fn never_stops_while_improving_and_reset_forgets() {
    let losses: Vec<f32> = (0..50).map(|k| 10.0 - 0.1 * k as f32).collect();
    let (stopped, mut stop, _, _) = run(1, 0.01, &losses);
    assert_eq!((stopped, stop.best_epoch()), (None, Some(49)));
    stop.reset();
    assert_eq!(
        (stop.best_epoch(), stop.best_loss(), stop.bad_epochs()),
        (None, f32::INFINITY, 0)
    );
    assert_eq!((stop.patience(), stop.min_delta()), (1, 0.01));
}

#[test]
fn bad_config_and_length_mismatch_are_errors_and_record_nothing() {
    assert_eq!(EarlyStopping::new(1, -0.1).err(), Some(Error::Config));
    assert_eq!(EarlyStopping::new(1, f32::NAN).err(), Some(Error::Config));
    assert_eq!(
        EarlyStopping::new(1, f32::INFINITY).err(),
        Some(Error::Config)
    );
    let mut stop = EarlyStopping::new(1, 0.0).unwrap();
    let mut best = [7.0f32; 2];
    let err = stop.observe(0, 0.5, &[1.0; 3], &mut best);
    let want = ShapeError::Length {
        buffer: Buffer::Params,
        expected: 3,
        actual: 2,
    };
    assert_eq!(err, Err(Error::Shape(want)));
    assert_eq!((best, stop.best_epoch()), ([7.0; 2], None));
    stop.observe(0, 0.5, &[1.0; 2], &mut best).unwrap();
    assert!(stop.restore(&mut [0.0; 3], &best).is_err());
}
