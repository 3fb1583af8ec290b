//! Dense (fully connected) layer kernels, TFLite `FullyConnected` layout.
//!
//! `output[b, o] = act(bias[o] + sum_i input[b, i] * weights[o, i])`. The weights are stored one
//! output neuron per row (`[out_features, in_features]`), so each output is a dot product of two
//! contiguous rows.

use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::{ActivationF32, QuantArgsS8};

// The f32 inner loop in assembly, where the FPU's registers are known to exist.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
mod arm_fpu;

/// The dimensions of a dense layer call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DenseShape {
    /// Number of input rows processed in one call.
    pub batch: usize,
    /// Length of one input row.
    pub in_features: usize,
    /// Length of one output row (number of neurons).
    pub out_features: usize,
}

impl DenseShape {
    /// Number of input elements, `batch * in_features`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the product overflows.
    pub fn input_len(&self) -> Result<usize, ShapeError> {
        self.check_dims()?;
        product(&[self.batch, self.in_features])
    }

    /// Number of weights, `out_features * in_features`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the product overflows.
    pub fn weights_len(&self) -> Result<usize, ShapeError> {
        self.check_dims()?;
        product(&[self.out_features, self.in_features])
    }

    /// Number of output elements, `batch * out_features`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the product overflows.
    pub fn output_len(&self) -> Result<usize, ShapeError> {
        self.check_dims()?;
        product(&[self.batch, self.out_features])
    }

    fn check_dims(&self) -> Result<(), ShapeError> {
        if self.batch == 0 || self.in_features == 0 || self.out_features == 0 {
            Err(ShapeError::Dimension)
        } else {
            Ok(())
        }
    }

    /// Checks every buffer length shared by the f32 and int8 kernels, in argument order.
    fn check_buffers(
        &self,
        input: usize,
        weights: usize,
        bias: Option<usize>,
        output: usize,
    ) -> Result<(), ShapeError> {
        check_len(Buffer::Input, self.input_len()?, input)?;
        check_len(Buffer::Weights, self.weights_len()?, weights)?;
        if let Some(bias) = bias {
            check_len(Buffer::Bias, self.out_features, bias)?;
        }
        check_len(Buffer::Output, self.output_len()?, output)
    }
}

/// f32 dense layer: `output[b, o] = act(bias[o] + sum_i input[b, i] * weights[o, i])`.
///
/// Each output is accumulated in f32 in increasing `i`, starting from the bias (or 0), with one
/// rounded multiplication and one rounded addition per term (never fused). Outputs are computed
/// four at a time, so that one input load serves four weight rows (on hard-float Arm with an
/// assembly inner loop of multi-register loads and non-fused `vmla.f32`). The blocking is over
/// outputs only: every output sees the same operations in the same order as in a plain loop, so
/// the result is bit-identical to it. Needs no scratch memory.
///
/// # Shapes
/// - `input`: `[batch, in_features]`
/// - `weights`: `[out_features, in_features]` (row-major, one row per output neuron, as TFLite)
/// - `bias`: `[out_features]`, or `None` for no bias
/// - `output`: `[batch, out_features]`
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Length`] naming the first buffer (input, weights, bias, output) whose length
/// differs from the shape. Nothing is written on error.
pub fn dense_f32(
    shape: DenseShape,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    act: ActivationF32,
    output: &mut [f32],
) -> Result<(), ShapeError> {
    shape.check_buffers(
        input.len(),
        weights.len(),
        bias.map(<[f32]>::len),
        output.len(),
    )?;
    let n_in = shape.in_features;
    let n_out = shape.out_features;
    for (in_row, out_row) in input.chunks_exact(n_in).zip(output.chunks_exact_mut(n_out)) {
        // Blocks of ROWS outputs, then the rows left over one at a time. `ROWS * n_in` only
        // saturates when fewer than ROWS rows exist, and then every row is left over.
        let mut w_blocks = weights.chunks_exact(ROWS.saturating_mul(n_in));
        let mut out_blocks = out_row.chunks_exact_mut(ROWS);
        let mut b_blocks = bias.map(|b| b.chunks_exact(ROWS));
        for (w_block, out) in (&mut w_blocks).zip(&mut out_blocks) {
            let start = match b_blocks.as_mut().and_then(Iterator::next) {
                Some(&[b0, b1, b2, b3]) => [b0, b1, b2, b3],
                _ => [0.0; ROWS],
            };
            let mut rows = w_block.chunks_exact(n_in);
            if let (Some(w0), Some(w1), Some(w2), Some(w3)) =
                (rows.next(), rows.next(), rows.next(), rows.next())
            {
                let [a0, a1, a2, a3] = dot_rows_f32(in_row, [w0, w1, w2, w3], start);
                if let [o0, o1, o2, o3] = out {
                    *o0 = act.clamp(a0);
                    *o1 = act.clamp(a1);
                    *o2 = act.clamp(a2);
                    *o3 = act.clamp(a3);
                }
            }
        }
        let b_tail = b_blocks.map(|b| b.remainder());
        let rows = w_blocks.remainder().chunks_exact(n_in);
        for (o, (w_row, out)) in rows.zip(out_blocks.into_remainder()).enumerate() {
            let start = b_tail.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
            *out = act.clamp(dot_f32(in_row, w_row, start));
        }
    }
    Ok(())
}

/// Number of outputs [`dot_rows_f32`] computes together.
pub(crate) const ROWS: usize = 4;

/// `start[r] + sum_i x[i] * w[r][i]` for four rows, each summed in f32 in increasing `i` with a
/// rounded product and a rounded sum per term, exactly as [`dot_f32`] computes each row alone.
/// Terms past the shortest of `x` and the rows are ignored.
///
/// On hard-float Arm (Cortex-M4F, M7, M33 with FPU) the bulk of the loop is an assembly block
/// (multi-register loads of four inputs and four weights per row, sixteen non-fused
/// `vmla.f32`); the terms it leaves (fewer than four) and every term on other targets go
/// through the portable loop, which also keeps one input load for four weights.
#[inline]
pub(crate) fn dot_rows_f32(x: &[f32], w: [&[f32]; ROWS], start: [f32; ROWS]) -> [f32; ROWS] {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    let (acc, done) = {
        let mut acc = start;
        let done = arm_fpu::dot_rows_prefix(x, w, &mut acc);
        (acc, done)
    };
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    let (acc, done) = (start, 0);
    let tail = |s| from(s, done);
    let [w0, w1, w2, w3] = w;
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    let terms = tail(x)
        .iter()
        .zip(tail(w0))
        .zip(tail(w1))
        .zip(tail(w2))
        .zip(tail(w3));
    for ((((&x, &p), &q), &r), &s) in terms {
        a0 += x * p;
        a1 += x * q;
        a2 += x * r;
        a3 += x * s;
    }
    [a0, a1, a2, a3]
}

/// `s[done..]`, or nothing if `s` is shorter.
#[inline(always)]
fn from(s: &[f32], done: usize) -> &[f32] {
    s.get(done..).unwrap_or(&[])
}

/// `start + sum_i x[i] * w[i]`, summed in f32 in increasing `i`.
#[inline]
pub(crate) fn dot_f32(x: &[f32], w: &[f32], start: f32) -> f32 {
    x.iter().zip(w).fold(start, |acc, (&x, &w)| acc + x * w)
}

/// int8 dense layer (TFLite `FullyConnected`, int8): with
/// `acc = bias[o] + sum_i (input[b, i] + input_offset) * weights[o, i]`,
/// `output[b, o] = clamp(requant[o].apply(acc) + output_offset)`.
///
/// Products are accumulated in `i32` with wrapping arithmetic: TFLite leaves an overflowing
/// accumulator undefined, here it wraps (modulo 2^32) so that no input can panic. With in-spec
/// values (`input_offset` in `-127..=128`, `|weights| <= 127`) each term is below 2^15, so no
/// overflow occurs for `in_features` below 2^16 and a bias far from the `i32` limits. Needs no
/// scratch memory.
///
/// # Shapes
/// - `input`: `[batch, in_features]`
/// - `weights`: `[out_features, in_features]` (symmetric, zero point 0)
/// - `bias`: `[out_features]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[out_features]` (per-channel)
/// - `output`: `[batch, out_features]`
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Length`] naming the first buffer (input, weights, bias, requantizers, output)
/// whose length differs from the shape. Nothing is written on error.
pub fn dense_s8(
    shape: DenseShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    // Requantizers are checked between bias and output, so the error order follows the order in
    // which the buffers are documented.
    check_len(Buffer::Input, shape.input_len()?, input.len())?;
    check_len(Buffer::Weights, shape.weights_len()?, weights.len())?;
    if let Some(bias) = bias {
        check_len(Buffer::Bias, shape.out_features, bias.len())?;
    }
    q.check_requant(shape.out_features)?;
    check_len(Buffer::Output, shape.output_len()?, output.len())?;

    let n_in = shape.in_features;
    let n_out = shape.out_features;
    for (in_row, out_row) in input.chunks_exact(n_in).zip(output.chunks_exact_mut(n_out)) {
        for (o, (w_row, out)) in weights
            .chunks_exact(n_in)
            .zip(out_row.iter_mut())
            .enumerate()
        {
            let mut acc = bias.map_or(0, |b| b[o]);
            for (&x, &w) in in_row.iter().zip(w_row) {
                let x = (x as i32).wrapping_add(q.input_offset);
                acc = acc.wrapping_add(x.wrapping_mul(w as i32));
            }
            *out = q.output(acc, o);
        }
    }
    Ok(())
}
