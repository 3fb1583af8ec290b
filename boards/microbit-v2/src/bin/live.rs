//! The micro:bit's own loop: sample the accelerometer, classify, show the class on the LED
//! matrix, learn from a press of button A (class 0) or B (class 1), save the learned
//! parameters to flash now and then.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use tinytune_board_common::{labels::TwoButtons, live};
use tinytune_microbit_v2::accel::{self, Accelerometer};
use tinytune_microbit_v2::hal::Timer;
use tinytune_microbit_v2::{leds::LedMatrix, storage, Board};

/// The model the board runs: a `.ttm` file taking the accelerometer's 64-value window.
///
/// Shipped with the distilled digits student as a stand-in: it has the right input width, so
/// the whole loop (classify, show, learn from the buttons, save) runs, but its classes mean
/// nothing for gestures. For a real use, log windows, train a model on them on the host
/// (`tinytune train`, then `tinytune quantize`) and put it here with
/// `tinytune::include_model!("…/gestures.ttm")`.
fn model() -> &'static [u8] {
    tinytune_board_common::demo::student()
}

#[entry]
fn main() -> ! {
    let board = unwrap!(Board::take());
    let display = LedMatrix::new(board.TIMER1, board.display_pins);
    let bus = accel::internal_bus(board.TWIM0, board.i2c_internal);
    let sensor = unwrap!(Accelerometer::new(bus, Timer::new(board.TIMER2)));
    let labels = TwoButtons::new(board.buttons.button_a, board.buttons.button_b);
    let flash = unwrap!(storage::take(board.NVMC));
    live::run(
        model(),
        sensor,
        labels,
        display,
        flash,
        Timer::new(board.TIMER0),
    )
}
