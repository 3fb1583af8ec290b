//! The benchmarks of `tinytune-board-common` on the micro:bit (Cortex-M0, ARMv6-M): instructions
//! counted by SysTick under `-icount shift=6`, the int8 kernels only (the f32 bench's 320 KB of
//! weights do not fit the 256 KiB of flash, and the M0 has no FPU). Ends with the stack's
//! high-water mark. `cargo xtask bench` runs it.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use tinytune_board_common::bench;
use tinytune_qemu_m0::{self as board, Counter};

#[entry]
fn main() -> ! {
    let cp = unwrap!(cortex_m::Peripherals::take());
    let mut counter = Counter::start(cp.SYST);
    board::exit(bench::main(&mut counter, "m0", &[bench::KERNELS_S8]))
}
