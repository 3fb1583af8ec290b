//! Independent references for tinytune's host tests and on-target test vectors.
//!
//! Nothing here calls the code under test: the f32 kernels are checked against f64
//! re-implementations, the int8 kernels against exact integer references written with wide
//! (`i64`/`i128`) arithmetic straight from the TFLite specification.

pub mod emit;
pub mod gradcheck;
pub mod reference;
pub mod rng;
pub mod vectors;
