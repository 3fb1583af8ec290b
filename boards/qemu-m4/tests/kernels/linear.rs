//! Dense, batched matmul, conv1d, conv2d and depthwise conv2d on target.

use crate::check::{act_f32, act_s8, bias, close, exact, requants};
use defmt::unwrap;
use tinytune::kernels::generic::conv::{
    conv1d_s8, conv2d_f32, conv2d_s8, Conv1dShape, Conv2dShape,
};
use tinytune::kernels::generic::dense::{dense_f32, dense_s8, DenseShape};
use tinytune::kernels::generic::depthwise::{
    depthwise_conv2d_f32, depthwise_conv2d_s8, DepthwiseConv2dShape,
};
use tinytune::kernels::generic::matmul::{
    batch_matmul_f32, batch_matmul_s8, BatchMatmulShape, MatmulArgsS8, RhsLayout,
};
use tinytune::kernels::{Padding, QuantArgsS8};
use tinytune_test_vectors as v;

fn padding(same: bool) -> Padding {
    if same {
        Padding::Same
    } else {
        Padding::Valid
    }
}

/// The int8 quantization arguments of a case module.
macro_rules! quant_args {
    ($c:ident, $rq:ident) => {{
        $rq = requants(&$c::MULTIPLIERS, &$c::SHIFTS);
        QuantArgsS8 {
            input_offset: $c::INPUT_OFFSET,
            output_offset: $c::OUTPUT_OFFSET,
            requant: &$rq.0[..$rq.1],
            act: act_s8($c::ACT_MIN, $c::ACT_MAX),
        }
    }};
}

/// The conv2d geometry of a case module.
macro_rules! conv2d_shape {
    ($c:ident) => {
        Conv2dShape {
            batch: $c::BATCH,
            in_h: $c::IN_H,
            in_w: $c::IN_W,
            in_c: $c::IN_C,
            out_c: $c::OUT_C,
            kernel_h: $c::KERNEL_H,
            kernel_w: $c::KERNEL_W,
            stride_h: $c::STRIDE_H,
            stride_w: $c::STRIDE_W,
            dilation_h: $c::DILATION_H,
            dilation_w: $c::DILATION_W,
            padding: padding($c::SAME),
        }
    };
}

/// The depthwise geometry of a case module.
macro_rules! depthwise_shape {
    ($c:ident) => {
        DepthwiseConv2dShape {
            batch: $c::BATCH,
            in_h: $c::IN_H,
            in_w: $c::IN_W,
            in_c: $c::IN_C,
            multiplier: $c::MULTIPLIER,
            kernel_h: $c::KERNEL_H,
            kernel_w: $c::KERNEL_W,
            stride_h: $c::STRIDE_H,
            stride_w: $c::STRIDE_W,
            dilation_h: $c::DILATION_H,
            dilation_w: $c::DILATION_W,
            padding: padding($c::SAME),
        }
    };
}

pub fn dense_s8_case() {
    use v::dense_s8 as c;
    let rq;
    let q = quant_args!(c, rq);
    let shape = DenseShape {
        batch: c::BATCH,
        in_features: c::IN_FEATURES,
        out_features: c::OUT_FEATURES,
    };
    let mut out = [0i8; c::EXPECTED_LEN];
    unwrap!(dense_s8(
        shape,
        &q,
        &c::INPUT,
        &c::WEIGHTS,
        bias(&c::BIAS),
        &mut out
    ));
    exact(&out, &c::EXPECTED);
}

pub fn dense_f32_case() {
    use v::dense_f32 as c;
    let shape = DenseShape {
        batch: c::BATCH,
        in_features: c::IN_FEATURES,
        out_features: c::OUT_FEATURES,
    };
    let mut out = [0f32; c::EXPECTED_LEN];
    let act = act_f32(c::ACT_MIN, c::ACT_MAX);
    unwrap!(dense_f32(
        shape,
        &c::INPUT,
        &c::WEIGHTS,
        bias(&c::BIAS),
        act,
        &mut out
    ));
    close(&out, &c::EXPECTED, &c::MAGNITUDE);
}

pub fn matmul_s8_case() {
    use v::matmul_s8 as c;
    let shape = BatchMatmulShape {
        batch: c::BATCH,
        m: c::M,
        k: c::K,
        n: c::N,
    };
    let (rq, _) = requants(&c::MULTIPLIERS, &c::SHIFTS);
    let q = MatmulArgsS8 {
        lhs_offset: c::INPUT_OFFSET,
        rhs_offset: 0,
        output_offset: c::OUTPUT_OFFSET,
        requant: rq[0],
        act: act_s8(c::ACT_MIN, c::ACT_MAX),
    };
    let mut out = [0i8; c::EXPECTED_LEN];
    unwrap!(batch_matmul_s8(
        shape,
        &q,
        &c::INPUT,
        &c::WEIGHTS,
        RhsLayout::NK,
        &mut out
    ));
    exact(&out, &c::EXPECTED);
}

pub fn matmul_f32_case() {
    use v::matmul_f32 as c;
    let shape = BatchMatmulShape {
        batch: c::BATCH,
        m: c::M,
        k: c::K,
        n: c::N,
    };
    let mut out = [0f32; c::EXPECTED_LEN];
    unwrap!(batch_matmul_f32(
        shape,
        &c::INPUT,
        &c::WEIGHTS,
        RhsLayout::KN,
        &mut out
    ));
    close(&out, &c::EXPECTED, &c::MAGNITUDE);
}

pub fn conv2d_s8_case() {
    use v::conv2d_s8 as c;
    let rq;
    let q = quant_args!(c, rq);
    let mut out = [0i8; c::EXPECTED_LEN];
    unwrap!(conv2d_s8(
        &conv2d_shape!(c),
        &q,
        &c::INPUT,
        &c::WEIGHTS,
        bias(&c::BIAS),
        &mut out
    ));
    exact(&out, &c::EXPECTED);
}

pub fn conv2d_f32_case() {
    use v::conv2d_f32 as c;
    let mut out = [0f32; c::EXPECTED_LEN];
    let act = act_f32(c::ACT_MIN, c::ACT_MAX);
    unwrap!(conv2d_f32(
        &conv2d_shape!(c),
        &c::INPUT,
        &c::WEIGHTS,
        bias(&c::BIAS),
        act,
        &mut out
    ));
    close(&out, &c::EXPECTED, &c::MAGNITUDE);
}

pub fn conv1d_s8_case() {
    use v::conv1d_s8 as c;
    let rq;
    let q = quant_args!(c, rq);
    let shape = Conv1dShape {
        batch: c::BATCH,
        len: c::LEN,
        in_c: c::IN_C,
        out_c: c::OUT_C,
        kernel: c::KERNEL,
        stride: c::STRIDE,
        dilation: 1,
        padding: Padding::Valid,
    };
    let mut out = [0i8; c::EXPECTED_LEN];
    unwrap!(conv1d_s8(
        &shape,
        &q,
        &c::INPUT,
        &c::WEIGHTS,
        bias(&c::BIAS),
        &mut out
    ));
    exact(&out, &c::EXPECTED);
}

pub fn depthwise_s8_case() {
    use v::depthwise_s8 as c;
    let rq;
    let q = quant_args!(c, rq);
    let mut out = [0i8; c::EXPECTED_LEN];
    let shape = depthwise_shape!(c);
    unwrap!(depthwise_conv2d_s8(
        &shape,
        &q,
        &c::INPUT,
        &c::WEIGHTS,
        bias(&c::BIAS),
        &mut out
    ));
    exact(&out, &c::EXPECTED);
}

pub fn depthwise_f32_case() {
    use v::depthwise_f32 as c;
    let mut out = [0f32; c::EXPECTED_LEN];
    let act = act_f32(c::ACT_MIN, c::ACT_MAX);
    let shape = depthwise_shape!(c);
    unwrap!(depthwise_conv2d_f32(
        &shape,
        &c::INPUT,
        &c::WEIGHTS,
        bias(&c::BIAS),
        act,
        &mut out
    ));
    close(&out, &c::EXPECTED, &c::MAGNITUDE);
}
