//! The email importer: the app's transactional mails (and Stripe's receipts) as claims.
//!
//! Input (`path` of the source): an mbox file (mboxo, mboxrd, mboxcl, mboxcl2: see
//! [`mbox`]), an MMDF file ([`mmdf`]), a Babyl file ([`babyl`]), a Maildir (`cur/`, `new/`,
//! and its Maildir++ subfolders `.Sent/` ...), an MH folder (numbered files), a directory
//! of `.eml` files (or of mbox files, as a Google Takeout's `Takeout/Mail/*.mbox`), or one
//! `.eml`; any file may be gzip- or zstd-compressed (`.gz`, `.zst`, recognised by their first bytes). Archives
//! are streamed, one message at a time and never more than the size cap
//! ([`DEFAULT_MAX_MESSAGE`], `max_message_mb` in the incident); messages are parsed in
//! parallel in batches and emitted in archive order.
//!
//! What a message says is read through the mapping file (see [`mapping`]): a list of
//! templates, each recognised by sender/subject/body and read by regexes and labels. Every
//! message ends in one bucket: extracted (records), `incomplete_email` (a template matched,
//! a required field is missing), `unmatched_email`, `unreadable_email`, `duplicate_email`
//! (a Message-ID already seen: counted once), `empty_email` (an archive entry with nothing
//! in it) or `too_big_email` (over the cap; streamed past, not read). Messages read =
//! messages extracted + messages skipped: the [`Tally`] the import logs. A Maildir's `tmp/`
//! (mail still being delivered) is not imported: each file there is an `undelivered_email`.
//!
//! Times written without a zone are read in the business's zone, inferred from the Date
//! header offsets of all its mail (see [`zones`]); messages with such times are held back
//! in a temporary file and emitted after the rest, so output order stays deterministic.

pub mod babyl;
pub mod extract;
pub mod html;
pub mod mapping;
pub mod mbox;
pub mod mmdf;
pub mod zones;

use crate::claims::{RecordSink, Skip};
use crate::error::{Error, Result};
use crate::import::ImportContext;
use crate::util::walk::{self, is_hidden as hidden, Walker};
use extract::{Outcome, RawMessage};
use mapping::Mapping;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Messages parsed together in parallel.
const BATCH: usize = 1000;
/// ... or fewer when they are big (attachments): bytes held per batch.
const BATCH_BYTES: usize = 64 << 20;
/// The message size cap when the source sets no `max_message_mb`: a message bigger than
/// this is a `too_big_email` skip, streamed past without being held in memory.
pub const DEFAULT_MAX_MESSAGE: u64 = 64 << 20;

/// Skip kind: an archive entry with nothing in it (an mbox separator followed only by
/// blank lines, an empty MMDF entry, an empty file).
pub const EMPTY: &str = "empty_email";
/// Skip kind: a message over the size cap.
pub const TOO_BIG: &str = "too_big_email";
/// Skip kind: a file in a Maildir's `tmp/` (delivery not finished): named, not imported,
/// and not counted among the messages read.
pub const UNDELIVERED: &str = "undelivered_email";

/// How the messages are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Bytes: a bigger message is skipped as `too_big_email`.
    pub max_message: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_message: DEFAULT_MAX_MESSAGE,
        }
    }
}

/// What became of the messages of a source: `read` = `extracted` + the skipped ones.
/// Stored with the source (workspace `meta` key `counts.<source>`) and logged.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Entries of the archives (messages, empty entries, unreadable stretches).
    pub read: u64,
    /// Messages that gave records.
    pub extracted: u64,
    /// Messages skipped, by skip kind.
    pub skipped: BTreeMap<String, u64>,
    /// Files in Maildir `tmp/` folders, not imported (not in `read`).
    pub undelivered: u64,
}

impl Tally {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn skip(&mut self, kind: &str) {
        if let Some(n) = self.skipped.get_mut(kind) {
            *n += 1;
        } else {
            self.skipped.insert(kind.to_string(), 1);
        }
    }

    /// "N messages read: X extracted, Y skipped (3 empty_email, 1 unmatched_email)".
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} messages read: {} extracted, {} skipped",
            self.read,
            self.extracted,
            self.skipped_total()
        );
        if !self.skipped.is_empty() {
            let kinds: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            s.push_str(&format!(" ({})", kinds.join(", ")));
        }
        if self.undelivered > 0 {
            s.push_str(&format!(
                "; {} undelivered in Maildir tmp/, not imported",
                self.undelivered
            ));
        }
        s
    }
}

pub fn import(ctx: &ImportContext<'_>, sink: &mut dyn RecordSink) -> Result<()> {
    let path = ctx.spec.require_path()?;
    let layout = match ctx.spec.format.as_deref().map(str::trim) {
        None | Some("auto") => Layout::Auto,
        Some("mbox") => Layout::Mbox,
        Some("mmdf") => Layout::Mmdf,
        Some("babyl") => Layout::Babyl,
        Some("eml") | Some("maildir") | Some("mh") => Layout::Eml,
        Some(other) => {
            return Err(Error::config(
                &ctx.incident.file,
                format!(
                    "source {}: format = {other:?} is not a mail layout; use auto, mbox, mmdf, babyl, maildir, mh or eml (or leave it out)",
                    ctx.spec.name
                ),
            ))
        }
    };
    let mapping = Mapping::load(ctx.spec.mapping.as_deref())?;
    let inputs = discover(path)?;
    let total: u64 = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File(p) | Input::Message(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Undelivered(_) | Input::Skipped(..) => None,
        })
        .sum();
    ctx.progress.set_length(total);
    let opts = ReadOptions {
        max_message: ctx
            .spec
            .max_message_mb
            .map_or(DEFAULT_MAX_MESSAGE, |mb| mb.saturating_mul(1 << 20)),
    };
    let mut em = Emitter::new(sink, &mapping, Some(ctx.progress), &opts);
    em.layout = layout;
    for input in &inputs {
        read_input(input, path, &mut em)?;
    }
    let tally = em.finish()?;
    tracing::info!("{}: {}", ctx.spec.name, tally.summary());
    sink.counts(serde_json::to_value(&tally).map_err(|e| Error::Other(e.to_string()))?)
}

/// Reads messages from any source into an in-memory sink (tests, small tools).
pub fn import_path(path: &Path, mapping: &Mapping, sink: &mut dyn RecordSink) -> Result<Tally> {
    import_path_with(path, mapping, sink, &ReadOptions::default())
}

/// [`import_path`] with other options (a smaller size cap).
pub fn import_path_with(
    path: &Path,
    mapping: &Mapping,
    sink: &mut dyn RecordSink,
    opts: &ReadOptions,
) -> Result<Tally> {
    let inputs = discover(path)?;
    let mut em = Emitter::new(sink, mapping, None, opts);
    for input in &inputs {
        read_input(input, path, &mut em)?;
    }
    em.finish()
}

struct Emitter<'a> {
    seen: HashSet<String>,
    sink: &'a mut dyn RecordSink,
    batch: Vec<RawMessage>,
    mapping: &'a Mapping,
    progress: Option<&'a indicatif::ProgressBar>,
    /// Bytes of the current file already counted in progress.
    counted: u64,
    zones: zones::ZoneObserver,
    /// Extracted messages with zone-less times, held back (on disk, one JSON line each)
    /// until every message has shown its business's Date offsets.
    spill: Option<std::io::BufWriter<std::fs::File>>,
    layout: Layout,
    batch_bytes: usize,
    /// Skips of entries that are not parsed (empty, too big, unreadable), each emitted
    /// before the batch's message at its index: archive order.
    notes: Vec<(usize, Skip)>,
    tally: Tally,
    /// The message size cap, bytes.
    cap: u64,
    /// What the parsing threads need (the mapping shares its hit counters with `mapping`).
    work: std::sync::Arc<(Mapping, mail_parser::MessageParser)>,
    /// The batch being parsed in the background while the one before it is written, with
    /// its notes: reading and writing (one thread) overlap parsing (the others).
    pending: Option<(Parsed, Vec<(usize, Skip)>)>,
}

/// A batch's outcomes, in archive order, when its parsing is done.
type Parsed = std::sync::mpsc::Receiver<Vec<(String, Outcome)>>;

/// How files are read: sniffed (`From ` at the start means mbox), or as the source's
/// `format` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Auto,
    /// Every file is an mbox, even one that does not start with `From `.
    Mbox,
    /// Every file is MMDF.
    Mmdf,
    /// Every file is Babyl (Emacs RMAIL).
    Babyl,
    /// Every file is one message (a leading `From ` envelope line is dropped).
    Eml,
}

/// A held-back message: its business key, records and zone-less times.
#[derive(serde::Serialize, serde::Deserialize)]
struct Held {
    key: String,
    records: Vec<crate::claims::Record>,
    floating: Vec<extract::Floating>,
}

impl<'a> Emitter<'a> {
    fn new(
        sink: &'a mut dyn RecordSink,
        mapping: &'a Mapping,
        progress: Option<&'a indicatif::ProgressBar>,
        opts: &ReadOptions,
    ) -> Self {
        Emitter {
            seen: HashSet::new(),
            sink,
            batch: Vec::with_capacity(BATCH),
            mapping,
            progress,
            counted: 0,
            zones: zones::ZoneObserver::default(),
            spill: None,
            layout: Layout::Auto,
            batch_bytes: 0,
            notes: Vec::new(),
            tally: Tally::default(),
            cap: opts.max_message.max(1),
            work: std::sync::Arc::new((mapping.clone(), mail_parser::MessageParser::default())),
            pending: None,
        }
    }

    fn spill_err(e: impl std::fmt::Display) -> Error {
        Error::Other(format!(
            "email import: cannot use a temporary file for held-back messages ({e}); check free space in the temp directory (TMPDIR)"
        ))
    }

    fn hold(&mut self, held: Held) -> Result<()> {
        use std::io::Write;
        if self.spill.is_none() {
            let f = tempfile::tempfile().map_err(Self::spill_err)?;
            self.spill = Some(std::io::BufWriter::new(f));
        }
        if let Some(w) = self.spill.as_mut() {
            serde_json::to_writer(&mut *w, &held).map_err(Self::spill_err)?;
            w.write_all(b"\n").map_err(Self::spill_err)?;
        }
        Ok(())
    }

    /// Flushes the last batch, then emits the held-back messages with their times read
    /// in the zone their business's mail shows (when the evidence is unanimous).
    fn finish(mut self) -> Result<Tally> {
        use std::io::{BufRead, Seek};
        self.flush()?;
        self.drain()?;
        debug_assert_eq!(
            self.tally.read,
            self.tally.extracted + self.tally.skipped_total(),
            "{:?}",
            self.tally
        );
        let tally = self.tally.clone();
        // Templates no message matched: named, not silent.
        if self.tally.read > 0 {
            let hits = self.mapping.template_hits.clone();
            let own = self.mapping.own_templates;
            let fields = self.mapping.field_hits.clone();
            for (i, t) in self.mapping.templates.iter().enumerate().take(own) {
                let matched = hits[i].load(std::sync::atomic::Ordering::Relaxed);
                self.sink
                    .rule_hits(&format!("templates[{i}] ({})", t.label()), matched)?;
                // A field that gave no value in any message its template matched.
                for (fi, f) in t.fields.iter().enumerate() {
                    if matched > 0 && fields[i][fi].load(std::sync::atomic::Ordering::Relaxed) == 0
                    {
                        self.sink.skip(crate::import::unused_rule(
                            &self.mapping.file,
                            &format!("templates[{i}] ({}) field {}", t.label(), f.name),
                            format!(
                                "gave no value in any of the {matched} messages the template matched (a capture that never matches, or a pattern, map or format that rejects every value)"
                            ),
                        ))?;
                    }
                }
                if matched == 0 {
                    self.sink.skip(crate::import::unused_rule(
                        &self.mapping.file,
                        &format!("templates[{i}] ({})", t.label()),
                        format!(
                            "matched none of the {} messages read; check its from/subject patterns against a message it should match",
                            self.tally.read
                        ),
                    ))?;
                }
            }
        }
        let Some(w) = self.spill.take() else {
            return Ok(tally);
        };
        let mut f = w.into_inner().map_err(Self::spill_err)?;
        f.rewind().map_err(Self::spill_err)?;
        let inferred = self.zones.infer();
        for line in BufReader::new(f).lines() {
            let line = line.map_err(Self::spill_err)?;
            let mut held: Held = serde_json::from_str(&line).map_err(Self::spill_err)?;
            if let (Some(cands), Some(main)) = (inferred.get(&held.key), held.records.last_mut()) {
                for fl in &held.floating {
                    if let Some(t) = zones::resolve(cands, fl.local) {
                        let v = crate::claims::Value::text(crate::util::time::format_utc(t));
                        if let Some(slot) = main.fields.iter_mut().find(|(n, _)| *n == fl.field) {
                            slot.1 = v;
                        }
                    }
                }
            }
            for r in held.records {
                self.sink.record(r)?;
            }
        }
        Ok(tally)
    }

    fn push(&mut self, m: RawMessage) -> Result<()> {
        self.batch_bytes += m.bytes.len();
        self.batch.push(m);
        if self.batch.len() >= BATCH || self.batch_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the current batch to be parsed in the background, then writes the batch
    /// before it (whose parsing ran while this one was read).
    fn flush(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let notes = std::mem::take(&mut self.notes);
        self.tally.read += batch.len() as u64;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let work = self.work.clone();
        rayon::spawn(move || {
            let (mapping, parser) = &*work;
            let outcomes: Vec<(String, Outcome)> = batch
                .into_par_iter()
                .map(|m| {
                    let o = extract::process_with(&m, mapping, parser);
                    (m.location, o)
                })
                .collect();
            // The receiver is gone only when the import already failed.
            let _ = tx.send(outcomes);
        });
        if let Some((parsed, notes)) = self.pending.replace((rx, notes)) {
            self.emit(parsed, notes)?;
        }
        Ok(())
    }

    /// Writes the batch still being parsed, if any.
    fn drain(&mut self) -> Result<()> {
        match self.pending.take() {
            Some((parsed, notes)) => self.emit(parsed, notes),
            None => Ok(()),
        }
    }

    /// Writes one parsed batch, its notes at their places: archive order.
    fn emit(&mut self, parsed: Parsed, notes: Vec<(usize, Skip)>) -> Result<()> {
        let outcomes = parsed.recv().map_err(|_| {
            Error::Other("email import: a thread parsing messages stopped (a bug: please report it with the archive's file and offset)".into())
        })?;
        let mut notes = notes.into_iter().peekable();
        for (i, (location, o)) in outcomes.into_iter().enumerate() {
            while let Some((_, skip)) = notes.next_if(|(at, _)| *at <= i) {
                self.emit_note(skip)?;
            }
            if let Some(id) = o.message_id() {
                if !self.seen.insert(id.to_string()) {
                    self.tally.skip(extract::DUPLICATE);
                    self.sink.skip(Skip {
                        location,
                        kind: extract::DUPLICATE.into(),
                        reason: format!(
                            "Message-ID <{id}> seen before in this source; counted once"
                        ),
                    })?;
                    continue;
                }
            }
            match o {
                Outcome::Extracted {
                    records,
                    zone_key,
                    date,
                    floating,
                    cleaned,
                    ..
                } => {
                    self.tally.extracted += 1;
                    for note in cleaned {
                        self.sink.skip(note)?;
                    }
                    if let (Some(k), Some((t, off))) = (&zone_key, date) {
                        self.zones.observe(k, t, off);
                    }
                    match zone_key {
                        Some(key) if !floating.is_empty() => self.hold(Held {
                            key,
                            records,
                            floating,
                        })?,
                        _ => {
                            for r in records {
                                self.sink.record(r)?;
                            }
                        }
                    }
                }
                Outcome::Skipped { skip, .. } => {
                    self.tally.skip(&skip.kind);
                    self.sink.skip(skip)?
                }
            }
        }
        for (_, skip) in notes {
            self.emit_note(skip)?;
        }
        Ok(())
    }

    /// An entry that is not parsed (empty, too big, unreadable, undelivered), in archive
    /// order: emitted with the batch it falls in (or alone when they pile up).
    fn note(&mut self, location: String, kind: &str, reason: String) -> Result<()> {
        self.notes.push((
            self.batch.len(),
            Skip {
                location,
                kind: kind.into(),
                reason,
            },
        ));
        if self.notes.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn emit_note(&mut self, skip: Skip) -> Result<()> {
        if skip.kind == UNDELIVERED {
            self.tally.undelivered += 1;
        } else {
            self.tally.read += 1;
            self.tally.skip(&skip.kind);
        }
        self.sink.skip(skip)
    }

    fn progress(&self, n: u64) {
        if let Some(p) = self.progress {
            p.inc(n);
        }
    }

    fn unreadable(&mut self, location: String, reason: String) -> Result<()> {
        self.note(location, extract::UNREADABLE, reason)
    }

    fn too_big(&mut self, location: String, size: u64) -> Result<()> {
        let mb = |b: u64| b.div_ceil(1 << 20);
        let reason = format!(
            "too big: {size} bytes (about {} MB), over the message size cap of {} MB (max_message_mb); streamed past, not read",
            mb(size),
            mb(self.cap)
        );
        self.note(location, TOO_BIG, reason)
    }
}

/// A file to read, or one only to name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    File(PathBuf),
    /// In a Maildir's `cur/` or `new/`: one message, whatever its first line looks like
    /// (a `From ` envelope line is dropped), as Python's `mailbox.Maildir` reads it.
    Message(PathBuf),
    /// In a Maildir's `tmp/`: delivery not finished, not part of the archive.
    Undelivered(PathBuf),
    /// An entry of a folder that is not a file to read (a FIFO, a dangling or looping
    /// symbolic link, an unreadable folder): named as an `unreadable_entry` skip, never
    /// opened.
    Skipped(PathBuf, String),
}

/// The files to read, in a stable order. Folders are listed through
/// [`crate::util::walk::Walker`]: regular files only, symbolic links followed, each folder
/// once; every other entry is an [`Input::Skipped`].
fn discover(path: &Path) -> Result<Vec<Input>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
    if meta.is_file() {
        return Ok(vec![Input::File(path.to_path_buf())]);
    }
    let mut files = Vec::new();
    let mut w = Walker::new();
    // A Google Takeout: its mail is Takeout/Mail/*.mbox; the rest (settings, other
    // products) is not mail.
    if let Some(mail) = takeout_mail(path, &mut Walker::new()) {
        walk(&mail, &mut w, &mut files);
        files.retain(|i| match i {
            Input::File(p) => is_mbox_name(p),
            Input::Message(_) | Input::Undelivered(_) | Input::Skipped(..) => true,
        });
    } else {
        walk(path, &mut w, &mut files);
    }
    files.extend(
        w.take_skipped()
            .into_iter()
            .map(|s| Input::Skipped(s.path, s.reason)),
    );
    if !files
        .iter()
        .any(|i| matches!(i, Input::File(_) | Input::Message(_)))
    {
        return Err(Error::input(
            path,
            "no mail files here: give an mbox file, a Maildir (cur/, new/), an MH folder or a directory of .eml or mbox files",
        ));
    }
    Ok(files)
}

/// `path/Mail` or `path/Takeout/Mail` when it holds `.mbox` files and `path` looks like a
/// Takeout (an `archive_browser.html`, or a `Takeout` folder).
fn takeout_mail(path: &Path, w: &mut Walker) -> Option<PathBuf> {
    if path.file_name().is_some_and(|n| n == "Mail")
        && path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "Takeout")
    {
        return Some(path.to_path_buf());
    }
    let root = if path.join("Takeout").is_dir() {
        path.join("Takeout")
    } else if path.file_name().is_some_and(|n| n == "Takeout")
        || path.join("archive_browser.html").is_file()
    {
        path.to_path_buf()
    } else {
        return None;
    };
    let mail = root.join("Mail");
    if !mail.is_dir() {
        return None;
    }
    let has_mbox = w.list(&mail).iter().any(|e| is_mbox_name(&e.path));
    has_mbox.then_some(mail)
}

fn is_mbox_name(p: &Path) -> bool {
    let n = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    [".mbox", ".mbox.gz", ".mbox.zst"]
        .iter()
        .any(|e| n.ends_with(e))
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

/// Sorted entries of `dir`: numbered files (MH, Maildir-less folders) by their number,
/// then the rest by name.
fn sorted_entries(dir: &Path, w: &mut Walker) -> Vec<walk::Entry> {
    let mut entries = w.list(dir);
    let key = |p: &Path| {
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match n.parse::<u64>() {
            Ok(v) if n.bytes().all(|c| c.is_ascii_digit()) => (0, v),
            _ => (1, 0),
        }
    };
    entries.sort_by(|a, b| {
        key(&a.path)
            .cmp(&key(&b.path))
            .then_with(|| a.path.cmp(&b.path))
    });
    entries
}

/// Every file under `dir`, hidden ones left out (`.mh_sequences`, `.DS_Store`), except
/// the Maildir++ folders (`.Sent/`, `.Archive.2024/`) of a Maildir.
fn walk(dir: &Path, w: &mut Walker, out: &mut Vec<Input>) {
    if !w.enter(dir) {
        return;
    }
    if is_maildir(dir) {
        return maildir(dir, w, out);
    }
    for e in sorted_entries(dir, w) {
        match e.kind {
            walk::Kind::Dir => {
                if !hidden(&e.path) || is_maildir(&e.path) {
                    walk(&e.path, w, out);
                }
            }
            walk::Kind::File if !hidden(&e.path) => out.push(Input::File(e.path)),
            walk::Kind::File => {}
        }
    }
}

/// A Maildir: `cur/` and `new/` read, `tmp/` named, then its subfolders (Maildir++
/// `.Name/`, or plain folders as some servers keep them).
fn maildir(dir: &Path, w: &mut Walker, out: &mut Vec<Input>) {
    for sub in ["cur", "new", "tmp"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        walk_files(&d, w, &mut files);
        out.extend(files.into_iter().map(|p| {
            if sub == "tmp" {
                Input::Undelivered(p)
            } else {
                Input::Message(p)
            }
        }));
    }
    for e in sorted_entries(dir, w) {
        let name = e.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if ["cur", "new", "tmp"].contains(&name) || e.kind != walk::Kind::Dir {
            continue;
        }
        if !hidden(&e.path) || is_maildir(&e.path) {
            walk(&e.path, w, out);
        }
    }
}

/// Every non-hidden file under `dir`.
fn walk_files(dir: &Path, w: &mut Walker, out: &mut Vec<PathBuf>) {
    if !w.enter(dir) {
        return;
    }
    for e in sorted_entries(dir, w) {
        if hidden(&e.path) {
            continue;
        }
        match e.kind {
            walk::Kind::Dir => walk_files(&e.path, w, out),
            walk::Kind::File => out.push(e.path),
        }
    }
}

fn display(file: &Path, root: &Path) -> String {
    let rel = file
        .strip_prefix(root)
        .ok()
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new(file.file_name().unwrap_or(file.as_os_str())));
    rel.to_string_lossy().into_owned()
}

/// Reads one file: an archive (streamed) or a single message.
fn read_input(input: &Input, root: &Path, em: &mut Emitter<'_>) -> Result<()> {
    let (file, one) = match input {
        Input::File(f) => (f, false),
        Input::Message(f) => (f, true),
        Input::Undelivered(f) => {
            let name = display(f, root);
            tracing::warn!("{name}: in a Maildir's tmp/ (delivery not finished): not imported");
            return em.note(
                format!("{name}@0"),
                UNDELIVERED,
                "in a Maildir's tmp/: a delivery that had not finished; not imported (move it to new/ to import it)".into(),
            );
        }
        Input::Skipped(f, why) => {
            return em.note(display(f, root), walk::UNREADABLE_ENTRY, why.clone());
        }
    };
    let name = display(file, root);
    let f = match crate::util::fsx::open_input(file) {
        Ok(f) => f,
        // One file of many (a Maildir's, a folder's): a skip, not the end of the import.
        Err(e) if file != root => {
            return em.unreadable(format!("{name}@0"), format!("cannot open: {e}"));
        }
        Err(e) => return Err(e),
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 && !one {
        // Counted as an empty_email skip below; an archive with nothing in it is worth
        // a word of its own (a copy that never finished?).
        tracing::warn!(
            "{}: the file is empty (0 bytes): no mail in it",
            file.display()
        );
    }
    let res = read_file(f, &name, em, len, one);
    let counted = std::mem::take(&mut em.counted);
    em.progress(len.saturating_sub(counted));
    res
}

/// How a file is compressed, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Plain,
    Gzip,
    Zstd,
}

impl Codec {
    fn sniff(head: &[u8]) -> Codec {
        if head.starts_with(&[0x1f, 0x8b]) {
            Codec::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Codec::Zstd
        } else {
            Codec::Plain
        }
    }
}

/// An archive's entries, and how far into the input its reader is.
trait Entries: Iterator<Item = std::io::Result<mbox::MboxItem>> {
    fn position(&self) -> u64;
}

impl<R: BufRead> Entries for mbox::MboxReader<R> {
    fn position(&self) -> u64 {
        mbox::MboxReader::position(self)
    }
}

impl<R: BufRead> Entries for mmdf::MmdfReader<R> {
    fn position(&self) -> u64 {
        mmdf::MmdfReader::position(self)
    }
}

impl<R: BufRead> Entries for babyl::BabylReader<R> {
    fn position(&self) -> u64 {
        babyl::BabylReader::position(self)
    }
}

/// `one`: the file is one message by its place, whatever it starts with.
fn read_file(
    f: std::fs::File,
    name: &str,
    em: &mut Emitter<'_>,
    len: u64,
    one: bool,
) -> Result<()> {
    let mut fb = BufReader::with_capacity(1 << 16, f);
    let codec = match fb.fill_buf() {
        Ok(h) => Codec::sniff(h),
        Err(e) => return em.unreadable(format!("{name}@0"), format!("cannot read: {e}")),
    };
    let raw: Box<dyn Read> = match codec {
        Codec::Plain => Box::new(fb),
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(fb)),
        Codec::Zstd => match zstd::stream::read::Decoder::with_buffer(fb) {
            Ok(d) => Box::new(d),
            Err(e) => {
                return em.unreadable(format!("{name}@0"), format!("cannot read as zstd: {e}"))
            }
        },
    };
    let mut r = BufReader::with_capacity(1 << 16, raw);
    let head = match r.fill_buf() {
        Ok(h) => h.to_vec(),
        Err(e) => {
            return em.unreadable(format!("{name}@0"), format!("cannot read: {e}"));
        }
    };
    let first = head
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(head.len());
    let layout = match em.layout {
        _ if one => Layout::Eml,
        Layout::Auto if head[first..].starts_with(b"From ") => Layout::Mbox,
        Layout::Auto if mmdf::sniff(&head) => Layout::Mmdf,
        Layout::Auto if babyl::sniff(&head) => Layout::Babyl,
        Layout::Auto => Layout::Eml,
        l => l,
    };
    // Progress in file bytes (a compressed file counts when done).
    let plain = codec == Codec::Plain;
    match layout {
        Layout::Mbox => read_entries(mbox::MboxReader::with_cap(r, em.cap), name, em, len, plain),
        Layout::Mmdf => read_entries(mmdf::MmdfReader::with_cap(r, em.cap), name, em, len, plain),
        Layout::Babyl => read_entries(
            babyl::BabylReader::with_cap(r, em.cap),
            name,
            em,
            len,
            plain,
        ),
        _ => read_single(r, first, name, em, layout == Layout::Eml),
    }
}

/// A file that is one message; `first` is where its first non-blank byte is.
/// `envelope`: a leading `From ` line is an envelope, not a header.
fn read_single(
    mut r: impl BufRead,
    first: usize,
    name: &str,
    em: &mut Emitter<'_>,
    envelope: bool,
) -> Result<()> {
    let location = format!("{name}@0");
    if envelope
        && r.fill_buf()
            .is_ok_and(|h| h[first.min(h.len())..].starts_with(b"From "))
    {
        // The envelope line some exports put before the headers.
        let mut line = Vec::new();
        r.consume(first);
        let _ = (&mut r)
            .take(mbox::LINE_MAX as u64)
            .read_until(b'\n', &mut line);
    }
    let mut bytes = Vec::new();
    if let Err(e) = r.by_ref().take(em.cap + 1).read_to_end(&mut bytes) {
        return em.unreadable(location, format!("cannot read: {e}"));
    }
    if bytes.len() as u64 > em.cap {
        drop(bytes);
        let rest = std::io::copy(&mut r, &mut std::io::sink()).unwrap_or(0);
        return em.too_big(location, em.cap + 1 + rest);
    }
    if bytes.iter().all(|c| c.is_ascii_whitespace()) {
        return em.note(location, EMPTY, "an empty file".into());
    }
    em.push(RawMessage { location, bytes })
}

fn read_entries(
    mut reader: impl Entries,
    name: &str,
    em: &mut Emitter<'_>,
    len: u64,
    plain: bool,
) -> Result<()> {
    let mut last = 0u64;
    while let Some(item) = reader.next() {
        if plain {
            let pos = reader.position().min(len).max(last);
            em.progress(pos - last);
            em.counted += pos - last;
            last = pos;
        }
        match item {
            Ok(m) => {
                let location = format!("{name}@{}", m.offset);
                match m.entry {
                    mbox::Entry::Message(bytes) => em.push(RawMessage { location, bytes })?,
                    mbox::Entry::Empty => em.note(
                        location,
                        EMPTY,
                        "an archive entry with no message in it (a separator followed only by blank lines)".into(),
                    )?,
                    mbox::Entry::TooBig { size } => em.too_big(location, size)?,
                }
            }
            Err(e) => {
                return em.unreadable(
                    format!("{name}@{}", reader.position()),
                    format!("the rest of the file cannot be read ({e}); messages before it were imported"),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
