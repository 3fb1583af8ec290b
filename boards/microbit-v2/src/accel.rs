//! The LSM303AGR accelerometer (on the internal I²C bus) as a [`Sensor`] of 64 values.
//!
//! One sample is a window of [`READINGS`] = 16 consecutive readings at 50 Hz (0.32 s), each
//! stored as four values: x, y, z and the magnitude √(x² + y² + z²), all in milli-g, at a
//! range of ±4 g. 16 × 4 = 64 values, the width of the firmware's sample buffer. The magnitude
//! is the orientation-free part of the motion (shaking versus holding still looks the same
//! whichever way the board is held); x, y, z keep the orientation. The values are raw: the
//! model applies its own preprocessing.

use embedded_hal::delay::DelayNs;
use lsm303agr::interface::I2cInterface;
use lsm303agr::mode::MagOneShot;
use lsm303agr::{AccelMode, AccelOutputDataRate, AccelScale, Lsm303agr};
use microbit::hal::twim::{self, Twim};
use microbit::pac::TWIM0;
use tinytune_board_common::Sensor;

/// Readings per sample.
pub const READINGS: usize = 16;
/// Values per reading: x, y, z, magnitude.
pub const CHANNELS: usize = 4;
/// Values per sample.
pub const WINDOW: usize = READINGS * CHANNELS;

/// How often a reading is polled for before the read gives up (1 ms apart; a reading is due
/// every 20 ms at 50 Hz).
const POLLS: u32 = 100;

/// Why a window could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum AccelError {
    /// An I²C transfer with the sensor failed, or it rejected its configuration.
    Bus,
    /// No new reading within 100 ms.
    Timeout,
    /// The buffer is not [`WINDOW`] values long.
    WrongLength,
}

impl<E> From<lsm303agr::Error<E>> for AccelError {
    fn from(_: lsm303agr::Error<E>) -> Self {
        AccelError::Bus
    }
}

/// The accelerometer, with the delay it polls with.
pub struct Accelerometer<D> {
    sensor: Lsm303agr<I2cInterface<Twim<TWIM0>>, MagOneShot>,
    delay: D,
}

impl<D: DelayNs> Accelerometer<D> {
    /// Sets the sensor up on the I²C bus `twim` (normal mode, 50 Hz, ±4 g).
    ///
    /// # Errors
    /// [`AccelError::Bus`] if the sensor does not answer or refuses the settings.
    pub fn new(twim: Twim<TWIM0>, mut delay: D) -> Result<Self, AccelError> {
        let mut sensor = Lsm303agr::new_with_i2c(twim);
        sensor.init()?;
        sensor.set_accel_mode_and_odr(&mut delay, AccelMode::Normal, AccelOutputDataRate::Hz50)?;
        sensor.set_accel_scale(AccelScale::G4)?;
        Ok(Self { sensor, delay })
    }

    /// Waits for the next reading; (x, y, z) in milli-g.
    fn next_reading(&mut self) -> Result<(i32, i32, i32), AccelError> {
        for _ in 0..POLLS {
            if self.sensor.accel_status()?.xyz_new_data() {
                return Ok(self.sensor.acceleration()?.xyz_mg());
            }
            self.delay.delay_ms(1);
        }
        Err(AccelError::Timeout)
    }
}

/// The internal I²C bus (SCL P0.08, SDA P0.16) at 400 kHz, where the LSM303AGR sits.
pub fn internal_bus(twim: TWIM0, pins: microbit::board::I2CInternalPins) -> Twim<TWIM0> {
    Twim::new(twim, pins.into(), twim::Frequency::K400)
}

impl<D: DelayNs> Sensor for Accelerometer<D> {
    type Error = AccelError;

    fn len(&self) -> usize {
        WINDOW
    }

    /// Reads [`READINGS`] new readings (0.32 s) into `sample`.
    fn read(&mut self, sample: &mut [f32]) -> Result<(), AccelError> {
        if sample.len() != WINDOW {
            return Err(AccelError::WrongLength);
        }
        for reading in sample.chunks_exact_mut(CHANNELS) {
            let (x, y, z) = self.next_reading()?;
            reading.copy_from_slice(&[x as f32, y as f32, z as f32, magnitude(x, y, z) as f32]);
        }
        Ok(())
    }
}

/// √(x² + y² + z²), rounded down; exact for the sensor's range (|x| ≤ 16 000 mg at ±16 g, so
/// the sum of squares fits in a `u32`).
fn magnitude(x: i32, y: i32, z: i32) -> u32 {
    let square = |v: i32| v.unsigned_abs().saturating_mul(v.unsigned_abs());
    square(x)
        .saturating_add(square(y))
        .saturating_add(square(z))
        .isqrt()
}
