//! References for pool (to be written).
