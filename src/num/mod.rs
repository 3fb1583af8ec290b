//! Numerics: fixed-point arithmetic, int8 affine quantization and the f32 math functions.
//!
//! - [`fixed`]: the rounding primitives of TFLite/gemmlowp (saturating rounding doubling high
//!   multiply, rounding divide by a power of two) and Q7/Q15/Q31 saturating arithmetic.
//! - [`quant`]: affine quantization parameters and the [`quant::Requantizer`] that turns an int32
//!   accumulator back into int8 exactly as TFLite's `MultiplyByQuantizedMultiplier` does.
//! - [`isqrt`]: exact integer square roots (the integer layer norm's standard deviation).

pub mod fixed;
pub mod fixedpoint;
pub mod isqrt;
pub mod math;
pub mod quant;
