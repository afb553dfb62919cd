//! The Stripe importer: saved API list pages (JSON) and Dashboard CSV exports to records.
//!
//! # On-disk layout
//! `ctx.spec.path` is a directory (walked recursively, in sorted order), or one `.json`,
//! `.jsonl` or `.csv` file. The layout a pull writes, and that `salvage samples generate`
//! renders:
//! ```text
//! api/accounts/page-0001.json              GET /v1/accounts (platform), newest first
//! api/<acct_id>/customers/page-0001.json   GET /v1/customers with Stripe-Account: <acct_id>
//! api/<acct_id>/charges/page-0001.json     ... charges, payment_intents, refunds, disputes,
//!                                           checkout_sessions, events
//! exports/<acct_id>/unified_payments.csv   a Dashboard export made by that account
//! exports/<acct_id>/unified_customers.csv
//! ```
//! Only two things matter to the importer, so other layouts work too:
//! * a JSON file holds a list page (`{"object":"list","data":[...]}`), a single object, or
//!   (`.jsonl`/`.ndjson`) one of those per line; each object's `object` field says what it is;
//! * the connected account of an object is the last `acct_...` component of its path (for an
//!   event, its `account` field); none means the platform account.
//!
//! A live pull (a later `api` module) only has to write pages into this layout: the paths
//! and the page writer are in [`layout`], shared with the sample renderer.
//!
//! # What becomes what
//! * account -> business (`stripe_account`, name, email, id from the mapping's business-id
//!   metadata key, attr.timezone/country/currency);
//! * customer -> customer (`stripe_customer`, name, email, phone, created_at, ids from
//!   metadata); a deleted customer -> `deleted = 1`;
//! * charge -> payment (status from the charge's status, `disputed`, `refunded`,
//!   `amount_refunded`) plus a reservation record when the metadata or description names a
//!   reservation (so reservations made after the backup are still seen);
//! * payment_intent with a charge -> nothing (the charge says it all); without a charge ->
//!   a skip `payment_intent_without_charge` (no money moved);
//! * refund, dispute -> folded: a charge already carries `amount_refunded` and `disputed`,
//!   so they are only counted when their charge was imported; for a charge the import did
//!   not see, one payment record per charge (`stripe:<acct>/<ch>#folded`) gives
//!   `processor_id`, `amount_refunded` (sum of its refunds) and `status = disputed` when
//!   disputed;
//! * checkout.session -> customer (customer_details), plus a reservation when the mapping
//!   says what `client_reference_id` holds;
//! * event -> its `data.object`, observed at the event's time, source ref suffixed
//!   `@evt_...`;
//! * Dashboard CSV rows -> payment / customer records (amounts major -> minor units; a
//!   payments row with an empty `id` is a PaymentIntent: kept with `attr.payment_intent`
//!   and no `processor_id` when its status says money moved, else skipped like an API
//!   payment intent without a charge).
//!
//! The same object seen twice (two pulls in one directory) is imported once; the repeat is
//! a `duplicate` skip.
//!
//! # When each file was made
//! Every file is observed at the source's `exported_at` (default: the incident time),
//! unless the directory holds a `manifest.toml` giving its own: a file or folder path
//! (relative to the directory) and when it was exported; the longest path that holds a
//! file wins. Exports made on different days per account stay one source:
//! ```toml
//! [exported_at]
//! "exports/acct_1A" = "2026-11-18T09:00:00Z"
//! "exports/acct_2B/unified_payments.csv" = "2026-11-19T16:30:00Z"
//! ```
//! A path that names no file is an `unused_rule` notice; a time that is not one, an error.

pub mod dashboard;
pub mod layout;
pub mod mapping;
pub mod objects;

use crate::claims::{Entity, Record, RecordSink, Skip};
use crate::error::{Error, Result};
use crate::import::ImportContext;
use crate::util::walk;
use mapping::Mapping;
use objects::{FileOut, FoldKind, Place};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Files parsed in parallel per batch (then emitted in order).
const BATCH: usize = 64;

pub fn import(ctx: &ImportContext<'_>, sink: &mut dyn RecordSink) -> Result<()> {
    if ctx.spec.path.is_none() && ctx.spec.api_base.is_some() {
        return Err(Error::config(
            &ctx.incident.file,
            format!(
                "source {}: the Stripe API source has not been pulled; run `salvage stripe pull` \
                 (or `salvage run`, which pulls first)",
                ctx.spec.name
            ),
        ));
    }
    let root = ctx.spec.require_path()?;
    let mapping = Mapping::load(ctx.spec.require_mapping()?)?;
    let observed_at = ctx
        .spec
        .exported_at
        .clone()
        .unwrap_or_else(|| ctx.incident.incident_at.clone());
    import_path(root, &mapping, &observed_at, ctx.progress, sink)
}

/// The importer without an incident: reads `root` (directory or file) with `mapping`.
pub fn import_path(
    root: &Path,
    mapping: &Mapping,
    observed_at: &str,
    progress: &indicatif::ProgressBar,
    sink: &mut dyn RecordSink,
) -> Result<()> {
    let (files, left_out) = list_files(root)?;
    let total: u64 = files.iter().map(|(_, n)| *n).sum();
    progress.set_length(total);
    let base = if root.is_dir() {
        root.to_path_buf()
    } else {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    // Nothing to read and no pull that says why: a wrong folder, not an empty account.
    if files.is_empty() && layout::checkpoints(&base).is_empty() {
        let odd = match left_out.len() {
            0 => String::new(),
            n => format!(" ({n} entries left out: a FIFO, a dangling link, ...)"),
        };
        return Err(Error::input(
            root,
            format!("no Stripe pages or exports here (no .json, .jsonl, .ndjson or .csv file){odd}; point `path` at the folder of saved API list pages or Dashboard CSV exports"),
        ));
    }
    for s in left_out {
        sink.skip(Skip {
            location: s
                .path
                .strip_prefix(&base)
                .unwrap_or(&s.path)
                .display()
                .to_string(),
            kind: walk::UNREADABLE_ENTRY.into(),
            reason: s.reason,
        })?;
    }

    // Lists a pull could not save: named, so the report says what was not verified.
    for (path, ck) in layout::checkpoints(&base) {
        let list = format!(
            "{}/{}",
            ck.account.as_deref().unwrap_or(layout::PLATFORM),
            ck.resource
        );
        let (kind, what) = match ck.status {
            layout::PullStatus::Complete => continue,
            layout::PullStatus::Refused => ("stripe_list_refused", "Stripe refused this list"),
            layout::PullStatus::Failed => ("stripe_list_failed", "the pull gave up on this list"),
            layout::PullStatus::InProgress => (
                "stripe_list_unfinished",
                "the pull stopped before the end of this list",
            ),
        };
        let money = if [
            "charges",
            "payment_intents",
            "refunds",
            "disputes",
            "invoices",
        ]
        .contains(&ck.resource.as_str())
        {
            format!(
                "; the {} of {} are not verified against Stripe",
                ck.resource.replace('_', " "),
                ck.account.as_deref().unwrap_or("the platform")
            )
        } else {
            String::new()
        };
        sink.skip(crate::claims::Skip {
            location: format!("{} ({list})", path.display()),
            kind: kind.into(),
            reason: format!(
                "{what} after {} pages{}{money}",
                ck.pages,
                ck.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
        })?;
    }
    let manifest = Manifest::load(&base)?;
    let times: Vec<String> = files
        .iter()
        .map(|(p, _)| {
            manifest
                .time_of(p.strip_prefix(&base).unwrap_or(p))
                .unwrap_or(observed_at)
                .to_string()
        })
        .collect();
    for key in manifest.unused(&files, &base) {
        sink.skip(crate::import::unused_rule(
            &base.join(MANIFEST),
            &format!("[exported_at] {key:?}"),
            "names no file of this directory; check the path (relative to the directory)".into(),
        ))?;
    }
    let mut seen_refs: HashSet<String> = HashSet::new();
    let mut seen_charges: HashSet<(Option<String>, String)> = HashSet::new();
    let mut folds: Vec<objects::Fold> = Vec::new();
    let mut ignored: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut counts: BTreeMap<Entity, u64> = BTreeMap::new();
    // Disputed charges wait for their disputes: a charge keeps `disputed: true` after a
    // dispute it won, when the money stayed.
    let mut disputed: Vec<Record> = Vec::new();
    // Export rows wait too: a row of a charge the app did not make is not a payment.
    let mut exported: Vec<Record> = Vec::new();
    let mut not_the_apps: HashSet<String> = HashSet::new();
    for (batch, times) in files.chunks(BATCH).zip(times.chunks(BATCH)) {
        let outs: Vec<FileOut> = batch
            .par_iter()
            .zip(times.par_iter())
            .map(|((path, _), at)| read_file(mapping, &base, path, at))
            .collect();
        for out in outs {
            for r in out.records {
                if !seen_refs.insert(r.source_ref.clone()) {
                    sink.skip(crate::claims::Skip {
                        location: r.source_ref.clone(),
                        kind: "duplicate".into(),
                        reason: "the same object was already imported from an earlier file".into(),
                    })?;
                    continue;
                }
                *counts.entry(r.entity).or_default() += 1;
                if r.entity == Entity::Payment && out.from_csv {
                    exported.push(r);
                    continue;
                }
                if r.entity == Entity::Payment
                    && r.get("status").and_then(|v| v.as_text()) == Some("disputed")
                {
                    disputed.push(r);
                    continue;
                }
                sink.record(r)?;
            }
            for s in out.skips {
                sink.skip(s)?;
            }
            seen_charges.extend(out.charges);
            not_the_apps.extend(out.not_the_apps);
            folds.extend(out.folds);
            for k in out.ignored {
                *ignored.entry(k).or_default() += 1;
            }
            progress.inc(out.bytes);
        }
    }
    for r in exported {
        let charge = r.get("attr.charge").and_then(|v| v.render());
        if charge.as_ref().is_some_and(|c| not_the_apps.contains(c)) {
            sink.skip(crate::claims::Skip {
                location: r.source_ref.clone(),
                kind: "not_created_by_the_app".into(),
                reason: format!(
                    "export row of charge {}, which the business made itself ([payments] platform_charges_only)",
                    charge.unwrap_or_default()
                ),
            })?;
            continue;
        }
        if r.get("status").and_then(|v| v.as_text()) == Some("disputed") {
            disputed.push(r);
        } else {
            sink.record(r)?;
        }
    }
    let won: HashSet<(Option<String>, String)> = folds
        .iter()
        .filter(|f| f.dispute_won())
        .map(|f| (f.account.clone(), f.charge.clone()))
        .collect();
    for mut r in disputed {
        let charge = r.get("attr.charge").and_then(|v| v.render());
        let account = r.get("business.stripe_account").and_then(|v| v.render());
        if charge.is_some_and(|c| won.contains(&(account, c))) {
            let amount = r.get("amount").and_then(|v| v.as_int()).unwrap_or(0);
            let refunded = r
                .get("amount_refunded")
                .and_then(|v| v.as_int())
                .unwrap_or(0);
            let status = objects::refine("succeeded", amount, refunded, false, false);
            for (f, v) in r.fields.iter_mut() {
                if f == "status" {
                    *v = crate::claims::Value::Text(status.clone());
                }
            }
        }
        sink.record(r)?;
    }
    // Refunds and disputes of charges the import did not see: one record per charge.
    let mut by_charge: BTreeMap<(Option<String>, String), Vec<objects::Fold>> = BTreeMap::new();
    let mut folded = 0u64;
    for f in folds {
        let key = (f.account.clone(), f.charge.clone());
        if seen_charges.contains(&key) {
            folded += 1;
        } else {
            by_charge.entry(key).or_default().push(f);
        }
    }
    for ((account, charge), mut fs) in by_charge {
        fs.sort_by(|a, b| a.object_id.cmp(&b.object_id));
        fs.dedup_by(|a, b| a.object_id == b.object_id);
        let mut r = Record::new(
            Entity::Payment,
            format!(
                "stripe:{}/{charge}#folded",
                account.as_deref().unwrap_or("platform")
            ),
            fs.iter().map(|f| f.observed_at.clone()).max(),
        );
        // Each amount is at most MAX_AMOUNT (objects::fold); saturating all the same.
        let refunded: i64 = fs
            .iter()
            .filter(|f| f.kind == FoldKind::Refund)
            .fold(0i64, |sum, f| sum.saturating_add(f.amount));
        let pi = fs.iter().find_map(|f| f.payment_intent.clone());
        r.set("processor", "stripe");
        r.set(
            "processor_id",
            mapping
                .charge_processor_id(&charge, pi.as_deref())
                .to_string(),
        );
        r.set("attr.charge", charge.clone());
        r.set("business.stripe_account", account.clone());
        r.set("currency", fs.iter().find_map(|f| f.currency.clone()));
        r.set(
            "attr.payment_intent",
            fs.iter().find_map(|f| f.payment_intent.clone()),
        );
        if refunded > 0 {
            r.set("amount_refunded", refunded);
        }
        if fs
            .iter()
            .any(|f| f.kind == FoldKind::Dispute && !f.dispute_won())
        {
            r.set("status", "disputed");
            // A dispute's amount is the disputed charge's amount.
            r.set(
                "amount",
                fs.iter()
                    .find(|f| f.kind == FoldKind::Dispute)
                    .map(|f| f.amount),
            );
        }
        *counts.entry(Entity::Payment).or_default() += 1;
        sink.record(r)?;
    }
    for (rule, n) in mapping.hits() {
        sink.rule_hits(&rule, n)?;
    }
    if counts.get(&Entity::Payment).is_some_and(|n| *n > 0) {
        let objects = counts.values().sum::<u64>();
        for u in mapping.unused() {
            sink.skip(crate::import::unused_rule(
                &mapping.file,
                &u,
                format!(
                    "gave no value in any of the {objects} imported objects (an id may still have come from another key or pattern); check its spelling against an object it should match"
                ),
            ))?;
        }
    }
    tracing::info!(
        files = files.len(),
        ?counts,
        refunds_and_disputes_folded = folded,
        ?ignored,
        "stripe import done"
    );
    Ok(())
}

/// The name of a Stripe directory's manifest of export times.
pub const MANIFEST: &str = "manifest.toml";

/// `manifest.toml`: when each file or folder of a Stripe directory was exported.
#[derive(Debug, Default)]
struct Manifest {
    /// Relative path -> contract timestamp.
    exported_at: BTreeMap<PathBuf, String>,
}

impl Manifest {
    fn load(base: &Path) -> Result<Manifest> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            exported_at: BTreeMap<String, String>,
        }
        let path = base.join(MANIFEST);
        if !path.is_file() {
            return Ok(Manifest::default());
        }
        let text = crate::util::fsx::read_text(&path)?;
        let raw: Raw = crate::util::toml_file::parse(
            &text,
            &path,
            "the module docs of src/import/stripe/mod.rs",
        )?;
        let mut exported_at = BTreeMap::new();
        for (k, v) in raw.exported_at {
            let t = crate::util::time::normalize(&v, None).ok_or_else(|| {
                Error::config(
                    &path,
                    format!("[exported_at] {k:?} = {v:?} is not a timestamp; write it like 2026-11-18T09:00:00Z"),
                )
            })?;
            exported_at.insert(PathBuf::from(k.trim_matches('/')), t);
        }
        Ok(Manifest { exported_at })
    }

    /// The export time of the file at `rel`: that of the longest manifest path holding it.
    fn time_of(&self, rel: &Path) -> Option<&str> {
        self.exported_at
            .iter()
            .filter(|(k, _)| rel.starts_with(k))
            .max_by_key(|(k, _)| k.components().count())
            .map(|(_, t)| t.as_str())
    }

    /// Manifest paths that hold no file.
    fn unused(&self, files: &[(PathBuf, u64)], base: &Path) -> Vec<String> {
        self.exported_at
            .keys()
            .filter(|k| {
                !files
                    .iter()
                    .any(|(p, _)| p.strip_prefix(base).unwrap_or(p).starts_with(k))
            })
            .map(|k| k.display().to_string())
            .collect()
    }
}

/// Input files with their sizes.
type Files = Vec<(PathBuf, u64)>;

/// `(path, size)` of every input file under `root`, sorted by path, and the entries left
/// out (a FIFO, a dangling or looping link, an unreadable folder: see
/// [`crate::util::walk`]). Hidden entries are not inputs.
fn list_files(root: &Path) -> Result<(Files, Vec<walk::Skipped>)> {
    let meta = std::fs::metadata(root).map_err(|e| Error::read(root, e))?;
    if meta.is_file() {
        return Ok((vec![(root.to_path_buf(), meta.len())], Vec::new()));
    }
    let mut w = walk::Walker::new();
    let mut out: Files = w
        .files(root, false)
        .into_iter()
        .filter(|p| is_input(&p.file_name().unwrap_or_default().to_string_lossy()))
        .map(|p| {
            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            (p, len)
        })
        .collect();
    out.sort();
    Ok((out, w.take_skipped()))
}

fn is_input(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".json", ".jsonl", ".ndjson", ".csv"]
        .iter()
        .any(|e| n.ends_with(e))
}

/// The connected account a path names: its last `acct_...` component.
pub fn account_of(rel: &Path) -> Option<String> {
    rel.components()
        .filter_map(|c| c.as_os_str().to_str())
        .filter(|c| c.starts_with("acct_"))
        .map(|c| c.split('.').next().unwrap_or(c).to_string())
        .next_back()
}

/// Reads one input file completely; never fails (problems become skips).
fn read_file(m: &Mapping, base: &Path, path: &Path, observed_at: &str) -> FileOut {
    let mut out = FileOut::default();
    let rel = path.strip_prefix(base).unwrap_or(path);
    let location = rel.display().to_string();
    // The full path, so that a root inside an account's directory keeps its account.
    let account = account_of(path.parent().unwrap_or(Path::new("")));
    let file = match crate::util::fsx::open_input(path) {
        Ok(f) => f,
        Err(e) => {
            out.skip(&location, "unreadable", e.to_string());
            return out;
        }
    };
    out.bytes = file.metadata().map(|x| x.len()).unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".csv") {
        out.from_csv = true;
        dashboard::read_csv(
            m,
            BufReader::new(file),
            &name,
            &location,
            account.as_deref(),
            observed_at,
            &mut out,
        );
    } else if name.ends_with(".json") {
        match serde_json::from_reader::<_, serde_json::Value>(BufReader::new(file)) {
            Ok(v) => {
                let place = Place {
                    account: account.as_deref(),
                    location: &location,
                    ref_suffix: "",
                    observed_at,
                };
                objects::convert(m, &place, &v, &mut out);
            }
            Err(e) => out.skip(
                &format!("{location}:{}", e.line()),
                "bad_json",
                format!("not valid JSON ({e}); the file was skipped"),
            ),
        }
    } else {
        // JSON lines: one object or list page per line, streamed.
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let loc = format!("{location}:{}", n + 1);
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    out.skip(&loc, "unreadable", e.to_string());
                    break;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) => {
                    let place = Place {
                        account: account.as_deref(),
                        location: &loc,
                        ref_suffix: "",
                        observed_at,
                    };
                    objects::convert(m, &place, &v, &mut out);
                }
                Err(e) => out.skip(&loc, "bad_json", format!("not valid JSON: {e}")),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{Record, Value, VecSink};
    use serde_json::json;

    fn mapping(flavour: &str) -> Mapping {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("mappings")
            .join(flavour)
            .join("stripe.toml");
        Mapping::load(&p).unwrap()
    }

    fn run(root: &Path, m: &Mapping) -> VecSink {
        let mut sink = VecSink::default();
        import_path(
            root,
            m,
            "2026-11-20T14:30:00Z",
            &indicatif::ProgressBar::hidden(),
            &mut sink,
        )
        .unwrap();
        sink
    }

    fn text<'a>(r: &'a Record, f: &str) -> Option<&'a str> {
        r.get(f).and_then(Value::as_text)
    }

    fn write(dir: &Path, rel: &str, body: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    fn page(objs: Vec<serde_json::Value>) -> String {
        json!({"object": "list", "url": "/v1/charges", "has_more": false, "data": objs}).to_string()
    }

    fn charge(id: &str, md: serde_json::Value, description: &str) -> serde_json::Value {
        json!({"id": id, "object": "charge", "amount": 5000, "amount_refunded": 0,
               "currency": "EUR", "status": "succeeded", "refunded": false, "disputed": false,
               "created": 1_760_000_000, "customer": "cus_A", "metadata": md,
               "description": description, "payment_intent": "pi_1", "receipt_number": "1234-5678",
               "payment_method_details": {"card": {"last4": "4242"}, "type": "card"}})
    }

    /// Two refunds of i64::MAX for a charge the import did not see: summing them for the
    /// folded payment overflowed (a panic where overflow is checked, a negative total
    /// otherwise). An amount Stripe cannot hold is a `bad_object` skip with its file.
    #[test]
    fn refunds_with_impossible_amounts_are_skipped_not_summed() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "acct_S/refunds/page-0001.json",
            r#"{"object":"list","data":[
{"object":"refund","id":"re_1","charge":"ch_1","amount":9223372036854775807},
{"object":"refund","id":"re_2","charge":"ch_1","amount":9223372036854775807},
{"object":"refund","id":"re_3","charge":"ch_2","amount":-5},
{"object":"refund","id":"re_4","charge":"ch_2","amount":700}]}"#,
        );
        let sink = run(dir.path(), &mapping("bookly"));
        let bad: Vec<&str> = sink
            .skips
            .iter()
            .filter(|s| s.kind == "bad_object")
            .map(|s| s.location.as_str())
            .collect();
        assert_eq!(
            bad, ["acct_S/refunds/page-0001.json"; 3],
            "{:?}",
            sink.skips
        );
        let refunded: Vec<(&str, Option<i64>)> = sink
            .records
            .iter()
            .map(|r| {
                (
                    text(r, "attr.charge").unwrap_or(""),
                    r.get("amount_refunded").and_then(Value::as_int),
                )
            })
            .collect();
        assert_eq!(refunded, [("ch_2", Some(700))]);
    }

    /// A Dashboard export row whose Status the mapping does not know is kept without a
    /// status, and said (`unknown_status_kept`, a notice, not a skip).
    #[test]
    fn an_unknown_export_status_is_kept_and_named() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "exports/acct_S/unified_payments.csv",
            "id,Created date (UTC),Amount,Amount Refunded,Currency,Status,Customer ID\n\
ch_1,2026-09-01 10:00:00,45.00,0.00,usd,Paid,cus_1\n\
ch_2,2026-09-01 11:00:00,12.00,0.00,usd,Frobnicated,cus_2\n",
        );
        let sink = run(
            dir.path(),
            &Mapping::parse("", Path::new("s.toml")).unwrap(),
        );
        let pay: Vec<(&str, Option<&str>)> = sink
            .records
            .iter()
            .filter(|r| r.entity == Entity::Payment)
            .map(|r| (text(r, "processor_id").unwrap_or(""), text(r, "status")))
            .collect();
        assert_eq!(pay, [("ch_1", Some("succeeded")), ("ch_2", None)]);
        let notes: Vec<&str> = sink
            .skips
            .iter()
            .filter(|s| s.kind == crate::import::UNKNOWN_STATUS_KEPT)
            .map(|s| s.reason.as_str())
            .collect();
        assert_eq!(notes.len(), 1, "{:?}", sink.skips);
        assert!(notes[0].contains("\"Frobnicated\"") && notes[0].contains("csv_status"));
    }

    #[test]
    fn charges_the_business_made_itself_are_not_the_apps_when_the_mapping_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = charge("ch_app", json!({}), "");
        app["application"] = json!("ca_platform");
        let mut own = charge("ch_own", json!({}), "balance for Tom");
        own["application"] = json!(null);
        write(
            dir.path(),
            "acct_S/charges/page-0001.json",
            &page(vec![app, own]),
        );
        write(
            dir.path(),
            "acct_S/refunds/page-0001.json",
            &page(vec![
                json!({"id": "re_9", "object": "refund", "charge": "ch_own", "amount": 100, "status": "succeeded"}),
            ]),
        );
        let m = Mapping::parse(
            "[payments]\nprocessor_id = [\"charge\"]\nplatform_charges_only = true\n",
            Path::new("stripe.toml"),
        )
        .unwrap();
        let sink = run(dir.path(), &m);
        let ids: Vec<&str> = sink
            .records
            .iter()
            .filter(|r| r.entity == Entity::Payment)
            .filter_map(|r| text(r, "processor_id"))
            .collect();
        assert_eq!(ids, ["ch_app"], "nor a payment from its refund");
        assert!(sink
            .skips
            .iter()
            .any(|s| s.kind == "not_created_by_the_app" && s.reason.contains("ch_own")));
        // By default every charge is a payment.
        let all = run(
            dir.path(),
            &Mapping::parse("", Path::new("s.toml")).unwrap(),
        );
        assert_eq!(
            all.records
                .iter()
                .filter(|r| r.entity == Entity::Payment)
                .count(),
            2
        );
    }

    /// A subscription's invoice is a payment the app may have stored by its `in_` id; the
    /// invoice payment (API 2025-03 on) names the PaymentIntent that paid it.
    #[test]
    fn invoices_and_invoice_payments_link_an_invoice_to_its_payment() {
        let dir = tempfile::tempdir().unwrap();
        let inv = serde_json::json!({
            "object": "invoice", "id": "in_1", "status": "paid", "amount_paid": 6900,
            "currency": "gbp", "customer": "cus_1", "created": 1770104100, "metadata": {},
            "parent": {"subscription_details": {"metadata": {"booking_id": "77"}}}
        });
        let unpaid = serde_json::json!({
            "object": "invoice", "id": "in_2", "status": "open", "amount_paid": 0
        });
        let ip = serde_json::json!({
            "object": "invoice_payment", "id": "inpay_1", "invoice": "in_1", "status": "paid",
            "payment": {"type": "payment_intent", "payment_intent": "pi_9"}
        });
        write(
            dir.path(),
            "api/acct_1X/invoices/page-0001.json",
            &page(vec![inv, unpaid]),
        );
        write(
            dir.path(),
            "api/acct_1X/invoice_payments/page-0001.json",
            &page(vec![ip]),
        );
        let sink = run(dir.path(), &mapping("bookly"));
        let by = |r: &str| sink.records.iter().find(|x| x.source_ref == r).unwrap();
        let i = by("stripe:acct_1X/in_1#payment");
        assert_eq!(text(i, "attr.invoice"), Some("in_1"));
        // No PaymentIntent on the invoice object itself: it keeps its own money.
        assert_eq!(i.get("amount"), Some(&Value::Int(6900)));
        let p = by("stripe:acct_1X/inpay_1");
        assert_eq!(text(p, "attr.invoice"), Some("in_1"));
        assert_eq!(text(p, "attr.payment_intent"), Some("pi_9"));
        assert!(sink
            .skips
            .iter()
            .any(|k| k.kind == "unpaid_invoice" && k.reason.contains("in_2")));
    }

    #[test]
    fn fixture_charge_in_a_list_page() {
        let fx =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/stripe/fixtures3.json");
        let Ok(text_) = std::fs::read_to_string(&fx) else {
            eprintln!("skipped: {} absent", fx.display());
            return;
        };
        let all: serde_json::Value = serde_json::from_str(&text_).unwrap();
        let res = &all["resources"];
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "api/acct_1X/charges/page-0001.json",
            &page(vec![res["charge"].clone()]),
        );
        write(
            dir.path(),
            "api/acct_1X/customers/page-0001.json",
            &page(vec![res["customer"].clone()]),
        );
        write(
            dir.path(),
            "api/accounts/page-0001.json",
            &page(vec![res["account"].clone()]),
        );
        write(
            dir.path(),
            "api/acct_1X/payment_intents/page-0001.json",
            &page(vec![res["payment_intent"].clone()]),
        );
        write(
            dir.path(),
            "api/acct_1X/refunds/page-0001.json",
            &page(vec![res["refund"].clone()]),
        );
        write(
            dir.path(),
            "api/acct_1X/disputes/page-0001.json",
            &page(vec![res["dispute"].clone()]),
        );
        write(
            dir.path(),
            "api/acct_1X/checkout_sessions/page-0001.json",
            &page(vec![res["checkout.session"].clone()]),
        );
        let sink = run(dir.path(), &mapping("bookly"));
        let pay: Vec<&Record> = sink
            .records
            .iter()
            .filter(|r| r.entity == Entity::Payment)
            .collect();
        assert_eq!(pay.len(), 1, "{:#?}", sink.records);
        let p = pay[0];
        assert_eq!(p.source_ref, "stripe:acct_1X/ch_1PgafuB7WZ01zgkWXYmPNZs8");
        assert_eq!(text(p, "processor_id"), Some("ch_1PgafuB7WZ01zgkWXYmPNZs8"));
        assert_eq!(p.get("amount"), Some(&Value::Int(100)));
        assert_eq!(p.get("amount_refunded"), Some(&Value::Int(0)));
        assert_eq!(text(p, "currency"), Some("usd"));
        assert_eq!(text(p, "status"), Some("succeeded"));
        assert_eq!(text(p, "created_at"), Some("2009-02-13T23:31:30Z"));
        assert_eq!(text(p, "business.stripe_account"), Some("acct_1X"));
        assert_eq!(text(p, "attr.card_last4"), Some("4242"));
        assert_eq!(p.observed_at.as_deref(), Some("2026-11-20T14:30:00Z"));
        let b = sink
            .records
            .iter()
            .find(|r| r.entity == Entity::Business)
            .unwrap();
        assert_eq!(text(b, "stripe_account"), Some("acct_1PgafTB7WZ01zgkW"));
        assert_eq!(text(b, "email"), Some("site@stripe.com"));
        let c = sink
            .records
            .iter()
            .find(|r| r.source_ref == "stripe:acct_1X/cus_QXg1o8vcGmoR32")
            .unwrap();
        assert_eq!(text(c, "stripe_customer"), Some("cus_QXg1o8vcGmoR32"));
        // The checkout session's customer details.
        assert!(sink.records.iter().any(
            |r| r.entity == Entity::Customer && text(r, "email") == Some("example@example.com")
        ));
        // The payment intent has no charge: skipped with a reason.
        assert!(sink
            .skips
            .iter()
            .any(|s| s.kind == "payment_intent_without_charge"));
        // Refund and dispute of an imported charge are folded, not separate payments.
        assert!(!sink
            .records
            .iter()
            .any(|r| r.source_ref.ends_with("#folded")));
    }

    #[test]
    fn client_reference_id_can_hold_the_apps_payment_or_customer_id() {
        let session = |cr: &str| {
            json!({"id": "cs_1", "object": "checkout.session", "payment_status": "paid",
                   "status": "complete", "payment_intent": "pi_1", "client_reference_id": cr,
                   "customer_details": {"email": "a@b.c", "name": "A B"}, "metadata": {}})
        };
        for (holds, field, entity) in [
            ("payment_id", "id", Entity::Payment),
            ("customer_id", "id", Entity::Customer),
            ("business_id", "business_id", Entity::Payment),
        ] {
            let dir = tempfile::tempdir().unwrap();
            write(
                dir.path(),
                "api/acct_C/checkout_sessions/page-0001.json",
                &page(vec![session("app-42")]),
            );
            let m = Mapping::parse(
                &format!("[checkout]\nclient_reference_id = \"{holds}\"\n"),
                Path::new("stripe.toml"),
            )
            .unwrap();
            let sink = run(dir.path(), &m);
            let r = sink
                .records
                .iter()
                .find(|r| r.entity == entity)
                .unwrap_or_else(|| panic!("{holds}: {:#?}", sink.records));
            assert_eq!(text(r, field), Some("app-42"), "{holds}: {r:#?}");
        }
    }

    #[test]
    fn a_manifest_gives_each_export_its_own_time() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "id,Created date (UTC),Amount,Amount Refunded,Currency,Status\nch_1,2026-04-25 09:14:00,15.00,0.00,eur,Paid\n";
        write(dir.path(), "exports/acct_1A/unified_payments.csv", csv);
        write(
            dir.path(),
            "exports/acct_2B/unified_payments.csv",
            &csv.replace("ch_1", "ch_2"),
        );
        write(
            dir.path(),
            MANIFEST,
            "[exported_at]\n\"exports/acct_1A\" = \"2026-11-18T09:00:00Z\"\n\"exports/acct_9Z\" = \"2026-11-19T09:00:00Z\"\n",
        );
        let sink = run(dir.path(), &mapping("bookly"));
        let at = |ch: &str| {
            sink.records
                .iter()
                .find(|r| r.entity == Entity::Payment && r.source_ref.contains(ch))
                .and_then(|r| r.observed_at.clone())
        };
        assert_eq!(
            at("ch_1").as_deref(),
            Some("2026-11-18T09:00:00Z"),
            "from the manifest"
        );
        assert_eq!(
            at("ch_2").as_deref(),
            Some("2026-11-20T14:30:00Z"),
            "the source's time"
        );
        let manifest: Vec<_> = sink
            .unused_rules
            .iter()
            .filter(|s| s.location.contains(MANIFEST))
            .collect();
        assert_eq!(manifest.len(), 1, "{:?}", sink.unused_rules);
        assert!(manifest[0].location.contains("acct_9Z"));
        // A time that is not one stops the import with the manifest's name.
        write(
            dir.path(),
            MANIFEST,
            "[exported_at]\n\"exports\" = \"yesterday\"\n",
        );
        let mut sink = VecSink::default();
        let e = import_path(
            dir.path(),
            &mapping("bookly"),
            "2026-11-20T14:30:00Z",
            &indicatif::ProgressBar::hidden(),
            &mut sink,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("manifest.toml") && e.contains("yesterday"),
            "{e}"
        );
    }

    #[test]
    fn metadata_eras_and_descriptions() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "api/acct_B/charges/page-0001.json",
            &page(vec![
                charge(
                    "ch_new",
                    json!({"booking_ref": "BK-7Q2X9", "client_id": "7", "shop_id": "3"}),
                    "Cut",
                ),
                charge("ch_old", json!({"appointment_id": "42"}), "Cut"),
                charge("ch_desc", json!({}), "Booking BK-AB12C"),
                charge("ch_none", json!({}), "Colour at Salon"),
            ]),
        );
        let sink = run(dir.path(), &mapping("bookly"));
        let get = |id: &str| {
            sink.records
                .iter()
                .find(|r| r.entity == Entity::Payment && text(r, "processor_id") == Some(id))
                .unwrap()
        };
        let n = get("ch_new");
        assert_eq!(text(n, "reservation.reference"), Some("BK-7Q2X9"));
        assert_eq!(text(n, "customer_id"), Some("7"));
        assert_eq!(text(n, "business_id"), Some("3"));
        assert_eq!(text(n, "customer.stripe_customer"), Some("cus_A"));
        assert_eq!(text(n, "attr.payment_intent"), Some("pi_1"));
        assert_eq!(text(n, "attr.receipt_number"), Some("1234-5678"));
        assert_eq!(text(n, "currency"), Some("eur"));
        let o = get("ch_old");
        assert_eq!(text(o, "reservation_id"), Some("42"));
        assert_eq!(o.get("reservation.reference"), None);
        assert_eq!(
            text(get("ch_desc"), "reservation.reference"),
            Some("BK-AB12C")
        );
        assert_eq!(get("ch_none").get("reservation.reference"), None);
        // Reservations seen through charges.
        let res: Vec<&Record> = sink
            .records
            .iter()
            .filter(|r| r.entity == Entity::Reservation)
            .collect();
        assert_eq!(res.len(), 3);
        let r = res
            .iter()
            .find(|r| text(r, "reference") == Some("BK-7Q2X9"))
            .unwrap();
        assert_eq!(text(r, "customer_id"), Some("7"));
        assert_eq!(text(r, "business_id"), Some("3"));
        assert!(res.iter().any(|r| text(r, "id") == Some("42")));

        // Tablehop's keys, both eras, and its description form.
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "acct_T/charges.json",
            &page(vec![
                charge(
                    "ch_a",
                    json!({"reservation_code": "TH48213", "guest_id": "9", "venue_id": "2"}),
                    "x",
                ),
                charge("ch_b", json!({"booking": "TH11111"}), "x"),
                charge("ch_c", json!({}), "Table TH22222"),
            ]),
        );
        let sink = run(dir.path(), &mapping("tablehop"));
        let refs: Vec<Option<&str>> = sink
            .records
            .iter()
            .filter(|r| r.entity == Entity::Payment)
            .map(|r| text(r, "reservation.reference"))
            .collect();
        assert_eq!(
            refs,
            vec![Some("TH48213"), Some("TH11111"), Some("TH22222")]
        );
    }

    #[test]
    fn statuses_and_unseen_refunds() {
        let dir = tempfile::tempdir().unwrap();
        let mut refunded = charge("ch_r", json!({}), "");
        refunded["amount_refunded"] = json!(5000);
        refunded["refunded"] = json!(true);
        let mut partial = charge("ch_p", json!({}), "");
        partial["amount_refunded"] = json!(1000);
        let mut disputed = charge("ch_d", json!({}), "");
        disputed["disputed"] = json!(true);
        let mut failed = charge("ch_f", json!({}), "");
        failed["status"] = json!("failed");
        let mut pending = charge("ch_q", json!({}), "");
        pending["status"] = json!("pending");
        // Stripe keeps `disputed: true` on a charge whose dispute the business won.
        let mut won = charge("ch_w", json!({}), "");
        won["disputed"] = json!(true);
        write(
            dir.path(),
            "acct_S/charges/page-0001.json",
            &page(vec![refunded, partial, disputed, failed, pending, won]),
        );
        write(
            dir.path(),
            "acct_S/disputes/page-0001.json",
            &page(vec![
                json!({"id": "dp_1", "object": "dispute", "charge": "ch_w", "amount": 5000, "status": "won"}),
                json!({"id": "dp_2", "object": "dispute", "charge": "ch_d", "amount": 5000, "status": "lost"}),
            ]),
        );
        write(
            dir.path(),
            "acct_S/refunds/page-0001.json",
            &page(vec![
                json!({"id": "re_1", "object": "refund", "charge": "ch_r", "amount": 5000, "status": "succeeded"}),
                json!({"id": "re_2", "object": "refund", "charge": "ch_gone", "amount": 300, "currency": "eur", "status": "succeeded"}),
                json!({"id": "re_3", "object": "refund", "charge": "ch_gone", "amount": 200, "currency": "eur", "status": "succeeded"}),
            ]),
        );
        let sink = run(dir.path(), &mapping("bookly"));
        let st: Vec<(&str, &str)> = sink
            .records
            .iter()
            .filter(|r| r.entity == Entity::Payment)
            .map(|r| {
                (
                    text(r, "processor_id").unwrap(),
                    text(r, "status").unwrap_or("-"),
                )
            })
            .collect();
        assert_eq!(
            st,
            vec![
                ("ch_r", "refunded"),
                ("ch_p", "partially_refunded"),
                ("ch_f", "failed"),
                ("ch_q", "pending"),
                // Disputed charges come after their disputes were read.
                ("ch_d", "disputed"),
                ("ch_w", "succeeded"),
                ("ch_gone", "-"),
            ]
        );
        let gone = sink.records.last().unwrap();
        assert_eq!(gone.source_ref, "stripe:acct_S/ch_gone#folded");
        assert_eq!(gone.get("amount_refunded"), Some(&Value::Int(500)));
    }

    fn csv_line(cols: &[String], f: impl Fn(&str) -> String) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(cols.iter().map(|c| f(c))).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn csv_header_variants() {
        let fx = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/stripe/dashboard_csv_headers.json");
        let Ok(t) = std::fs::read_to_string(&fx) else {
            eprintln!("skipped: {} absent", fx.display());
            return;
        };
        let all: serde_json::Value = serde_json::from_str(&t).unwrap();
        let m = mapping("bookly");
        let payments = all["payments"].as_object().unwrap();
        assert!(payments.len() >= 5);
        for (name, v) in payments {
            let mut cols: Vec<String> = v["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            cols.push("booking_ref (metadata)".into());
            cols.push("client_id (metadata)".into());
            let row = |id: &str, amount: &str, cur: &str| {
                csv_line(&cols, |c| match c {
                    "id" => id.into(),
                    "Amount" => amount.into(),
                    "Amount Refunded" => "0.00".into(),
                    "Currency" => cur.into(),
                    "Created date (UTC)" | "Created (UTC)" => "2026-04-25 09:14:00".into(),
                    "Status" => "Paid".into(),
                    "Customer ID" => "cus_9".into(),
                    "PaymentIntent ID" => "pi_9".into(),
                    "booking_ref (metadata)" => "BK-7Q2X9".into(),
                    "client_id (metadata)" => "17".into(),
                    _ => String::new(),
                })
            };
            let mut body = csv_line(&cols, |c| c.to_string());
            body += &row("ch_1", "15.00", "usd");
            body += &row("ch_2", "1500", "jpy");
            body += &row("ch_3", "abc", "usd"); // bad amount: skipped
            body += &row("ch_4", "2.50", "eur");
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), "exports/acct_Z/unified_payments.csv", &body);
            let sink = run(dir.path(), &m);
            let recs = &sink.records;
            let pays: Vec<&Record> = recs
                .iter()
                .filter(|r| r.entity == Entity::Payment)
                .collect();
            assert_eq!(pays.len(), 3, "{name}: {:?} {:?}", recs, sink.skips);
            assert_eq!(text(pays[0], "processor_id"), Some("ch_1"), "{name}");
            assert_eq!(pays[0].get("amount"), Some(&Value::Int(1500)), "{name}");
            assert_eq!(text(pays[0], "currency"), Some("usd"), "{name}");
            assert_eq!(
                text(pays[0], "created_at"),
                Some("2026-04-25T09:14:00Z"),
                "{name}"
            );
            assert_eq!(text(pays[0], "status"), Some("succeeded"), "{name}");
            assert_eq!(
                text(pays[0], "business.stripe_account"),
                Some("acct_Z"),
                "{name}"
            );
            assert_eq!(
                text(pays[0], "reservation.reference"),
                Some("BK-7Q2X9"),
                "{name}"
            );
            assert_eq!(text(pays[0], "customer_id"), Some("17"), "{name}");
            assert_eq!(
                text(pays[0], "customer.stripe_customer"),
                Some("cus_9"),
                "{name}"
            );
            assert_eq!(pays[1].get("amount"), Some(&Value::Int(1500)), "{name}");
            assert_eq!(pays[2].get("amount"), Some(&Value::Int(250)), "{name}");
            assert_eq!(sink.skips.len(), 1, "{name}");
            assert_eq!(
                sink.skips[0].location,
                "exports/acct_Z/unified_payments.csv:4"
            );
            assert_eq!(sink.skips[0].kind, "bad_row");
            // An intent without a charge: empty id, PaymentIntent ID kept.
            if cols.iter().any(|c| c == "PaymentIntent ID") {
                let mut body = csv_line(&cols, |c| c.to_string());
                body += &row("", "15.00", "usd");
                write(dir.path(), "exports/acct_Z/unified_payments.csv", &body);
                let sink = run(dir.path(), &m);
                let p = sink
                    .records
                    .iter()
                    .find(|r| r.entity == Entity::Payment)
                    .unwrap();
                assert_eq!(p.get("processor_id"), None);
                assert_eq!(text(p, "attr.payment_intent"), Some("pi_9"));
                // ... but an abandoned one is no payment.
                let mut body = csv_line(&cols, |c| c.to_string());
                body += &row("", "15.00", "usd").replace("Paid", "requires_payment_method");
                write(dir.path(), "exports/acct_Z/unified_payments.csv", &body);
                let sink = run(dir.path(), &m);
                assert!(sink.records.is_empty(), "{name}");
                assert_eq!(
                    sink.skips[0].kind, "payment_intent_without_charge",
                    "{name}"
                );
            }
        }
        // Customers export.
        let cols: Vec<String> = all["customers"]["unified_customers.2023-09"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .chain(["client_id (metadata)".to_string()])
            .collect();
        let mut body = csv_line(&cols, |c| c.to_string());
        body += &csv_line(&cols, |c| match c {
            "id" => "cus_1".into(),
            "Email" => "Ann@X.org".into(),
            "Name" => "Ann".into(),
            "Created (UTC)" => "2026-01-02 03:04".into(),
            "client_id (metadata)" => "5".into(),
            _ => String::new(),
        });
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "acct_C/unified_customers.csv", &body);
        let sink = run(dir.path(), &m);
        let c = &sink.records[0];
        assert_eq!(c.entity, Entity::Customer);
        assert_eq!(text(c, "stripe_customer"), Some("cus_1"));
        assert_eq!(text(c, "email"), Some("Ann@X.org"));
        assert_eq!(text(c, "id"), Some("5"));
        assert_eq!(text(c, "created_at"), Some("2026-01-02T03:04:00Z"));
    }

    #[test]
    fn bad_files_are_skipped_and_the_rest_imported() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "acct_A/charges/page-0001.json",
            "{\"object\":\"list\",\n\"data\": [",
        );
        write(
            dir.path(),
            "acct_A/charges/page-0002.json",
            &page(vec![charge("ch_ok", json!({}), "")]),
        );
        write(dir.path(), "acct_A/notes.csv", "a,b\n1,2\n");
        write(dir.path(), "acct_A/stuff.json", "{\"hello\": 1}");
        // The same page saved twice: imported once.
        write(
            dir.path(),
            "acct_A/charges/page-0003.json",
            &page(vec![charge("ch_ok", json!({}), "")]),
        );
        let sink = run(dir.path(), &mapping("bookly"));
        assert_eq!(sink.records.len(), 1);
        let kinds: Vec<(&str, &str)> = sink
            .skips
            .iter()
            .map(|s| (s.location.as_str(), s.kind.as_str()))
            .collect();
        assert!(
            kinds.contains(&("acct_A/charges/page-0001.json:2", "bad_json")),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("acct_A/notes.csv", "unknown_csv")),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("acct_A/stuff.json", "bad_object")),
            "{kinds:?}"
        );
        assert!(kinds.iter().any(|(_, k)| *k == "duplicate"), "{kinds:?}");
        // A single file as the source.
        let sink = run(
            &dir.path().join("acct_A/charges/page-0002.json"),
            &mapping("bookly"),
        );
        assert_eq!(
            text(&sink.records[0], "business.stripe_account"),
            Some("acct_A")
        );
    }

    #[test]
    fn events_and_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let ev = |id: &str, created: i64, amount_refunded: i64| {
            let mut c = charge("ch_e", json!({"booking_ref": "BK-EVENT1"}), "");
            c["amount_refunded"] = json!(amount_refunded);
            json!({"id": id, "object": "event", "type": "charge.refunded", "account": "acct_E",
                   "created": created, "api_version": "2024-06-20", "data": {"object": c}})
        };
        let body = format!(
            "{}\n\n{}\nnot json\n",
            ev("evt_1", 1_760_000_100, 0),
            ev("evt_2", 1_760_000_200, 5000)
        );
        write(dir.path(), "events/all.jsonl", &body);
        let sink = run(dir.path(), &mapping("bookly"));
        let pays: Vec<&Record> = sink
            .records
            .iter()
            .filter(|r| r.entity == Entity::Payment)
            .collect();
        assert_eq!(pays.len(), 2);
        assert_eq!(pays[1].source_ref, "stripe:acct_E/ch_e@evt_2");
        assert_eq!(pays[1].observed_at.as_deref(), Some("2025-10-09T08:56:40Z"));
        assert_eq!(text(pays[1], "status"), Some("refunded"));
        assert_eq!(text(pays[0], "status"), Some("succeeded"));
        assert_eq!(text(pays[0], "business.stripe_account"), Some("acct_E"));
        assert_eq!(sink.skips.len(), 1);
        assert_eq!(sink.skips[0].location, "events/all.jsonl:4");
    }

    #[test]
    fn account_from_path() {
        assert_eq!(
            account_of(Path::new("api/acct_1/charges")).as_deref(),
            Some("acct_1")
        );
        assert_eq!(account_of(Path::new("api/accounts")), None);
        assert_eq!(
            account_of(Path::new("x/acct_1/y/acct_2")).as_deref(),
            Some("acct_2")
        );
    }
}
