//! gemmlowp-style fixed-point (to be written).
