//! The benchmarks of `tinytune-board-common` on mps2-an386 (Cortex-M4F): instructions counted
//! by SysTick under `-icount shift=6`, the int8 and the f32 kernels. `cargo xtask bench` runs it.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use tinytune_board_common::bench;
use tinytune_qemu_m4 as board;

#[entry]
fn main() -> ! {
    let cp = unwrap!(cortex_m::Peripherals::take());
    let mut counter = board::Counter::start(cp.SYST);
    board::exit(bench::main(
        &mut counter,
        "m4",
        &[bench::KERNELS_S8, bench::KERNELS_F32],
    ))
}
