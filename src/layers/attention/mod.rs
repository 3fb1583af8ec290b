//! Attention and transformer encoder blocks in f32, forward and backward.
//!
//! - [`MultiHeadAttention`]: multi-head self-attention (four projections) over one head kernel,
//!   [`attention_f32`](crate::kernels::generic::attention::attention_f32) (scaled dot-product
//!   attention with causal and padding masks) and its backward.
//!
//! Activations are row-major `[seq, width]` per sample, batches `[batch, seq, width]`.
//!
//! These layers need scratch memory (Q, K, V, attention probabilities) and, for padding, each
//! sample's valid length, so they have their own `forward` / `forward_train` / `backward` with
//! explicit `lengths` and `scratch` arguments instead of implementing
//! [`Layer`](crate::layers::Layer). Every buffer is the caller's: `scratch_len(batch)` and
//! `cache_len(batch)` tell their lengths (in f32 values) before anything is allocated.

mod common;
mod encoder;
mod mha;
mod sequence;

pub use crate::kernels::generic::attention::AttentionMask;
pub use encoder::{TransformerEncoder, TransformerEncoderConfig};
pub use mha::{MultiHeadAttention, MultiHeadAttentionConfig};
pub use sequence::{
    ClassToken, FirstToken, LearnedPositionalEncoding, MeanPool, PoolConfig, SequenceConfig,
    SinusoidalEncoding, SinusoidalEncodingConfig,
};
