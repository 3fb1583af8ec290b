//! Gradients of the f32 activation functions
//! ([`activation`](crate::kernels::generic::activation)) and of
//! [`softmax_f32`](crate::kernels::generic::softmax::softmax_f32).
//!
//! Each function takes whichever of the forward's input `x` or output `y` gives the derivative
//! most cheaply (and most accurately): the piecewise-linear functions and GELU read `x`, sigmoid,
//! tanh and softmax read `y`. It overwrites `grad_input` with `grad_output ⊙ f'`. A NaN in `x`,
//! `y` or `grad_output` gives a NaN gradient at that element (for softmax: in its whole row).

use crate::error::{check_len, Buffer, ShapeError};
use crate::num::math;

/// Checks that `grad_output` and `grad_input` have the length of the forward tensor.
fn check_elementwise(len: usize, grad_output: usize, grad_input: usize) -> Result<(), ShapeError> {
    check_len(Buffer::GradOutput, len, grad_output)?;
    check_len(Buffer::GradInput, len, grad_input)
}

/// `grad_input[i] = grad_output[i] * derivative(t[i])` after the length checks.
fn map_backward(
    t: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
    derivative: impl Fn(f32) -> f32,
) -> Result<(), ShapeError> {
    check_elementwise(t.len(), grad_output.len(), grad_input.len())?;
    for ((d, &g), &t) in grad_input.iter_mut().zip(grad_output).zip(t) {
        *d = g * derivative(t);
    }
    Ok(())
}

/// Gradient of ReLU: `grad_output` where `x > 0`, `0` where `x <= 0` (the derivative at the kink
/// is taken as 0).
///
/// # Shapes
/// `input` (the forward's input), `grad_output` and `grad_input`: the same number of elements.
///
/// # Errors
/// [`ShapeError::Length`] (`GradOutput` or `GradInput`) if a length differs from `input.len()`;
/// nothing is written.
pub fn relu_backward_f32(
    input: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    map_backward(input, grad_output, grad_input, |x| {
        if x.is_nan() {
            f32::NAN
        } else if x > 0.0 {
            1.0
        } else {
            0.0
        }
    })
}

/// Gradient of ReLU6: `grad_output` where `0 < x < 6`, `0` elsewhere (the derivative at both
/// kinks is taken as 0).
///
/// # Shapes
/// `input` (the forward's input), `grad_output` and `grad_input`: the same number of elements.
///
/// # Errors
/// [`ShapeError::Length`] (`GradOutput` or `GradInput`) if a length differs from `input.len()`;
/// nothing is written.
pub fn relu6_backward_f32(
    input: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    map_backward(input, grad_output, grad_input, |x| {
        if x.is_nan() {
            f32::NAN
        } else if x > 0.0 && x < 6.0 {
            1.0
        } else {
            0.0
        }
    })
}

/// Gradient of leaky ReLU: `grad_output` where `x >= 0`, `alpha * grad_output` where `x < 0`
/// (the forward uses `x` itself at 0, so the slope there is 1).
///
/// # Shapes
/// `input` (the forward's input), `grad_output` and `grad_input`: the same number of elements.
///
/// # Errors
/// [`ShapeError::Length`] (`GradOutput` or `GradInput`) if a length differs from `input.len()`;
/// nothing is written.
pub fn leaky_relu_backward_f32(
    alpha: f32,
    input: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    map_backward(input, grad_output, grad_input, |x| {
        if x.is_nan() {
            f32::NAN
        } else if x < 0.0 {
            alpha
        } else {
            1.0
        }
    })
}

/// Gradient of the logistic sigmoid from its output: `grad_output * y * (1 - y)`.
///
/// # Shapes
/// `output` (the forward's output), `grad_output` and `grad_input`: the same number of elements.
///
/// # Errors
/// [`ShapeError::Length`] (`GradOutput` or `GradInput`) if a length differs from `output.len()`;
/// nothing is written.
pub fn sigmoid_backward_f32(
    output: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    map_backward(output, grad_output, grad_input, |y| y * (1.0 - y))
}

/// Gradient of tanh from its output: `grad_output * (1 - y²)`.
///
/// # Shapes
/// `output` (the forward's output), `grad_output` and `grad_input`: the same number of elements.
///
/// # Errors
/// [`ShapeError::Length`] (`GradOutput` or `GradInput`) if a length differs from `output.len()`;
/// nothing is written.
pub fn tanh_backward_f32(
    output: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    map_backward(output, grad_output, grad_input, |y| 1.0 - y * y)
}

/// Derivative of the exact GELU `x Φ(x)`: `Φ(x) + x φ(x)` with `Φ(x) = (1 + erf(x / √2)) / 2`
/// and `φ(x) = e^{-x²/2} / √(2π)`. Its limits, 1 at `+inf` and 0 at `-inf`, are returned there.
#[inline]
fn gelu_derivative(x: f32) -> f32 {
    if x.is_infinite() {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    // 1/√(2π)
    const INV_SQRT_TAU: f32 = 0.398_942_3;
    let cdf = 0.5 * (1.0 + math::erf(x * core::f32::consts::FRAC_1_SQRT_2));
    let pdf = INV_SQRT_TAU * math::exp(-0.5 * x * x);
    cdf + x * pdf
}

/// Gradient of the exact (erf) GELU from its input: `grad_output * (Φ(x) + x φ(x))`.
///
/// # Shapes
/// `input` (the forward's input), `grad_output` and `grad_input`: the same number of elements.
///
/// # Errors
/// [`ShapeError::Length`] (`GradOutput` or `GradInput`) if a length differs from `input.len()`;
/// nothing is written.
pub fn gelu_backward_f32(
    input: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    map_backward(input, grad_output, grad_input, gelu_derivative)
}

/// Gradient of softmax over rows of `depth` values, from its output:
/// `grad_input = y ⊙ (g - Σ g ⊙ y)` per row (the Jacobian `diag(y) - y yᵀ` applied to `g`).
///
/// # Shapes
/// `output` (the forward's output), `grad_output` and `grad_input`: `[outer, depth]`, row-major.
///
/// # Errors
/// [`ShapeError::Dimension`] if `depth` is 0; [`ShapeError::Length`] (`Output`) if `output.len()`
/// is not a multiple of `depth`, (`GradOutput` or `GradInput`) if a length differs from
/// `output.len()`. Nothing is written on error.
pub fn softmax_backward_f32(
    depth: usize,
    output: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    if depth == 0 {
        return Err(ShapeError::Dimension);
    }
    check_len(
        Buffer::Output,
        output.len() - output.len() % depth,
        output.len(),
    )?;
    check_elementwise(output.len(), grad_output.len(), grad_input.len())?;
    for ((d, g), y) in grad_input
        .chunks_exact_mut(depth)
        .zip(grad_output.chunks_exact(depth))
        .zip(output.chunks_exact(depth))
    {
        let dot: f32 = g.iter().zip(y).map(|(&g, &y)| g * y).sum();
        for ((d, &g), &y) in d.iter_mut().zip(g).zip(y) {
            *d = y * (g - dot);
        }
    }
    Ok(())
}
