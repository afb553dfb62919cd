//! `salvage samples generate`: a realistic incident with its truth. The only module that
//! knows sample apps (see [`world::Flavour`]).
//!
//! Output layout of `generate` (paths relative to `--out`):
//! `incident.toml`, `truth.sqlite`, `backup/` (pg_dump), `stripe/` (API pages, Dashboard
//! exports), `mail/` (mbox), `mappings/` (copies, unless the caller points at a mapping dir).
//! Zenda's backup is a pg_dump directory archive (`backup/<name>/toc.dat`, see
//! [`zenda::backup::ARCHIVE_DIR`]) and its mail a Maildir tree (`mail/<folder>/cur/`).

pub mod backup;
pub mod bench;
pub mod calibrate;
pub mod habits;
pub mod kelpie;
pub mod mail;
pub mod pedalry;
pub mod people;
pub mod simulate;
pub mod stripe;
pub mod stripe_server;
pub mod truth;
pub mod world;
pub mod zenda;

use crate::error::{Error, Result};
use crate::util::fsx::write_atomic;
use crate::util::time::format_utc;
use std::path::{Path, PathBuf};

/// What `salvage samples generate` asks for.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub businesses: usize,
    pub seed: u64,
    pub flavour: world::Flavour,
    /// How much each business holds.
    pub density: simulate::Density,
    pub out: PathBuf,
    /// Use a real PostgreSQL (initdb + pg_dump) when one is installed.
    pub real_pg_dump: bool,
    /// Refer to mapping files in this directory instead of writing copies into `out/mappings`.
    pub mapping_dir: Option<PathBuf>,
}

/// What was generated, for the command's summary.
#[derive(Debug, Clone, Default)]
pub struct GenerateSummary {
    pub lines: Vec<String>,
}

/// The mapping files of each flavour, built into the binary (`mappings/<flavour>/*.toml`).
pub fn mapping_files(flavour: world::Flavour) -> [(&'static str, &'static str); 3] {
    match flavour {
        world::Flavour::Bookly => [
            (
                "backup.toml",
                include_str!("../../mappings/bookly/backup.toml"),
            ),
            (
                "stripe.toml",
                include_str!("../../mappings/bookly/stripe.toml"),
            ),
            (
                "email.toml",
                include_str!("../../mappings/bookly/email.toml"),
            ),
        ],
        world::Flavour::Tablehop => [
            (
                "backup.toml",
                include_str!("../../mappings/tablehop/backup.toml"),
            ),
            (
                "stripe.toml",
                include_str!("../../mappings/tablehop/stripe.toml"),
            ),
            (
                "email.toml",
                include_str!("../../mappings/tablehop/email.toml"),
            ),
        ],
        world::Flavour::Kelpie => [
            (
                "backup.toml",
                include_str!("../../mappings/kelpie/backup.toml"),
            ),
            (
                "stripe.toml",
                include_str!("../../mappings/kelpie/stripe.toml"),
            ),
            (
                "email.toml",
                include_str!("../../mappings/kelpie/email.toml"),
            ),
        ],
        world::Flavour::Pedalry => [
            (
                "backup.toml",
                include_str!("../../mappings/pedalry/backup.toml"),
            ),
            (
                "stripe.toml",
                include_str!("../../mappings/pedalry/stripe.toml"),
            ),
            (
                "email.toml",
                include_str!("../../mappings/pedalry/email.toml"),
            ),
        ],
        world::Flavour::Zenda => [
            (
                "backup.toml",
                include_str!("../../mappings/zenda/backup.toml"),
            ),
            (
                "stripe.toml",
                include_str!("../../mappings/zenda/stripe.toml"),
            ),
            (
                "email.toml",
                include_str!("../../mappings/zenda/email.toml"),
            ),
        ],
    }
}

/// The world `generate` would render for these options (for tests and tools).
pub fn generate_world(opts: &GenerateOptions) -> world::World {
    simulate::simulate_at(opts.businesses, opts.seed, opts.flavour, opts.density)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The text of `incident.toml` for a generated incident whose mapping files are at
/// `mapping_dir` (relative to the incident directory, or absolute).
pub fn incident_toml(name: &str, w: &world::World, mapping_dir: &Path) -> String {
    let incident = format_utc(w.incident_at);
    let m = |f: &str| toml_str(&mapping_dir.join(f).to_string_lossy());
    format!(
        "# A generated incident ({flavour}, seed {seed}). Paths are relative to this file.\n\
         name = {name}\n\
         incident_at = \"{incident}\"\n\
         \n\
         [[sources]]\n\
         name = \"nightly-backup\"\n\
         kind = \"backup\"\n\
         path = \"{backup_path}\"\n\
         mapping = {mb}\n\
         snapshot_at = \"{snapshot}\"\n\
         \n\
         [[sources]]\n\
         name = \"stripe\"\n\
         kind = \"stripe\"\n\
         path = \"stripe\"\n\
         mapping = {ms}\n\
         exported_at = \"{incident}\"\n\
         \n\
         [[sources]]\n\
         name = \"mail-archive\"\n\
         kind = \"email\"\n\
         path = \"mail\"\n\
         mapping = {me}\n\
         \n\
         {rules}",
        flavour = w.flavour.name(),
        seed = w.seed,
        backup_path = match w.flavour {
            world::Flavour::Zenda => format!("backup/{}", zenda::backup::ARCHIVE_DIR),
            _ => "backup/app.sql".to_string(),
        },
        name = toml_str(name),
        snapshot = format_utc(w.backup_at),
        mb = m("backup.toml"),
        ms = m("stripe.toml"),
        me = m("email.toml"),
        rules = match w.flavour {
            world::Flavour::Kelpie => {
                "# The app's own rules: a `booked` whose slot has ended counts as done.\n\
                 [rules]\n\
                 completed_hours_after_end = 0\n"
            }
            world::Flavour::Pedalry => {
                "# The app's own rules: a booking is `returned` only when the shop checks the\n\
                 # bikes in; nothing turns `booked` or `out` into done by itself.\n\
                 [rules]\n"
            }
            world::Flavour::Zenda => {
                "# The app's own rules: a spot still `reserved` once its session has ended counts\n\
                 # as attended (nobody took attendance).\n\
                 [rules]\n\
                 completed_hours_after_end = 0\n"
            }
            _ => {
                "# The app's own rules: its nightly job marks a confirmed booking completed a few\n\
                 # hours after the slot ends.\n\
                 [rules]\n\
                 completed_hours_after_end = 4\n"
            }
        },
    )
}

/// Simulates a world and writes its truth, its wreckage and an incident file under
/// `opts.out`.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary> {
    let out = &opts.out;
    let mkdir = |p: &Path| {
        std::fs::create_dir_all(p).map_err(|e| Error::Write {
            path: p.to_path_buf(),
            cause: e,
        })
    };
    mkdir(out)?;
    let w = generate_world(opts);
    let rec = truth::truth(&w);
    crate::export::sqlite::write(&rec, &out.join("truth.sqlite"))?;
    truth::write_aliases(&w, &out.join("truth.sqlite"))?;
    for d in ["backup", "stripe", "mail"] {
        mkdir(&out.join(d))?;
    }
    backup::render_with(&w, out, opts.real_pg_dump)?;
    stripe::render(&w, out)?;
    mail::render(&w, out)?;
    let mapping_dir = match &opts.mapping_dir {
        Some(dir) => dir.clone(),
        None => {
            let dir = out.join("mappings");
            for (file, text) in mapping_files(opts.flavour) {
                write_atomic(&dir.join(file), text.as_bytes())?;
            }
            PathBuf::from("mappings")
        }
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .unwrap_or_else(|| opts.flavour.name().to_string());
    write_atomic(
        &out.join("incident.toml"),
        incident_toml(&name, &w, &mapping_dir).as_bytes(),
    )?;

    let count = |n: usize, total: usize| {
        if n == total {
            format!("{n}")
        } else {
            format!("{n} (of {total} ever)")
        }
    };
    let statuses = truth::reservation_status_counts(&rec)
        .into_iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (n_customers, n_reservations, n_payments) = match w.zenda.as_deref() {
        Some(z) => (z.members.len(), z.spots.len(), z.purchases.len()),
        None => (w.customers.len(), w.reservations.len(), w.payments.len()),
    };
    let lines = vec![
        format!("flavour: {}, seed: {}", w.flavour.name(), w.seed),
        format!(
            "incident_at: {}, backup snapshot: {}",
            format_utc(w.incident_at),
            format_utc(w.backup_at)
        ),
        format!("businesses: {}", rec.businesses.len()),
        format!("customers: {}", count(rec.customers.len(), n_customers)),
        format!(
            "reservations: {} ({statuses})",
            count(rec.reservations.len(), n_reservations)
        ),
        format!("payments: {}", count(rec.payments.len(), n_payments)),
        format!("truth: {}", out.join("truth.sqlite").display()),
        format!("incident: {}", out.join("incident.toml").display()),
    ];
    Ok(GenerateSummary { lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(dir: &Path, mapping_dir: Option<PathBuf>) -> GenerateOptions {
        GenerateOptions {
            businesses: 4,
            seed: 42,
            flavour: world::Flavour::Bookly,
            density: Default::default(),
            out: dir.to_path_buf(),
            real_pg_dump: false,
            mapping_dir,
        }
    }

    #[test]
    fn generates_truth_incident_and_mappings() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        let s = generate(&opts(&out, None)).unwrap();
        assert!(
            s.lines.iter().any(|l| l == "businesses: 4"),
            "{:?}",
            s.lines
        );
        assert!(out.join("truth.sqlite").is_file());
        for f in ["backup.toml", "stripe.toml", "email.toml"] {
            assert!(out.join("mappings").join(f).is_file());
        }
        let text = std::fs::read_to_string(out.join("incident.toml")).unwrap();
        assert!(text.contains("name = \"demo\""), "{text}");
        assert!(
            text.contains("snapshot_at = \"2026-08-22T03:00:00Z\""),
            "{text}"
        );
        assert!(
            text.contains("mapping = \"mappings/backup.toml\""),
            "{text}"
        );
        // The renderers may not have written their files yet: parse once they exist.
        if !out.join("backup/app.sql").exists() {
            std::fs::write(out.join("backup/app.sql"), "").unwrap();
        }
        let inc = crate::incident::Incident::load(&out.join("incident.toml")).unwrap();
        assert_eq!(inc.incident_at, "2026-11-20T14:30:00Z");
        assert_eq!(inc.sources.len(), 3);
        assert_eq!(
            inc.sources[1].exported_at.as_deref(),
            Some("2026-11-20T14:30:00Z")
        );
    }

    #[test]
    fn refers_to_a_given_mapping_dir() {
        let w = simulate::simulate(1, 1, world::Flavour::Tablehop);
        let text = incident_toml("x", &w, Path::new("../../mappings/tablehop"));
        assert!(text.contains("mapping = \"../../mappings/tablehop/email.toml\""));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t");
        generate(&opts(&out, Some(PathBuf::from("../m")))).unwrap();
        assert!(!out.join("mappings").exists());
        let text = std::fs::read_to_string(out.join("incident.toml")).unwrap();
        assert!(text.contains("mapping = \"../m/stripe.toml\""));
    }
}
