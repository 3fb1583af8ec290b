//! On-target tests of the fast int8 dense and convolution kernels (Cortex-M4F: the SMLAD
//! assembly; RV32IMAC: the four-row Rust loop) against the generic kernels: bit-exact on
//! deterministic pseudo-random inputs and extreme values (see `cases.rs`).
#![no_std]
#![no_main]

// The RISC-V board runs this suite too (its Cargo.toml points here): each board links its
// runtime and its logger/panic handler.
#[cfg(target_arch = "arm")]
use {cortex_m_rt as _, tinytune_qemu_m4 as _};
#[cfg(target_arch = "riscv32")]
use {riscv_rt as _, tinytune_qemu_riscv as _};

mod cases;

#[defmt_test::tests]
mod tests {
    #[test]
    fn dense_every_length_1_to_67_by_1_to_9_outputs() {
        crate::cases::dense_all_shapes();
    }
    #[test]
    fn dense_large_rows() {
        crate::cases::dense_large();
    }
    #[test]
    fn conv2d_random_geometries() {
        crate::cases::conv2d_random(0xC0_0001, 400);
    }
    #[test]
    fn conv2d_3x3_same_16_channels() {
        crate::cases::conv2d_bench_like();
    }
    #[test]
    fn conv1d_random_geometries() {
        crate::cases::conv1d_random();
    }
    #[test]
    fn wrong_lengths_give_the_generic_errors() {
        crate::cases::errors_match_generic();
    }
}
