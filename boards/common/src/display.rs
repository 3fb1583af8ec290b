//! Showing the predicted class on a board.

/// Something that shows a class index (an LED matrix, a single LED, a log line).
pub trait ClassDisplay {
    /// Shows `class` (the predicted class index) until the next call.
    fn show(&mut self, class: usize);
}

/// A display that shows nothing (boards without one).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDisplay;

impl ClassDisplay for NoDisplay {
    fn show(&mut self, _class: usize) {}
}
