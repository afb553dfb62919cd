//! The workspace: a SQLite file holding every imported claim, what each source skipped,
//! and the merge result between stages.
