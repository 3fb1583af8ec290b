//! Reference implementations, one module per kernel family.
pub mod activation;
pub mod attention;
pub mod elementwise;
pub mod linear;
pub mod num;
pub mod pool;
pub mod softmax;
