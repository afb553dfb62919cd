//! The email importer: the app's transactional mails (and Stripe's receipts) as claims.
//!
//! Input (`path` of the source): an mbox file, a Maildir (`cur/`, `new/`), a directory of
//! `.eml` files (or of mbox files), or one `.eml`; any file may be gzip-compressed (`.gz`).
//! mbox files are streamed, one message at a time; messages are parsed in parallel in
//! batches and emitted in archive order.
//!
//! What a message says is read through the mapping file (see [`mapping`]): a list of
//! templates, each recognised by sender/subject/body and read by regexes and labels. Every
//! message ends in one bucket: extracted (records), `incomplete_email` (a template matched,
//! a required field is missing), `unmatched_email`, `unreadable_email`, or `duplicate_email`
//! (a Message-ID already seen: counted once).
//!
//! Times written without a zone are read in the business's zone, inferred from the Date
//! header offsets of all its mail (see [`zones`]); messages with such times are held back
//! in a temporary file and emitted after the rest, so output order stays deterministic.

pub mod extract;
pub mod html;
pub mod mapping;
pub mod mbox;
pub mod zones;

use crate::claims::{RecordSink, Skip};
use crate::error::{Error, Result};
use crate::import::ImportContext;
use extract::{Outcome, RawMessage};
use mapping::Mapping;
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Messages parsed together in parallel.
const BATCH: usize = 1000;
/// ... or fewer when they are big (attachments): bytes held per batch.
const BATCH_BYTES: usize = 64 << 20;
/// A single-message file larger than this is not an email.
const MAX_SINGLE: u64 = 256 << 20;

pub fn import(ctx: &ImportContext<'_>, sink: &mut dyn RecordSink) -> Result<()> {
    let path = ctx.spec.require_path()?;
    let layout = match ctx.spec.format.as_deref().map(str::trim) {
        None | Some("auto") => Layout::Auto,
        Some("mbox") => Layout::Mbox,
        Some("eml") | Some("maildir") => Layout::Eml,
        Some(other) => {
            return Err(Error::config(
                &ctx.incident.file,
                format!(
                    "source {}: format = {other:?} is not a mail layout; use auto, mbox, maildir or eml (or leave it out)",
                    ctx.spec.name
                ),
            ))
        }
    };
    let mapping = Mapping::load(ctx.spec.mapping.as_deref())?;
    let inputs = discover(path)?;
    let total: u64 = inputs
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    ctx.progress.set_length(total);
    let mut em = Emitter::new(sink, &mapping, Some(ctx.progress));
    em.layout = layout;
    for input in &inputs {
        read_input(input, path, &mut em)?;
    }
    em.finish()
}

/// Reads messages from any source into an in-memory sink (tests, small tools).
pub fn import_path(path: &Path, mapping: &Mapping, sink: &mut dyn RecordSink) -> Result<()> {
    let inputs = discover(path)?;
    let mut em = Emitter::new(sink, mapping, None);
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
    parser: mail_parser::MessageParser,
    zones: zones::ZoneObserver,
    /// Extracted messages with zone-less times, held back (on disk, one JSON line each)
    /// until every message has shown its business's Date offsets.
    spill: Option<std::io::BufWriter<std::fs::File>>,
    layout: Layout,
    batch_bytes: usize,
    /// Messages read (parsed, whatever came of them).
    messages: u64,
}

/// How files are read: sniffed (`From ` at the start means mbox), or as the source's
/// `format` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Auto,
    /// Every file is an mbox, even one that does not start with `From `.
    Mbox,
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
    ) -> Self {
        Emitter {
            seen: HashSet::new(),
            sink,
            batch: Vec::with_capacity(BATCH),
            mapping,
            progress,
            counted: 0,
            parser: mail_parser::MessageParser::default(),
            zones: zones::ZoneObserver::default(),
            spill: None,
            layout: Layout::Auto,
            batch_bytes: 0,
            messages: 0,
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
    fn finish(mut self) -> Result<()> {
        use std::io::{BufRead, Seek};
        self.flush()?;
        // Templates no message matched: named, not silent.
        if self.messages > 0 {
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
                            self.messages
                        ),
                    ))?;
                }
            }
        }
        let Some(w) = self.spill.take() else {
            return Ok(());
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
        Ok(())
    }

    fn push(&mut self, m: RawMessage) -> Result<()> {
        self.batch_bytes += m.bytes.len();
        self.batch.push(m);
        if self.batch.len() >= BATCH || self.batch_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let mapping = self.mapping;
        let parser = &self.parser;
        self.messages += batch.len() as u64;
        let outcomes: Vec<(String, Outcome)> = batch
            .into_par_iter()
            .map(|m| {
                let o = extract::process_with(&m, mapping, parser);
                (m.location, o)
            })
            .collect();
        for (location, o) in outcomes {
            if let Some(id) = o.message_id() {
                if !self.seen.insert(id.to_string()) {
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
                    ..
                } => {
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
                Outcome::Skipped { skip, .. } => self.sink.skip(skip)?,
            }
        }
        Ok(())
    }

    fn progress(&self, n: u64) {
        if let Some(p) = self.progress {
            p.inc(n);
        }
    }

    fn unreadable(&mut self, location: String, reason: String) -> Result<()> {
        self.flush()?;
        self.sink.skip(Skip {
            location,
            kind: extract::UNREADABLE.into(),
            reason,
        })
    }
}

/// The files to read, in a stable order.
fn discover(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let maildir = path.join("cur").is_dir() || path.join("new").is_dir();
    if maildir {
        // tmp/ holds messages still being delivered: not part of the archive.
        for sub in ["cur", "new"] {
            let d = path.join(sub);
            if d.is_dir() {
                walk(&d, &mut files)?;
            }
        }
    } else {
        walk(path, &mut files)?;
    }
    if files.is_empty() {
        return Err(Error::input(
            path,
            "no mail files here: give an mbox file, a Maildir (cur/, new/) or a directory of .eml files",
        ));
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::read(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

fn display(file: &Path, root: &Path) -> String {
    let rel = file
        .strip_prefix(root)
        .ok()
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new(file.file_name().unwrap_or(file.as_os_str())));
    rel.to_string_lossy().into_owned()
}

/// Reads one file: an mbox (streamed) or a single message.
fn read_input(file: &Path, root: &Path, em: &mut Emitter<'_>) -> Result<()> {
    let name = display(file, root);
    let f = crate::util::fsx::open_input(file)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let res = read_file(f, file, &name, em, len);
    let counted = std::mem::take(&mut em.counted);
    em.progress(len.saturating_sub(counted));
    res
}

fn read_file(
    f: std::fs::File,
    file: &Path,
    name: &str,
    em: &mut Emitter<'_>,
    len: u64,
) -> Result<()> {
    let gz = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let raw: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            f,
        )))
    } else {
        Box::new(f)
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
    let is_mbox = match em.layout {
        Layout::Auto => head[first..].starts_with(b"From "),
        Layout::Mbox => true,
        Layout::Eml => false,
    };
    if !is_mbox {
        let mut bytes = Vec::new();
        if em.layout == Layout::Eml && head[first..].starts_with(b"From ") {
            // The envelope line some exports put before the headers.
            let mut envelope = Vec::new();
            r.consume(first);
            let _ = r.read_until(b'\n', &mut envelope);
        }
        if let Err(e) = r.by_ref().take(MAX_SINGLE + 1).read_to_end(&mut bytes) {
            return em.unreadable(format!("{name}@0"), format!("cannot read: {e}"));
        }
        if bytes.len() as u64 > MAX_SINGLE {
            return em.unreadable(
                format!("{name}@0"),
                "larger than 256 MB and not an mbox: not an email".into(),
            );
        }
        return em.push(RawMessage {
            location: format!("{name}@0"),
            bytes,
        });
    }
    let mut reader = mbox::MboxReader::new(r);
    let mut last = 0u64;
    while let Some(item) = reader.next() {
        if !gz {
            // Progress in file bytes (a compressed file counts when done).
            let pos = reader.position().min(len);
            em.progress(pos - last);
            em.counted += pos - last;
            last = pos;
        }
        match item {
            Ok(m) => em.push(RawMessage {
                location: format!("{name}@{}", m.offset),
                bytes: m.bytes,
            })?,
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
