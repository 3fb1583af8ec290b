//! Reference implementations, one module per kernel family.
pub mod num;
pub mod linear;
pub mod pool;
pub mod elementwise;
pub mod activation;
pub mod softmax;
