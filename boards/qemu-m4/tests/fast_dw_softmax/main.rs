//! On-target tests of the fast int8 depthwise convolution and the int8 softmax: each runs the
//! kernel the layers use and an independent reference on the same deterministic pseudo-random
//! inputs, on the device, and requires equal outputs bit for bit.
//!
//! - Depthwise: `depthwise_fast::depthwise_conv2d_s8` (on the Cortex-M4 its SMLAD/SMMULR
//!   assembly for 3x3 filters, the portable plane loops for the others) against the reference
//!   `depthwise::depthwise_conv2d_s8`, over shapes with channel counts that are not multiples of
//!   4, multipliers 1 to 3, strides and dilations 1 to 3, both paddings, odd sizes, several
//!   tiles per axis, and extreme values and quantization parameters; and the int8 layer.
//! - Softmax: `softmax_s8`, `softmax_s8_s16` and `log_softmax_s8` against a transcription of
//!   TFLite's reference kernels written here on the general fixed-point functions of
//!   `tinytune::num::fixedpoint`, over depths 1 to 40 and extreme inputs and parameters.
#![no_std]
#![no_main]

#[cfg(target_arch = "arm")]
use {cortex_m_rt as _, tinytune_qemu_m4 as _};
#[cfg(target_arch = "riscv32")]
use {riscv_rt as _, tinytune_qemu_riscv as _};

mod depthwise;
mod rng;
mod softmax;

#[defmt_test::tests]
mod tests {
    #[test]
    fn depthwise_3x3_stride_1_shapes() {
        crate::depthwise::shapes_3x3();
    }
    #[test]
    fn depthwise_other_filters_strides_dilations() {
        crate::depthwise::shapes_any();
    }
    #[test]
    fn depthwise_extreme_parameters() {
        crate::depthwise::extreme_parameters();
    }
    #[test]
    fn depthwise_extreme_values() {
        crate::depthwise::extreme_values();
    }
    #[test]
    fn depthwise_layer() {
        crate::depthwise::layer();
    }
    #[test]
    fn softmax_depths_1_to_40() {
        crate::softmax::depths();
    }
    #[test]
    fn softmax_extreme_parameters() {
        crate::softmax::extreme_parameters();
    }
    #[test]
    fn log_softmax_depths_and_parameters() {
        crate::softmax::log_softmax();
    }
}
