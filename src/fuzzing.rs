//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden from the docs, may
//! change with the targets). Each one hands its bytes to the code the binary runs on a file
//! of that kind — the same importer function, through a real file where the importer reads
//! files — so a crash found here is a crash of `salvage import`. They return what the
//! importer returned; the targets only check that it returns.
//!
//! Inputs the importers read from a path are written to a scratch directory of this
//! process (`/dev/shm/salvage-fuzz-<pid>`, else under the system temp dir), one file at a
//! time. It is removed when the process exits normally; a crash, or libFuzzer stopped by
//! Ctrl-C (which exits without running exit handlers), leaves it behind.

use crate::claims::VecSink;
use crate::error::Result;
use crate::import::backup::{self, source};
use crate::import::email::{self, mbox};
use crate::import::stripe;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The scratch directory of this process, made on first use and removed at exit.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    extern "C" fn remove() {
        if let Some(d) = DIR.get() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    DIR.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("salvage-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("cannot make the fuzz scratch directory");
        // SAFETY: registers a plain function with no arguments; it only removes files.
        unsafe {
            libc::atexit(remove);
        }
        d
    })
}

/// Writes `data` to `rel` under the scratch directory (its folders made) and returns the path.
fn put(rel: &str, data: &[u8]) -> PathBuf {
    let p = scratch().join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("cannot make a scratch folder");
    }
    std::fs::write(&p, data).expect("cannot write the scratch file");
    p
}

/// Takes every table's rows, so the reader decodes all of them.
#[derive(Default)]
struct All {
    rows: u64,
    skips: u64,
}

impl source::Visitor for All {
    fn wants(&self, _table: &str) -> bool {
        true
    }
    fn row(&mut self, _row: source::Row<'_>) -> Result<()> {
        self.rows += 1;
        Ok(())
    }
    fn skip(&mut self, _table: Option<&str>, _skip: crate::claims::Skip) -> Result<()> {
        self.skips += 1;
        Ok(())
    }
}

/// The backup importer on a plain SQL dump: `data` as `app.sql`, first through the plain
/// reader taking every table, then through `import_input` with `mapping` (both passes and
/// the conversion), as `salvage import` reads a `kind = "backup"` source. The snapshot time
/// is read from the dump when it has a `-- Started on` line.
pub fn backup_plain(
    data: &[u8],
    mapping: &backup::mapping::Mapping,
    mapping_path: &Path,
) -> Result<VecSink> {
    let mut summary = source::Summary::default();
    let path = put("app.sql", data);
    let _ = backup::sql::scan_plain(data, &path, "app.sql", &mut summary, &mut All::default());
    backup_import(&backup::Input::Plain(path), data, mapping, mapping_path)
}

/// The backup importer on a pg_dump custom archive: `data` as `app.dump`. Archives that
/// [`backup::archive::probe`] leaves to `pg_restore` are not read (that is PostgreSQL's
/// code, and a process per input). Otherwise the native reader's SQL goes through the plain
/// reader taking every table, then `import_input` reads the file as the binary does.
pub fn backup_custom(
    data: &[u8],
    mapping: &backup::mapping::Mapping,
    mapping_path: &Path,
) -> Result<VecSink> {
    let path = put("app.dump", data);
    if backup::archive::probe(&path).is_err() {
        return Ok(VecSink::default());
    }
    let mut stream = backup::archive::NativeStream::open(&path);
    let mut summary = source::Summary::default();
    let _ = backup::sql::scan_plain(
        std::io::BufReader::new(&mut stream),
        &path,
        "app.dump[sql]",
        &mut summary,
        &mut All::default(),
    );
    let _ = stream.finish();
    backup_import(&backup::Input::Archive(path), data, mapping, mapping_path)
}

fn backup_import(
    input: &backup::Input,
    data: &[u8],
    mapping: &backup::mapping::Mapping,
    mapping_path: &Path,
) -> Result<VecSink> {
    let started_on = data.windows(13).any(|w| w == b"-- Started on");
    let mut sink = VecSink::default();
    backup::import_input(
        input,
        mapping,
        mapping_path,
        (!started_on).then_some("2026-08-22T03:00:00Z"),
        "fuzz",
        Path::new("incident.toml"),
        &indicatif::ProgressBar::hidden(),
        &mut sink,
    )?;
    Ok(sink)
}

/// Which mail archive reader [`mail_entries`] uses.
#[derive(Debug, Clone, Copy)]
pub enum MailLayout {
    Mbox,
    Mmdf,
    Babyl,
}

/// The entries one archive reader splits `data` into, with a size cap of `cap` bytes, as
/// the email importer iterates them; the first read error ends the list (the importer
/// stops the file there too).
pub fn mail_entries(layout: MailLayout, data: &[u8], cap: u64) -> Vec<mbox::MboxItem> {
    fn all(it: impl Iterator<Item = std::io::Result<mbox::MboxItem>>) -> Vec<mbox::MboxItem> {
        it.map_while(|i| i.ok()).collect()
    }
    match layout {
        MailLayout::Mbox => all(mbox::MboxReader::with_cap(data, cap)),
        MailLayout::Mmdf => all(email::mmdf::MmdfReader::with_cap(data, cap)),
        MailLayout::Babyl => all(email::babyl::BabylReader::with_cap(data, cap)),
    }
}

/// The whole email importer on one file, `data` as `mail.mbox` (its layout and compression
/// detected from its bytes, as for any file of a source), with a size cap of `cap` bytes.
pub fn mail_file(data: &[u8], mapping: &email::mapping::Mapping, cap: u64) -> Result<email::Tally> {
    let path = put("mail.mbox", data);
    let mut sink = VecSink::default();
    email::import_path_with(
        &path,
        mapping,
        &mut sink,
        &email::ReadOptions { max_message: cap },
    )
}

/// The Stripe importer on one file of a connected account's folder,
/// `acct_FUZZ/<name>` (`page-0001.json`, `events.jsonl`, `unified_payments.csv`,
/// `unified_customers.csv`: the name picks the reader), as `salvage import` reads a
/// `kind = "stripe"` source.
pub fn stripe_file(data: &[u8], name: &str, mapping: &stripe::mapping::Mapping) -> Result<VecSink> {
    let path = put(&format!("acct_FUZZ/{name}"), data);
    let mut sink = VecSink::default();
    let res = stripe::import_path(
        &path,
        mapping,
        "2026-11-20T14:30:00Z",
        &indicatif::ProgressBar::hidden(),
        &mut sink,
    );
    let _ = std::fs::remove_file(&path);
    res.map(|()| sink)
}

#[cfg(test)]
mod tests {
    //! Each entry point reaches the importer's work on a real file (not an early error), so
    //! the fuzz targets fuzz what they claim to.
    use super::*;

    fn repo(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
    }

    #[test]
    fn the_backup_entry_points_import_the_demo() {
        let mp = repo("mappings/bookly/backup.toml");
        let m = backup::mapping::Mapping::load(&mp).unwrap();
        let dump = std::fs::read(repo("samples/demo/backup/app.sql")).unwrap();
        assert!(backup_plain(&dump, &m, &mp).unwrap().records.len() > 1000);
        let archive = std::fs::read(repo("fuzz/seeds/backup_custom/tiny.dump")).unwrap();
        assert!(!backup_custom(&archive, &m, &mp).unwrap().records.is_empty());
    }

    #[test]
    fn the_mail_entry_points_split_and_extract_the_demo() {
        let mbox = std::fs::read(repo("samples/demo/mail/app.mbox")).unwrap();
        let items = mail_entries(MailLayout::Mbox, &mbox, 1 << 20);
        assert!(items.len() > 2000, "{}", items.len());
        let m = email::mapping::Mapping::load(Some(&repo("mappings/bookly/email.toml"))).unwrap();
        let t = mail_file(&mbox[..200_000], &m, 64 << 10).unwrap();
        assert!(t.extracted > 50, "{t:?}");
    }

    #[test]
    fn the_stripe_entry_point_reads_pages_and_exports() {
        let m = stripe::mapping::Mapping::load(&repo("mappings/bookly/stripe.toml")).unwrap();
        let acct = repo("samples/demo/stripe/api/acct_Be8k1GQcdcRCt6y8");
        let page = std::fs::read(acct.join("charges/page-0001.json")).unwrap();
        assert!(!stripe_file(&page, "page-0001.json", &m)
            .unwrap()
            .records
            .is_empty());
        let csv = repo("samples/demo/stripe/exports/acct_Be8k1GQcdcRCt6y8/unified_payments.csv");
        let csv = std::fs::read(csv).unwrap();
        let sink = stripe_file(&csv, "unified_payments.csv", &m).unwrap();
        assert!(!sink.records.is_empty());
    }
}
