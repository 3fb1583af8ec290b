//! Sensor drift: what happens to a deployed sensor over time (a gain and offset change, more
//! noise), applied to replayed samples so that the demo can show the accuracy drop and what
//! fine-tuning on the device wins back.

use rand_core::RngCore;
use tinytune::rng::normal_f32;

/// `x' = gain · x + offset + noise`, with noise drawn from `N(0, noise_std²)` per value, in the
/// sensor's raw units.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Drift {
    /// Multiplies every value.
    pub gain: f32,
    /// Added to every value after the gain.
    pub offset: f32,
    /// Standard deviation of the added Gaussian noise (0 for none).
    pub noise_std: f32,
}

impl Drift {
    /// Applies the drift to `sample` in place, drawing the noise from `rng`.
    ///
    /// # Shapes
    /// `sample`: any length.
    pub fn apply(&self, sample: &mut [f32], rng: &mut impl RngCore) {
        for v in sample {
            let noise = if self.noise_std > 0.0 {
                self.noise_std * normal_f32(rng)
            } else {
                0.0
            };
            *v = self.gain * *v + self.offset + noise;
        }
    }
}
