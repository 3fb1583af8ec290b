//! Self-check of the board's panic path: the panic handler must end QEMU with status 101
//! (`EXIT_PANIC`). CI runs it and expects 101.
#![no_std]
#![no_main]

use tinytune_qemu_riscv as board;

#[riscv_rt::entry]
fn main() -> ! {
    let items: [u8; 3] = [1, 2, 3];
    let i = core::hint::black_box(7usize);
    defmt::println!("about to index out of bounds");
    let v = items[i]; // panics: index 7 of 3
    defmt::println!("no panic: {=u8}", v);
    board::exit(0)
}
