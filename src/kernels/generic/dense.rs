//! dense kernels (to be written).
