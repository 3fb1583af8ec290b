//! The endless loop of a real board (being built).

use crate::{ClassDisplay, LabelSource, Sensor};
use embedded_hal::delay::DelayNs;
use embedded_storage::nor_flash::NorFlash;

/// Samples, classifies, shows, learns from labels and saves, forever.
pub fn run<S: Sensor, L: LabelSource, D: ClassDisplay, F: NorFlash, T: DelayNs>(
    model: &'static [u8],
    mut sensor: S,
    mut labels: L,
    mut display: D,
    flash: F,
    mut delay: T,
) -> ! {
    let _ = (model, flash.capacity());
    let mut sample = [0f32; 64];
    loop {
        let _ = sensor.read(&mut sample);
        let _ = labels.label(0);
        display.show(0);
        delay.delay_ms(100);
    }
}
