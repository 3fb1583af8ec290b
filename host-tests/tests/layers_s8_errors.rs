//! Error paths of the int8 layers: `init` rejects wrong lengths, bad requantizer counts, zero
//! dimensions, bad geometry and invalid quantization with the documented error; `forward`
//! rejects a zero batch and wrong buffer lengths without writing. (Random configurations:
//! `layers_s8_fuzz.rs`.)

mod common_d;

use tinytune::kernels::generic::activation::LeakyReluParamsS8;
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::layers::s8::*;
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune::{Buffer, Error, QuantError, ShapeError};

const Q: QuantParams = QuantParams {
    scale: 0.05,
    zero_point: 2,
};
const R: Requantizer = Requantizer {
    multiplier: 1 << 30,
    shift: -3,
};

fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Error {
    Error::Shape(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

fn dense(n_in: usize, n_out: usize) -> DenseS8Config {
    DenseS8Config {
        in_features: n_in,
        out_features: n_out,
        input: Q,
        output: Q,
        act: ActivationS8::NONE,
    }
}

#[test]
fn dense_init_rejects_bad_lengths_requant_counts_dims_and_quantization() {
    let w = [1i8; 12];
    let b = [0i32; 3];
    let r = [R; 3];
    assert!(dense(4, 3).init(&w, Some(&b), &r).is_ok());
    assert!(dense(4, 3).init(&w, None, &r[..1]).is_ok());
    let err = |res: Result<DenseS8, Error>| res.err();
    assert_eq!(
        err(dense(4, 3).init(&w[..11], Some(&b), &r)),
        Some(len_err(Buffer::Weights, 12, 11))
    );
    assert_eq!(
        err(dense(4, 3).init(&w, Some(&b[..2]), &r)),
        Some(len_err(Buffer::Bias, 3, 2))
    );
    assert_eq!(
        err(dense(4, 3).init(&w, Some(&b), &r[..2])),
        Some(len_err(Buffer::Requant, 3, 2))
    );
    assert_eq!(
        err(dense(4, 3).init(&w, Some(&b), &[])),
        Some(len_err(Buffer::Requant, 3, 0))
    );
    assert_eq!(
        err(dense(4, 3).init(&w, Some(&b), &[R; 4])),
        Some(len_err(Buffer::Requant, 3, 4))
    );
    let dim = Some(Error::Shape(ShapeError::Dimension));
    assert_eq!(err(dense(0, 3).init(&[], Some(&b), &r)), dim);
    assert_eq!(err(dense(4, 0).init(&[], None, &r[..1])), dim);
    assert_eq!(err(dense(usize::MAX, 2).init(&w, None, &r[..1])), dim);
    let mut c = dense(4, 3);
    c.input.zero_point = 128;
    assert_eq!(
        err(c.init(&w, None, &r)),
        Some(Error::Quant(QuantError::InvalidZeroPoint))
    );
    let mut c = dense(4, 3);
    c.output.scale = f32::NAN;
    assert_eq!(
        err(c.init(&w, None, &r)),
        Some(Error::Quant(QuantError::InvalidScale))
    );
    let mut c = dense(4, 3);
    c.act = ActivationS8 { min: 5, max: 4 };
    assert_eq!(err(c.init(&w, None, &r)), Some(Error::Config));
}

#[test]
fn forward_rejects_zero_batch_and_wrong_lengths_writing_nothing() {
    let w = [1i8; 12];
    let r = [R];
    let layer = dense(4, 3).init(&w, None, &r).unwrap();
    let x = [3i8; 8];
    let mut y = [77i8; 6];
    assert_eq!(
        layer.forward(0, &[], &mut []),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(
        layer.forward(2, &x[..7], &mut y),
        Err(len_err(Buffer::Input, 8, 7))
    );
    assert_eq!(
        layer.forward(2, &x, &mut y[..5]),
        Err(len_err(Buffer::Output, 6, 5))
    );
    assert_eq!(
        layer.forward(usize::MAX, &x, &mut y),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert!(y.iter().all(|&v| v == 77));
    layer.forward(2, &x, &mut y).unwrap();
    assert!(y.iter().any(|&v| v != 77));

    // The same checks through the trait, on every kind of layer.
    let pool = Pool2dS8Config {
        in_h: 2,
        in_w: 2,
        channels: 2,
        window_h: 2,
        window_w: 2,
        stride_h: 1,
        stride_w: 1,
        padding: Padding::Valid,
        kind: PoolKindS8::Avg,
        act: ActivationS8::NONE,
    }
    .init()
    .unwrap();
    let act = ActivationS8Config {
        len: 3,
        kind: ActivationKindS8::Relu { quant: Q },
    }
    .init()
    .unwrap();
    let global = GlobalAvgPoolS8Config {
        spatial: 4,
        channels: 2,
        act: ActivationS8::NONE,
    }
    .init()
    .unwrap();
    let layers: [&dyn LayerS8; 4] = [&layer, &pool, &act, &global];
    for l in layers {
        let (n_in, n_out) = (l.input_len(), l.output_len());
        let x = vec![1i8; 2 * n_in];
        let mut y = vec![77i8; 2 * n_out];
        assert_eq!(
            l.forward(0, &x, &mut y),
            Err(Error::Shape(ShapeError::Dimension))
        );
        assert_eq!(
            l.forward(2, &x[1..], &mut y),
            Err(len_err(Buffer::Input, 2 * n_in, 2 * n_in - 1))
        );
        assert_eq!(
            l.forward(2, &x, &mut y[1..]),
            Err(len_err(Buffer::Output, 2 * n_out, 2 * n_out - 1))
        );
        assert!(y.iter().all(|&v| v == 77));
        assert_eq!(l.forward(2, &x, &mut y), Ok(()));
    }
}

fn conv2d(kernel: usize, in_c: usize, out_c: usize, padding: Padding) -> Conv2dS8Config {
    Conv2dS8Config {
        in_h: 3,
        in_w: 3,
        in_c,
        out_c,
        kernel_h: kernel,
        kernel_w: kernel,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding,
        input: Q,
        output: Q,
        act: ActivationS8::NONE,
    }
}

#[test]
fn conv_depthwise_and_pool_init_reject_bad_geometry() {
    let param = Some(Error::Shape(ShapeError::Parameter));
    let dim = Some(Error::Shape(ShapeError::Dimension));
    let w = [0i8; 64];
    let r = [R];
    let l = conv2d(2, 2, 2, Padding::Valid)
        .init(&w[..16], None, &r)
        .unwrap();
    assert_eq!((l.input_len(), l.output_len()), (18, 8));
    assert_eq!(
        conv2d(0, 2, 2, Padding::Same).init(&[], None, &r).err(),
        param
    );
    assert_eq!(
        conv2d(4, 2, 2, Padding::Valid).init(&w, None, &r).err(),
        param
    );
    assert_eq!(
        conv2d(2, 0, 2, Padding::Same).init(&[], None, &r).err(),
        dim
    );
    assert_eq!(
        conv2d(2, 2, 0, Padding::Same).init(&[], None, &r).err(),
        dim
    );
    assert_eq!(
        conv2d(2, 2, 2, Padding::Same)
            .init(&w[..16], None, &[R; 3])
            .err(),
        Some(len_err(Buffer::Requant, 2, 3))
    );
    let c1 = Conv1dS8Config {
        len: 5,
        in_c: 1,
        out_c: 2,
        kernel: 3,
        stride: 0,
        dilation: 1,
        padding: Padding::Same,
        input: Q,
        output: Q,
        act: ActivationS8::NONE,
    };
    assert_eq!(c1.init(&w[..6], None, &r).err(), param);
    assert_eq!(
        Conv1dS8Config { stride: 1, ..c1 }
            .init(&w[..5], None, &r)
            .err(),
        Some(len_err(Buffer::Weights, 6, 5))
    );
    let dw = DepthwiseConv2dS8Config {
        in_h: 3,
        in_w: 3,
        in_c: 2,
        multiplier: 0,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: Q,
        output: Q,
        act: ActivationS8::NONE,
    };
    assert_eq!(dw.init(&[], None, &r).err(), param);
    let dw = DepthwiseConv2dS8Config {
        multiplier: 2,
        ..dw
    };
    assert!(dw.init(&w[..16], Some(&[0; 4]), &[R; 4]).is_ok());
    assert_eq!(
        dw.init(&w[..16], Some(&[0; 2]), &r).err(),
        Some(len_err(Buffer::Bias, 4, 2))
    );

    let p1 = Pool1dS8Config {
        len: 4,
        channels: 1,
        window: 0,
        stride: 1,
        padding: Padding::Same,
        kind: PoolKindS8::Max,
        act: ActivationS8::NONE,
    };
    assert_eq!(p1.init().err(), param);
    assert_eq!(
        Pool1dS8Config {
            window: 2,
            channels: 0,
            ..p1
        }
        .init()
        .err(),
        dim
    );
    let bad_act = ActivationS8 { min: 1, max: 0 };
    assert_eq!(
        Pool1dS8Config {
            window: 2,
            act: bad_act,
            ..p1
        }
        .init()
        .err(),
        Some(Error::Config)
    );
    let huge = Pool1dS8Config {
        len: 1 << 24,
        window: 1 << 24,
        kind: PoolKindS8::Avg,
        ..p1
    };
    assert_eq!(
        huge.init().err(),
        param,
        "average over more values than the i32 sum can hold"
    );
    let g = GlobalAvgPoolS8Config {
        spatial: 0,
        channels: 1,
        act: ActivationS8::NONE,
    };
    assert_eq!(g.init().err(), dim);
}

#[test]
fn activation_init_rejects_zero_len_bad_softmax_depth_and_bad_quantization() {
    let dim = Some(Error::Shape(ShapeError::Dimension));
    let relu = ActivationKindS8::Relu { quant: Q };
    assert_eq!(ActivationS8Config { len: 0, kind: relu }.init().err(), dim);
    let params = SoftmaxParamsS8::new(0.1, 1.0).unwrap();
    let soft = |len, depth| {
        ActivationS8Config {
            len,
            kind: ActivationKindS8::Softmax { params, depth },
        }
        .init()
    };
    assert!(soft(6, 3).is_ok());
    assert_eq!(soft(6, 4).err(), dim);
    assert_eq!(soft(6, 0).err(), dim);
    let bad = QuantParams {
        scale: 0.0,
        zero_point: 0,
    };
    let bad_zp = QuantParams {
        scale: 1.0,
        zero_point: -129,
    };
    for kind in [
        ActivationKindS8::Relu { quant: bad_zp },
        ActivationKindS8::Relu6 { quant: bad },
        ActivationKindS8::Sigmoid { input: bad },
        ActivationKindS8::Tanh { input: bad_zp },
        ActivationKindS8::Gelu {
            input: Q,
            output: bad,
        },
    ] {
        assert!(
            matches!(
                ActivationS8Config { len: 4, kind }.init(),
                Err(Error::Quant(_))
            ),
            "{kind:?}"
        );
    }
    let leaky = LeakyReluParamsS8::new(0.1, 0, 0.2, 0.1, 0).unwrap();
    assert!(ActivationS8Config {
        len: 4,
        kind: ActivationKindS8::LeakyRelu(leaky)
    }
    .init()
    .is_ok());
}
