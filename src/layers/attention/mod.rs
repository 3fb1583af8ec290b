//! Attention and transformer blocks in f32 (in progress).
