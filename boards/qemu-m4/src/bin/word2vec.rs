//! The word2vec showcase of `tinytune-board-common` on mps2-an386: word vectors looked up in
//! place in flash, then trained further with skip-gram and negative sampling on sentences
//! generated on the device, instructions counted by SysTick under `-icount shift=6`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use tinytune_board_common::word2vec;
use tinytune_qemu_m4 as board;

#[entry]
fn main() -> ! {
    let cp = unwrap!(cortex_m::Peripherals::take());
    let mut counter = board::Counter::start(cp.SYST);
    board::exit(word2vec::main(&mut counter))
}
