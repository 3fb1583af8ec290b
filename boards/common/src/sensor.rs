//! Where samples come from: a board's sensor, or a replay of samples stored in flash.

/// A source of samples, one feature vector at a time.
pub trait Sensor {
    /// What a failed read reports.
    type Error;
    /// Values per sample.
    fn len(&self) -> usize;
    /// Whether a sample has no values (never, for a usable sensor).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads the next sample into `sample` (`len()` values, raw units: the model applies its
    /// own preprocessing).
    ///
    /// # Shapes
    /// `sample`: `[len()]`.
    ///
    /// # Errors
    /// The sensor's error; `sample` is then unspecified.
    fn read(&mut self, sample: &mut [f32]) -> Result<(), Self::Error>;
}

/// A read from a [`Replay`] with a buffer of the wrong length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WrongLength {
    /// Values per sample.
    pub expected: usize,
    /// Length of the buffer given.
    pub actual: usize,
}

/// Labelled samples stored in flash (one `u8` per value, one `u8` label per sample), replayed
/// in order. The emulated boards' "sensor".
#[derive(Clone, Copy, Debug)]
pub struct Replay<'a> {
    features: &'a [u8],
    labels: &'a [u8],
    width: usize,
    next: usize,
}

impl<'a> Replay<'a> {
    /// A replay of `labels.len()` samples of `width` values each.
    ///
    /// Returns `None` if `width` is 0 or `features.len() != width · labels.len()`.
    pub fn new(features: &'a [u8], labels: &'a [u8], width: usize) -> Option<Self> {
        (width > 0 && width.checked_mul(labels.len()) == Some(features.len())).then_some(Self {
            features,
            labels,
            width,
            next: 0,
        })
    }

    /// Number of samples.
    pub fn samples(&self) -> usize {
        self.labels.len()
    }

    /// Sample `index` as `f32` into `out`, and its label; `None` if `index` is out of range or
    /// `out` is not `width` long.
    ///
    /// # Shapes
    /// `out`: `[width]`.
    pub fn sample(&self, index: usize, out: &mut [f32]) -> Option<u32> {
        let start = index.checked_mul(self.width)?;
        let row = self.features.get(start..start.checked_add(self.width)?)?;
        if out.len() != row.len() {
            return None;
        }
        for (o, &v) in out.iter_mut().zip(row) {
            *o = f32::from(v);
        }
        self.labels.get(index).map(|&l| u32::from(l))
    }

    /// The label of the sample the last [`Sensor::read`] returned.
    pub fn last_label(&self) -> Option<u32> {
        let last = self
            .next
            .checked_sub(1)
            .unwrap_or(self.samples().saturating_sub(1));
        self.labels.get(last).map(|&l| u32::from(l))
    }
}

impl Sensor for Replay<'_> {
    type Error = WrongLength;

    fn len(&self) -> usize {
        self.width
    }

    /// Reads the next stored sample, starting over after the last.
    fn read(&mut self, sample: &mut [f32]) -> Result<(), WrongLength> {
        let wrong = WrongLength {
            expected: self.width,
            actual: sample.len(),
        };
        if self.samples() == 0 {
            return Err(wrong);
        }
        let index = self.next % self.samples();
        self.sample(index, sample).ok_or(wrong)?;
        self.next = index + 1;
        Ok(())
    }
}
