//! Salvage rebuilds a lost bookings-and-payments database from what survived elsewhere.
//!
//! The data flows one way (see `docs/ARCHITECTURE.md`):
//! sources -> [`import`] -> [`claims`] (workspace) -> [`merge`] -> [`export`] / [`report`].

pub mod claims;
pub mod contract;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod export;
/// Entry points of the fuzz targets in `fuzz/` (see `fuzz/README.md`); not an API.
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod incident;
pub mod linkage;
pub mod merge;
pub mod pipeline;
pub mod pull;
pub mod report;
pub mod restore;
pub mod review;
pub mod samples;
pub mod schedule;
pub mod util;

pub use error::{Error, Result};
