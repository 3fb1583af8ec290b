//! The progress bar of `word2vec` (indicatif, on stderr; hidden when stderr is not a terminal):
//! words processed over `epochs · train words`, words per second and the current learning rate.

use indicatif::{ProgressBar, ProgressStyle};

/// Words between two redraws of the message (word2vec.c reports every 10 000 words too).
pub const UPDATE_EVERY: u64 = 10_000;

/// A progress bar over the words of every epoch.
pub struct WordBar {
    bar: ProgressBar,
    shown: u64,
}

impl WordBar {
    /// A bar of `total` words.
    pub fn new(total: u64) -> Self {
        let bar = ProgressBar::new(total);
        // The template is a constant; should it ever fail to parse, the default style remains.
        if let Ok(style) = ProgressStyle::with_template(
            "{pos:>10}/{len:10} words [{bar:30}] {elapsed_precise} {per_sec:>14} {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        WordBar { bar, shown: 0 }
    }

    /// Shows `done` words processed at learning rate `alpha` in epoch `epoch` (1-based);
    /// redraws at most every [`UPDATE_EVERY`] words.
    pub fn update(&mut self, done: u64, alpha: f32, epoch: usize) {
        if done.saturating_sub(self.shown) >= UPDATE_EVERY {
            self.shown = done;
            self.bar.set_position(done);
            self.bar.set_message(format!("epoch {epoch} lr {alpha:.6}"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
