//! `salvage samples generate`: a realistic incident with its truth. The only module that
//! knows sample apps (see [`world::Flavour`]).
//!
//! Output layout of `generate` (paths relative to `--out`):
//! `incident.toml`, `truth.sqlite`, `backup/` (pg_dump), `stripe/` (API pages, Dashboard
//! exports), `mail/` (mbox), `mappings/` (copies, unless the caller points at a mapping dir).

pub mod backup;
pub mod mail;
pub mod simulate;
pub mod stripe;
pub mod truth;
pub mod world;

use crate::error::Result;
use std::path::PathBuf;

/// What `salvage samples generate` asks for.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub businesses: usize,
    pub seed: u64,
    pub flavour: world::Flavour,
    pub out: PathBuf,
    /// Use a real PostgreSQL (initdb + pg_dump) when one is installed.
    pub real_pg_dump: bool,
    /// Refer to mapping files in this directory instead of writing copies into `out/mappings`.
    pub mapping_dir: Option<PathBuf>,
}

/// What was generated, for the command's summary.
#[derive(Debug, Clone, Default)]
pub struct GenerateSummary {
    pub lines: Vec<String>,
}

pub fn generate(_opts: &GenerateOptions) -> Result<GenerateSummary> {
    Err(crate::Error::Other(
        "samples generate: not written yet".into(),
    ))
}
