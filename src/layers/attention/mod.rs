//! Attention and transformer encoder blocks in f32, forward and backward.
//!
//! - [`MultiHeadAttention`]: multi-head self-attention (projections Q, K, V, output) over the
//!   one-head kernel
//!   [`attention_f32`](crate::kernels::generic::attention::attention_f32) (scaled dot-product
//!   attention with causal and padding masks) and its backward.
//! - [`TransformerEncoder`]: the pre-LN encoder block (attention, GELU feed-forward,
//!   residuals, inverted dropout in training); its inference can report every intermediate
//!   activation ([`EncoderStage`]) for calibration.
//! - [`SinusoidalEncoding`] and [`LearnedPositionalEncoding`]: positional encodings, added.
//! - [`ClassToken`] (prepends a learned token), [`FirstToken`] (takes it back as the pooled
//!   vector) and [`MeanPool`] (mean over the valid positions): sequence classification.
//!
//! Activations are row-major `[seq, width]` per sample, batches `[batch, seq, width]`.
//! Padding is given per call as each sample's valid length (`lengths: Option<&[usize]>`, one
//! per sample, reported as [`Buffer::Input2`](crate::Buffer::Input2) when its length is
//! wrong): keys at positions `≥` the valid length are masked for every query.
//!
//! The attention layers need scratch memory (Q, K, V, the attention probabilities) and the
//! valid lengths, so they have their own `forward` / `forward_train` / `backward` with explicit
//! `lengths` and `scratch` arguments instead of implementing [`Layer`](crate::layers::Layer);
//! the other layers here need neither and implement it ([`MeanPool`] takes lengths and has its
//! own methods). Every buffer is the caller's: `scratch_len(batch)` and `cache_len(batch)` tell
//! their lengths (f32 values) before anything is allocated. Scratch is the same for every batch
//! size (samples are processed one at a time); the cache grows with the batch.
//!
//! # Memory
//!
//! For seq `s`, width `w`, heads `h`, feed-forward width `f` and batch `b`, in bytes (4 per
//! f32 value):
//!
//! | layer | parameters | scratch | training cache |
//! |---|---|---|---|
//! | [`MultiHeadAttention`] | `16·(w² + w)` | `4·(4·s·w + h·s²)` | `4·b·(4·s·w + h·s²)` |
//! | [`TransformerEncoder`] | `4·(4·w + 4·(w² + w) + 2·f·w + f + w)` | `4·max(s·w + max(4·s·w + h·s², s·f), 2·s·w + max(2·s·f, 6·s·w))` | `4·b·(4·s + 7·s·w + h·s² + s·f)` |
//! | [`LearnedPositionalEncoding`] | `4·s·w` | 0 | 0 |
//! | [`ClassToken`] | `4·w` | 0 | 0 |
//! | [`SinusoidalEncoding`], [`FirstToken`], [`MeanPool`] | 0 | 0 | 0 |
//!
//! Inference needs the parameters, the scratch and the activations (input and output,
//! `4·b·s·w` bytes each); training adds the cache, the parameter gradients (as large as the
//! parameters) and the activation gradients. For batch 1:
//!
//! | s, w, h, f | MHA params | MHA scratch | MHA cache | encoder params | encoder scratch | encoder cache |
//! |---|---|---|---|---|---|---|
//! | 8, 16, 2, 32 | 4352 | 2560 | 2560 | 8896 | 4096 | 5248 |
//! | 8, 32, 2, 64 | 16896 | 4608 | 4608 | 34176 | 8192 | 9856 |
//! | 16, 32, 4, 64 | 16896 | 12288 | 12288 | 34176 | 16384 | 22784 |

mod common;
mod encoder;
mod mha;
mod pooling;
mod position;

pub use crate::kernels::generic::attention::AttentionMask;
pub use encoder::{EncoderStage, TransformerEncoder, TransformerEncoderConfig};
pub use mha::{MultiHeadAttention, MultiHeadAttentionConfig};
pub use pooling::{FirstToken, MeanPool, PoolConfig};
pub use position::{
    ClassToken, LearnedPositionalEncoding, SequenceConfig, SinusoidalEncoding,
    SinusoidalEncodingConfig,
};
