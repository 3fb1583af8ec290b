//! Backward kernels: the gradients of the f32 forward kernels, as pure functions over slices.
//!
//! Each `*_backward_f32` takes the forward call's shape and the tensors it needs and writes the
//! gradient with respect to the input (overwriting) and adds the gradients of the weights and
//! biases (accumulating), the convention of [`Layer::backward`](crate::layers::Layer::backward).
pub mod activation;
pub mod attention;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod norm;
pub mod pool;
