//! Portable reference kernels: plain Rust over slices, the specification every fast kernel is
//! tested against.
pub mod dense;
pub mod matmul;
pub mod conv;
pub mod depthwise;
pub mod pool;
pub mod elementwise;
pub mod activation;
pub mod softmax;
