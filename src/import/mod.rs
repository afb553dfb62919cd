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

/// The skip kind of a mapping rule that matched nothing in its source (a template no
/// message fits, a metadata key no object has, a mapped table with no rows). Not a skipped
/// input: a rule that may be wrong, named so that silence is never taken for success.
pub const UNUSED_RULE: &str = "unused_rule";
/// A row read in the mapping's fallback zone because its business's zone is unknown
/// (a notice: the row is kept).
pub const ZONE_FALLBACK: &str = "zone_fallback";
/// A Stripe export row whose status word the mapping does not know (kept, without status).
pub const UNKNOWN_STATUS_KEPT: &str = "unknown_status_kept";

/// A value cleaned on the way in (control characters removed, cut to a length cap): the
/// record is kept.
pub const VALUE_CLEANED: &str = "value_cleaned";

/// Kinds of skip that are notices: the input was kept, only something about it is said.
/// They are stored and reported with the skips but not counted as skipped input.
pub fn is_notice(kind: &str) -> bool {
    matches!(
        kind,
        UNUSED_RULE | ZONE_FALLBACK | UNKNOWN_STATUS_KEPT | VALUE_CLEANED
    )
}

/// A rule of the mapping file `mapping` that matched nothing: `rule` names it as the file
/// does (`templates[3] (booking_confirmed)`), `reason` says what it was tried on.
pub fn unused_rule(mapping: &std::path::Path, rule: &str, reason: String) -> crate::claims::Skip {
    crate::claims::Skip {
        location: format!("{}: {rule}", mapping.display()),
        kind: UNUSED_RULE.into(),
        reason,
    }
}

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
        // The incident loader refuses it as a source kind; decisions are `decisions = "file"`.
        SourceKind::Review => Err(crate::error::Error::Other(
            "review decisions are not a source; name the file with `decisions = \"...\"` in the incident file".into(),
        )),
    }
}
