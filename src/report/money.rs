//! Money reconciliation: per business, currency and month, what Stripe shows against what
//! the rebuilt payments sum to and what the backup knew at its snapshot, with the rows
//! that explain each difference. A business whose money does not reconcile comes first.
//!
//! Each payment is counted in the month of its rebuilt `created_at`, on all three sides,
//! so a difference is always a difference of rows, never of where a month begins.

use super::offers::{self, Offer};
use crate::claims::{Entity, SourceKind};
use crate::merge::{Recovered, Row};
use serde::Serialize;
use std::collections::BTreeMap;

/// The rows named per difference (all of them are counted).
const ROWS_PER_CELL: usize = 50;

/// Sums of payments in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sums {
    /// Payments in which money moved (succeeded, refunded, partially refunded, disputed).
    pub payments: usize,
    pub gross: i64,
    pub refunded: i64,
    pub disputed: i64,
    /// gross - refunded - disputed.
    pub net: i64,
}

impl Sums {
    fn add(&mut self, m: &Money) {
        self.payments += 1;
        self.gross += m.gross;
        self.refunded += m.refunded;
        self.disputed += m.disputed;
        self.net += m.net();
    }
}

/// One payment's money as one side sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Money {
    gross: i64,
    refunded: i64,
    disputed: i64,
}

impl Money {
    /// From a status, an amount and an amount refunded; none when no money moved.
    fn of(status: Option<&str>, amount: Option<i64>, refunded: Option<i64>) -> Option<Money> {
        let amount = amount?;
        let status = status?;
        let refunded = refunded.unwrap_or(0);
        match status {
            "succeeded" | "partially_refunded" => Some(Money {
                gross: amount,
                refunded,
                disputed: 0,
            }),
            // A refunded payment whose refund amount no source gave was refunded whole.
            "refunded" => Some(Money {
                gross: amount,
                refunded: if refunded > 0 { refunded } else { amount },
                disputed: 0,
            }),
            "disputed" => Some(Money {
                gross: amount,
                refunded,
                disputed: amount - refunded,
            }),
            _ => None,
        }
    }

    fn net(&self) -> i64 {
        self.gross - self.refunded - self.disputed
    }
}

/// One payment whose rebuilt money differs from Stripe's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowDifference {
    pub payment_id: String,
    /// Rebuilt net minus Stripe's net for this payment.
    pub difference: i64,
    pub rebuilt_net: i64,
    pub stripe_net: i64,
    /// Why, in words: "Stripe shows no such payment", "amount: Stripe 1200, rebuilt 1000 (email)", ...
    pub why: String,
    pub sources: String,
    pub confidence: f64,
}

/// One business, currency and month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MoneyCell {
    pub currency: String,
    pub month: String,
    /// What Stripe's own records of the rebuilt payments say.
    pub stripe: Sums,
    /// What the rebuilt payments processed by Stripe sum to.
    pub rebuilt: Sums,
    /// What the backup's rows of these payments said at its snapshot.
    pub backup: Sums,
    /// Rebuilt payments outside Stripe (cash, another processor): no Stripe side.
    pub outside_stripe: Sums,
    /// rebuilt.net - stripe.net.
    pub difference: i64,
    /// How many payments differ; the first of them, largest difference first.
    pub rows_differing: usize,
    pub rows: Vec<RowDifference>,
}

/// One business's money, all its currencies and months.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusinessMoney {
    pub business_id: String,
    pub name: Option<String>,
    pub reconciled: bool,
    /// Per currency: rebuilt net, Stripe net, and the difference, over every month.
    pub totals: BTreeMap<String, CurrencyTotal>,
    pub cells: Vec<MoneyCell>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    pub rebuilt_net: i64,
    pub stripe_net: i64,
    pub backup_net: i64,
    pub outside_stripe_net: i64,
    pub difference: i64,
    pub rows_differing: usize,
}

/// The whole reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reconciliation {
    pub businesses_reconciled: usize,
    pub businesses_not_reconciled: usize,
    pub payments_differing: usize,
    /// Businesses that do not reconcile first (most differing payments first), then the rest.
    pub businesses: Vec<BusinessMoney>,
}

/// The payment columns the reconciliation reads the sources' offers of.
pub const COLUMNS: [&str; 5] = [
    "amount",
    "amount_refunded",
    "status",
    "currency",
    "processor",
];

pub fn reconcile(rec: &Recovered) -> Reconciliation {
    reconcile_with(rec, &offers::collect(rec, Entity::Payment, &COLUMNS))
}

/// As [`reconcile`], with the payments' offers of [`COLUMNS`] already collected.
pub fn reconcile_with(rec: &Recovered, offers: &offers::Offers<'_>) -> Reconciliation {
    let names: BTreeMap<&str, Option<&str>> = rec
        .businesses
        .iter()
        .map(|b| (b.id.as_str(), b.text("name")))
        .collect();
    let mut cells: BTreeMap<(&str, String, String), MoneyCell> = BTreeMap::new();
    // A payment no source offered these columns for (none of its values has provenance).
    let none = vec![Offer::default(); COLUMNS.len()];
    for row in &rec.payments {
        let Some(bid) = row.text("business_id") else {
            continue;
        };
        let Some(currency) = row.text("currency") else {
            continue;
        };
        let month = row
            .text("created_at")
            .filter(|t| t.len() >= 7)
            .map(|t| t[..7].to_string())
            .unwrap_or_else(|| "unknown".into());
        let cell = cells
            .entry((bid, currency.to_string(), month.clone()))
            .or_insert_with(|| MoneyCell {
                currency: currency.to_string(),
                month,
                stripe: Sums::default(),
                rebuilt: Sums::default(),
                backup: Sums::default(),
                outside_stripe: Sums::default(),
                difference: 0,
                rows_differing: 0,
                rows: Vec::new(),
            });
        let o = offers.get(row.id.as_str()).unwrap_or(&none);
        let rebuilt = Money::of(
            row.text("status"),
            row.get("amount").and_then(|v| v.as_int()),
            row.get("amount_refunded").and_then(|v| v.as_int()),
        );
        let side = |k: SourceKind| {
            let int = |i: usize| o[i].of(k).and_then(|v| v.parse::<i64>().ok());
            Money::of(o[2].of(k), int(0), int(1))
        };
        if let Some(b) = side(SourceKind::Backup) {
            cell.backup.add(&b);
        }
        if row.text("processor") != Some("stripe") {
            if let Some(m) = rebuilt {
                cell.outside_stripe.add(&m);
            }
            continue;
        }
        let stripe = side(SourceKind::Stripe);
        if let Some(m) = rebuilt {
            cell.rebuilt.add(&m);
        }
        if let Some(s) = stripe {
            cell.stripe.add(&s);
        }
        let (r_net, s_net) = (
            rebuilt.map(|m| m.net()).unwrap_or(0),
            stripe.map(|m| m.net()).unwrap_or(0),
        );
        if r_net != s_net {
            cell.rows_differing += 1;
            cell.rows.push(RowDifference {
                payment_id: row.id.clone(),
                difference: r_net - s_net,
                rebuilt_net: r_net,
                stripe_net: s_net,
                why: why(row, o),
                sources: row.sources_text(),
                confidence: row.confidence,
            });
        }
    }
    let mut by_business: BTreeMap<&str, BusinessMoney> = BTreeMap::new();
    for ((bid, _, _), mut cell) in cells {
        cell.difference = cell.rebuilt.net - cell.stripe.net;
        cell.rows.sort_by(|a, b| {
            b.difference
                .abs()
                .cmp(&a.difference.abs())
                .then(a.payment_id.cmp(&b.payment_id))
        });
        cell.rows.truncate(ROWS_PER_CELL);
        let b = by_business.entry(bid).or_insert_with(|| BusinessMoney {
            business_id: bid.to_string(),
            name: names.get(bid).copied().flatten().map(str::to_string),
            reconciled: true,
            totals: BTreeMap::new(),
            cells: Vec::new(),
        });
        let t = b.totals.entry(cell.currency.clone()).or_default();
        t.rebuilt_net += cell.rebuilt.net;
        t.stripe_net += cell.stripe.net;
        t.backup_net += cell.backup.net;
        t.outside_stripe_net += cell.outside_stripe.net;
        t.difference += cell.difference;
        t.rows_differing += cell.rows_differing;
        b.reconciled &= cell.rows_differing == 0;
        b.cells.push(cell);
    }
    let mut businesses: Vec<BusinessMoney> = by_business.into_values().collect();
    let differing = |b: &BusinessMoney| b.totals.values().map(|t| t.rows_differing).sum::<usize>();
    businesses.sort_by(|a, b| {
        differing(b).cmp(&differing(a)).then_with(|| {
            (a.business_id.len(), &a.business_id).cmp(&(b.business_id.len(), &b.business_id))
        })
    });
    Reconciliation {
        businesses_reconciled: businesses.iter().filter(|b| b.reconciled).count(),
        businesses_not_reconciled: businesses.iter().filter(|b| !b.reconciled).count(),
        payments_differing: businesses.iter().map(differing).sum(),
        businesses,
    }
}

/// Why a payment's rebuilt money differs from Stripe's, in words.
fn why(row: &Row, o: &[Offer<'_>]) -> String {
    if !row.sources.contains(&SourceKind::Stripe) || o[0].stripe.is_none() {
        let from = row.sources_text();
        return format!("Stripe shows no such payment; only {from} does");
    }
    let mut parts = Vec::new();
    for (i, col) in COLUMNS.iter().enumerate().take(3) {
        let (Some(s), Some((c, src))) = (o[i].stripe, o[i].chosen) else {
            continue;
        };
        if s != c {
            parts.push(format!(
                "{col}: Stripe {s}, rebuilt {c} (from {})",
                src.as_str()
            ));
        }
    }
    if parts.is_empty() {
        "Stripe's values give another net (a refund or dispute amount no source gave)".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Value;
    use crate::merge::{Provenance, ProvenanceLog};

    fn pay(id: &str, amount: i64, status: &str, sources: &[SourceKind]) -> Row {
        let vals = [
            ("business_id", Value::text("b1")),
            ("amount", Value::Int(amount)),
            ("amount_refunded", Value::Int(0)),
            ("status", Value::text(status)),
            ("currency", Value::text("usd")),
            ("processor", Value::text("stripe")),
            ("created_at", Value::text("2026-10-03T10:00:00Z")),
        ];
        Row::for_test(id, &vals, 0.9, sources)
    }

    fn offered(row: &str, col: &str, v: &str, src: SourceKind, chosen: bool) -> Provenance {
        Provenance::offered(
            Entity::Payment,
            row,
            col,
            v,
            src,
            Some("2026-10-03T10:00:00Z"),
            chosen,
        )
    }

    #[test]
    fn a_payment_stripe_does_not_show_is_the_difference_and_is_named() {
        use SourceKind::*;
        let mut prov = Vec::new();
        for (row, src) in [("py_a", Stripe), ("py_b", Email)] {
            prov.push(offered(row, "amount", "1000", src, true));
            prov.push(offered(row, "status", "succeeded", src, true));
        }
        // The backup knew py_a at its snapshot, before it was refunded.
        prov.push(offered("py_a", "amount", "1000", Backup, false));
        prov.push(offered("py_a", "status", "pending", Backup, false));
        let mut cash = pay("py_c", 500, "succeeded", &[Backup]);
        cash.values.insert("processor".into(), Value::text("cash"));
        let rec = Recovered {
            businesses: vec![],
            payments: vec![
                pay("py_a", 1000, "succeeded", &[Backup, Stripe]),
                pay("py_b", 1000, "succeeded", &[Email]),
                cash,
            ],
            provenance: ProvenanceLog::from_iter(prov),
            ..Default::default()
        };
        let r = reconcile(&rec);
        assert_eq!(
            (r.businesses_reconciled, r.businesses_not_reconciled),
            (0, 1)
        );
        let cell = &r.businesses[0].cells[0];
        assert_eq!(
            (cell.rebuilt.net, cell.stripe.net, cell.difference),
            (2000, 1000, 1000)
        );
        assert_eq!(cell.outside_stripe.net, 500);
        assert_eq!(
            cell.backup.payments, 0,
            "a pending payment moved no money yet"
        );
        assert_eq!(cell.rows_differing, 1);
        assert_eq!(cell.rows[0].payment_id, "py_b");
        assert!(
            cell.rows[0].why.starts_with("Stripe shows no such payment"),
            "{}",
            cell.rows[0].why
        );
        assert_eq!(r.businesses[0].totals["usd"].difference, 1000);
    }

    #[test]
    fn refunds_and_disputes_net_out() {
        assert_eq!(
            Money::of(Some("refunded"), Some(900), None).unwrap().net(),
            0
        );
        assert_eq!(
            Money::of(Some("partially_refunded"), Some(900), Some(300))
                .unwrap()
                .net(),
            600
        );
        assert_eq!(
            Money::of(Some("disputed"), Some(900), Some(0))
                .unwrap()
                .net(),
            0
        );
        assert_eq!(Money::of(Some("failed"), Some(900), None), None);
        assert_eq!(Money::of(Some("succeeded"), None, None), None);
    }
}
