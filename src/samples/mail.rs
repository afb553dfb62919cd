//! Renders the mail wreckage of a [`World`](super::world::World) (being written).

use super::world::World;
use crate::error::Result;
use std::path::Path;

/// Writes this source's files under `out` (the incident directory).
pub fn render(_world: &World, _out: &Path) -> Result<()> {
    Ok(())
}
