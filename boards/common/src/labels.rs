//! Where the labels for on-device fine-tuning come from.

use embedded_hal::digital::InputPin;

/// A source of labels for the sample just classified: a button press, a command, or the
/// replayed data set's own label.
pub trait LabelSource {
    /// The true class of the sample just classified as `predicted`, if the user gave one.
    fn label(&mut self, predicted: usize) -> Option<u32>;
}

/// Two push buttons (active low, as on the micro:bit): a press of A labels the current sample
/// class 0, a press of B class 1; no press gives no label. Meant for two-class models trained
/// on the board's own sensor (for example "still" and "shake").
///
/// A press counts once: a label is returned on the release-to-press edge only.
pub struct TwoButtons<A, B> {
    a: A,
    b: B,
    a_was_down: bool,
    b_was_down: bool,
}

impl<A: InputPin, B: InputPin> TwoButtons<A, B> {
    /// Wraps two active-low button pins.
    pub fn new(a: A, b: B) -> Self {
        Self {
            a,
            b,
            a_was_down: false,
            b_was_down: false,
        }
    }
}

impl<A: InputPin, B: InputPin> LabelSource for TwoButtons<A, B> {
    fn label(&mut self, _predicted: usize) -> Option<u32> {
        // A pin read error counts as "not pressed": no label, no update.
        let a_down = self.a.is_low().unwrap_or(false);
        let b_down = self.b.is_low().unwrap_or(false);
        let a_edge = a_down && !self.a_was_down;
        let b_edge = b_down && !self.b_was_down;
        self.a_was_down = a_down;
        self.b_was_down = b_down;
        match (a_edge, b_edge) {
            (true, false) => Some(0),
            (false, true) => Some(1),
            _ => None, // neither, or both at once: ambiguous, no label
        }
    }
}
