//! The merge engine: records (claims) in, [`Recovered`] out. It never sees a file format
//! and does no I/O; the same records always give the same rows, ids and confidences.
//!
//! Stages, in entity order (business, customer, reservation, payment), each in its file;
//! [`merge`] (here) runs them in order:
//! 1. `linked.rs` (on [`link`] and [`identity`]): cluster the records of an entity by
//!    identity keys (union-find) and resolve references (`business_id`,
//!    `customer.email`, ...) to the clusters of the entity they name, creating a
//!    low-confidence stub for an app id no record shows; `business.rs` and `payments.rs`:
//!    the links particular to businesses (accounts, weak keys, ambiguous customers) and to
//!    payments (loose payments, reservations through their payments);
//! 2. `build.rs`: build each row from its cluster: the values offered for each column,
//!    its references, synthetic ids, derived values;
//! 3. `finish.rs`: [`survive`] chooses each column's value (replay for state, trust for
//!    facts), every offered value is kept as provenance, conflicts that matter are queued
//!    for review, the app's rules apply (e.g. a confirmed booking whose slot ended is
//!    completed) and [`confidence`] scores each row;
//! 4. `integrity.rs`: unique ids, no orphans of deleted rows, no dangling references.
//!
//! Within merge the dependencies run one way: `linked` <- `business`, `payments`,
//! `build` <- `finish`; `mod.rs` uses them all and none of them uses `mod.rs`'s stages.

pub mod confidence;
pub mod decisions;
pub mod identity;
pub mod link;
pub mod model;
pub mod normalize;
pub mod people;
pub mod survive;

mod build;
mod business;
mod closure;
mod finish;
mod integrity;
mod linked;
mod payments;

pub use model::{
    DeletedRow, Provenance, ProvenanceIds, ProvenanceLog, ProvenanceRef, Recovered, ReviewItem,
    Row, StrId,
};

use crate::claims::store::{LoadedRecord, StoredRecord};
use crate::claims::{Entity, Value};
use build::{build_rows, Ctx, IdMaps, Links};
use business::{
    business_candidates, disambiguate_customers, link_accounts_by_bookings, link_earlier_accounts,
};
use finish::finish_rows;
use identity::key_value;
use integrity::{drop_dangling_references, drop_orphans, resolve_id_collisions};
use linked::{resolve, Linked, GLOBAL};
use payments::{link_customers_through_bookings, link_loose_payments, link_through_payments};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The app's own rules, stated in the incident file's `[rules]` table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// A nightly job marks a confirmed booking as completed once its slot ended this many
    /// hours ago (e.g. 4: the job runs a few hours after closing).
    pub completed_hours_after_end: Option<i64>,
    /// An unpaid hold (pending) expires, i.e. becomes cancelled, after this many hours.
    pub pending_expires_after_hours: Option<i64>,
}

/// What the merge needs besides the records.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Contract timestamp text: the state to rebuild is the state at this time.
    pub incident_at: String,
    pub rules: Rules,
    /// How customer records are linked beyond their hard keys.
    pub customer_linkage: crate::linkage::Settings,
    /// A person's review decisions, applied after the rows are built.
    pub decisions: Vec<decisions::Decision>,
}

/// Merges every stored record into the recovered database.
pub fn merge(records: &[StoredRecord], settings: &Settings) -> Recovered {
    let started = std::time::Instant::now();
    let mut by_entity: HashMap<Entity, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        by_entity.entry(r.record.entity).or_default().push(i);
    }
    let idx = |e| by_entity.get(&e).cloned().unwrap_or_default();
    let mut out = Recovered::default();
    // "These are two": records a person took out of their rows, kept apart by the linkage.
    let mut decided = decisions::Applied::default();
    let apart = decisions::apart_records(records, &settings.decisions, &mut decided);

    let biz_of = |rec: &LoadedRecord, biz: &mut Linked| resolve(rec, Entity::Business, biz, GLOBAL);
    // Reservations and payments are clustered on their own keys, beside businesses and
    // customers (which need the businesses first).
    let (r_idx, p_idx) = (idx(Entity::Reservation), idx(Entity::Payment));
    let ((mut biz, mut cust, ambiguous_biz, linked_people), (mut resv, mut pay)) = rayon::join(
        || {
            // Businesses: cluster, then stubs for ids and accounts that other records name.
            let b_idx = idx(Entity::Business);
            let mut biz = Linked::build(
                Entity::Business,
                records,
                &b_idx,
                vec![GLOBAL; b_idx.len()],
                &apart,
            );
            let ambiguous = biz.link_names(records);
            for (ri, r) in records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.record.entity != Entity::Business)
            {
                // A record that names its business by app id and by Stripe account tells
                // us they are one business, even when no business record says so.
                let id_v = r.record.get("business_id").and_then(|v| key_value("id", v));
                let acct_v = r
                    .record
                    .get("business.stripe_account")
                    .and_then(|v| key_value("stripe_account", v));
                let find = |biz: &mut Linked, key: &str, v: &Option<String>| {
                    v.as_ref().and_then(|v| {
                        biz.lookup(Entity::Business, key, &Value::text(v.clone()), GLOBAL)
                    })
                };
                if let Some(v) = &id_v {
                    if find(&mut biz, "id", &id_v).is_none() {
                        let joined = find(&mut biz, "stripe_account", &acct_v)
                            .is_some_and(|n| biz.attach(Entity::Business, n, "id", v, ri));
                        if !joined {
                            biz.stub(Entity::Business, "id", v, ri);
                        }
                    }
                }
                if let Some(v) = &acct_v {
                    if find(&mut biz, "stripe_account", &acct_v).is_none() {
                        let joined = find(&mut biz, "id", &id_v).is_some_and(|n| {
                            biz.attach(Entity::Business, n, "stripe_account", v, ri)
                        });
                        if !joined {
                            biz.stub(Entity::Business, "stripe_account", v, ri);
                        }
                    }
                }
            }

            link_earlier_accounts(records, &mut biz);

            // Customers: per-business keys need each record's business first.
            let c_idx = idx(Entity::Customer);
            let mut c_scope: Vec<usize> = c_idx
                .iter()
                .map(|&i| biz_of(&records[i].record, &mut biz).unwrap_or(GLOBAL))
                .collect();
            disambiguate_customers(records, &c_idx, &mut c_scope, &mut biz);
            place_by_references(records, &c_idx, &mut c_scope, &mut biz);
            let mut cust = Linked::build(Entity::Customer, records, &c_idx, c_scope, &apart);
            let id_key = identity::keys(Entity::Customer)
                .iter()
                .position(|k| k.field == "id")
                .expect("customer id key");
            let linked_people = people::link(
                records,
                &cust.nodes,
                &cust.scope,
                GLOBAL,
                &mut cust.clusters,
                id_key,
                &settings.customer_linkage,
            );
            let merged_missing = cust.link_merged(Entity::Customer, records);
            let shared = cust.index_lookup_keys(Entity::Customer, records);
            (
                biz,
                cust,
                ambiguous,
                (linked_people, shared, merged_missing),
            )
        },
        || {
            rayon::join(
                || {
                    Linked::build(
                        Entity::Reservation,
                        records,
                        &r_idx,
                        vec![GLOBAL; r_idx.len()],
                        &apart,
                    )
                },
                || {
                    Linked::build(
                        Entity::Payment,
                        records,
                        &p_idx,
                        vec![GLOBAL; p_idx.len()],
                        &apart,
                    )
                },
            )
        },
    );
    drop((r_idx, p_idx));
    link_accounts_by_bookings(records, &mut biz, &mut resv);

    tracing::debug!(
        "merge: linked in {:.1?}{}",
        started.elapsed(),
        crate::pipeline::memory_note()
    );
    let mut ctx = Ctx {
        records,
        settings,
        rec_strs: vec![None; records.len()],
        deleted: Default::default(),
        closure: closure::ClosureHabit::learn(records),
        closed_by_habit: Default::default(),
        biz_zones: HashMap::new(),
        local_times: Default::default(),
        rules_unevaluable: Default::default(),
    };
    let mut res_customer: HashMap<String, Option<Value>> = HashMap::new();
    // Each entity is built (in parallel) and finished (in order) before the next, so only
    // one entity's rows in the making are held at a time. Finishing an entity needs the
    // row ids of the entities it refers to, which are built before it.
    // Businesses first: their ids and countries are needed below.
    let mut b_groups = biz.groups();
    // Businesses named only by a name several businesses share stay out (review below).
    let mut ambiguous_groups = Vec::new();
    let mut earlier_accounts = Vec::new();
    b_groups.retain(|g| {
        let root = biz.clusters.find(g[0]);
        if let Some(&to) = biz.redirect.get(&root) {
            earlier_accounts.push((g.clone(), to));
            return false;
        }
        match ambiguous_biz.get(&root) {
            Some(cands) => {
                ambiguous_groups.push((g.clone(), cands.clone()));
                false
            }
            None => true,
        }
    });
    let b_rows = build_rows(&ctx, Entity::Business, &b_groups, &biz, |_, _| {
        Links::default()
    });
    let b_root_id: HashMap<usize, (String, Option<String>, Option<String>)> = b_groups
        .iter()
        .zip(&b_rows)
        .map(|(g, row)| {
            let root = biz.clusters.find(g[0]);
            (
                root,
                (
                    row.row.id.clone(),
                    row.attrs.get("attr.country").cloned(),
                    row.attrs.get("attr.currency").cloned(),
                ),
            )
        })
        .collect();
    // Each business's zone, as any of its sources knows it: wall-clock times that a
    // source wrote without a zone are read in it.
    ctx.biz_zones = b_groups
        .iter()
        .zip(&b_rows)
        .filter_map(|(g, row)| {
            let tz = crate::util::time::parse_zone(row.attrs.get("attr.timezone")?)?;
            Some((biz.clusters.find(g[0]), tz))
        })
        .collect();
    drop(b_groups);
    for (g, to) in earlier_accounts {
        let recs: Vec<usize> = g.iter().filter_map(|&n| biz.nodes[n]).collect();
        let account = g.iter().find_map(|&n| {
            let ri = biz.nodes[n]?;
            records[ri].record.get("stripe_account")?.render()
        });
        out.review.push(ReviewItem {
            entity: Entity::Business,
            row_id: b_root_id.get(&to).map(|x| x.0.clone()).unwrap_or_default(),
            reason: "earlier_stripe_account".into(),
            confidence: None,
            details: serde_json::json!({
                "why": "records name this business by its id and by another Stripe account: an account it used before; its payments are the business's",
                "account": account,
                "sources": ctx.refs_json(&recs),
            }),
        });
    }
    for (g, cands) in ambiguous_groups {
        let recs: Vec<usize> = g.iter().filter_map(|&n| biz.nodes[n]).collect();
        let name = recs
            .iter()
            .find_map(|&ri| records[ri].record.get("name").and_then(|v| v.render()));
        let candidates: Vec<&str> = cands
            .iter()
            .filter_map(|r| b_root_id.get(r).map(|x| x.0.as_str()))
            .collect();
        out.review.push(ReviewItem {
            entity: Entity::Business,
            row_id: String::new(),
            reason: "ambiguous_business".into(),
            confidence: None,
            details: serde_json::json!({
                "why": "a record names its business only by a name several businesses share; it is not placed",
                "name": name,
                "candidates": candidates,
                "sources": ctx.refs_json(&recs),
            }),
        });
    }
    let mut ids = IdMaps {
        business_by_id: b_root_id
            .values()
            .map(|(id, country, cur)| (id.clone(), (country.clone(), cur.clone())))
            .collect(),
        business: b_root_id,
        customer: HashMap::new(),
        reservation: HashMap::new(),
    };
    // Finish rows: foreign keys to row ids, normalisation that needs the business, rules.
    finish_rows(
        &mut ctx,
        Entity::Business,
        b_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!(
        "merge: businesses done in {:.1?}{}",
        started.elapsed(),
        crate::pipeline::memory_note()
    );

    // For every non-business record: its business root.
    let mut rec_biz: Vec<Option<usize>> = vec![None; records.len()];
    for (node, ri) in cust.nodes.iter().enumerate() {
        if let (Some(ri), s) = (ri, cust.scope[node]) {
            rec_biz[*ri] = (s != GLOBAL).then(|| biz.redirect.get(&s).copied().unwrap_or(s));
        }
    }
    for (ri, r) in records.iter().enumerate() {
        if matches!(r.record.entity, Entity::Business | Entity::Customer) {
            continue;
        }
        rec_biz[ri] = biz_of(&r.record, &mut biz).or_else(|| {
            // A shared business name: the candidate where the record's customer is known.
            let email = r.record.get("customer.email")?;
            let hits: Vec<usize> = business_candidates(&r.record, &mut biz)
                .into_iter()
                .filter(|&b| cust.lookup(Entity::Customer, "email", email, b).is_some())
                .collect();
            match hits[..] {
                [one] => Some(one),
                _ => None,
            }
        });
    }

    link_loose_payments(records, &mut pay, &rec_biz);
    link_through_payments(records, &mut pay, &mut resv);
    let through_bookings = link_customers_through_bookings(records, &mut pay, &mut resv, &mut cust);
    out.run_info.insert(
        "linkage.customer.through_bookings".into(),
        through_bookings.to_string(),
    );
    // Stripe or mail records that named a customer id the backup gives another business.
    out.run_info.insert(
        "linkage.customer.foreign_ids_dropped".into(),
        cust.foreign_ids.to_string(),
    );

    let c_groups = cust.groups();
    let c_rows = build_rows(&ctx, Entity::Customer, &c_groups, &cust, |ri, _| Links {
        business: rec_biz[ri],
        ..Default::default()
    });
    ids.customer = c_groups
        .iter()
        .zip(&c_rows)
        .map(|(g, row)| (cust.clusters.find(g[0]), row.row.id.clone()))
        .collect();
    drop(c_groups);
    finish_rows(
        &mut ctx,
        Entity::Customer,
        c_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!(
        "merge: customers done in {:.1?}{}",
        started.elapsed(),
        crate::pipeline::memory_note()
    );

    // A customer merged into one no source shows: it is deleted, its references are not
    // redirected. Counted, and said.
    let merged_missing = linked_people.2;
    out.run_info.insert(
        "customers.merged_into_unknown".into(),
        merged_missing.to_string(),
    );
    if merged_missing > 0 {
        tracing::warn!(
            "{merged_missing} customer records say they were merged into a customer no source shows: they are left out, and what named them is not redirected"
        );
    }
    people_links(&ctx, &linked_people.0, &mut cust, &ids, &mut out);
    shared_emails(&ctx, &linked_people.1, &mut cust, &ids, &mut out);
    drop(linked_people);

    // The customer of a reservation or payment: its hard keys first, then the customer
    // record of the same source record (the mail or charge that named both: it was
    // linked as a person), then an email only one customer shows.
    let cust_by_ref = cust.by_source_ref(records);
    let rec_cust: Vec<Option<usize>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| match r.record.entity {
            Entity::Reservation | Entity::Payment => {
                let rec = &r.record;
                let scope = rec_biz[i].unwrap_or(GLOBAL);
                let by = |cust: &mut Linked, field: &str, key: &str| {
                    rec.get(field)
                        .and_then(|v| cust.lookup(Entity::Customer, key, v, scope))
                };
                by(&mut cust, "customer_id", "id")
                    .or_else(|| by(&mut cust, "customer.stripe_customer", "stripe_customer"))
                    .or_else(|| cust_by_ref.get(rec.source_ref.as_str()).copied().flatten())
                    .or_else(|| by(&mut cust, "customer.email", "email"))
            }
            _ => None,
        })
        .collect();
    drop(cust_by_ref);
    let r_groups = resv.groups();
    let r_rows = build_rows(&ctx, Entity::Reservation, &r_groups, &resv, |ri, _| Links {
        business: rec_biz[ri],
        customer: rec_cust[ri],
        ..Default::default()
    });
    ids.reservation = r_groups
        .iter()
        .zip(&r_rows)
        .map(|(g, row)| (resv.clusters.find(g[0]), row.row.id.clone()))
        .collect();
    drop(r_groups);
    finish_rows(
        &mut ctx,
        Entity::Reservation,
        r_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!(
        "merge: reservations done in {:.1?}{}",
        started.elapsed(),
        crate::pipeline::memory_note()
    );

    let rec_resv: Vec<Option<usize>> = records
        .iter()
        .map(|r| match r.record.entity {
            Entity::Payment => resolve(&r.record, Entity::Reservation, &mut resv, GLOBAL),
            _ => None,
        })
        .collect();
    let p_groups = pay.groups();
    let p_rows = build_rows(&ctx, Entity::Payment, &p_groups, &pay, |ri, _| Links {
        business: rec_biz[ri],
        customer: rec_cust[ri],
        reservation: rec_resv[ri],
    });
    drop(p_groups);
    finish_rows(
        &mut ctx,
        Entity::Payment,
        p_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!(
        "merge: payments done in {:.1?}{}",
        started.elapsed(),
        crate::pipeline::memory_note()
    );
    resolve_id_collisions(&mut out);
    drop_orphans(&mut out, &ctx.deleted);
    let decided = decisions::apply(&mut out, &settings.decisions, decided);
    drop_dangling_references(&mut out);
    for e in Entity::ALL {
        out.rows_mut(e)
            .sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
    }
    out.provenance.sort_by_row();
    flag_dates_after_snapshot(&mut out);
    integrity::flag_parents_created_later(&mut out);
    mark_unexported_reviews(&mut out);
    // Never silent: how many bookings the replay closed by the app's habit, and whether
    // the backup could tell the habit at all.
    out.run_info.insert(
        "replay.closure_habit".into(),
        serde_json::json!({
            "closed": ctx.closed_by_habit,
            "habit": ctx.closure.summary(),
        })
        .to_string(),
    );
    out.run_info
        .insert("incident_at".into(), settings.incident_at.clone());
    if !settings.decisions.is_empty() {
        out.run_info.insert(
            "review.decisions".into(),
            serde_json::to_string(&decided).unwrap_or_default(),
        );
    }
    out.run_info.insert(
        "rules.not_evaluable".into(),
        serde_json::json!(ctx.rules_unevaluable).to_string(),
    );
    for (rule, n) in &ctx.rules_unevaluable {
        tracing::warn!(
            "rule {rule}: {n} bookings it applies to have no time to read it on; they keep the status their sources give"
        );
    }
    let (read, unknown) = ctx.local_times.counts();
    out.run_info.insert(
        "local_times".into(),
        serde_json::json!({ "read_in_business_zone": read, "no_zone_known": unknown }).to_string(),
    );
    if unknown > 0 {
        tracing::warn!(
            "{unknown} wall-clock times written without a zone (in mail) belong to businesses no source gives a time zone for; they keep the reading the mail itself allowed (its Date header's offset). Map the business's zone as attr.timezone in the backup mapping if one knows it"
        );
    }
    out
}

#[cfg(test)]
mod tests;

/// A backup that says a row was created or updated after the backup was taken is wrong
/// somewhere (a server clock, a zone, a column mapped as the wrong time): each such value
/// is a review item `after_snapshot:<column>`, with the value, the snapshot time and where
/// it came from. (Contract timestamps compare as text.)
fn flag_dates_after_snapshot(out: &mut Recovered) {
    let mut seen: HashSet<(Entity, &str, &str)> = HashSet::new();
    let mut items = Vec::new();
    for p in out.provenance.iter() {
        if p.source != crate::claims::SourceKind::Backup
            || !matches!(p.column, "created_at" | "updated_at")
        {
            continue;
        }
        let (Some(v), Some(at)) = (p.value, p.observed_at) else {
            continue;
        };
        if v > at && seen.insert((p.entity, p.row_id, p.column)) {
            items.push(ReviewItem {
                entity: p.entity,
                row_id: p.row_id.to_string(),
                reason: format!("after_snapshot:{}", p.column),
                confidence: None,
                details: serde_json::json!({
                    "value": v,
                    "snapshot_at": at,
                    "source_ref": p.source_ref,
                    "why": "the backup says this happened after the backup was taken: a server clock, a time zone or a column mapped as the wrong time",
                }),
            });
        }
    }
    drop(seen);
    out.review.extend(items);
}

/// A review item whose row is not in the exported tables (the merge dropped it: no
/// amount, a deleted parent, merged away) says so in its details, so that the review
/// queue never points at a row a reader cannot find.
fn mark_unexported_reviews(out: &mut Recovered) {
    let exported: HashSet<(Entity, &str)> = Entity::ALL
        .into_iter()
        .flat_map(|e| out.rows(e).iter().map(move |r| (e, r.id.as_str())))
        .collect();
    let missing: Vec<usize> = out
        .review
        .iter()
        .enumerate()
        .filter(|(_, r)| !exported.contains(&(r.entity, r.row_id.as_str())))
        .map(|(i, _)| i)
        .collect();
    drop(exported);
    for i in missing {
        let r = &mut out.review[i];
        let why = if let Some(col) = r.reason.strip_prefix("missing_") {
            format!("the row has no {col}, which the contract requires, so it was not exported")
        } else if r.reason.starts_with("deleted_parent") {
            "its parent row was deleted in the app, and it was not exported with it".to_string()
        } else {
            format!(
                "the merge did not export this row ({}); its source records are in the details",
                r.reason
            )
        };
        let mut d = match std::mem::take(&mut r.details) {
            serde_json::Value::Object(m) => m,
            serde_json::Value::Null => serde_json::Map::new(),
            other => {
                let mut m = serde_json::Map::new();
                m.insert("detail".into(), other);
                m
            }
        };
        d.insert("row_exported".into(), serde_json::Value::Bool(false));
        d.insert(
            "not_exported_because".into(),
            serde_json::Value::String(why),
        );
        r.details = serde_json::Value::Object(d);
    }
}

/// The people pass's joins as `record_links` (each on the row it built), its doubtful
/// records as review items, and what it did in `run_info` (never silent: a comparison
/// that found no values, a block too big to compare, settings that failed).
fn people_links(
    ctx: &Ctx<'_>,
    p: &people::Outcome,
    cust: &mut Linked,
    ids: &IdMaps,
    out: &mut Recovered,
) {
    let records = ctx.records;
    let mut node_of: HashMap<usize, usize> = HashMap::new();
    for (node, ri) in cust.nodes.iter().enumerate() {
        if let Some(ri) = ri {
            node_of.insert(*ri, node);
        }
    }
    let mut row_of = |ri: usize| -> Option<String> {
        let node = *node_of.get(&ri)?;
        ids.customer.get(&cust.root_of(node)).cloned()
    };
    for j in &p.joins {
        let Some(row_id) = row_of(j.b) else { continue };
        out.record_links.push(model::RecordLink {
            entity: Entity::Customer,
            row_id,
            record: records[j.b].record.source_ref.clone(),
            joined_to: records[j.a].record.source_ref.clone(),
            kind: "similarity".into(),
            weight: Some(j.link.bits),
            probability: Some(j.link.probability),
            detail: serde_json::to_value(&j.link.evidence).unwrap_or_default(),
        });
    }
    for (ri, cands, joined) in &p.ambiguous {
        let candidates: Vec<serde_json::Value> = cands
            .iter()
            .map(|(c, prob, evidence)| {
                serde_json::json!({
                    "row_id": row_of(*c),
                    "record": records[*c].record.source_ref,
                    "probability": prob,
                    "evidence": evidence,
                })
            })
            .collect();
        out.review.push(ReviewItem {
            entity: Entity::Customer,
            row_id: row_of(*ri).unwrap_or_default(),
            reason: "ambiguous_customer".into(),
            confidence: None,
            details: serde_json::json!({
                "why": if *joined {
                    "this record fits two customers who cannot be one about equally well; it was joined to the likelier (the first candidate)"
                } else {
                    "this record fits two customers who cannot be one about equally well; it was joined to neither"
                },
                "record": records[*ri].record.source_ref,
                "candidates": candidates,
            }),
        });
    }
    let s = &p.stats;
    let idle_rules: Vec<&str> = s
        .pairs_per_rule
        .iter()
        .filter(|(_, n)| *n == 0)
        .map(|(r, _)| r.as_str())
        .collect();
    if s.rows > 1 && !idle_rules.is_empty() {
        tracing::warn!(
            "customer linkage: blocking rules that found no pair of records: {} (a field no record holds, or a key no two records share)",
            idle_rules.join(", ")
        );
    }
    let summary = serde_json::json!({
        "records": s.rows,
        "identical_folded": p.identical_folded,
        "candidate_pairs": s.candidate_pairs,
        "pairs_per_rule": s.pairs_per_rule,
        "joins": s.joins,
        "ambiguous": s.ambiguous,
        "refused_by_app_ids": s.refused_exclusive,
        "refused_by_disagreement": s.refused_cross,
        "oversized_blocks": s.oversized_blocks.len(),
        "largest_oversized_block": s.oversized_blocks.iter().map(|b| b.1).max(),
        "comparisons_without_values": s.empty_comparisons,
        "rules_without_pairs": idle_rules,
        "prior": p.model.as_ref().map(|m| m.lambda),
        "error": p.error,
    });
    if let Some(e) = &p.error {
        tracing::warn!("customer linkage did not run: {e}");
    }
    if !s.oversized_blocks.is_empty() {
        tracing::warn!(
            "customer linkage: {} blocks over max_block_size were not compared (largest {} records); raise max_block_size or add a tighter blocking rule",
            s.oversized_blocks.len(),
            s.oversized_blocks.iter().map(|b| b.1).max().unwrap_or(0)
        );
    }
    for c in &s.empty_comparisons {
        tracing::warn!(
            "customer linkage: no record has a value for `{c}` (a comparison that matched nothing)"
        );
    }
    out.run_info
        .insert("linkage.customer".into(), summary.to_string());
}

/// A customer without an app id whose email several customers show (a family's), that
/// the linkage could not place by name: it stays a row of its own, for review, with the
/// customers it may be.
fn shared_emails(
    ctx: &Ctx<'_>,
    shared: &[(String, Vec<usize>)],
    cust: &mut Linked,
    ids: &IdMaps,
    out: &mut Recovered,
) {
    let id_key = identity::keys(Entity::Customer)
        .iter()
        .position(|k| k.field == "id")
        .expect("customer id key");
    let mut flagged: BTreeMap<usize, (String, Vec<usize>)> = BTreeMap::new();
    for (email, roots) in shared {
        let has_id = |r: usize| {
            cust.clusters
                .exclusive_of(r)
                .iter()
                .any(|(k, _)| *k == id_key)
        };
        let known: Vec<usize> = roots.iter().copied().filter(|&r| has_id(r)).collect();
        if known.len() < 2 {
            continue;
        }
        for &r in roots.iter().filter(|&&r| !has_id(r)) {
            flagged.entry(r).or_insert((email.clone(), known.clone()));
        }
    }
    if flagged.is_empty() {
        return;
    }
    let mut recs: HashMap<usize, Vec<usize>> = HashMap::new();
    for n in 0..cust.nodes.len() {
        let r = cust.clusters.find(n);
        if let (true, Some(ri)) = (flagged.contains_key(&r), cust.nodes[n]) {
            recs.entry(r).or_default().push(ri);
        }
    }
    for (r, (email, known)) in flagged {
        let root = cust.root_of(r);
        let Some(row_id) = ids.customer.get(&root) else {
            continue;
        };
        out.review.push(ReviewItem {
            entity: Entity::Customer,
            row_id: row_id.clone(),
            reason: "ambiguous_customer".into(),
            confidence: None,
            details: serde_json::json!({
                "why": "these records show only an email that several customers share (a family's); nothing tells which of them they are",
                "email": email,
                "candidates": known.iter().filter_map(|k| ids.customer.get(k)).collect::<Vec<_>>(),
                "sources": ctx.refs_json(recs.get(&r).map(Vec::as_slice).unwrap_or(&[])),
            }),
        });
    }
}

/// A customer record that names no business (a platform account's Stripe customer, a
/// backup table of people without a business column) belongs to the business its
/// bookings and payments name, by its app id or Stripe customer, when they all agree.
fn place_by_references(
    records: &[StoredRecord],
    c_idx: &[usize],
    c_scope: &mut [usize],
    biz: &mut Linked,
) {
    if !c_scope.contains(&GLOBAL) {
        return;
    }
    let keys = [
        ("customer_id", "id"),
        ("customer.stripe_customer", "stripe_customer"),
    ];
    let mut votes: HashMap<(&str, String), Option<usize>> = HashMap::new();
    for r in records
        .iter()
        .filter(|r| matches!(r.record.entity, Entity::Reservation | Entity::Payment))
    {
        let Some(b) = resolve(&r.record, Entity::Business, biz, GLOBAL) else {
            continue;
        };
        for (field, key) in keys {
            if let Some(v) = r.record.get(field).and_then(|v| key_value(key, v)) {
                let e = votes.entry((key, v)).or_insert(Some(b));
                if *e != Some(b) {
                    *e = None;
                }
            }
        }
    }
    for (node, &ri) in c_idx.iter().enumerate() {
        if c_scope[node] != GLOBAL {
            continue;
        }
        let rec = &records[ri].record;
        let placed = keys.iter().find_map(|(_, key)| {
            let v = rec.get(key).and_then(|v| key_value(key, v))?;
            votes.get(&(*key, v)).copied().flatten()
        });
        if let Some(b) = placed {
            c_scope[node] = b;
        }
    }
}
