//! elementwise kernels (to be written).
