//! References for elementwise (to be written).
