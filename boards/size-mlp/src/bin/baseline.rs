//! The baseline: cortex-m-rt's startup, one line of output and the exit, without a model. The
//! `mlp` firmware's flash minus this one's and minus its `.ttm` is what running the model costs.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tinytune_size_mlp::{exit, print, print_u32};

#[entry]
fn main() -> ! {
    print(c"size-mlp baseline: class ");
    print_u32(0);
    print(c"\n");
    exit(0)
}
