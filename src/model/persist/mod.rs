//! Fine-tuned parameters in NOR flash (in progress).
