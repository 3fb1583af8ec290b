//! Data preparation for training, on the host and on the device: preprocessing fitted on
//! training data, augmentation and sampling, all over borrowed slices with injected randomness.

pub mod augment;
pub mod preprocess;
pub mod sample;
