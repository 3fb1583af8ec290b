//! The progress bar of `word2vec` (indicatif, on stderr; hidden when stderr is not a terminal):
//! words processed over `epochs · train words`, words per second, the epoch and the current
//! learning rate.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Words between two redraws (word2vec.c reports every 10 000 words too).
pub const UPDATE_EVERY: u64 = 10_000;

/// A progress bar over the words of every epoch.
pub struct WordBar {
    bar: ProgressBar,
    start: Instant,
    epochs: usize,
    shown: u64,
}

impl WordBar {
    /// A bar of `total` words over `epochs` epochs.
    pub fn new(total: u64, epochs: usize) -> Self {
        let bar = ProgressBar::new(total);
        // The template is a constant; should it ever fail to parse, the default style remains.
        if let Ok(style) =
            ProgressStyle::with_template("{pos:>9}/{len} words [{bar:20}] {elapsed_precise} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        WordBar {
            bar,
            start: Instant::now(),
            epochs,
            shown: 0,
        }
    }

    /// Shows `done` words processed, at learning rate `alpha`, in epoch `epoch` (1-based);
    /// redraws at most every [`UPDATE_EVERY`] words.
    pub fn update(&mut self, done: u64, alpha: f32, epoch: usize) {
        if done.saturating_sub(self.shown) < UPDATE_EVERY {
            return;
        }
        self.shown = done;
        let seconds = self.start.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            done as f64 / seconds
        } else {
            0.0
        };
        self.bar.set_message(format!(
            "{rate:.0} words/s epoch {epoch}/{} lr {alpha:.6}",
            self.epochs
        ));
        self.bar.set_position(done);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
