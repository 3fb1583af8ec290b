//! On-target tests of the demo's instruction counter (SysTick at 16 MHz under
//! `-icount shift=6`) against loops of known length.
#![no_std]
#![no_main]

use cortex_m_rt as _;
use tinytune_qemu_m0 as _;

#[path = "../../qemu-m4/tests/counter/cases.rs"]
mod cases;

#[defmt_test::tests]
mod tests {
    use defmt::unwrap;
    use tinytune_qemu_m0::Counter;

    #[init]
    fn init() -> Counter {
        Counter::start(unwrap!(cortex_m::Peripherals::take()).SYST)
    }

    #[test]
    fn exact_per_instruction(counter: &mut Counter) {
        crate::cases::exact_per_instruction(counter);
    }

    #[test]
    fn monotonic_across_three_wraps(counter: &mut Counter) {
        // a SysTick period is 2^24 ticks of 62.5 ns = 16,384,000 instructions of 64 ns
        crate::cases::monotonic(counter, 3 * 16_384_000, 300);
        defmt::assert!(counter.wraps() >= 3);
    }

    #[test]
    fn exact_across_wraps(counter: &mut Counter) {
        crate::cases::exact_across_wraps(counter, Counter::wraps);
    }
}
