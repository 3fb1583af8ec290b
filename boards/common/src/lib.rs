//! The firmware every tinytune board runs, generic over the board's hardware.
//!
//! A board crate supplies a [`Platform`] (instruction counter), a NOR flash
//! ([`embedded_storage::nor_flash::NorFlash`]) for the fine-tuned parameters, and for real boards
//! a [`Sensor`], a [`LabelSource`] (buttons or commands) and a [`ClassDisplay`]. This crate does
//! the rest: reads samples, lets the model apply its own preprocessing, classifies, fine-tunes
//! on the device with the thresholded rule ([`tinytune::train::finetune`]), saves the learned
//! parameters power-safely ([`tinytune::model::persist`]) and reports.
//!
//! - [`demo`]: the scripted demo the emulated boards run in CI (clean accuracy, drift,
//!   fine-tuning, save and reload), ending in one summary line.
//! - [`live`]: the endless loop of a real board (sample, classify, show, learn when labelled,
//!   save now and then).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod buffers;
pub mod demo;
pub mod display;
pub mod drift;
pub mod labels;
pub mod live;
pub mod platform;
pub mod ram_flash;
pub mod sensor;
pub mod transformer;
pub mod word2vec;
pub mod word2vec_corpus;

pub use display::ClassDisplay;
pub use drift::Drift;
pub use labels::LabelSource;
pub use platform::Platform;
pub use ram_flash::RamNorFlash;
pub use sensor::{Replay, Sensor};
