//! The 5×5 LED matrix as a [`ClassDisplay`]: the predicted class as a digit.
//!
//! The matrix is multiplexed row by row, so it must be refreshed all the time, not only when
//! the class changes. The HAL's non-blocking display does that from the TIMER1 interrupt; the
//! firmware's loop only swaps the image (inside a critical section, as the interrupt handler
//! reads it).

use core::cell::RefCell;
use critical_section::Mutex;
use microbit::display::nonblocking::{BitImage, Display};
use microbit::gpio::DisplayPins;
use microbit::pac::{self, interrupt, TIMER1};
use tinytune_board_common::ClassDisplay;

/// The display, shared with the TIMER1 interrupt that refreshes it.
static DISPLAY: Mutex<RefCell<Option<Display<TIMER1>>>> = Mutex::new(RefCell::new(None));

/// Digits 0–9, three columns wide and centred; index = class.
const DIGITS: [BitImage; 10] = [
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 1, 0],
    ]),
    BitImage::new(&[
        [0, 0, 1, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
    ]),
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 1, 1, 1, 0],
        [0, 1, 0, 0, 0],
        [0, 1, 1, 1, 0],
    ]),
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 1, 1, 1, 0],
    ]),
    BitImage::new(&[
        [0, 1, 0, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 1, 0],
    ]),
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 1, 0, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 1, 1, 1, 0],
    ]),
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 1, 0, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 1, 0],
    ]),
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0],
    ]),
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 1, 0],
    ]),
    BitImage::new(&[
        [0, 1, 1, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 1, 1, 1, 0],
    ]),
];

/// Shown for a class with no digit (10 and up).
const OTHER: BitImage = BitImage::new(&[
    [1, 0, 0, 0, 1],
    [0, 1, 0, 1, 0],
    [0, 0, 1, 0, 0],
    [0, 1, 0, 1, 0],
    [1, 0, 0, 0, 1],
]);

/// The LED matrix, refreshed by TIMER1's interrupt. Owning TIMER1 makes it a singleton.
pub struct LedMatrix {
    _private: (),
}

impl LedMatrix {
    /// Takes over the matrix pins and TIMER1 and starts refreshing (all LEDs off).
    pub fn new(timer: TIMER1, pins: DisplayPins) -> Self {
        let display = Display::new(timer, pins);
        critical_section::with(|cs| DISPLAY.borrow_ref_mut(cs).replace(display));
        // SAFETY: the only handler this unmasks is `TIMER1` below, which touches nothing but
        // `DISPLAY`, through a critical section; no critical section is open here.
        unsafe { pac::NVIC::unmask(pac::Interrupt::TIMER1) };
        Self { _private: () }
    }
}

impl ClassDisplay for LedMatrix {
    fn show(&mut self, class: usize) {
        let image = DIGITS.get(class).unwrap_or(&OTHER);
        critical_section::with(|cs| {
            if let Some(display) = DISPLAY.borrow_ref_mut(cs).as_mut() {
                display.show(image);
            }
        });
    }
}

#[interrupt]
fn TIMER1() {
    critical_section::with(|cs| {
        if let Some(display) = DISPLAY.borrow_ref_mut(cs).as_mut() {
            display.handle_display_event();
        }
    });
}
