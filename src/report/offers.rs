//! What each kind of source offered for a few columns of each row, read back from the
//! provenance: the value the table holds, the source it came from, and the value the
//! backup and Stripe each showed. The money reconciliation and the changes since the
//! backup compare these.

use crate::claims::{Entity, SourceKind};
use crate::merge::Recovered;
use std::collections::HashMap;

/// One column of one row: what was chosen (and from which source), and what each kind
/// of source said: the chosen value when it came from that kind (the merge's replay
/// ordered that kind's observations), else the latest it observed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Offer<'a> {
    pub chosen: Option<(&'a str, SourceKind)>,
    pub backup: Option<&'a str>,
    pub stripe: Option<&'a str>,
    pub email: Option<&'a str>,
    /// When each of backup, Stripe and email observed the value kept (its latest).
    seen: [Option<&'a str>; 3],
}

impl<'a> Offer<'a> {
    pub fn of(&self, kind: SourceKind) -> Option<&'a str> {
        match kind {
            SourceKind::Backup => self.backup,
            SourceKind::Stripe => self.stripe,
            SourceKind::Email => self.email,
            SourceKind::Review => None,
        }
    }
}

/// Row id -> one [`Offer`] per wanted column, in the order of the columns.
pub type Offers<'a> = HashMap<&'a str, Vec<Offer<'a>>>;

/// The offers for `columns` of every row of `entity`.
pub fn collect<'a>(rec: &'a Recovered, entity: Entity, columns: &[&str]) -> Offers<'a> {
    collect_many(rec, &[(entity, columns)])
        .pop()
        .expect("one set of offers per want")
}

/// The offers for several (entity, columns) at once, in one pass over the provenance
/// (tens of millions of entries at a large incident): one [`Offers`] per want, in order.
pub fn collect_many<'a>(rec: &'a Recovered, wants: &[(Entity, &[&str])]) -> Vec<Offers<'a>> {
    let mut out: Vec<Offers<'a>> = wants.iter().map(|_| HashMap::new()).collect();
    for p in rec.provenance.iter() {
        for (wi, (entity, columns)) in wants.iter().enumerate() {
            if p.entity != *entity {
                continue;
            }
            let Some(ci) = columns.iter().position(|c| *c == p.column) else {
                continue;
            };
            let Some(value) = p.value else {
                continue;
            };
            let offers = out[wi]
                .entry(p.row_id)
                .or_insert_with(|| vec![Offer::default(); columns.len()]);
            let o = &mut offers[ci];
            if p.chosen {
                o.chosen = Some((value, p.source));
            }
            // When a source said a column several times, its latest observation counts.
            let k = match p.source {
                SourceKind::Backup => 0,
                SourceKind::Stripe => 1,
                SourceKind::Email => 2,
                SourceKind::Review => continue,
            };
            let last = o.seen[k];
            if last.is_none_or(|t| p.observed_at.is_some_and(|at| at >= t)) {
                o.seen[k] = p.observed_at.or(Some(""));
                match p.source {
                    SourceKind::Backup => o.backup = Some(value),
                    SourceKind::Stripe => o.stripe = Some(value),
                    SourceKind::Email => o.email = Some(value),
                    SourceKind::Review => {}
                }
            }
        }
    }
    for offers in out.iter_mut().flat_map(|m| m.values_mut()) {
        for o in offers.iter_mut() {
            match o.chosen {
                Some((v, SourceKind::Backup)) => o.backup = Some(v),
                Some((v, SourceKind::Stripe)) => o.stripe = Some(v),
                Some((v, SourceKind::Email)) => o.email = Some(v),
                Some((_, SourceKind::Review)) | None => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::Provenance;

    fn p(row: &str, col: &str, v: &str, src: SourceKind, at: &str, chosen: bool) -> Provenance {
        Provenance::offered(Entity::Payment, row, col, v, src, Some(at), chosen)
    }

    #[test]
    fn the_latest_value_of_each_source_and_the_chosen_one() {
        use SourceKind::*;
        let offered = [
            ("amount", "1000", Backup, "2026-01-01", false),
            ("amount", "1200", Stripe, "2026-03-01", false),
            ("amount", "1100", Stripe, "2026-02-01", false),
            ("status", "disputed", Stripe, "2026-01-01", true),
            ("status", "succeeded", Stripe, "2026-03-01", false),
            ("status", "succeeded", Email, "2026-02-01", false),
            ("currency", "usd", Stripe, "2026-02-01", true),
        ];
        let rec = Recovered {
            provenance: offered
                .iter()
                .map(|&(col, v, src, at, chosen)| p("py1", col, v, src, at, chosen))
                .collect(),
            ..Default::default()
        };
        let o = collect(&rec, Entity::Payment, &["amount", "status"]);
        let row = &o["py1"];
        assert_eq!(row[0].backup, Some("1000"));
        assert_eq!(row[0].stripe, Some("1200"), "the later Stripe value");
        assert_eq!(row[0].chosen, None);
        assert_eq!(row[1].chosen, Some(("disputed", Stripe)));
        assert_eq!(
            row[1].stripe,
            Some("disputed"),
            "Stripe's chosen value, not its latest"
        );
        assert_eq!(row[1].email, Some("succeeded"));
        assert_eq!(row[1].of(Backup), None);
        assert!(collect(&rec, Entity::Reservation, &["amount"]).is_empty());
    }
}
