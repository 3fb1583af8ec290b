//! Board support for the BBC micro:bit v2 (nRF52833, Cortex-M4F at 64 MHz): the drivers the
//! firmware in `tinytune-board-common` needs, and the global defmt logger (RTT) and panic
//! handler (panic-probe) both binaries use.
//!
//! - [`accel`]: the LSM303AGR accelerometer as a 64-value [`Sensor`](tinytune_board_common::Sensor).
//! - [`leds`]: the 5×5 LED matrix as a [`ClassDisplay`](tinytune_board_common::ClassDisplay).
//! - [`cycles`]: the DWT cycle counter as a [`Platform`](tinytune_board_common::Platform).
//! - [`storage`]: the flash pages kept out of the program by `memory.x`, behind the NVMC.
#![no_std]

use defmt_rtt as _; // global logger: defmt frames over RTT to the debug probe
use panic_probe as _; // panic: message over defmt, then a breakpoint the probe reports

pub mod accel;
pub mod cycles;
pub mod leds;
pub mod storage;

pub use microbit::{hal, pac, Board};
