//! A NOR flash simulator with the semantics of real NOR and power cuts, to test
//! `tinytune::model::persist`.
//!
//! - Erase sets whole pages (`E` bytes) to `0xFF`; program can only clear bits
//!   (`new = old & data`), in units of `W` bytes. Programming a unit twice without an erase in
//!   between breaks the NOR flash contract (ECC flash corrupts the word): the simulator panics,
//!   so a test fails at the offending write. It does not implement `MultiwriteNorFlash`.
//! - Power cuts: [`SimNorFlash::set_budget`] allows a number of steps (one per programmed unit,
//!   one per erased page). The step that finds the budget spent is torn — a program clears a
//!   random subset of the bits it was to clear, an erase leaves the page in a random mixed
//!   state — and it, and every operation after it, fails with `NorFlashErrorKind::Other` until
//!   [`SimNorFlash::reboot`].
//! - Bit flips ([`SimNorFlash::flip_bit`]) and raw access ([`SimNorFlash::bytes_mut`]) model
//!   retention errors and arbitrary contents.

use crate::rng::SplitMix64;
use tinytune::model::persist::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

/// A simulated NOR flash with `W`-byte program units and `E`-byte erase pages.
#[derive(Clone, Debug)]
pub struct SimNorFlash<const W: usize, const E: usize> {
    mem: Vec<u8>,
    /// Per program unit: programmed since its page was last (fully) erased.
    programmed: Vec<bool>,
    /// Steps left before the power goes; `None`: no cut planned.
    budget: Option<u64>,
    /// Steps completed since power-up.
    steps: u64,
    powered: bool,
    fault: Option<NorFlashErrorKind>,
    rng: SplitMix64,
}

/// nRF52-like geometry: 4-byte words, 4 KiB pages.
pub type Nrf52Flash = SimNorFlash<4, 4096>;
/// nRF51-like geometry: 4-byte words, 1 KiB pages.
pub type Nrf51Flash = SimNorFlash<4, 1024>;
/// STM32H7-like program unit (a 256-bit flash word; small pages to keep tests fast).
pub type WideWordFlash = SimNorFlash<32, 2048>;

impl<const W: usize, const E: usize> SimNorFlash<W, E> {
    /// An erased flash of `pages` pages; `seed` drives the torn states.
    pub fn new(pages: usize, seed: u64) -> Self {
        Self::from_bytes(vec![0xFF; pages * E], seed).with_all_erased()
    }

    /// A flash holding `bytes` (length a multiple of `E`), every unit counted as programmed.
    pub fn from_bytes(bytes: Vec<u8>, seed: u64) -> Self {
        assert!(
            W > 0 && E.is_multiple_of(W) && bytes.len().is_multiple_of(E),
            "bad geometry"
        );
        let units = bytes.len() / W;
        SimNorFlash {
            mem: bytes,
            programmed: vec![true; units],
            budget: None,
            steps: 0,
            powered: true,
            fault: None,
            rng: SplitMix64::new(seed),
        }
    }

    fn with_all_erased(mut self) -> Self {
        self.programmed.fill(false);
        self
    }

    /// Plans a power cut: `steps` more steps complete, the next one is torn. `None` cancels.
    pub fn set_budget(&mut self, steps: Option<u64>) {
        self.budget = steps;
    }

    /// Steps (programmed units, erased pages) completed since power-up.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether the power is still on (no torn step yet).
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Power back on: a fresh device over the same bytes (no cut planned, step count zero).
    pub fn reboot(mut self) -> Self {
        self.powered = true;
        self.budget = None;
        self.steps = 0;
        self.fault = None;
        self
    }

    /// Makes every operation fail with `kind` (without touching the contents) until cleared.
    pub fn set_fault(&mut self, kind: Option<NorFlashErrorKind>) {
        self.fault = kind;
    }

    /// Inverts bit `bit` (0..8) of the byte at `addr`.
    pub fn flip_bit(&mut self, addr: usize, bit: u32) {
        self.mem[addr] ^= 1 << bit;
    }

    /// The contents.
    pub fn bytes(&self) -> &[u8] {
        &self.mem
    }

    /// The contents, writable (every unit then counts as programmed).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.programmed.fill(true);
        &mut self.mem
    }

    fn check_power(&self) -> Result<(), NorFlashErrorKind> {
        match (self.powered, self.fault) {
            (false, _) => Err(NorFlashErrorKind::Other),
            (true, Some(kind)) => Err(kind),
            (true, None) => Ok(()),
        }
    }

    /// Takes one step from the budget; `false` if this step is the one the power cut tears.
    fn step(&mut self) -> bool {
        match self.budget {
            Some(0) => {
                self.powered = false;
                false
            }
            Some(n) => {
                self.budget = Some(n - 1);
                self.steps += 1;
                true
            }
            None => {
                self.steps += 1;
                true
            }
        }
    }

    /// Leaves `page` in a random state between its contents and erased, as a cut mid-erase.
    fn tear_erase(&mut self, page: usize) {
        let range = page * E..(page + 1) * E;
        let mode = self.rng.next_u64() % 6;
        let cut = (self.rng.next_u64() % E as u64) as usize;
        for (i, byte) in self.mem[range].iter_mut().enumerate() {
            let r = self.rng.next_u64() as u8;
            *byte = match mode {
                0 if r & 1 == 0 => 0xFF, // some bytes erased, some not
                1 => *byte | r,          // random bits set
                2 if i < cut => 0xFF,    // erased up to a point
                3 => *byte,              // nothing happened yet
                4 => 0xFF,               // erased, not acknowledged
                5 => r,                  // undefined
                _ => *byte,
            };
        }
        let units = page * E / W..(page + 1) * E / W;
        self.programmed[units].fill(true);
    }
}

impl<const W: usize, const E: usize> ErrorType for SimNorFlash<W, E> {
    type Error = NorFlashErrorKind;
}

impl<const W: usize, const E: usize> ReadNorFlash for SimNorFlash<W, E> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.check_power()?;
        check_read(self, offset, bytes.len())?;
        let start = offset as usize;
        bytes.copy_from_slice(&self.mem[start..start + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl<const W: usize, const E: usize> NorFlash for SimNorFlash<W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.check_power()?;
        check_erase(self, from, to)?;
        for page in from as usize / E..to as usize / E {
            if !self.step() {
                self.tear_erase(page);
                return Err(NorFlashErrorKind::Other);
            }
            self.mem[page * E..(page + 1) * E].fill(0xFF);
            self.programmed[page * E / W..(page + 1) * E / W].fill(false);
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.check_power()?;
        check_write(self, offset, bytes.len())?;
        for (i, data) in bytes.chunks(W).enumerate() {
            let start = offset as usize + i * W;
            let unit = start / W;
            assert!(
                !self.programmed[unit],
                "unit at {start:#x} programmed twice without an erase"
            );
            let torn = !self.step();
            for (cell, &d) in self.mem[start..start + W].iter_mut().zip(data) {
                let clear = *cell & !d;
                let applied = if torn {
                    clear & self.rng.next_u64() as u8
                } else {
                    clear
                };
                *cell &= !applied;
            }
            self.programmed[unit] = true;
            if torn {
                return Err(NorFlashErrorKind::Other);
            }
        }
        Ok(())
    }
}
