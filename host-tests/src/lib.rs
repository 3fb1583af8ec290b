//! Independent references for tinytune's host tests and on-target test vectors.
//!
//! The references never call the code under test: the f32 kernels are checked against f64
//! re-implementations, the int8 kernels against exact integer references written with wide
//! (`i64`/`i128`) arithmetic straight from the TFLite specification. The one deliberate exception
//! is the layer vectors (`vectors/layers*`): their expected values are the host's own results,
//! which the host tests check against these references, and the device must reproduce them.

/// The CSV loader lives in the command-line crate; re-exported for the tests.
pub use tinytune_cli::csv;
pub mod digits;
pub mod emit;
pub mod finetune;
pub mod gradcheck;
pub mod mlp;
pub mod nor_flash;
pub mod reference;
pub mod rng;
pub mod transformer;
pub mod transformer_s8;
pub mod vectors;
pub mod word2vec;
