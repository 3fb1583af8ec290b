//! The transformer showcase of `tinytune-board-common` on mps2-an386: the distilled digits
//! transformer student in f32 and int8, instructions counted by SysTick under `-icount shift=6`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use tinytune_board_common::transformer;
use tinytune_qemu_m4 as board;

#[entry]
fn main() -> ! {
    let cp = unwrap!(cortex_m::Peripherals::take());
    let mut counter = board::Counter::start(cp.SYST);
    board::exit(transformer::main(&mut counter))
}
