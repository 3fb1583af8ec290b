//! The scripted demo on the ESP32-C3: held-out samples replayed from flash, drift, on-device
//! fine-tuning, save to and reload from a flash data partition, with costs in CPU cycles.
//! Prints over defmt (decoded by espflash).
//!
//! The parameters live in the data partition labelled `tinytune` (partitions.csv: offset
//! 0x11_0000, 64 KiB), found at start-up in the partition table the boot loader uses.
#![no_std]
#![no_main]

mod cycles;

use defmt::unwrap;
use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use esp_backtrace as _; // panic handler: message and backtrace over defmt
use esp_bootloader_esp_idf::partitions::{self, PARTITION_TABLE_MAX_LEN};
use esp_hal::clock::CpuClock;
use esp_println as _; // global defmt logger
use esp_storage::FlashStorage;
use tinytune_board_common::demo;

// The application descriptor the ESP-IDF second-stage boot loader requires.
esp_bootloader_esp_idf::esp_app_desc!();

/// Label of the data partition that holds the parameters (see partitions.csv).
const PARTITION: &str = "tinytune";

#[esp_hal::main]
fn main() -> ! {
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    let mut platform = cycles::PerfCycles::new();
    let mut storage = FlashStorage::new(peripherals.FLASH);

    let mut table = [0u8; PARTITION_TABLE_MAX_LEN];
    let table = unwrap!(partitions::read_partition_table(&mut storage, &mut table));
    let Some(entry) = table.iter().find(|p| p.label_as_str() == PARTITION) else {
        defmt::error!(
            "no partition \"{=str}\": flash with partitions.csv",
            PARTITION
        );
        halt()
    };
    defmt::info!(
        "parameters in \"{=str}\" at {=u32:#x}, {=u32} B",
        PARTITION,
        entry.offset(),
        entry.len()
    );
    let mut region = entry.as_flash_region(&mut storage);
    let flash = unwrap!(region.as_nor_flash());

    let needed = needed(&flash);
    if flash.capacity() < needed {
        defmt::error!(
            "partition is {=usize} B, the demo needs {=usize} B: enlarge it in partitions.csv",
            flash.capacity(),
            needed
        );
    } else {
        let status = demo::main(&mut platform, flash);
        defmt::println!("demo finished, status {=i32}", status);
    }
    halt()
}

/// Bytes of flash the demo needs on `F` (its slots are rounded to `F`'s erase pages).
fn needed<F: NorFlash>(_: &F) -> usize {
    demo::flash_len::<F>()
}

/// Idles forever (the demo is over, or cannot run).
fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}
