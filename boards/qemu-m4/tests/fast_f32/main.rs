//! On-target tests of the blocked f32 kernels (four outputs per pass; on the Cortex-M4F an
//! assembly inner loop) against plain loops written here, run on the same pseudo-random inputs
//! on the device. The kernels keep each output's order of operations, so the results must be
//! the same bits (any NaN matching any NaN).
//!
//! Every shape with `in_features`/`k` in 1..=37, `out_features`/`n` in 1..=11 and a batch of
//! 1..=3 is run: every count of assembly passes (0..=9) with every tail (0..=3), every count of
//! four-output blocks (0..=2) with every leftover (0..=3).
#![no_std]
#![no_main]

// The same files are the RISC-V board's suite (its Cargo.toml points here): each board links
// its runtime and its logger/panic handler.
#[cfg(target_arch = "arm")]
use {cortex_m_rt as _, tinytune_qemu_m4 as _};
#[cfg(target_arch = "riscv32")]
use {riscv_rt as _, tinytune_qemu_riscv as _};

mod dense;
mod gen;
mod matmul;

#[defmt_test::tests]
mod tests {
    use crate::gen::Values;

    #[test]
    fn dense_f32_every_small_shape() {
        let cases = crate::dense::every_shape(Values::Moderate);
        defmt::info!("dense_f32: {} shapes bit-identical", cases);
    }

    #[test]
    fn dense_f32_extreme_values() {
        // Infinities, NaN, subnormals, signed zeros, values whose products overflow.
        crate::dense::every_shape(Values::Extreme);
    }

    #[test]
    fn dense_f32_long_rows() {
        crate::dense::long_rows();
    }

    #[test]
    fn batch_matmul_f32_every_small_shape() {
        let cases = crate::matmul::every_shape(Values::Moderate);
        defmt::info!(
            "batch_matmul_f32: {} shapes x 2 layouts bit-identical",
            cases
        );
    }

    #[test]
    fn batch_matmul_f32_extreme_values() {
        crate::matmul::every_shape(Values::Extreme);
    }
}
