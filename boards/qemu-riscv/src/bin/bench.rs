//! The benchmarks of `tinytune-board-common` on riscv32 `virt` (rv32imac): instructions counted
//! by `minstret` under `-icount shift=0`, the int8 and the f32 kernels (f32 in software: the
//! core has no FPU). `cargo xtask bench` runs it.
#![no_std]
#![no_main]

use tinytune_board_common::bench;
use tinytune_qemu_riscv as board;

#[riscv_rt::entry]
fn main() -> ! {
    let mut counter = board::Counter::start();
    board::exit(bench::main(
        &mut counter,
        "rv32",
        &[bench::KERNELS_S8, bench::KERNELS_F32],
    ))
}
