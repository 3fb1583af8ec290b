//! The int8 dense driver: four output neurons at a time through the micro-kernel.

use super::requant::Output;
use super::{bias1, bias4, Block4, Dot};
use crate::error::{check_len, Buffer, ShapeError};
use crate::kernels::generic::dense::DenseShape;
use crate::kernels::QuantArgsS8;

/// int8 dense layer, bit-exact with
/// [`generic::dense_s8`](crate::kernels::generic::dense::dense_s8), whose contract (shapes, errors,
/// wrapping accumulation) it shares.
///
/// Rows of weights go four at a time through `D::dot4` (each input value loaded once for four
/// neurons), the last `out_features % 4` one at a time through `D::dot1`.
///
/// An input offset the micro-kernel does not accept (beyond ±32640 for `SMLAD`, far outside
/// TFLite's range) is split off: the micro-kernel runs with offset 0 and each neuron adds
/// `offset · Σ w`, since `Σ (x + offset) · w = Σ x · w + offset · Σ w` modulo 2^32. This keeps
/// the portable kernel out of the firmware (it costs 850 B of flash on the M4).
pub(crate) fn dense_s8<D: Dot>(
    shape: DenseShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    // The checks of `generic::dense_s8`, in its order.
    check_len(Buffer::Input, shape.input_len()?, input.len())?;
    check_len(Buffer::Weights, shape.weights_len()?, weights.len())?;
    if let Some(bias) = bias {
        check_len(Buffer::Bias, shape.out_features, bias.len())?;
    }
    q.check_requant(shape.out_features)?;
    check_len(Buffer::Output, shape.output_len()?, output.len())?;
    // `accepts` is `true` for every offset on cores without a limit, so `wide` is a constant 0
    // there and its branch in `row` is compiled out.
    let (off, wide) = if D::accepts(q.input_offset) {
        (q.input_offset, 0)
    } else {
        (0, q.input_offset)
    };

    let out = Output::new(q);
    let n_in = shape.in_features;
    // Not a zip: its constructor is not inlined and costs a call per layer.
    let mut ys = output.chunks_exact_mut(shape.out_features);
    for x in input.chunks_exact(n_in) {
        let Some(y) = ys.next() else {
            break;
        };
        row::<D>(x, weights, bias, &out, (off, wide), y);
    }
    Ok(())
}

/// One input row `x` through every neuron into `y`. `offsets` is the offset the micro-kernel
/// adds and the one added afterwards as `wide · Σ w` (see [`dense_s8`]).
#[inline(always)]
fn row<D: Dot>(
    x: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    out: &Output<'_>,
    offsets: (i32, i32),
    y: &mut [i8],
) {
    let (off, wide) = offsets;
    let n_in = x.len();
    let mut rows = weights;
    let mut o = 0;
    let mut blocks = y.chunks_exact_mut(4);
    for ys in &mut blocks {
        // Always a block: `weights` holds a row per output.
        let Some(b) = Block4::new(x, rows, n_in) else {
            return;
        };
        let mut acc = D::dot4(bias4(bias, o), b, off);
        // One compare per four neurons: the cheapest place for it (a second, offset-free copy of
        // this loop would double the assembly's flash).
        if wide != 0 {
            for (r, a) in acc.iter_mut().enumerate() {
                let w = rows.get(r * n_in..).unwrap_or(&[]);
                *a = a.wrapping_add(wide.wrapping_mul(weight_sum(w, n_in)));
            }
        }
        for (k, (y, a)) in ys.iter_mut().zip(acc).enumerate() {
            *y = out.apply(a, o + k);
        }
        rows = rows.get(n_in.saturating_mul(4)..).unwrap_or(&[]);
        o += 4;
    }
    for (w, y) in rows.chunks_exact(n_in).zip(blocks.into_remainder()) {
        let mut acc = D::dot1(bias1(bias, o), x, w, off);
        if wide != 0 {
            acc = acc.wrapping_add(wide.wrapping_mul(weight_sum(w, n_in)));
        }
        *y = out.apply(acc, o);
        o += 1;
    }
}

/// `Σ w[i]` over the first `n` weights of `w` (fewer if `w` is shorter), wrapping.
// Out of line: only offsets beyond the micro-kernel's range use it.
#[inline(never)]
fn weight_sum(w: &[i8], n: usize) -> i32 {
    w.iter()
        .take(n)
        .fold(0i32, |s, &v| s.wrapping_add(i32::from(v)))
}
