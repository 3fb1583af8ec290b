//! On-target tests of the reference kernels on the emulated boards (Cortex-M4F, RV32IMAC): each
//! case runs a kernel on inputs from `tinytune-test-vectors` and compares with the outputs the
//! host's independent references computed (int8: bit-exact; f32: within
//! `1e-5 * (1 + magnitude)`, the bound the host tests use).
#![no_std]
#![no_main]

// The same files are the RISC-V board's suites (its Cargo.toml points here): each board links
// its runtime and its logger/panic handler.
#[cfg(target_arch = "arm")]
use {cortex_m_rt as _, tinytune_qemu_m4 as _};
#[cfg(target_arch = "riscv32")]
use {riscv_rt as _, tinytune_qemu_riscv as _};

mod check;
mod linear;
mod other;

#[defmt_test::tests]
mod tests {
    #[test]
    fn dense_s8() {
        crate::linear::dense_s8_case();
    }
    #[test]
    fn dense_f32() {
        crate::linear::dense_f32_case();
    }
    #[test]
    fn batch_matmul_s8() {
        crate::linear::matmul_s8_case();
    }
    #[test]
    fn batch_matmul_f32() {
        crate::linear::matmul_f32_case();
    }
    #[test]
    fn conv2d_s8() {
        crate::linear::conv2d_s8_case();
    }
    #[test]
    fn conv2d_f32() {
        crate::linear::conv2d_f32_case();
    }
    #[test]
    fn conv1d_s8() {
        crate::linear::conv1d_s8_case();
    }
    #[test]
    fn depthwise_conv2d_s8() {
        crate::linear::depthwise_s8_case();
    }
    #[test]
    fn depthwise_conv2d_f32() {
        crate::linear::depthwise_f32_case();
    }
    #[test]
    fn requantizer_from_real_and_apply() {
        crate::other::requant_case();
    }
    #[test]
    fn pool2d_s8() {
        crate::other::pool_s8_case();
    }
    #[test]
    fn avg_pool2d_f32() {
        crate::other::pool_f32_case();
    }
    #[test]
    fn add_and_mul_s8() {
        crate::other::add_mul_s8_case();
    }
    #[test]
    fn sigmoid_lut_s8() {
        crate::other::sigmoid_lut_case();
    }
    #[test]
    fn softmax_s8_and_s16() {
        crate::other::softmax_s8_case();
    }
    #[test]
    fn softmax_f32() {
        crate::other::softmax_f32_case();
    }
}
