//! References for the linear kernels: dense, batched matmul, conv1d, conv2d and depthwise conv2d.
//!
//! Each operation is described once, as a list of *taps*: for every output element, its output
//! channel and the `(input element, weight element)` pairs whose products it sums. A tap whose
//! input falls into the padding has no input element (`None`): its value is the padding value,
//! 0 in f32 and the input zero point in int8. The taps are then evaluated in `f64` (for the f32
//! kernels) or exactly in `i64` (for the int8 kernels), and int8 accumulators are requantized by
//! [`multiply_by_quantized_multiplier`], an exact `i128` transcription of TFLite's
//! `MultiplyByQuantizedMultiplier`.
//!
//! Geometry follows TensorFlow's definition, computed here with signed arithmetic straight from
//! the formulas: `VALID` gives `out = ceil((in - eff + 1) / stride)`, `SAME` gives
//! `out = ceil(in / stride)` with total padding `max(0, (out - 1) * stride + eff - in)`, of which
//! the smaller half goes before; `eff = (kernel - 1) * dilation + 1`.

/// One output element: its output channel (for bias and per-channel requantization) and the
/// `(input index, weight index)` pairs it sums, with `None` for a padded input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tap {
    /// Output channel.
    pub channel: usize,
    /// The product terms.
    pub pairs: Vec<(Option<usize>, usize)>,
}

/// Padding as TensorFlow defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pad {
    /// Only windows entirely inside the input.
    Valid,
    /// `out = ceil(in / stride)`, padding split with the smaller half before.
    Same,
}

/// Output length and padding before along one axis, or `None` when the output would be empty.
pub fn axis(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad: Pad,
) -> Option<(usize, usize)> {
    let (input, kernel, stride, dilation) =
        (input as i64, kernel as i64, stride as i64, dilation as i64);
    let eff = (kernel - 1) * dilation + 1;
    let (out, before) = match pad {
        Pad::Valid => {
            let span = input - eff + 1;
            if span <= 0 {
                return None;
            }
            ((span + stride - 1) / stride, 0)
        }
        Pad::Same => {
            let out = (input + stride - 1) / stride;
            let total = ((out - 1) * stride + eff - input).max(0);
            (out, total / 2)
        }
    };
    Some((out as usize, before as usize))
}

/// Dense layer taps: `out[b, o] = sum_i in[b, i] * w[o, i]`, weights `[out, in]`.
pub fn dense_taps(batch: usize, in_features: usize, out_features: usize) -> Vec<Tap> {
    let mut taps = Vec::new();
    for b in 0..batch {
        for o in 0..out_features {
            let pairs = (0..in_features)
                .map(|i| (Some(b * in_features + i), o * in_features + i))
                .collect();
            taps.push(Tap { channel: o, pairs });
        }
    }
    taps
}

/// Batched matmul taps: `out[b, i, j] = sum_kk lhs[b, i, kk] * rhs[b, kk, j]`, the weight index
/// being the right side's index, stored `[batch, k, n]` or (`rhs_transposed`) `[batch, n, k]`.
/// The channel is always 0 (per-tensor).
pub fn matmul_taps(batch: usize, m: usize, k: usize, n: usize, rhs_transposed: bool) -> Vec<Tap> {
    let mut taps = Vec::new();
    for b in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let pairs = (0..k)
                    .map(|kk| {
                        let r = if rhs_transposed {
                            (b * n + j) * k + kk
                        } else {
                            (b * k + kk) * n + j
                        };
                        (Some((b * m + i) * k + kk), r)
                    })
                    .collect();
                taps.push(Tap { channel: 0, pairs });
            }
        }
    }
    taps
}

/// Geometry of a 2-D convolution, plain numbers.
#[derive(Clone, Copy, Debug)]
pub struct Conv2dParams {
    /// Images.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output channels (for depthwise: the channel multiplier).
    pub out_c: usize,
    /// Filter height.
    pub kernel_h: usize,
    /// Filter width.
    pub kernel_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation.
    pub dilation_h: usize,
    /// Horizontal dilation.
    pub dilation_w: usize,
    /// Padding.
    pub pad: Pad,
}

impl Conv2dParams {
    /// `(out_h, pad_top, out_w, pad_left)`, or `None` for an empty output.
    pub fn geometry(&self) -> Option<(usize, usize, usize, usize)> {
        let (oh, pt) = axis(
            self.in_h,
            self.kernel_h,
            self.stride_h,
            self.dilation_h,
            self.pad,
        )?;
        let (ow, pl) = axis(
            self.in_w,
            self.kernel_w,
            self.stride_w,
            self.dilation_w,
            self.pad,
        )?;
        Some((oh, pt, ow, pl))
    }

    /// The input index of `(b, oy + ky, ox + kx, ic)` after padding, or `None` in the padding.
    fn input_at(
        &self,
        b: usize,
        oy: usize,
        ky: usize,
        ox: usize,
        kx: usize,
        ic: usize,
    ) -> Option<usize> {
        let (_, pt, _, pl) = self.geometry()?;
        let iy = (oy * self.stride_h + ky * self.dilation_h) as i64 - pt as i64;
        let ix = (ox * self.stride_w + kx * self.dilation_w) as i64 - pl as i64;
        if iy < 0 || ix < 0 || iy >= self.in_h as i64 || ix >= self.in_w as i64 {
            return None;
        }
        Some(((b * self.in_h + iy as usize) * self.in_w + ix as usize) * self.in_c + ic)
    }
}

/// 2-D convolution taps: NHWC input, OHWI weights `[out_c, kh, kw, in_c]`, NHWC output.
/// Empty when the output would be empty.
pub fn conv2d_taps(p: &Conv2dParams) -> Vec<Tap> {
    let Some((oh, _, ow, _)) = p.geometry() else {
        return Vec::new();
    };
    let mut taps = Vec::new();
    for b in 0..p.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for oc in 0..p.out_c {
                    let mut pairs = Vec::new();
                    for ky in 0..p.kernel_h {
                        for kx in 0..p.kernel_w {
                            for ic in 0..p.in_c {
                                let w = ((oc * p.kernel_h + ky) * p.kernel_w + kx) * p.in_c + ic;
                                pairs.push((p.input_at(b, oy, ky, ox, kx, ic), w));
                            }
                        }
                    }
                    taps.push(Tap { channel: oc, pairs });
                }
            }
        }
    }
    taps
}

/// 1-D convolution taps, written directly in one dimension: input `[batch, len, in_c]`, weights
/// `[out_c, kernel, in_c]`, output `[batch, out_len, out_c]`.
#[allow(clippy::too_many_arguments)]
pub fn conv1d_taps(
    batch: usize,
    len: usize,
    in_c: usize,
    out_c: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad: Pad,
) -> Vec<Tap> {
    let Some((out_len, before)) = axis(len, kernel, stride, dilation, pad) else {
        return Vec::new();
    };
    let mut taps = Vec::new();
    for b in 0..batch {
        for t in 0..out_len {
            for oc in 0..out_c {
                let mut pairs = Vec::new();
                for k in 0..kernel {
                    let pos = (t * stride + k * dilation) as i64 - before as i64;
                    for ic in 0..in_c {
                        let input = (pos >= 0 && pos < len as i64)
                            .then(|| (b * len + pos as usize) * in_c + ic);
                        pairs.push((input, (oc * kernel + k) * in_c + ic));
                    }
                }
                taps.push(Tap { channel: oc, pairs });
            }
        }
    }
    taps
}

/// Depthwise 2-D convolution taps: `p.out_c` is the channel multiplier; weights
/// `[kh, kw, in_c * multiplier]`; output channel `ic * multiplier + m` reads input channel `ic`.
pub fn depthwise_taps(p: &Conv2dParams) -> Vec<Tap> {
    let Some((oh, _, ow, _)) = p.geometry() else {
        return Vec::new();
    };
    let mult = p.out_c;
    let channels = p.in_c * mult;
    let mut taps = Vec::new();
    for b in 0..p.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for ic in 0..p.in_c {
                    for m in 0..mult {
                        let oc = ic * mult + m;
                        let mut pairs = Vec::new();
                        for ky in 0..p.kernel_h {
                            for kx in 0..p.kernel_w {
                                let w = (ky * p.kernel_w + kx) * channels + oc;
                                pairs.push((p.input_at(b, oy, ky, ox, kx, ic), w));
                            }
                        }
                        taps.push(Tap { channel: oc, pairs });
                    }
                }
            }
        }
    }
    taps
}

/// An f64 reference output: the value, and the sum of the magnitudes of its terms
/// (`|bias| + sum |x * w|`), the scale of the rounding error an f32 evaluation can make.
#[derive(Clone, Copy, Debug)]
pub struct F64Out {
    /// `clamp(bias + sum x * w, min, max)` in f64.
    pub value: f64,
    /// `|bias| + sum |x * w|`.
    pub magnitude: f64,
}

/// Evaluates taps in f64: `clamp(bias[channel] + sum x * w, min, max)`, padded inputs being 0.
pub fn eval_f64(
    taps: &[Tap],
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    min: f32,
    max: f32,
) -> Vec<F64Out> {
    taps.iter()
        .map(|tap| {
            let b = bias.map_or(0.0, |b| b[tap.channel] as f64);
            let (mut value, mut magnitude) = (b, b.abs());
            for &(i, w) in &tap.pairs {
                let x = i.map_or(0.0, |i| input[i] as f64);
                let t = x * weights[w] as f64;
                value += t;
                magnitude += t.abs();
            }
            F64Out {
                value: value.max(min as f64).min(max as f64),
                magnitude,
            }
        })
        .collect()
}

/// The f32 tolerance used by the linear kernels' tests: `|got - ref| <= 1e-5 * (1 + magnitude)`.
///
/// An f32 sum of `n` products is within `(n + 1) * 2^-24 * magnitude` of the exact value, which
/// is below `1e-5 * magnitude` for the sizes the tests use (`n <= 150`).
pub fn within_tolerance(got: f32, want: &F64Out) -> bool {
    (got as f64 - want.value).abs() <= 1e-5 * (1.0 + want.magnitude)
}

/// Evaluates taps exactly in i64: `bias[channel] + sum (x + input_offset) * (w + weight_offset)`,
/// a padded input being the zero point (`-input_offset`), so its term is 0.
pub fn eval_i64(
    taps: &[Tap],
    input: &[i8],
    input_offset: i64,
    weights: &[i8],
    weight_offset: i64,
    bias: Option<&[i32]>,
) -> Vec<i64> {
    taps.iter()
        .map(|tap| {
            let mut acc = bias.map_or(0, |b| b[tap.channel] as i64);
            for &(i, w) in &tap.pairs {
                let x = i.map_or(-input_offset, |i| input[i] as i64);
                acc += (x + input_offset) * (weights[w] as i64 + weight_offset);
            }
            acc
        })
        .collect()
}

/// TFLite's double-rounding `MultiplyByQuantizedMultiplier`, from the exact `i128` reference of
/// `reference::num` (shared by every int8 reference).
pub use super::num::multiply_by_quantized_multiplier;

/// The int8 output of an accumulator: wrapped to i32 (the kernels' documented overflow
/// behaviour; in-spec data never wraps), requantized with the `(multiplier, shift)` of `channel`
/// (`requant` of length 1 = per-tensor), plus `output_offset`, clamped to `[min, max]`.
pub fn output_s8(
    acc: i64,
    channel: usize,
    requant: &[(i32, i32)],
    output_offset: i32,
    min: i8,
    max: i8,
) -> i8 {
    let (multiplier, shift) = if requant.len() == 1 {
        requant[0]
    } else {
        requant[channel]
    };
    let scaled = multiply_by_quantized_multiplier(acc as i32, multiplier, shift) as i64
        + output_offset as i64;
    scaled.clamp(min as i64, max as i64) as i8
}

/// Evaluates int8 taps and produces the outputs: [`eval_i64`] then [`output_s8`] per element.
#[allow(clippy::too_many_arguments)]
pub fn eval_s8(
    taps: &[Tap],
    input: &[i8],
    input_offset: i32,
    weights: &[i8],
    weight_offset: i32,
    bias: Option<&[i32]>,
    requant: &[(i32, i32)],
    output_offset: i32,
    min: i8,
    max: i8,
) -> Vec<i8> {
    let accs = eval_i64(
        taps,
        input,
        input_offset as i64,
        weights,
        weight_offset as i64,
        bias,
    );
    taps.iter()
        .zip(accs)
        .map(|(tap, acc)| output_s8(acc, tap.channel, requant, output_offset, min, max))
        .collect()
}
