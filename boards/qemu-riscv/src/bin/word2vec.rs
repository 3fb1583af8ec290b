//! The word2vec showcase of `tinytune-board-common` on riscv32 `virt` (rv32imac, f32 in
//! software): word vectors looked up in place in flash, then trained further with skip-gram and
//! negative sampling on sentences generated on the device, instructions counted by `minstret`
//! under `-icount shift=0`. The vectors it ends with are the M4F's and the host's, bit for bit.
#![no_std]
#![no_main]

use tinytune_board_common::word2vec;
use tinytune_qemu_riscv as board;

#[riscv_rt::entry]
fn main() -> ! {
    let mut counter = board::Counter::start();
    board::exit(word2vec::main(&mut counter))
}
