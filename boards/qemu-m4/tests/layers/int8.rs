//! int8 layers on target: built from the host's quantized weights and requantizers (activation
//! tables and parameters rebuilt on the device from the quantization), outputs bit-exact.

use crate::check::{exact, requants};
use defmt::unwrap;
use tinytune::kernels::generic::activation::LeakyReluParamsS8;
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::layers::s8::{
    ActivationKindS8, ActivationS8Config, Conv1dS8Config, Conv2dS8Config, DenseS8Config,
    DepthwiseConv2dS8Config, GlobalAvgPoolS8Config, LayerS8, Pool1dS8Config, Pool2dS8Config,
    PoolKindS8,
};
use tinytune::num::quant::QuantParams;
use tinytune_test_vectors as v;

/// Runs `layer` on a case's input and compares with the host's output, bit for bit.
fn check<L: LayerS8, const N: usize>(layer: &L, batch: usize, input: &[i8], want: &[i8; N]) {
    let mut out = [0i8; N];
    unwrap!(layer.forward(batch, input, &mut out));
    exact(&out, want);
}

/// A case module's `PREFIX_SCALE` and `PREFIX_ZP` as quantization parameters.
macro_rules! quant {
    ($c:ident, $scale:ident, $zp:ident) => {
        unwrap!(QuantParams::new($c::$scale, $c::$zp))
    };
}

pub fn dense() {
    use v::layer_dense_s8 as c;
    let rq = requants(&c::MULTIPLIERS, &c::SHIFTS);
    let config = DenseS8Config {
        in_features: c::IN_FEATURES,
        out_features: c::OUT_FEATURES,
        input: quant!(c, IN_SCALE, IN_ZP),
        output: quant!(c, OUT_SCALE, OUT_ZP),
        act: ActivationS8 {
            min: c::ACT_MIN,
            max: c::ACT_MAX,
        },
    };
    let layer = unwrap!(config.init(&c::WEIGHTS, Some(&c::BIAS), &rq));
    check(&layer, c::BATCH, &c::INPUT, &c::OUTPUT);
}

pub fn conv1d() {
    use v::layer_conv1d_s8 as c;
    let rq = requants(&c::MULTIPLIERS, &c::SHIFTS);
    let config = Conv1dS8Config {
        len: c::LEN,
        in_c: c::IN_C,
        out_c: c::OUT_C,
        kernel: c::KERNEL,
        stride: 1,
        dilation: c::DILATION,
        padding: Padding::Same,
        input: quant!(c, IN_SCALE, IN_ZP),
        output: quant!(c, OUT_SCALE, OUT_ZP),
        act: ActivationS8 {
            min: c::ACT_MIN,
            max: c::ACT_MAX,
        },
    };
    let layer = unwrap!(config.init(&c::WEIGHTS, Some(&c::BIAS), &rq));
    check(&layer, c::BATCH, &c::INPUT, &c::OUTPUT);
}

pub fn conv2d() {
    use v::layer_conv2d_s8 as c;
    let rq = requants(&c::MULTIPLIERS, &c::SHIFTS);
    let config = Conv2dS8Config {
        in_h: c::IN_H,
        in_w: c::IN_W,
        in_c: c::IN_C,
        out_c: c::OUT_C,
        kernel_h: c::KERNEL,
        kernel_w: c::KERNEL,
        stride_h: c::STRIDE,
        stride_w: c::STRIDE,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: quant!(c, IN_SCALE, IN_ZP),
        output: quant!(c, OUT_SCALE, OUT_ZP),
        act: ActivationS8 {
            min: c::ACT_MIN,
            max: c::ACT_MAX,
        },
    };
    let layer = unwrap!(config.init(&c::WEIGHTS, Some(&c::BIAS), &rq));
    check(&layer, c::BATCH, &c::INPUT, &c::OUTPUT);
}

pub fn depthwise_conv2d() {
    use v::layer_depthwise_conv2d_s8 as c;
    let rq = requants(&c::MULTIPLIERS, &c::SHIFTS);
    let config = DepthwiseConv2dS8Config {
        in_h: c::IN_H,
        in_w: c::IN_W,
        in_c: c::IN_C,
        multiplier: c::MULTIPLIER,
        kernel_h: c::KERNEL,
        kernel_w: c::KERNEL,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: quant!(c, IN_SCALE, IN_ZP),
        output: quant!(c, OUT_SCALE, OUT_ZP),
        act: ActivationS8 {
            min: c::ACT_MIN,
            max: c::ACT_MAX,
        },
    };
    let layer = unwrap!(config.init(&c::WEIGHTS, Some(&c::BIAS), &rq));
    check(&layer, c::BATCH, &c::INPUT, &c::OUTPUT);
}

/// The pool2d layer of the int8 pooling cases (both modules share the geometry).
macro_rules! pool2d_case {
    ($c:ident, $kind:expr) => {{
        use v::$c as c;
        let config = Pool2dS8Config {
            in_h: c::IN_H,
            in_w: c::IN_W,
            channels: c::CHANNELS,
            window_h: c::WINDOW_H,
            window_w: c::WINDOW_W,
            stride_h: c::STRIDE,
            stride_w: c::STRIDE,
            padding: Padding::Same,
            kind: $kind,
            act: ActivationS8 {
                min: c::ACT_MIN,
                max: c::ACT_MAX,
            },
        };
        check(&unwrap!(config.init()), c::BATCH, &c::INPUT, &c::OUTPUT);
    }};
}

/// The pool1d layer of the int8 pooling cases (both modules share the geometry).
macro_rules! pool1d_case {
    ($c:ident, $kind:expr) => {{
        use v::$c as c;
        let config = Pool1dS8Config {
            len: c::LEN,
            channels: c::CHANNELS,
            window: c::WINDOW,
            stride: c::STRIDE,
            padding: Padding::Same,
            kind: $kind,
            act: ActivationS8 {
                min: c::ACT_MIN,
                max: c::ACT_MAX,
            },
        };
        check(&unwrap!(config.init()), c::BATCH, &c::INPUT, &c::OUTPUT);
    }};
}

pub fn pool2d_max() {
    pool2d_case!(layer_pool2d_max_s8, PoolKindS8::Max);
}

pub fn pool2d_avg() {
    pool2d_case!(layer_pool2d_avg_s8, PoolKindS8::Avg);
}

pub fn pool1d_max() {
    pool1d_case!(layer_pool1d_max_s8, PoolKindS8::Max);
}

pub fn pool1d_avg() {
    pool1d_case!(layer_pool1d_avg_s8, PoolKindS8::Avg);
}

pub fn global_avg_pool() {
    use v::layer_global_avg_pool_s8 as c;
    let config = GlobalAvgPoolS8Config {
        spatial: c::SPATIAL,
        channels: c::CHANNELS,
        act: ActivationS8 {
            min: c::ACT_MIN,
            max: c::ACT_MAX,
        },
    };
    check(&unwrap!(config.init()), c::BATCH, &c::INPUT, &c::OUTPUT);
}

/// Builds the activation kind `$kind` (an expression over the case's `input` and `output`
/// quantization) as the device would from the case's scalars, and checks the layer.
macro_rules! activation_case {
    ($c:ident, |$input:ident, $output:ident| $kind:expr) => {{
        use v::$c as c;
        let $input = quant!(c, IN_SCALE, IN_ZP);
        let $output = quant!(c, OUT_SCALE, OUT_ZP);
        let config = ActivationS8Config {
            len: c::LEN,
            kind: $kind,
        };
        check(&unwrap!(config.init()), c::BATCH, &c::INPUT, &c::OUTPUT);
    }};
}

pub fn relu() {
    activation_case!(layer_activation_relu_s8, |input, _output| {
        ActivationKindS8::Relu { quant: input }
    });
}

pub fn relu6() {
    activation_case!(layer_activation_relu6_s8, |input, _output| {
        ActivationKindS8::Relu6 { quant: input }
    });
}

pub fn leaky_relu() {
    activation_case!(layer_activation_leaky_relu_s8, |input, output| {
        ActivationKindS8::LeakyRelu(unwrap!(LeakyReluParamsS8::new(
            input.scale,
            input.zero_point,
            v::layer_activation_leaky_relu_s8::ALPHA,
            output.scale,
            output.zero_point,
        )))
    });
}

pub fn sigmoid() {
    activation_case!(layer_activation_sigmoid_s8, |input, _output| {
        ActivationKindS8::Sigmoid { input }
    });
}

pub fn tanh() {
    activation_case!(layer_activation_tanh_s8, |input, _output| {
        ActivationKindS8::Tanh { input }
    });
}

pub fn gelu() {
    activation_case!(layer_activation_gelu_s8, |input, output| {
        ActivationKindS8::Gelu { input, output }
    });
}

pub fn softmax() {
    use v::layer_activation_softmax_s8 as s;
    activation_case!(layer_activation_softmax_s8, |input, _output| {
        ActivationKindS8::Softmax {
            params: unwrap!(SoftmaxParamsS8::new(input.scale, s::BETA)),
            depth: s::DEPTH,
        }
    });
}
