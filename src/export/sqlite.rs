//! The contract exporter: `recovered.sqlite`, exactly the schema of `recovered-db.sql`
//! (version 1) plus additions.

use crate::error::Result;
use crate::merge::Recovered;
use std::path::Path;

/// Writes `rec` to `dest` atomically (temp file, then rename).
pub fn write(_rec: &Recovered, _dest: &Path) -> Result<()> {
    Err(crate::Error::Other("export: not written yet".into()))
}
