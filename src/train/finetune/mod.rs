//! On-device fine-tuning of a deployed model (in progress).
