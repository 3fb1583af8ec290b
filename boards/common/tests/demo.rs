//! The boards' demo run on the host: the same code, the same data and the same seeds as on the
//! emulated boards, so its accuracies and counts are the ones the boards must print.

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use tinytune_board_common::demo::{self, Buffers, Summary};
use tinytune_board_common::{Platform, RamNorFlash};

/// The host has no instruction counter.
struct Host;

impl Platform for Host {
    fn instructions(&mut self) -> u64 {
        0
    }
}

type Flash<'a> = RamNorFlash<'a, 4, 4096>;

fn run(config: &demo::DemoConfig, memory: &mut [u8]) -> Summary {
    let mut flash = Flash::new(memory);
    let len = flash.capacity() as u32;
    flash.erase(0, len).unwrap();
    let mut bufs = Box::new(Buffers::new());
    demo::run(config, &mut Host, flash, &mut bufs).unwrap()
}

#[test]
fn drift_costs_accuracy_and_fine_tuning_wins_back_more_than_half() {
    let mut memory = vec![0u8; demo::flash_len::<Flash<'static>>()];
    let s = run(&demo::DEMO, &mut memory);
    println!("{s:?}");
    let acc = |(c, n): (u32, u32)| f64::from(c) / f64::from(n);
    let (clean, drift, tuned) = (acc(s.clean), acc(s.drift), acc(s.tuned));
    assert_eq!(s.clean.1, 539);
    assert_eq!(s.drift.1, 269);
    assert!(clean - drift >= 0.05, "drift drop {clean} -> {drift}");
    assert!(
        tuned - drift >= (clean - drift) / 2.0,
        "{clean} {drift} {tuned}"
    );
    assert!(s.skips > 0 && s.updates > 0);
    assert_eq!(
        s.updates + s.skips,
        demo::DEMO.epochs as u32 * 270,
        "every labelled sample updates or is skipped"
    );
    assert!(s.reload_ok);
    assert!(s.passes());
}

/// The thresholded rule against plain cross-entropy (margin 1: every labelled sample updates),
/// same drift, learning rate and passes: the rule ends within 2 points of plain cross-entropy
/// with less than half the updates (each update costs a backward pass and, on a board, energy).
#[test]
fn the_thresholded_rule_is_within_2_points_of_plain_cross_entropy_with_under_half_the_updates() {
    let mut memory = vec![0u8; demo::flash_len::<Flash<'static>>()];
    let rule = run(&demo::DEMO, &mut memory);
    let mut plain_config = demo::DEMO;
    plain_config.finetune.threshold.margin = 1.0;
    let plain = run(&plain_config, &mut memory);
    println!("thresholded {rule:?}\nplain {plain:?}");
    assert_eq!(plain.skips, 0);
    assert!(
        f64::from(rule.tuned.0) >= f64::from(plain.tuned.0) - 0.02 * f64::from(plain.tuned.1),
        "{rule:?} {plain:?}"
    );
    assert!(2 * rule.updates < plain.updates, "{rule:?} {plain:?}");
}
