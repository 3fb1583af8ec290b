//! Folding an inference batch norm into the dense / conv / depthwise weights before it: the
//! folded layer (run by the f32 kernels) equals the layer followed by `BatchNorm::forward`, on
//! random shapes, within `1e-5 · max(max |reference|, 1)` per element.

mod common_c;

use common_c::uniform;
use tinytune::kernels::generic::conv::{conv2d_f32, Conv2dShape};
use tinytune::kernels::generic::dense::{dense_f32, DenseShape};
use tinytune::kernels::generic::depthwise::{depthwise_conv2d_f32, DepthwiseConv2dShape};
use tinytune::kernels::{ActivationF32, Padding};
use tinytune::layers::batch_norm::{BatchNorm, BatchNormConfig};
use tinytune::layers::fold::{fold_into_conv, fold_into_dense, fold_into_depthwise};
use tinytune::layers::Layer;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

/// Random batch-norm parameters and statistics (variances in `[0.2, 3)`, away from 0 so the
/// scales stay moderate): `(params, stats)`.
fn bn_buffers(r: &mut SplitMix64, channels: usize) -> (Vec<f32>, Vec<f32>) {
    let mut params = uniform(r, 2 * channels, -1.5, 1.5);
    params[channels..].copy_from_slice(&uniform(r, channels, -1.0, 1.0));
    let mut stats = uniform(r, 2 * channels, -1.0, 1.0);
    stats[channels..].copy_from_slice(&uniform(r, channels, 0.2, 3.0));
    (params, stats)
}

fn assert_folded(what: &str, folded: &[f32], reference: &[f32]) {
    assert_eq!(folded.len(), reference.len());
    let mag = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (&f, &r)) in folded.iter().zip(reference).enumerate() {
        assert!(
            (f - r).abs() <= 1e-5 * mag,
            "{what}[{i}]: folded {f} vs layer+bn {r} (magnitude {mag})"
        );
    }
}

/// Runs the batch norm (inference) over a layer output.
fn bn_after(bn: &BatchNorm, batch: usize, z: &[f32]) -> Vec<f32> {
    let mut y = vec![0.0f32; z.len()];
    bn.forward(batch, z, &mut y).unwrap();
    y
}

#[test]
fn dense_folded_equals_dense_then_bn() {
    let mut r = SplitMix64::new(31);
    for &(batch, inf, outf, with_bias) in &[
        (1, 1, 1, true),
        (3, 7, 5, true),
        (2, 16, 9, false),
        (4, 3, 12, true),
    ] {
        let shape = DenseShape {
            batch,
            in_features: inf,
            out_features: outf,
        };
        let x = uniform(&mut r, batch * inf, -1.0, 1.0);
        let w = uniform(&mut r, outf * inf, -0.5, 0.5);
        // A layer without bias is folded with a zero bias buffer.
        let b = if with_bias {
            uniform(&mut r, outf, -0.5, 0.5)
        } else {
            vec![0.0; outf]
        };
        let (params, stats) = bn_buffers(&mut r, outf);
        let bn = BatchNormConfig::new(1, outf)
            .init(&params[..], &stats[..])
            .unwrap();

        let mut z = vec![0.0f32; batch * outf];
        let bias = if with_bias { Some(&b[..]) } else { None };
        dense_f32(shape, &x, &w, bias, ActivationF32::NONE, &mut z).unwrap();
        let reference = bn_after(&bn, batch, &z);

        let (mut wf, mut bf) = (w.clone(), b.clone());
        fold_into_dense(&bn, &mut wf, &mut bf).unwrap();
        let mut y = vec![0.0f32; batch * outf];
        dense_f32(shape, &x, &wf, Some(&bf), ActivationF32::NONE, &mut y).unwrap();
        assert_folded("dense", &y, &reference);
        assert_ne!(wf, w, "folding changed the weights");
    }
}

#[test]
fn conv_folded_equals_conv_then_bn() {
    let mut r = SplitMix64::new(32);
    let cases = [
        (1, 5, 5, 2, 3, 3, 3, 1, Padding::Same),
        (2, 6, 4, 3, 4, 3, 2, 2, Padding::Valid),
        (1, 7, 7, 4, 6, 1, 1, 1, Padding::Valid),
        (3, 4, 5, 1, 2, 2, 3, 1, Padding::Same),
    ];
    for &(batch, in_h, in_w, in_c, out_c, kh, kw, stride, padding) in &cases {
        let shape = Conv2dShape {
            batch,
            in_h,
            in_w,
            in_c,
            out_c,
            kernel_h: kh,
            kernel_w: kw,
            stride_h: stride,
            stride_w: stride,
            dilation_h: 1,
            dilation_w: 1,
            padding,
        };
        let (oh, ow) = shape.output_hw().unwrap();
        let x = uniform(&mut r, shape.input_len().unwrap(), -1.0, 1.0);
        let w = uniform(&mut r, shape.weights_len().unwrap(), -0.5, 0.5);
        let b = uniform(&mut r, out_c, -0.5, 0.5);
        let (params, stats) = bn_buffers(&mut r, out_c);
        let bn = BatchNormConfig::new(oh * ow, out_c)
            .init(&params[..], &stats[..])
            .unwrap();

        let mut z = vec![0.0f32; shape.output_len().unwrap()];
        conv2d_f32(&shape, &x, &w, Some(&b), ActivationF32::NONE, &mut z).unwrap();
        let reference = bn_after(&bn, batch, &z);

        let (mut wf, mut bf) = (w.clone(), b.clone());
        fold_into_conv(&bn, &mut wf, &mut bf).unwrap();
        let mut y = vec![0.0f32; z.len()];
        conv2d_f32(&shape, &x, &wf, Some(&bf), ActivationF32::NONE, &mut y).unwrap();
        assert_folded("conv", &y, &reference);
    }
}

#[test]
fn depthwise_folded_equals_depthwise_then_bn() {
    let mut r = SplitMix64::new(33);
    let cases = [
        (1, 5, 5, 3, 1, 3, 3, 1, Padding::Same),
        (2, 6, 4, 2, 2, 3, 2, 2, Padding::Valid),
        (1, 4, 4, 5, 3, 2, 2, 1, Padding::Same),
    ];
    for &(batch, in_h, in_w, in_c, multiplier, kh, kw, stride, padding) in &cases {
        let shape = DepthwiseConv2dShape {
            batch,
            in_h,
            in_w,
            in_c,
            multiplier,
            kernel_h: kh,
            kernel_w: kw,
            stride_h: stride,
            stride_w: stride,
            dilation_h: 1,
            dilation_w: 1,
            padding,
        };
        let channels = shape.out_c().unwrap();
        let (oh, ow) = shape.output_hw().unwrap();
        let x = uniform(&mut r, shape.input_len().unwrap(), -1.0, 1.0);
        let w = uniform(&mut r, shape.weights_len().unwrap(), -0.5, 0.5);
        let b = uniform(&mut r, channels, -0.5, 0.5);
        let (params, stats) = bn_buffers(&mut r, channels);
        let bn = BatchNormConfig::new(oh * ow, channels)
            .init(&params[..], &stats[..])
            .unwrap();

        let mut z = vec![0.0f32; shape.output_len().unwrap()];
        depthwise_conv2d_f32(&shape, &x, &w, Some(&b), ActivationF32::NONE, &mut z).unwrap();
        let reference = bn_after(&bn, batch, &z);

        let (mut wf, mut bf) = (w.clone(), b.clone());
        fold_into_depthwise(&bn, &mut wf, &mut bf).unwrap();
        let mut y = vec![0.0f32; z.len()];
        depthwise_conv2d_f32(&shape, &x, &wf, Some(&bf), ActivationF32::NONE, &mut y).unwrap();
        assert_folded("depthwise", &y, &reference);
    }
}

#[test]
fn fold_length_errors_write_nothing() {
    let len = |buffer, expected, actual| {
        Err(Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        }))
    };
    let params = [2.0f32, 2.0, 2.0, 1.0, 1.0, 1.0];
    let stats = [0.5f32, 0.5, 0.5, 1.0, 1.0, 1.0];
    let bn = BatchNormConfig::new(1, 3)
        .init(&params[..], &stats[..])
        .unwrap();
    let mut w = [1.0f32; 7];
    let mut b = [1.0f32; 3];
    assert_eq!(
        fold_into_dense(&bn, &mut w, &mut b),
        len(Buffer::Weights, 6, 7)
    );
    assert_eq!(
        fold_into_conv(&bn, &mut w[..2], &mut b),
        len(Buffer::Weights, 3, 2)
    );
    assert_eq!(
        fold_into_depthwise(&bn, &mut w[..0], &mut b),
        len(Buffer::Weights, 3, 0)
    );
    assert_eq!(
        fold_into_dense(&bn, &mut w[..6], &mut b[..2]),
        len(Buffer::Bias, 3, 2)
    );
    assert_eq!(
        fold_into_depthwise(&bn, &mut w[..6], &mut b[..2]),
        len(Buffer::Bias, 3, 2)
    );
    assert_eq!((w, b), ([1.0; 7], [1.0; 3]));
}
