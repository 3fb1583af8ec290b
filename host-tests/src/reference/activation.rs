//! References for activation (to be written).
