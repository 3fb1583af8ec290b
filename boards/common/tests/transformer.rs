//! The M4F's transformer showcase run on the host: the same code, model files and samples as
//! on the emulated board, so these are the accuracies the board must print.

use tinytune_board_common::transformer::{self, Buffers};
use tinytune_board_common::Platform;

/// The host has no instruction counter.
struct Host;

impl Platform for Host {
    fn instructions(&mut self) -> u64 {
        0
    }
}

/// The acceptance: f32 test accuracy at least 85 %, int8 within 2 points of it, and
/// the int8 inference within 64 KiB of RAM.
#[test]
fn transformer_student_f32_at_least_85_percent_int8_within_2_points_in_64_kib() {
    let mut bufs = Box::new(Buffers::new());
    let r = transformer::run(&mut Host, &mut bufs).unwrap();
    println!("{r:?}");
    let acc = |(c, n): (u32, u32)| f64::from(c) / f64::from(n);
    assert_eq!(r.acc_f32.1, 269);
    assert_eq!(r.acc_int8.1, 269);
    assert!(acc(r.acc_f32) >= 0.85, "{r:?}");
    assert!(acc(r.acc_f32) - acc(r.acc_int8) <= 0.02, "{r:?}");
    assert!(r.ram_bytes <= 64 * 1024, "{r:?}");
}
