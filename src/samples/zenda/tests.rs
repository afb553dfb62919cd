use super::*;
use crate::samples::simulate::Density;
use std::collections::BTreeMap;
use std::io::Read;

/// A small world (a fifth as busy) for the renderers.
fn small(seed: u64) -> World {
    sim::simulate_scaled(8, seed, Density::Current, 0.2)
}

#[test]
fn same_seed_same_world() {
    let a = serde_json::to_string(&small(3)).unwrap();
    assert_eq!(a, serde_json::to_string(&small(3)).unwrap());
    assert_ne!(a, serde_json::to_string(&small(4)).unwrap());
}

/// The brief's 40 studios: 3 internal, 2 closed, 2 onboarded after the backup, volumes
/// near the brief's, the mess at roughly its rates.
#[test]
fn the_briefs_shape() {
    let w = simulate(40, 5);
    let z = of(&w);
    let t = w.incident_at;
    let b = w.backup_at;
    assert_eq!(z.studios.len(), 40);
    assert_eq!(z.studios.iter().filter(|s| s.internal()).count(), 3);
    assert_eq!(
        z.studios.iter().filter(|s| s.closed_at.is_some()).count(),
        2
    );
    assert_eq!(
        z.studios
            .iter()
            .filter(|s| s.created_at > b && !s.internal())
            .count(),
        2
    );
    assert!(z.studios.iter().any(|s| s.slug == "studio-mantra-test"));
    assert!(z.studios.iter().any(|s| s.slug == "studio-mantra-krakow"));
    let named = |n: &str| z.studios.iter().filter(|s| s.name_at(b) == n).count();
    assert!(named("Pilates Loft") >= 2);
    assert!(named("Joga Centrum") >= 2);
    assert!(named("Yoga Space") >= 2);
    assert!(z.studios.iter().any(|s| s.category == "kids"));
    assert!(z.studios.iter().any(|s| !s.former_names.is_empty()));
    for s in &z.studios {
        assert_eq!(s.currency, s.currency.to_uppercase());
        assert_eq!(s.internal(), s.stripe_account.is_none());
    }
    // Volumes of an established studio (~150–400 members, ~1,200–2,500 spots).
    let old: Vec<&Studio> = z
        .studios
        .iter()
        .filter(|s| !s.internal() && s.closed_at.is_none() && s.created_at < utc(2022, 1, 1, 0, 0))
        .collect();
    let per = |n: usize| n / old.len().max(1);
    let members = per(z
        .members
        .iter()
        .filter(|m| old.iter().any(|s| s.id == m.studio_id))
        .count());
    let spots = per(z
        .spots
        .iter()
        .filter(|sp| old.iter().any(|s| s.id == z.member(sp.member_id).studio_id))
        .count());
    let purchases = per(z
        .purchases
        .iter()
        .filter(|p| old.iter().any(|s| s.id == p.studio_id))
        .count());
    assert!((150..=400).contains(&members), "{members}");
    assert!((1200..=2600).contains(&spots), "{spots}");
    assert!((500..=1400).contains(&purchases), "{purchases}");
    // ~8 % of people are members of 2+ studios; walk-ins merged and not; erasures.
    let mut studios_of: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for m in z.members.iter().filter(|m| !m.kid) {
        if let Some(p) = m.person_id {
            studios_of.entry(p).or_default().insert(m.studio_id);
        }
    }
    let multi = studios_of.values().filter(|s| s.len() > 1).count() as f64;
    let share = multi / studios_of.len() as f64;
    assert!((0.03..0.15).contains(&share), "{share}");
    let merged = z.members.iter().filter(|m| m.merged_into.is_some()).count();
    assert!(merged > 50, "{merged}");
    for m in z.members.iter().filter(|m| m.merged_into.is_some()) {
        assert!(m.person_id.is_none() && m.archived_at.is_some());
        let s = z.member(m.merged_into.unwrap().0);
        assert!(s.person_id.is_some() && s.studio_id == m.studio_id);
    }
    assert!(z.members.iter().any(|m| m.anonymised_at.is_some()));
    assert!(z.members.iter().any(|m| m.kid));
    // Every spot's versions are in order, nothing after the incident.
    for sp in &z.spots {
        assert!(sp.versions.windows(2).all(|v| v[0].at <= v[1].at));
        assert!(sp.versions.iter().all(|v| v.at <= t));
        assert_eq!(sp.id.len(), 36);
        assert_eq!(&sp.id[14..15], "4");
    }
    for sp in &z.spots {
        assert!(sp.created_at >= z.member(sp.member_id).created_at);
    }
    for p in &z.purchases {
        if let Some(m) = p.member_id {
            assert!(p.created_at >= z.member(m).created_at, "{p:?}");
        }
        assert!(p.created_at <= t);
        assert!(p.refunds.iter().all(|r| r.at <= t));
        assert!(p.refunds.iter().map(|r| r.amount).sum::<i64>() <= p.amount);
        if p.studio_id > 0 && z.studio(p.studio_id).currency == "CZK" {
            assert_eq!(p.amount % 100, 0, "whole koruna: {p:?}");
        }
    }
    // Spots archived, moved, waitlisted, post-backup; rates of the states.
    assert!(z
        .spots
        .iter()
        .any(|s| s.archived_at.is_some_and(|a| a <= b)));
    assert!(z
        .spots
        .iter()
        .any(|s| s.versions.iter().any(|v| v.ev == SpotEv::Moved)));
    let post = z.spots.iter().filter(|s| s.created_at > b).count();
    assert!(post > 2000, "{post}");
    let only_mail = z
        .spots
        .iter()
        .filter(|s| s.created_at > b)
        .filter(|s| {
            matches!(
                s.versions[0].paid_with,
                PaidWith::BenefitCard | PaidWith::Pass | PaidWith::Membership
            )
        })
        .count();
    assert!(only_mail > 500, "{only_mail}");
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for sp in &z.spots {
        *states.entry(sp.at(t).unwrap().state.as_str()).or_insert(0) += 1;
    }
    let n = z.spots.len() as f64;
    let rate = |s: &str| states.get(s).copied().unwrap_or(0) as f64 / n;
    assert!((0.09..0.16).contains(&rate("cancelled")), "{states:?}");
    assert!((0.02..0.06).contains(&rate("late_cancel")), "{states:?}");
    assert!((0.03..0.08).contains(&rate("no_show")), "{states:?}");
    assert!(rate("class_cancelled") > 0.005, "{states:?}");
    assert!(rate("removed") > 0.001, "{states:?}");
    // Purchases: every channel, expired checkouts, failures, cash, disputes.
    let ch = |c: Channel| z.purchases.iter().filter(|p| p.channel == c).count();
    for c in [
        Channel::Legacy,
        Channel::Checkout,
        Channel::Invoice,
        Channel::Terminal,
        Channel::OffSession,
    ] {
        assert!(ch(c) > 20, "{c:?}");
    }
    let status = |s: &str| {
        z.purchases
            .iter()
            .filter(|p| p.status_at(t) == Some(s))
            .count()
    };
    for s in ["expired", "failed", "void", "refunded", "refunded_partial"] {
        assert!(status(s) > 0, "{s}");
    }
    assert!(z.purchases.iter().any(|p| p.dispute.is_some()));
    assert!(z
        .purchases
        .iter()
        .any(|p| p.method == PMethod::BankTransfer));
    assert!(z
        .purchases
        .iter()
        .any(|p| p.method == PMethod::CreditBalance));
    assert!(!z.legacy_declines.is_empty());
}

/// The truth follows the brief's recovery rules.
#[test]
fn truth_follows_the_rules() {
    let w = simulate(40, 5);
    let z = of(&w);
    let t = w.incident_at;
    let ts = format_utc(t);
    let rec = truth(&w);
    let internal: BTreeSet<String> = z
        .studios
        .iter()
        .filter(|s| s.internal())
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(rec.businesses.len(), 37);
    let customers: BTreeSet<&str> = rec.customers.iter().map(|r| r.id.as_str()).collect();
    let reservations: BTreeSet<&str> = rec.reservations.iter().map(|r| r.id.as_str()).collect();
    for r in rec
        .customers
        .iter()
        .chain(&rec.reservations)
        .chain(&rec.payments)
    {
        assert!(!internal.contains(r.text("business_id").unwrap()), "{r:?}");
        if let Some(c) = r.text("customer_id") {
            assert!(customers.contains(c), "dangling customer {c}");
        }
    }
    // Merged walk-ins are gone; their spots belong to the survivor.
    for m in z.members.iter().filter(|m| m.merged_by(t).is_some()) {
        assert!(!customers.contains(m.id.to_string().as_str()));
    }
    let by_id: HashMap<&str, &Spot> = z.spots.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rec.reservations {
        let st = r.text("status").unwrap();
        *statuses.entry(st).or_insert(0) += 1;
        let sp = by_id[r.id.as_str()];
        let v = sp.at(t).unwrap();
        assert_ne!(v.state, SpotState::Removed);
        let starts = r.text("starts_at").unwrap();
        match st {
            "completed" | "no_show" => assert!(starts < ts.as_str(), "{r:?}"),
            "pending" => assert_eq!(v.state, SpotState::Waitlisted),
            _ => {}
        }
        if v.state == SpotState::Reserved {
            let ends = r.text("ends_at").unwrap();
            assert_eq!(st == "completed", ends < ts.as_str(), "{r:?}");
        }
        let owner = z.owner_at(sp.member_id, t);
        assert_eq!(r.text("customer_id"), Some(owner.to_string().as_str()));
        assert!(r.text("reference").is_none());
    }
    for s in ["pending", "confirmed", "cancelled", "completed", "no_show"] {
        assert!(
            statuses.get(s).copied().unwrap_or(0) > 0,
            "{s}: {statuses:?}"
        );
    }
    // Reserved past spots (nobody took attendance) are a third of the past ones.
    let by_p: HashMap<&str, &Purchase> = z.purchases.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut pst: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rec.payments {
        let p = by_p[r.id.as_str()];
        let st = r.text("status").unwrap();
        *pst.entry(st).or_insert(0) += 1;
        assert!(!matches!(
            p.status_at(t),
            Some("expired") | Some("void") | None
        ));
        assert_ne!(p.method, PMethod::CreditBalance);
        let amount = r.get("amount").and_then(|v| v.as_int()).unwrap();
        let refunded = r.get("amount_refunded").and_then(|v| v.as_int()).unwrap();
        assert!(refunded <= amount);
        match (r.text("processor").unwrap(), r.text("processor_id")) {
            ("stripe", Some(id)) => {
                let want = match p.channel {
                    Channel::Legacy => "ch_",
                    Channel::Checkout => "cs_live_",
                    Channel::Invoice => "in_",
                    _ => "pi_",
                };
                assert!(id.starts_with(want), "{r:?}");
            }
            ("cash", None) => assert_eq!(p.method, PMethod::Cash),
            ("bank_transfer", None) => assert_eq!(p.method, PMethod::BankTransfer),
            other => panic!("{other:?}: {r:?}"),
        }
        if let Some(res) = r.text("reservation_id") {
            assert!(reservations.contains(res));
        }
        assert_eq!(
            r.text("currency").unwrap(),
            z.studio(p.studio_id).currency.to_lowercase()
        );
    }
    for s in [
        "succeeded",
        "failed",
        "refunded",
        "partially_refunded",
        "disputed",
    ] {
        assert!(pst.contains_key(s), "{s}: {pst:?}");
    }
    // Anonymised customers come back without name, email or phone.
    for m in z
        .members
        .iter()
        .filter(|m| m.anonymised_at.is_some_and(|a| a <= t))
    {
        if let Some(r) = rec.customers.iter().find(|r| r.id == m.id.to_string()) {
            assert_eq!(r.text("name"), Some(ANONYMISED));
            assert!(r.text("email").is_none() && r.text("phone").is_none());
        }
    }
    // Emails are lower case and trimmed; phones E.164.
    for r in &rec.customers {
        if let Some(e) = r.text("email") {
            assert_eq!(e, e.trim().to_lowercase());
        }
        if let Some(p) = r.text("phone") {
            assert!(
                p.starts_with('+') && p[1..].chars().all(|c| c.is_ascii_digit()),
                "{p}"
            );
        }
    }
    // The aliases name truth customers.
    let al = aliases(&w);
    assert!(!al.is_empty());
}

fn read_int(b: &[u8], p: &mut usize) -> i64 {
    let sign = b[*p];
    let v = u32::from_le_bytes([b[*p + 1], b[*p + 2], b[*p + 3], b[*p + 4]]) as i64;
    *p += 5;
    if sign != 0 {
        -v
    } else {
        v
    }
}

fn read_str(b: &[u8], p: &mut usize) -> Option<String> {
    let n = read_int(b, p);
    if n < 0 {
        return None;
    }
    let s = String::from_utf8(b[*p..*p + n as usize].to_vec()).unwrap();
    *p += n as usize;
    Some(s)
}

/// The backup is a pg_dump 15 directory archive: `toc.dat` with a table of contents whose
/// data entries name gzipped COPY files.
#[test]
fn backup_is_a_directory_archive() {
    let w = small(7);
    let dir = tempfile::tempdir().unwrap();
    backup::render(&w, dir.path()).unwrap();
    let root = dir.path().join("backup").join(backup::ARCHIVE_DIR);
    let toc = std::fs::read(root.join("toc.dat")).unwrap();
    assert_eq!(&toc[..5], b"PGDMP");
    assert_eq!(&toc[5..11], &[1, 14, 0, 4, 8, 3]);
    let mut p = 11;
    assert_eq!(read_int(&toc, &mut p), 6, "gzip level");
    let tm: Vec<i64> = (0..7).map(|_| read_int(&toc, &mut p)).collect();
    assert_eq!(tm, vec![7, 15, 1, 30, 9, 125, 0]);
    assert_eq!(read_str(&toc, &mut p).as_deref(), Some("zenda"));
    assert!(read_str(&toc, &mut p).unwrap().starts_with("15.8"));
    read_str(&toc, &mut p);
    let n = read_int(&toc, &mut p);
    let mut data = BTreeMap::new();
    let mut descs = BTreeSet::new();
    for _ in 0..n {
        let _id = read_int(&toc, &mut p);
        let _dumper = read_int(&toc, &mut p);
        read_str(&toc, &mut p);
        read_str(&toc, &mut p);
        let tag = read_str(&toc, &mut p).unwrap();
        let desc = read_str(&toc, &mut p).unwrap();
        let _section = read_int(&toc, &mut p);
        let defn = read_str(&toc, &mut p);
        read_str(&toc, &mut p);
        let copy = read_str(&toc, &mut p);
        for _ in 0..5 {
            read_str(&toc, &mut p);
        }
        while read_str(&toc, &mut p).is_some() {}
        let file = read_str(&toc, &mut p).unwrap();
        if desc == "TABLE" && tag == "class_sessions" {
            assert!(defn.unwrap().contains("PARTITION BY RANGE (on_date)"));
        }
        if desc == "TABLE DATA" {
            data.insert(tag.clone(), (copy.unwrap(), file));
        }
        descs.insert(desc);
    }
    assert_eq!(p, toc.len());
    for d in [
        "EXTENSION",
        "TYPE",
        "TABLE ATTACH",
        "SEQUENCE SET",
        "FK CONSTRAINT",
    ] {
        assert!(descs.contains(d), "{d}");
    }
    assert!(!data.contains_key("audit_log"), "data excluded");
    assert!(
        !data.contains_key("class_sessions"),
        "a partitioned parent has no data"
    );
    for y in 2021..=2026 {
        assert!(data.contains_key(&format!("class_sessions_{y}")));
    }
    let mut rows = 0;
    for (tag, (copy, file)) in &data {
        assert!(file.ends_with(".dat"));
        let gz = std::fs::read(root.join(format!("{file}.gz"))).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.ends_with("\\.\n\n\n"), "{tag}");
        let ncols = copy.split(", ").count();
        for line in text.lines().take_while(|l| *l != "\\.") {
            assert_eq!(line.split('\t').count(), ncols, "{tag}: {line}");
            rows += 1;
        }
        if tag == "spots" {
            let line = text.lines().next().unwrap();
            let created = line.split('\t').nth(9).unwrap();
            assert!(
                created.ends_with("+01") || created.ends_with("+02"),
                "{created}"
            );
        }
    }
    assert!(rows > 1000);
    // The plain script pg_restore would print reads with our own SQL reader.
    let plain = backup::plain_text(&w);
    assert!(plain.contains("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;"));
    assert!(plain.contains("ATTACH PARTITION public.class_sessions_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"));
    assert!(!plain.contains("\\restrict"));
    assert!(!plain.contains("COPY public.audit_log"));
    // pg_restore itself reads it, when installed.
    if let Some(b) = crate::samples::backup::PgBins::find() {
        let pg_restore = b.pg_dump.with_file_name("pg_restore");
        if pg_restore.is_file() {
            let out = std::process::Command::new(pg_restore)
                .arg("-f")
                .arg("-")
                .arg(&root)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let script = String::from_utf8_lossy(&out.stdout);
            assert!(script.contains("COPY public.spots_archive"));
        }
    }
}

/// The backup is the world at the snapshot: nothing created later; merges re-point spots
/// but not the archive.
#[test]
fn backup_rows_are_as_of_the_snapshot() {
    let w = small(7);
    let z = of(&w);
    let b = w.backup_at;
    let plain = backup::plain_text(&w);
    let copy_rows = |table: &str| -> Vec<Vec<String>> {
        let head = format!("COPY public.{table} (");
        let start = plain.find(&head).unwrap();
        let body = &plain[start..];
        body.lines()
            .skip(1)
            .take_while(|l| *l != "\\.")
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    };
    let spots = copy_rows("spots");
    let archive = copy_rows("spots_archive");
    let later: BTreeSet<&str> = z
        .spots
        .iter()
        .filter(|s| s.created_at > b)
        .map(|s| s.id.as_str())
        .collect();
    for r in spots.iter().chain(&archive) {
        assert!(!later.contains(r[0].as_str()));
    }
    assert!(!archive.is_empty());
    let purchases = copy_rows("purchases");
    let states: BTreeSet<&str> = purchases.iter().map(|r| r[10].as_str()).collect();
    assert!(
        states.contains("paid") && states.contains("expired"),
        "{states:?}"
    );
    for r in &purchases {
        let amount: i64 = r[8].parse().unwrap();
        assert!(amount > 0);
    }
    let people = copy_rows("people");
    assert!(people.iter().any(|r| r[1].starts_with("deleted-")
        && r[1].ends_with("@users.zenda.invalid")
        && r[2] == "\\N"));
}

/// Every Stripe page parses; the eras' habits are there.
#[test]
fn stripe_pages_parse() {
    let w = small(9);
    let dir = tempfile::tempdir().unwrap();
    stripe::render(&w, dir.path()).unwrap();
    let api = dir.path().join("stripe/api/platform");
    let read_all = |r: &str| -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(api.join(r))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            assert_eq!(v["object"], "list");
            out.extend(v["data"].as_array().unwrap().iter().cloned());
        }
        out
    };
    let charges = read_all("charges");
    let legacy = charges
        .iter()
        .filter(|c| c["payment_intent"].is_null())
        .collect::<Vec<_>>();
    assert!(!legacy.is_empty());
    for c in &legacy {
        assert!(c["metadata"]["studio"].is_string(), "{c}");
        assert!(c["customer"].is_null());
        assert!(c["transfer_group"].as_str().unwrap().starts_with("studio-"));
    }
    assert!(charges.iter().any(|c| c["status"] == "failed"));
    for c in charges.iter().filter(|c| !c["payment_intent"].is_null()) {
        assert_eq!(c["metadata"], serde_json::json!({}));
    }
    let sessions = read_all("checkout_sessions");
    assert!(sessions.iter().any(|s| s["status"] == "expired"));
    for s in &sessions {
        assert_eq!(s["mode"], "payment");
        assert_eq!(
            s["client_reference_id"], s["metadata"]["zenda_purchase_id"],
            "{s}"
        );
    }
    let intents = read_all("payment_intents");
    let c2 = intents
        .iter()
        .filter(|p| p["created"].as_i64().unwrap() > era_c2().timestamp() + 60)
        .filter(|p| {
            p["transfer_group"]
                .as_str()
                .is_some_and(|g| g.starts_with("studio-"))
        })
        .filter(|p| p["payment_method_types"][0] == "card")
        .collect::<Vec<_>>();
    assert!(c2
        .iter()
        .all(|p| p["metadata"]["zenda_purchase_id"].is_string()));
    assert!(intents
        .iter()
        .any(|p| p["description"] == "Subscription creation"));
    assert!(intents.iter().any(|p| p["metadata"]["zenda_pos"] == "1"));
    let invoices = read_all("invoices");
    assert!(!invoices.is_empty());
    for i in &invoices {
        assert_eq!(i["metadata"], serde_json::json!({}));
        assert!(i["parent"]["subscription_details"]["metadata"]["zenda_membership_id"].is_string());
        assert!(i["number"].as_str().unwrap().contains('-'));
    }
    assert!(!read_all("invoice_payments").is_empty());
    assert!(!read_all("subscriptions").is_empty());
    assert!(!read_all("transfers").is_empty());
    let customers = read_all("customers");
    assert!(customers
        .iter()
        .all(|c| c["deleted"] == true || c["metadata"]["zenda_person_id"].is_string()));
    let accounts: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("stripe/api/accounts/page-0001.json")).unwrap(),
    )
    .unwrap();
    assert!(accounts["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["type"] == "custom"));
    // Finance's exports.
    let ex = dir.path().join("stripe/exports/platform");
    let head = |m: &str| -> String {
        let t = std::fs::read_to_string(ex.join(m).join("unified_payments.csv")).unwrap();
        t.lines().next().unwrap().to_string()
    };
    assert!(!head("2024-03").contains("Decline Reason"));
    assert!(head("2025-03").contains("Decline Reason"));
    assert!(head("2025-03").contains("zenda_fee_for_spot (metadata)"));
    assert!(head("2025-03").contains("Checkout Session ID"));
    assert!(ex.join("2025-06-02/unified_customers.csv").is_file());
}

/// Every archived mail parses; the templates, languages, providers and gaps are the
/// brief's.
#[test]
fn mail_is_a_maildir_of_the_templates() {
    let w = small(11);
    let z = of(&w);
    let dir = tempfile::tempdir().unwrap();
    mail::render(&w, dir.path()).unwrap();
    let root = dir.path().join("mail");
    let mut all = 0;
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut templates: BTreeSet<String> = BTreeSet::new();
    let mut subjects: Vec<String> = Vec::new();
    let names: BTreeSet<&str> = z
        .studios
        .iter()
        .flat_map(|s| {
            std::iter::once(s.name.as_str()).chain(s.former_names.iter().map(|f| f.name.as_str()))
        })
        .collect();
    for folder in ["[Gmail].All Mail", "INBOX", "Receipts"] {
        for sub in ["cur", "new"] {
            for e in std::fs::read_dir(root.join(folder).join(sub)).unwrap() {
                let bytes = std::fs::read(e.unwrap().path()).unwrap();
                let m = mail_parser::MessageParser::default().parse(&bytes).unwrap();
                let from = m.from().unwrap().first().unwrap();
                assert_eq!(from.address(), Some("noreply@zenda.fit"));
                assert!(names.contains(from.name().unwrap_or_default()), "{from:?}");
                let date = m.date().unwrap();
                assert_eq!(date.tz_hour, 0);
                let at = chrono::DateTime::from_timestamp(date.to_timestamp(), 0).unwrap();
                let (ga, gz) = bcc_gap();
                assert!(!(at >= ga && at < gz), "archived in the BCC gap");
                let ses = m.header("X-Zenda-Studio").is_some();
                assert_eq!(ses, at >= ses_since(), "{:?}", m.subject());
                if let Some(t) = m.header_raw("X-Zenda-Template") {
                    templates.insert(t.trim().to_string());
                }
                let id = m.message_id().unwrap().to_string();
                assert!(id.ends_with("@mtasv.net") || id.ends_with(".amazonses.com"));
                *ids.entry(id).or_insert(0) += 1;
                if folder == "[Gmail].All Mail" {
                    all += 1;
                    subjects.push(m.subject().unwrap_or_default().to_string());
                    let body = m
                        .body_text(0)
                        .or_else(|| m.body_html(0))
                        .unwrap_or_default()
                        .to_string();
                    assert!(body.contains("powered by Zenda"), "{body}");
                }
            }
        }
    }
    assert!(all > 500, "{all}");
    // ~40 % also in INBOX or Receipts, with the same Message-ID.
    let copies = ids.values().filter(|n| **n > 1).count() as f64 / ids.len() as f64;
    assert!((0.25..0.55).contains(&copies), "{copies}");
    for t in [
        "spot_confirmed",
        "spot_cancelled",
        "reminder",
        "receipt",
        "refund",
    ] {
        assert!(templates.contains(t), "{t}: {templates:?}");
    }
    let locales: BTreeSet<&str> = z.studios.iter().map(|s| s.locale.as_str()).collect();
    let has = |p: &str| subjects.iter().any(|s| s.starts_with(p));
    if locales.contains("pl") {
        assert!(has("Rezerwacja potwierdzona: "));
    }
    if locales.contains("en") {
        assert!(has("You're booked: "));
    }
    assert!(subjects.iter().any(|s| s.contains(" – ")));
}

#[test]
fn local_formats_are_the_briefs() {
    let l = NaiveDate::from_ymd_opt(2025, 4, 14)
        .unwrap()
        .and_hms_opt(18, 30, 0)
        .unwrap();
    assert_eq!(mail::class_when("en", l), "Monday 14 April 2025 at 18:30");
    assert_eq!(
        mail::class_when("pl", l),
        "poniedziałek, 14 kwietnia 2025, godz. 18:30"
    );
    assert_eq!(
        mail::class_when("de", l),
        "Montag, 14. April 2025, 18:30 Uhr"
    );
    assert_eq!(mail::class_when("cs", l), "pondělí 14. dubna 2025 v 18:30");
    let nine = NaiveDate::from_ymd_opt(2025, 4, 12)
        .unwrap()
        .and_hms_opt(9, 14, 0)
        .unwrap();
    assert_eq!(mail::paid_when("cs", nine), "12. dubna 2025 v 9:14");
    assert_eq!(mail::paid_when("de", nine), "12. April 2025, 09:14");
    assert_eq!(
        mail::display_name("Jóga Vinohrady"),
        "=?UTF-8?Q?J=C3=B3ga_Vinohrady?="
    );
    assert_eq!(mail::display_name("Core & Flow"), "\"Core & Flow\"");
    assert_eq!(mail::display_name("Studio Mantra"), "Studio Mantra");
    assert_eq!(mail::money(4500, "PLN", "pl"), "45,00\u{a0}zł");
    assert_eq!(mail::money(120000, "PLN", "pl"), "1\u{a0}200,00\u{a0}zł");
    assert_eq!(mail::money(25000, "CZK", "cs"), "250\u{a0}Kč");
    assert_eq!(mail::money(24950, "CZK", "cs"), "249,50\u{a0}Kč");
    assert_eq!(mail::money(120000, "EUR", "de"), "1.200,00\u{a0}€");
    assert_eq!(mail::money(1200, "GBP", "en"), "£12.00");
    assert_eq!(mail::money(1500, "EUR", "en"), "€15.00");
    assert_eq!(mail::money(120000, "GBP", "en"), "£1,200.00");
    assert_eq!(
        legacy_description("Drop-in: Vinyasa Flow, 14.04.2022 18:30", "Studio Mantra"),
        "Vinyasa Flow 14.04.2022 18:30 – Studio Mantra"
    );
}

/// Prints the world's distributions (`cargo test --lib zenda::tests::stats -- --ignored
/// --nocapture`).
#[test]
#[ignore]
fn stats() {
    let w = simulate(40, 5);
    let z = of(&w);
    let t = w.incident_at;
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for p in &z.purchases {
        *by.entry(format!(
            "{} {} {:?} {}",
            p.kind.as_str(),
            p.method.as_str(),
            p.channel,
            p.status_at(t).unwrap_or("-")
        ))
        .or_insert(0) += 1;
    }
    for (k, v) in &by {
        eprintln!("{v:>7} {k}");
    }
    let mut pw: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &z.spots {
        *pw.entry(s.versions[0].paid_with.as_str()).or_insert(0) += 1;
    }
    eprintln!("paid_with {pw:?}");
    let mut st: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &z.spots {
        *st.entry(s.at(t).unwrap().state.as_str()).or_insert(0) += 1;
    }
    eprintln!("states {st:?}");
    eprintln!(
        "people {} members {} walk-ins {} kids {} merged {} anonymised {} archived {}",
        z.people.len(),
        z.members.len(),
        z.members.iter().filter(|m| m.person_id.is_none()).count(),
        z.members.iter().filter(|m| m.kid).count(),
        z.members.iter().filter(|m| m.merged_into.is_some()).count(),
        z.members
            .iter()
            .filter(|m| m.anonymised_at.is_some())
            .count(),
        z.members.iter().filter(|m| m.archived_at.is_some()).count()
    );
    eprintln!(
        "sessions {} cancelled {} moved {} spots {} archived {} memberships {} passes {} credits {} declines {}",
        z.sessions.len(),
        z.sessions.iter().filter(|s| s.cancelled.is_some()).count(),
        z.sessions.iter().filter(|s| s.moved.is_some()).count(),
        z.spots.len(),
        z.spots.iter().filter(|s| s.archived_at.is_some()).count(),
        z.memberships.len(),
        z.passes.len(),
        z.credits.len(),
        z.legacy_declines.len()
    );
    let stale = z
        .people
        .iter()
        .filter(|p| p.stripe_customer.is_some() && !p.erased_by(t))
        .filter(|p| p.stripe_email_at(t) != Some(p.live_email_at(t)))
        .count();
    let cus = z
        .people
        .iter()
        .filter(|p| p.stripe_customer.is_some())
        .count();
    let changed = z.people.iter().filter(|p| p.emails.len() > 1).count();
    let mut studios_of: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for m in z.members.iter().filter(|m| !m.kid) {
        if let Some(p) = m.person_id {
            studios_of.entry(p).or_default().insert(m.studio_id);
        }
    }
    let multi = studios_of.values().filter(|s| s.len() > 1).count();
    let mut walkin_emails: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for m in z.members.iter().filter(|m| m.person_id.is_none()) {
        if let Some(e) = &m.email {
            *walkin_emails
                .entry((m.studio_id, e.trim().to_lowercase()))
                .or_insert(0) += 1;
        }
    }
    let app_emails: BTreeSet<(i64, String)> = z
        .members
        .iter()
        .filter_map(|m| {
            m.person_id
                .map(|p| (m.studio_id, z.person(p).emails[0].0.to_lowercase()))
        })
        .collect();
    let walkin_dups = z
        .members
        .iter()
        .filter(|m| m.person_id.is_none())
        .filter(|m| {
            m.merged_into.is_some()
                || m.email
                    .as_ref()
                    .is_some_and(|e| app_emails.contains(&(m.studio_id, e.trim().to_lowercase())))
        })
        .count();
    eprintln!(
        "cus {cus} stale cus emails {stale} people with changed email {changed} multi-studio people {multi} of {} walk-in dups (merged or same email) {walkin_dups} no-email walk-ins {}",
        studios_of.len(),
        z.members.iter().filter(|m| m.person_id.is_none() && m.email.is_none()).count()
    );
    for s in &z.studios {
        let m = z.members.iter().filter(|m| m.studio_id == s.id).count();
        let sp = z
            .spots
            .iter()
            .filter(|x| z.member(x.member_id).studio_id == s.id)
            .count();
        let p = z.purchases.iter().filter(|p| p.studio_id == s.id).count();
        eprintln!(
            "{:>3} {:<32} {:<8} {} {} {} members {m:>4} spots {sp:>5} purchases {p:>5} created {}",
            s.id,
            s.slug,
            s.category,
            s.country,
            s.plan,
            s.closed_at.is_some(),
            s.created_at.format("%Y-%m-%d")
        );
    }
}

/// What the backup holds is consistent as a database: every key it names exists at the
/// snapshot (pg_restore builds the foreign keys after the data).
#[test]
fn backup_keys_hold_at_the_snapshot() {
    let w = simulate(40, 5);
    let z = of(&w);
    let b = w.backup_at;
    let people: BTreeSet<i64> = z
        .people
        .iter()
        .filter(|p| p.created_at <= b)
        .map(|p| p.id)
        .collect();
    let members: BTreeSet<i64> = z
        .members
        .iter()
        .filter(|m| m.created_at <= b)
        .map(|m| m.id)
        .collect();
    let mut unique = BTreeSet::new();
    for m in z.members.iter().filter(|m| m.created_at <= b) {
        if let Some(p) = m.person_id {
            assert!(people.contains(&p), "member {} names person {p}", m.id);
            assert!(
                unique.insert((m.studio_id, p, m.name_at(b).0)),
                "UNIQUE (studio_id, person_id, first_name): {m:?}"
            );
        }
        if let Some(s) = m.merged_by(b) {
            assert!(members.contains(&s));
        }
    }
    for sp in z.spots.iter().filter(|s| s.created_at <= b) {
        assert!(members.contains(&sp.member_id));
    }
    for p in z.purchases.iter().filter(|p| p.created_at <= b) {
        if let Some(m) = p.member_id {
            assert!(members.contains(&z.owner_at(m, b)));
        }
    }
}

/// Phones as typed (`601-234-567`, `0048601234567`, `777123456`, `0151 23456789`,
/// `07700 900123`) normalise back to the truth's E.164 with the studio's country.
#[test]
fn typed_phones_normalise_back() {
    let w = small(3);
    let z = of(&w);
    let mut national = 0;
    for m in &z.members {
        let (Some(typed), Some(e164)) = (&m.phone, &m.phone_e164) else {
            continue;
        };
        let country = &z.studio(m.studio_id).country;
        assert_eq!(
            &crate::merge::normalize::phone(typed, Some(country)),
            e164,
            "{typed} ({country})"
        );
        if !typed.starts_with('+') {
            national += 1;
        }
    }
    assert!(national > 0);
}

/// `salvage samples generate --flavour zenda`: the truth (with its aliases), the archive,
/// the Stripe pages, the Maildir, the placeholder mappings and an incident pointing at
/// them.
#[test]
fn generate_writes_the_incident() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("zenda");
    let s = crate::samples::generate(&crate::samples::GenerateOptions {
        businesses: 3,
        seed: 2,
        flavour: crate::samples::world::Flavour::Zenda,
        density: Density::Current,
        out: out.clone(),
        real_pg_dump: false,
        mapping_dir: None,
    })
    .unwrap();
    assert!(
        s.lines.iter().any(|l| l == "businesses: 3"),
        "{:?}",
        s.lines
    );
    let inc = crate::incident::Incident::load(&out.join("incident.toml")).unwrap();
    assert_eq!(inc.incident_at, "2026-02-03T08:40:00Z");
    let text = std::fs::read_to_string(out.join("incident.toml")).unwrap();
    assert!(text.contains(&format!("path = \"backup/{}\"", backup::ARCHIVE_DIR)));
    assert!(text.contains("snapshot_at = \"2025-10-30T01:15:07Z\""));
    assert!(text.contains("completed_hours_after_end = 0"));
    assert!(out
        .join("backup")
        .join(backup::ARCHIVE_DIR)
        .join("toc.dat")
        .is_file());
    assert!(out.join("stripe/api/accounts/page-0001.json").is_file());
    assert!(out.join("mail/[Gmail].All Mail/cur").is_dir());
    for f in ["backup.toml", "stripe.toml", "email.toml"] {
        assert!(out.join("mappings").join(f).is_file());
    }
    let c = rusqlite::Connection::open(out.join("truth.sqlite")).unwrap();
    let n = |q: &str| -> i64 { c.query_row(q, [], |r| r.get(0)).unwrap() };
    assert_eq!(n("SELECT count(*) FROM businesses"), 3);
    assert!(n("SELECT count(*) FROM reservations") > 1000);
    assert!(n("SELECT count(*) FROM payments WHERE processor_id LIKE 'cs_live_%'") > 0);
    assert!(n("SELECT count(*) FROM customer_aliases") > 0);
    assert_eq!(
        n("SELECT count(*) FROM customer_aliases a LEFT JOIN customers c ON c.id = a.customer_id WHERE c.id IS NULL"),
        0
    );
}
