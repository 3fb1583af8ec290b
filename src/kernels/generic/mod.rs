//! Portable reference kernels: plain Rust over slices, the specification every fast kernel is
//! tested against.
pub mod activation;
pub mod attention;
pub mod attention_s8;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod depthwise_fast;
pub mod elementwise;
pub mod grad;
pub mod layer_norm_s8;
pub mod matmul;
pub mod pool;
pub mod softmax;
