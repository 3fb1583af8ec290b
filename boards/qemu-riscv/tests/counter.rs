//! On-target tests of the demo's instruction counter (`minstret` under `-icount shift=0`)
//! against loops of known length.
#![no_std]
#![no_main]

use riscv_rt as _;
use tinytune_qemu_riscv as _;

#[path = "../../qemu-m4/tests/counter/cases.rs"]
mod cases;

#[defmt_test::tests]
mod tests {
    use tinytune_qemu_riscv::Counter;

    #[init]
    fn init() -> Counter {
        Counter::start()
    }

    #[test]
    fn exact_per_instruction(counter: &mut Counter) {
        crate::cases::exact_per_instruction(counter);
    }

    #[test]
    fn monotonic(counter: &mut Counter) {
        crate::cases::monotonic(counter, 30_000_000, 100);
    }

    #[test]
    fn exact_over_long_loops(counter: &mut Counter) {
        // minstret is 64 bits wide: it never wraps, and nothing runs besides the loop
        crate::cases::exact_across_wraps(counter, |_| 0);
    }
}
