//! References for num (to be written).
