//! The int8 dense and convolution kernels the layers call: the fastest implementation for the
//! target, chosen at compile time, bit-exact with [`generic`](super::generic).
//!
//! | target | implementation |
//! |---|---|
//! | ARMv7E-M (`thumbv7em-*`: Cortex-M4, M7) | `SMLAD` assembly, four outputs per pass |
//! | ARMv6-M (`thumbv6m-*`: Cortex-M0, M0+) | `LDRSB`/`MULS` assembly, four outputs per pass |
//! | RV32 (`riscv32*`) | plain Rust, four outputs per pass |
//! | others (the host) | [`generic`](super::generic) |
//!
//! The results, errors and contracts are those of the `generic` kernels named in each
//! function: only the instruction count differs.

use crate::error::ShapeError;
use crate::kernels::generic::conv::{Conv1dShape, Conv2dShape};
use crate::kernels::generic::dense::DenseShape;
use crate::kernels::QuantArgsS8;

/// The tuned expression on targets with a tuned path, the `generic` one elsewhere.
macro_rules! tuned {
    ($tuned:expr, $generic:expr) => {{
        #[cfg(any(tinytune_dsp, tinytune_armv6m, target_arch = "riscv32"))]
        {
            $tuned
        }
        #[cfg(not(any(tinytune_dsp, tinytune_armv6m, target_arch = "riscv32")))]
        {
            $generic
        }
    }};
}

/// int8 dense layer (TFLite `FullyConnected`, int8): the same results as
/// [`generic::dense::dense_s8`](super::generic::dense::dense_s8), faster on Cortex-M and RV32.
/// Needs no scratch memory.
///
/// # Shapes
/// - `input`: `[batch, in_features]`
/// - `weights`: `[out_features, in_features]` (symmetric, zero point 0)
/// - `bias`: `[out_features]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[out_features]` (per-channel)
/// - `output`: `[batch, out_features]`
///
/// # Errors
/// As [`generic::dense::dense_s8`](super::generic::dense::dense_s8). Nothing is written on
/// error.
pub fn dense_s8(
    shape: DenseShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    tuned!(
        super::cortex_m::dense::dense_s8::<super::cortex_m::Active>(
            shape, q, input, weights, bias, output
        ),
        super::generic::dense::dense_s8(shape, q, input, weights, bias, output)
    )
}

/// int8 2-D convolution (TFLite `Conv2D`, int8): the same results as
/// [`generic::conv::conv2d_s8`](super::generic::conv::conv2d_s8), faster on Cortex-M and RV32.
/// Needs no scratch memory.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]`
/// - `weights`: OHWI `[out_c, kernel_h, kernel_w, in_c]` (symmetric, zero point 0)
/// - `bias`: `[out_c]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[out_c]` (per-channel)
/// - `output`: NHWC `[batch, out_h, out_w, out_c]`
///
/// # Errors
/// As [`generic::conv::conv2d_s8`](super::generic::conv::conv2d_s8). Nothing is written on
/// error.
pub fn conv2d_s8(
    shape: &Conv2dShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    tuned!(
        super::cortex_m::conv::conv2d_s8::<super::cortex_m::Active>(
            shape, q, input, weights, bias, output
        ),
        super::generic::conv::conv2d_s8(shape, q, input, weights, bias, output)
    )
}

/// int8 1-D convolution: [`conv2d_s8`] on images of height 1 (see
/// [`Conv1dShape::to_conv2d`]), the same results as
/// [`generic::conv::conv1d_s8`](super::generic::conv::conv1d_s8). Needs no scratch memory.
///
/// # Shapes
/// - `input`: `[batch, len, in_c]`
/// - `weights`: `[out_c, kernel, in_c]` (symmetric, zero point 0)
/// - `bias`: `[out_c]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[out_c]` (per-channel)
/// - `output`: `[batch, out_len, out_c]`
///
/// # Errors
/// As [`generic::conv::conv1d_s8`](super::generic::conv::conv1d_s8).
pub fn conv1d_s8(
    shape: &Conv1dShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    conv2d_s8(&shape.to_conv2d(), q, input, weights, bias, output)
}
