//! Writes test vectors as Rust source: `pub static` arrays and `pub const` scalars that a
//! `no_std` crate can include and a board can keep in flash.

use std::fmt::{Display, Write};

/// Accumulates the generated source of one vectors file.
#[derive(Default)]
pub struct Emitter {
    src: String,
}

impl Emitter {
    /// A file starting with `header` (inner doc comment lines, without the `//!`).
    pub fn new(header: &str) -> Self {
        let mut src = String::new();
        for line in header.lines() {
            let _ = writeln!(src, "//! {line}");
        }
        src.push_str("#![no_std]\n#![allow(missing_docs, clippy::all)]\n");
        Emitter { src }
    }

    /// Starts a case module `name` with a doc line.
    pub fn open(&mut self, name: &str, doc: &str) {
        let _ = writeln!(self.src, "\n/// {doc}\npub mod {name} {{");
    }

    /// Ends the current case module.
    pub fn close(&mut self) {
        self.src.push_str("}\n");
    }

    /// `pub const NAME: TY = value;`
    pub fn scalar(&mut self, name: &str, ty: &str, value: impl Display) {
        let _ = writeln!(self.src, "    pub const {name}: {ty} = {value};");
    }

    /// `pub static NAME: [TY; N] = [...];` and `pub const NAME_LEN: usize = N;` (a static's length
    /// cannot size an array in a const context; the constant can).
    pub fn array<T: Display>(&mut self, name: &str, ty: &str, values: &[T]) {
        let _ = writeln!(
            self.src,
            "    pub const {name}_LEN: usize = {};",
            values.len()
        );
        let _ = write!(
            self.src,
            "    pub static {name}: [{ty}; {}] = [",
            values.len()
        );
        for (i, v) in values.iter().enumerate() {
            if i % 16 == 0 {
                self.src.push_str("\n        ");
            } else {
                self.src.push(' ');
            }
            let _ = write!(self.src, "{v},");
        }
        self.src.push_str("\n    ];\n");
    }

    /// `pub static NAME: [f32; N]` with every value written exactly (round-trip formatting).
    pub fn array_f32(&mut self, name: &str, values: &[f32]) {
        let text: Vec<String> = values.iter().map(|v| format_f32(*v)).collect();
        self.array(name, "f32", &text);
    }

    /// The generated source.
    pub fn finish(self) -> String {
        self.src
    }
}

/// An f32 literal that round-trips exactly (`{:?}` prints the shortest round-trip form).
pub fn format_f32(v: f32) -> String {
    if v.is_nan() {
        "f32::NAN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "f32::INFINITY".into()
        } else {
            "f32::NEG_INFINITY".into()
        }
    } else {
        format!("{v:?}")
    }
}
