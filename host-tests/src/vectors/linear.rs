//! Vectors for the linear kernels: dense, batched matmul, conv1d, conv2d, depthwise conv2d.

use super::{act_s8, emit_f32_case, emit_s8_case, requant_channels, F32Case, S8Case};
use crate::emit::Emitter;
use crate::reference::linear::{
    conv1d_taps, conv2d_taps, dense_taps, depthwise_taps, matmul_taps, Conv2dParams, Pad,
};
use crate::rng::SplitMix64;

fn conv_params(dims: [usize; 11], pad: Pad) -> Conv2dParams {
    let [batch, in_h, in_w, in_c, out_c, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w] =
        dims;
    Conv2dParams {
        batch,
        in_h,
        in_w,
        in_c,
        out_c,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
        pad,
    }
}

/// Writes the geometry; `fifth` names `p.out_c` (`OUT_C`, or `MULTIPLIER` for depthwise cases,
/// where the reference reads `out_c` as the channel multiplier).
fn emit_conv_dims(e: &mut Emitter, p: &Conv2dParams, fifth: &str) {
    for (name, v) in [
        ("BATCH", p.batch),
        ("IN_H", p.in_h),
        ("IN_W", p.in_w),
        ("IN_C", p.in_c),
        (fifth, p.out_c),
        ("KERNEL_H", p.kernel_h),
        ("KERNEL_W", p.kernel_w),
        ("STRIDE_H", p.stride_h),
        ("STRIDE_W", p.stride_w),
        ("DILATION_H", p.dilation_h),
        ("DILATION_W", p.dilation_w),
    ] {
        e.scalar(name, "usize", v);
    }
    e.scalar("SAME", "bool", p.pad == Pad::Same);
}

/// Appends the linear-kernel cases to `e`.
pub fn emit(e: &mut Emitter, rng: &mut SplitMix64) {
    // dense int8: odd sizes, batch 2, per-channel requantization, bias, offsets, clamp.
    let (batch, inf, outf) = (2, 37, 13);
    e.open(
        "dense_s8",
        "dense_s8, batch 2, 37 -> 13, per-channel, bias, clamp [-100, 120]",
    );
    e.scalar("BATCH", "usize", batch);
    e.scalar("IN_FEATURES", "usize", inf);
    e.scalar("OUT_FEATURES", "usize", outf);
    let requant = requant_channels(rng, outf);
    let case = S8Case::random(
        rng,
        batch * inf,
        outf * inf,
        outf,
        requant,
        act_s8(-100, 120),
    );
    emit_s8_case(e, &case, &dense_taps(batch, inf, outf));
    e.close();

    let (batch, inf, outf) = (3, 23, 7);
    e.open("dense_f32", "dense_f32, batch 3, 23 -> 7, bias, ReLU");
    e.scalar("BATCH", "usize", batch);
    e.scalar("IN_FEATURES", "usize", inf);
    e.scalar("OUT_FEATURES", "usize", outf);
    let case = F32Case::random(rng, batch * inf, outf * inf, outf, 0.0, f32::INFINITY);
    emit_f32_case(e, &case, &dense_taps(batch, inf, outf));
    e.close();

    // batched matmul, int8 with the right side transposed (Q·Kᵀ), f32 with [k, n].
    let (b, m, k, n) = (2, 3, 9, 5);
    e.open(
        "matmul_s8",
        "batch_matmul_s8, batch 2, 3x9 * (5x9)ᵀ, per-tensor",
    );
    for (name, v) in [("BATCH", b), ("M", m), ("K", k), ("N", n)] {
        e.scalar(name, "usize", v);
    }
    let requant = requant_channels(rng, 1);
    let case = S8Case::random(rng, b * m * k, b * n * k, 0, requant, act_s8(-128, 127));
    emit_s8_case(e, &case, &matmul_taps(b, m, k, n, true));
    e.close();

    let (b, m, k, n) = (2, 4, 6, 3);
    e.open("matmul_f32", "batch_matmul_f32, batch 2, 4x6 * 6x3");
    for (name, v) in [("BATCH", b), ("M", m), ("K", k), ("N", n)] {
        e.scalar(name, "usize", v);
    }
    let case = F32Case::random(
        rng,
        b * m * k,
        b * k * n,
        0,
        f32::NEG_INFINITY,
        f32::INFINITY,
    );
    emit_f32_case(e, &case, &matmul_taps(b, m, k, n, false));
    e.close();

    // conv2d int8: SAME, stride (2, 1), per-channel.
    let p = conv_params([1, 7, 6, 3, 4, 3, 3, 2, 1, 1, 1], Pad::Same);
    e.open(
        "conv2d_s8",
        "conv2d_s8, 1x7x6x3 -> 4, 3x3, stride (2,1), SAME, per-channel",
    );
    emit_conv_dims(e, &p, "OUT_C");
    let requant = requant_channels(rng, 4);
    let case = S8Case::random(rng, 7 * 6 * 3, 4 * 9 * 3, 4, requant, act_s8(-128, 127));
    emit_s8_case(e, &case, &conv2d_taps(&p));
    e.close();

    let p = conv_params([2, 5, 5, 2, 3, 3, 3, 1, 1, 2, 2], Pad::Same);
    e.open(
        "conv2d_f32",
        "conv2d_f32, 2x5x5x2 -> 3, 3x3, dilation 2, SAME",
    );
    emit_conv_dims(e, &p, "OUT_C");
    let case = F32Case::random(
        rng,
        2 * 5 * 5 * 2,
        3 * 9 * 2,
        3,
        f32::NEG_INFINITY,
        f32::INFINITY,
    );
    emit_f32_case(e, &case, &conv2d_taps(&p));
    e.close();

    // conv1d int8: VALID, stride 2.
    let (batch, len, in_c, out_c, kernel, stride) = (2, 11, 3, 4, 3, 2);
    e.open(
        "conv1d_s8",
        "conv1d_s8, 2x11x3 -> 4, kernel 3, stride 2, VALID",
    );
    for (name, v) in [
        ("BATCH", batch),
        ("LEN", len),
        ("IN_C", in_c),
        ("OUT_C", out_c),
        ("KERNEL", kernel),
        ("STRIDE", stride),
    ] {
        e.scalar(name, "usize", v);
    }
    let requant = requant_channels(rng, out_c);
    let case = S8Case::random(
        rng,
        batch * len * in_c,
        out_c * kernel * in_c,
        out_c,
        requant,
        act_s8(-128, 127),
    );
    emit_s8_case(
        e,
        &case,
        &conv1d_taps(batch, len, in_c, out_c, kernel, stride, 1, Pad::Valid),
    );
    e.close();

    // depthwise int8 and f32: multiplier 2, SAME.
    let p = conv_params([1, 6, 5, 3, 2, 3, 3, 1, 1, 1, 1], Pad::Same);
    e.open(
        "depthwise_s8",
        "depthwise_conv2d_s8, 1x6x5x3, multiplier 2, 3x3, SAME, per-channel",
    );
    emit_conv_dims(e, &p, "MULTIPLIER");
    let requant = requant_channels(rng, 6);
    let case = S8Case::random(rng, 6 * 5 * 3, 9 * 6, 6, requant, act_s8(-128, 127));
    emit_s8_case(e, &case, &depthwise_taps(&p));
    e.close();

    let p = conv_params([1, 5, 4, 2, 1, 3, 3, 2, 2, 1, 1], Pad::Valid);
    e.open(
        "depthwise_f32",
        "depthwise_conv2d_f32, 1x5x4x2, multiplier 1, 3x3, stride 2, VALID",
    );
    emit_conv_dims(e, &p, "MULTIPLIER");
    let case = F32Case::random(rng, 5 * 4 * 2, 9 * 2, 2, f32::NEG_INFINITY, f32::INFINITY);
    emit_f32_case(e, &case, &depthwise_taps(&p));
    e.close();
}
