//! The host side of tinytune: data loading, the quantization and export pipeline, and the
//! `tinytune` command line built on them. Everything here runs under std.

pub mod app;
pub mod csv;
pub mod model;
pub mod quantize;
pub mod safetensors;
pub mod ttm;
