//! On-target tests of every layer on the emulated boards (Cortex-M4F, RV32IMAC): each f32
//! layer's forward, training forward and backward, each int8 layer's forward, and one SGD step
//! of a small `Sequential` model, compared with vectors the host computed by running the same
//! tinytune layer code (`tinytune-test-vectors`, module `layer_*` / `sequential_sgd_step`).
//!
//! The host tests establish that the host's results are right (f64 references, finite-difference
//! gradient checks, exact int8 references); these tests prove that the device computes what the
//! host computes. f32: within `1e-5 * (1 + |expected|)` per element (the same IEEE operations in
//! the same order and the same `libm` code on both ISAs, so in practice bit-identical); int8:
//! bit-exact.
#![no_std]
#![no_main]

// The same files are the RISC-V board's suites (its Cargo.toml points here): each board links
// its runtime and its logger/panic handler.
#[cfg(target_arch = "arm")]
use {cortex_m_rt as _, tinytune_qemu_m4 as _};
#[cfg(target_arch = "riscv32")]
use {riscv_rt as _, tinytune_qemu_riscv as _};

mod check;
mod float;
mod int8;
mod model;

#[defmt_test::tests]
mod tests {
    #[test]
    fn dense_f32() {
        crate::float::dense();
    }
    #[test]
    fn conv1d_f32() {
        crate::float::conv1d();
    }
    #[test]
    fn conv2d_f32() {
        crate::float::conv2d();
    }
    #[test]
    fn depthwise_conv2d_f32() {
        crate::float::depthwise_conv2d();
    }
    #[test]
    fn pool2d_max_f32() {
        crate::float::pool2d_max();
    }
    #[test]
    fn pool2d_avg_f32() {
        crate::float::pool2d_avg();
    }
    #[test]
    fn pool1d_max_f32() {
        crate::float::pool1d_max();
    }
    #[test]
    fn pool1d_avg_f32() {
        crate::float::pool1d_avg();
    }
    #[test]
    fn global_avg_pool_f32() {
        crate::float::global_avg_pool();
    }
    #[test]
    fn reshape_f32() {
        crate::float::reshape();
    }
    #[test]
    fn relu_f32() {
        crate::float::relu();
    }
    #[test]
    fn relu6_f32() {
        crate::float::relu6();
    }
    #[test]
    fn leaky_relu_f32() {
        crate::float::leaky_relu();
    }
    #[test]
    fn sigmoid_f32() {
        crate::float::sigmoid();
    }
    #[test]
    fn tanh_f32() {
        crate::float::tanh();
    }
    #[test]
    fn gelu_f32() {
        crate::float::gelu();
    }
    #[test]
    fn softmax_f32() {
        crate::float::softmax();
    }
    #[test]
    fn dropout_f32() {
        crate::float::dropout();
    }
    #[test]
    fn batch_norm_f32() {
        crate::float::batch_norm();
    }
    #[test]
    fn layer_norm_f32() {
        crate::float::layer_norm();
    }
    #[test]
    fn embedding_f32() {
        crate::float::embedding();
    }
    #[test]
    fn dense_s8() {
        crate::int8::dense();
    }
    #[test]
    fn conv1d_s8() {
        crate::int8::conv1d();
    }
    #[test]
    fn conv2d_s8() {
        crate::int8::conv2d();
    }
    #[test]
    fn depthwise_conv2d_s8() {
        crate::int8::depthwise_conv2d();
    }
    #[test]
    fn pool2d_max_s8() {
        crate::int8::pool2d_max();
    }
    #[test]
    fn pool2d_avg_s8() {
        crate::int8::pool2d_avg();
    }
    #[test]
    fn pool1d_max_s8() {
        crate::int8::pool1d_max();
    }
    #[test]
    fn pool1d_avg_s8() {
        crate::int8::pool1d_avg();
    }
    #[test]
    fn global_avg_pool_s8() {
        crate::int8::global_avg_pool();
    }
    #[test]
    fn relu_s8() {
        crate::int8::relu();
    }
    #[test]
    fn relu6_s8() {
        crate::int8::relu6();
    }
    #[test]
    fn leaky_relu_s8() {
        crate::int8::leaky_relu();
    }
    #[test]
    fn sigmoid_s8() {
        crate::int8::sigmoid();
    }
    #[test]
    fn tanh_s8() {
        crate::int8::tanh();
    }
    #[test]
    fn gelu_s8() {
        crate::int8::gelu();
    }
    #[test]
    fn softmax_s8() {
        crate::int8::softmax();
    }
    #[test]
    fn sequential_sgd_step() {
        crate::model::sgd_step();
    }
}
