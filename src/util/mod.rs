//! Small shared helpers: time, money, stable ids, atomic output files, read-only input files,
//! safe listing of source folders.

pub mod fsx;
pub mod ids;
pub mod money;
pub mod outset;
pub mod time;
pub mod toml_file;
pub mod walk;
