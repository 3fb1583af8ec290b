//! On-target tests of the Cortex-M0's fast int8 dense and convolution kernels (the LDRSB/MULS
//! assembly) against the generic kernels: the cases of the M4 suite (see its `cases.rs`),
//! bit-exact, with buffers sized for the 16 KiB of RAM.
#![no_std]
#![no_main]

use cortex_m_rt as _;
use tinytune_qemu_m0 as _;

#[path = "../../qemu-m4/tests/fast_dense_conv/cases.rs"]
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
