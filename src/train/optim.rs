//! Optimizer steps over a parameter slice and its gradient, as used by
//! [`Sequential::update_params`](crate::layers::Sequential::update_params).

/// Plain stochastic gradient descent: `p ← p − lr · g`. Needs no state. Pairs of unequal
/// length are updated up to the shorter one.
pub fn sgd(params: &mut [f32], grads: &[f32], lr: f32) {
    for (p, g) in params.iter_mut().zip(grads) {
        *p -= lr * g;
    }
}
