//! References for linear (to be written).
