//! References for the pooling kernels.
//!
//! Written position by position in signed coordinates: every window tap is visited and the ones
//! that fall outside the input (padding) are skipped, so the padding rule is stated directly
//! rather than by clipping ranges as the kernels do.

/// Output length and leading padding of one axis, as TensorFlow defines them:
/// `Valid`: `out = floor((len - window) / stride) + 1` (None if the window does not fit);
/// `Same`: `out = ceil(len / stride)`, total padding `max(0, (out-1) stride + window - len)`,
/// the smaller half before.
pub fn axis(len: usize, window: usize, stride: usize, same: bool) -> Option<(usize, usize)> {
    if len == 0 || window == 0 || stride == 0 {
        return None;
    }
    if same {
        let out = len.div_ceil(stride);
        let total = ((out - 1) * stride + window).saturating_sub(len);
        Some((out, total / 2))
    } else if window > len {
        None
    } else {
        Some(((len - window) / stride + 1, 0))
    }
}

/// A 2-D pooling problem: NHWC sizes, window, strides, padding.
#[derive(Clone, Copy, Debug)]
pub struct Pool2d {
    /// Batch.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels.
    pub channels: usize,
    /// Window height.
    pub window_h: usize,
    /// Window width.
    pub window_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// `Same` padding (else `Valid`).
    pub same: bool,
}

impl Pool2d {
    /// `(out_h, out_w)`, or None for an invalid geometry.
    pub fn output_hw(&self) -> Option<(usize, usize)> {
        let (h, _) = axis(self.in_h, self.window_h, self.stride_h, self.same)?;
        let (w, _) = axis(self.in_w, self.window_w, self.stride_w, self.same)?;
        Some((h, w))
    }

    /// The values of each window in output order (`[b, oy, ox, c]`), padding left out.
    pub fn windows<T: Copy>(&self, input: &[T]) -> Vec<Vec<T>> {
        let (oh, pt) = axis(self.in_h, self.window_h, self.stride_h, self.same).unwrap();
        let (ow, pl) = axis(self.in_w, self.window_w, self.stride_w, self.same).unwrap();
        assert_eq!(
            input.len(),
            self.batch * self.in_h * self.in_w * self.channels
        );
        let mut out = Vec::new();
        for b in 0..self.batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..self.channels {
                        let mut values = Vec::new();
                        for ky in 0..self.window_h {
                            for kx in 0..self.window_w {
                                let y = (oy * self.stride_h + ky) as i64 - pt as i64;
                                let x = (ox * self.stride_w + kx) as i64 - pl as i64;
                                if y < 0 || x < 0 || y >= self.in_h as i64 || x >= self.in_w as i64
                                {
                                    continue;
                                }
                                let (y, x) = (y as usize, x as usize);
                                values.push(
                                    input
                                        [((b * self.in_h + y) * self.in_w + x) * self.channels + c],
                                );
                            }
                        }
                        out.push(values);
                    }
                }
            }
        }
        out
    }
}

/// Max pooling in f64 (the maximum of f32 values is exact; NaN if a window holds one).
pub fn max_pool2d_f64(p: &Pool2d, input: &[f32], min: f32, max: f32) -> Vec<f64> {
    p.windows(input)
        .into_iter()
        .map(|w| {
            let m = if w.iter().any(|v| v.is_nan()) {
                f64::NAN
            } else {
                w.iter()
                    .map(|&v| v as f64)
                    .fold(f64::NEG_INFINITY, f64::max)
            };
            clamp_f64(m, min, max)
        })
        .collect()
}

/// Average pooling in f64 over the unpadded taps.
pub fn avg_pool2d_f64(p: &Pool2d, input: &[f32], min: f32, max: f32) -> Vec<f64> {
    p.windows(input)
        .into_iter()
        .map(|w| {
            let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
            clamp_f64(mean, min, max)
        })
        .collect()
}

/// int8 max pooling, clamped.
pub fn max_pool2d_i8(p: &Pool2d, input: &[i8], min: i8, max: i8) -> Vec<i8> {
    p.windows(input)
        .into_iter()
        .map(|w| (*w.iter().max().unwrap()).max(min).min(max))
        .collect()
}

/// `num / den` rounded to nearest, ties away from zero (`den > 0`).
pub fn div_round_half_away(num: i64, den: i64) -> i64 {
    let mag = (num.abs() * 2 + den) / (2 * den);
    if num < 0 {
        -mag
    } else {
        mag
    }
}

/// int8 average pooling: exact mean of the unpadded taps rounded half away from zero, clamped.
pub fn avg_pool2d_i8(p: &Pool2d, input: &[i8], min: i8, max: i8) -> Vec<i8> {
    p.windows(input)
        .into_iter()
        .map(|w| {
            let sum: i64 = w.iter().map(|&v| v as i64).sum();
            let q = div_round_half_away(sum, w.len() as i64);
            q.max(min as i64).min(max as i64) as i8
        })
        .collect()
}

/// Global average pooling in f64: `[batch, spatial, channels] -> [batch, channels]`.
pub fn global_avg_f64(batch: usize, spatial: usize, channels: usize, input: &[f32]) -> Vec<f64> {
    let mut out = vec![0.0; batch * channels];
    for b in 0..batch {
        for c in 0..channels {
            let sum: f64 = (0..spatial)
                .map(|s| input[(b * spatial + s) * channels + c] as f64)
                .sum();
            out[b * channels + c] = sum / spatial as f64;
        }
    }
    out
}

/// int8 global average pooling, rounded half away from zero, clamped.
pub fn global_avg_i8(
    batch: usize,
    spatial: usize,
    channels: usize,
    input: &[i8],
    min: i8,
    max: i8,
) -> Vec<i8> {
    let mut out = vec![0i8; batch * channels];
    for b in 0..batch {
        for c in 0..channels {
            let sum: i64 = (0..spatial)
                .map(|s| input[(b * spatial + s) * channels + c] as i64)
                .sum();
            let q = div_round_half_away(sum, spatial as i64);
            out[b * channels + c] = q.max(min as i64).min(max as i64) as i8;
        }
    }
    out
}

/// Clamp that keeps NaN.
fn clamp_f64(x: f64, min: f32, max: f32) -> f64 {
    if x < min as f64 {
        min as f64
    } else if x > max as f64 {
        max as f64
    } else {
        x
    }
}
