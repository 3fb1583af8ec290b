//! References for softmax (to be written).
