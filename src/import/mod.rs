//! Importers: each turns one kind of source into [`Record`]s (claims) through the user's
//! mapping file. An importer knows its formats and its mapping; it never sees another
//! importer, the workspace's layout or the merge.
//!
//! Plugging in a new source: a module here with a `pub fn import(&ImportContext, &mut dyn
//! RecordSink)`, and one arm in [`import_source`].
//!
//! [`Record`]: crate::claims::Record

pub mod backup;
pub mod email;
pub mod stripe;

use crate::claims::{RecordSink, SourceKind};
use crate::error::Result;
use crate::incident::{Incident, SourceSpec};

/// What an importer gets to work with.
pub struct ImportContext<'a> {
    pub incident: &'a Incident,
    pub spec: &'a SourceSpec,
    /// Advanced by the importer as it reads (bytes or items, its choice).
    pub progress: &'a indicatif::ProgressBar,
}

/// Imports one source: the one place that knows which importer reads which kind.
pub fn import_source(ctx: &ImportContext<'_>, sink: &mut dyn RecordSink) -> Result<()> {
    match ctx.spec.kind {
        SourceKind::Backup => backup::import(ctx, sink),
        SourceKind::Stripe => stripe::import(ctx, sink),
        SourceKind::Email => email::import(ctx, sink),
    }
}
