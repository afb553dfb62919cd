//! The stripe importer (being written).

use crate::claims::RecordSink;
use crate::error::{Error, Result};
use crate::import::ImportContext;

pub fn import(ctx: &ImportContext<'_>, _sink: &mut dyn RecordSink) -> Result<()> {
    Err(Error::Other(format!(
        "source {}: the stripe importer is not written yet",
        ctx.spec.name
    )))
}
