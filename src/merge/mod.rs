//! The merge engine: claims in, [`Recovered`] out. No I/O, deterministic.

pub mod model;

pub use model::{Provenance, Recovered, ReviewItem, Row};
