//! The per-epoch progress bar of `train` (indicatif, on stderr; hidden when stderr is not a
//! terminal, so logs and pipes stay clean).

use indicatif::{ProgressBar, ProgressStyle};

use super::fit::EpochStats;

/// A progress bar over the epochs.
pub struct EpochBar {
    bar: ProgressBar,
}

impl EpochBar {
    /// A bar of `epochs` steps.
    pub fn new(epochs: usize) -> Self {
        let bar = ProgressBar::new(epochs as u64);
        // The template is a constant; should it ever fail to parse, the default style remains.
        if let Ok(style) = ProgressStyle::with_template(
            "epoch {pos:>4}/{len:4} [{bar:30}] {elapsed_precise} {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        EpochBar { bar }
    }

    /// Advances by one epoch and shows its figures.
    pub fn epoch(&self, s: &EpochStats) {
        self.bar.set_message(format!(
            "loss {:.4} acc {:.4} | val loss {:.4} acc {:.4}",
            s.train_loss, s.train_acc, s.val_loss, s.val_acc
        ));
        self.bar.inc(1);
    }

    /// Removes the bar (training ended, possibly early).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
