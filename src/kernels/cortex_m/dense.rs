//! The int8 dense driver: four output neurons at a time through the micro-kernel.

use super::requant::Output;
use super::{bias1, bias4, Block4, Dot};
use crate::error::{check_len, Buffer, ShapeError};
use crate::kernels::generic::dense::{self as generic, DenseShape};
use crate::kernels::QuantArgsS8;

/// int8 dense layer, bit-exact with [`generic::dense_s8`], whose contract (shapes, errors,
/// wrapping accumulation) it shares.
///
/// Rows of weights go four at a time through `D::dot4` (each input value loaded once for four
/// neurons), the last `out_features % 4` one at a time through `D::dot1`. An input offset the
/// micro-kernel does not accept goes to `generic`.
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
    if !D::accepts(q.input_offset) {
        return generic::dense_s8(shape, q, input, weights, bias, output);
    }

    let out = Output::new(q);
    let n_in = shape.in_features;
    // Not a zip: its constructor is not inlined and costs a call per layer.
    let mut ys = output.chunks_exact_mut(shape.out_features);
    for x in input.chunks_exact(n_in) {
        let Some(y) = ys.next() else {
            break;
        };
        row::<D>(x, weights, bias, &out, q.input_offset, y);
    }
    Ok(())
}

/// One input row `x` through every neuron into `y`.
#[inline(always)]
fn row<D: Dot>(
    x: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    out: &Output<'_>,
    off: i32,
    y: &mut [i8],
) {
    let n_in = x.len();
    let mut rows = weights;
    let mut o = 0;
    let mut blocks = y.chunks_exact_mut(4);
    for ys in &mut blocks {
        // Always a block: `weights` holds a row per output.
        let Some(b) = Block4::new(x, rows, n_in) else {
            return;
        };
        let acc = D::dot4(bias4(bias, o), b, off);
        for (k, (y, a)) in ys.iter_mut().zip(acc).enumerate() {
            *y = out.apply(a, o + k);
        }
        rows = rows.get(n_in.saturating_mul(4)..).unwrap_or(&[]);
        o += 4;
    }
    for (w, y) in rows.chunks_exact(n_in).zip(blocks.into_remainder()) {
        *y = out.apply(D::dot1(bias1(bias, o), x, w, off), o);
        o += 1;
    }
}
