//! The report as one self-contained HTML page (no external assets; a few lines of inline
//! script filter the work list, and the page reads the same without them).

use super::Report;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A confidence histogram as an inline SVG: ten bars (0.0-0.1 ... 0.9-1.0), heights on
/// a square-root scale so a few doubtful rows still show beside thousands of sure ones.
pub fn confidence_svg(deciles: &[usize], label: &str) -> String {
    const W: usize = 16;
    const H: f64 = 60.0;
    let max = deciles.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"80\" role=\"img\" aria-label=\"{}\">",
        W * 10 + 2,
        esc(label)
    );
    for (i, &n) in deciles.iter().enumerate() {
        let h = (n as f64 / max).sqrt() * H;
        let colour = match i {
            0..=5 => "#c0392b",
            6..=8 => "#e6a23c",
            _ => "#3a7d44",
        };
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{:.1}\" width=\"{}\" height=\"{:.1}\" fill=\"{colour}\"><title>{:.1}-{:.1}: {n} rows</title></rect>",
            i * W + 1,
            H - h,
            W - 2,
            h,
            i as f64 / 10.0,
            (i + 1) as f64 / 10.0
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{H}\" x2=\"{}\" y2=\"{H}\" stroke=\"#888\"/><text x=\"0\" y=\"76\" font-size=\"10\">0</text><text x=\"{}\" y=\"76\" font-size=\"10\">1</text></svg>",
        W * 10 + 2,
        W * 10 - 4
    );
    svg
}

/// The reliability diagram as an inline SVG: one dot per confidence bin at (mean
/// confidence, measured accuracy), its area by rows, against the diagonal a perfectly
/// calibrated confidence would follow.
pub fn reliability_svg(rel: &super::Reliability) -> String {
    const S: f64 = 240.0;
    const M: f64 = 30.0;
    let total: usize = rel.bins.iter().map(|b| b.2).sum::<usize>().max(1);
    let x = |v: f64| M + v.clamp(0.0, 1.0) * S;
    let y = |v: f64| M + (1.0 - v.clamp(0.0, 1.0)) * S;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{w}\" role=\"img\" aria-label=\"reliability diagram\">\
<rect x=\"{M}\" y=\"{M}\" width=\"{S}\" height=\"{S}\" fill=\"none\" stroke=\"#888\"/>\
<line x1=\"{M}\" y1=\"{b}\" x2=\"{b}\" y2=\"{M}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\
<text x=\"{M}\" y=\"{t}\" font-size=\"11\">confidence 0 \u{2192} 1</text>\
<text x=\"4\" y=\"{M}\" font-size=\"11\" transform=\"rotate(90 4 {M})\">right (measured)</text>",
        w = S + 2.0 * M,
        b = M + S,
        t = S + 2.0 * M - 8.0,
    );
    for &(lo, hi, rows, conf, acc) in rel.bins.iter().filter(|b| b.2 > 0) {
        let r = 3.0 + 12.0 * (rows as f64 / total as f64).sqrt();
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"#2f6db5\" fill-opacity=\"0.6\"><title>{lo:.1}-{hi:.1}: {rows} rows, mean confidence {conf:.3}, right {acc:.3}</title></circle>",
            x(conf),
            y(acc)
        );
    }
    svg.push_str("</svg>");
    svg
}

pub fn render(r: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let title = r
        .incident
        .get("incident_name")
        .map(|s| s.as_str())
        .unwrap_or("incident");
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Salvage report: {}</title><style>\
body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}}th{{background:#f4f4f4}}\
.num{{text-align:right}}code{{font-size:90%}}h2{{margin-top:2em}}</style></head><body>",
        esc(title)
    );
    let _ = write!(h, "<h1>Reconciliation report: {}</h1><table>", esc(title));
    for k in ["incident_at", "backup_snapshot_at", "tool_version"] {
        if let Some(v) = r.incident.get(k) {
            let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        }
    }
    h.push_str("</table>");
    first_things(&mut h, r);
    money_section(&mut h, r);
    changes_section(&mut h, r);
    let _ = write!(
        h,
        "<h2 id=\"timeline\">Evidence timeline</h2><p>Reservations and payments per day created, by the kind of source that supports them. A hole in one line is a stretch that source lost (missing mail, a deploy that dropped Stripe metadata); the backup's line ends at its snapshot.</p>{}",
        super::svg::timeline_svg(&r.timeline, r.incident.get("backup_snapshot_at").map(|s| s.as_str()))
    );

    h.push_str("<h2>Rebuilt tables</h2><table><tr><th>table</th><th>rows</th><th>mean confidence</th><th>rows by supporting sources</th><th>confidence deciles (0.0&ndash;1.0)</th></tr>");
    for t in &r.tables {
        let by: Vec<String> = t
            .by_sources
            .iter()
            .map(|(k, v)| format!("{}: {v}", esc(k)))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=num>{}</td><td class=num>{:.3}</td><td>{}</td><td><code>{:?}</code></td></tr>",
            esc(&t.table),
            t.rows,
            t.mean_confidence,
            by.join("<br>"),
            t.confidence_histogram
        );
    }
    h.push_str("</table>");

    // Where the doubt is, per table and per kind of supporting source.
    h.push_str("<h2>Confidence per table and source</h2><p>Rows per confidence decile (0 to 1, left to right; bar heights on a square-root scale; red below 0.6, amber below 0.9). Hover a bar for its count.</p><table><tr><th>table</th><th>all rows</th>");
    let kinds = ["backup", "stripe", "email"];
    for k in kinds {
        let _ = write!(h, "<th>{k}</th>");
    }
    h.push_str("</tr>");
    for t in &r.tables {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td>",
            esc(&t.table),
            confidence_svg(&t.confidence_histogram, &format!("{} confidence", t.table))
        );
        for k in kinds {
            match t.confidence_by_kind.get(k) {
                Some(d) => {
                    let _ = write!(
                        h,
                        "<td>{}</td>",
                        confidence_svg(d, &format!("{} rows {k} supports", t.table))
                    );
                }
                None => h.push_str("<td>none</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");

    if let Some(rel) = &r.reliability {
        let _ = write!(
            h,
            "<h2>Reliability against the truth</h2><p>Scored against <code>{}</code>: expected calibration error {:.4}. Each dot is a confidence bin at its mean confidence and the share of its rows that are right (area by rows); on the dashed diagonal, a confidence means what it says.</p>{}",
            esc(&rel.truth),
            rel.ece,
            reliability_svg(rel)
        );
    }

    if !r.failed_sources.is_empty() {
        h.push_str("<h2>Sources that failed</h2><p>This rebuild is partial: nothing of these sources is in it, not even what an earlier run had imported. Fix the error and run again.</p><table><tr><th>source</th><th>error</th></tr>");
        for f in &r.failed_sources {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&f.name),
                esc(&f.error)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Sources</h2><table><tr><th>source</th><th>kind</th><th>records</th><th>claims</th><th>skipped</th><th>snapshot / export</th><th>SHA-256</th></tr>");
    for s in &r.sources {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&s.name),
            esc(&s.kind),
            s.records,
            s.claims,
            s.skips,
            esc(s.snapshot_at.as_deref().or(s.exported_at.as_deref()).unwrap_or("")),
            esc(s.sha256.as_deref().map(|x| &x[..x.len().min(16)]).unwrap_or(""))
        );
    }
    h.push_str("</table>");

    h.push_str("<h2>Skipped input</h2>");
    if r.skipped.is_empty() {
        h.push_str("<p>Nothing was skipped.</p>");
    } else {
        skip_groups(&mut h, &r.skipped);
    }

    if !r.unmatched_mail.is_empty() {
        h.push_str("<h2>Mail no template matched</h2><p>Grouped by sender and subject shape (digits as 9), most first: a large group is often a template the mapping is missing.</p><table><tr><th>source</th><th>sender and subject</th><th>messages</th><th>one of them</th></tr>");
        for u in &r.unmatched_mail {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=num>{}</td><td><code>{}</code></td></tr>",
                esc(&u.source),
                esc(&u.shape),
                u.count,
                esc(&u.example)
            );
        }
        h.push_str("</table>");
    }

    if !r.notices.is_empty() {
        h.push_str("<h2>Kept with a caveat</h2><p>Input that was imported, with something a person should know about it.</p>");
        skip_groups(&mut h, &r.notices);
    }

    if !r.unmatched_rules.is_empty() {
        h.push_str("<h2>Mapping rules that matched nothing</h2><p>No input was dropped for these, but a rule that never matches is often a mistake (a typo, a key of another app, a table the backup does not have): check each against a record it should match.</p><table><tr><th>source</th><th>rule</th><th>why</th></tr>");
        for g in &r.unmatched_rules {
            for e in &g.examples {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    esc(&g.source),
                    esc(&e.location),
                    esc(&e.reason)
                );
            }
        }
        h.push_str("</table>");
    }

    worklist_section(&mut h, r);

    h.push_str("<h2>By business</h2><p>Businesses with the most review items first.</p><table><tr><th>id</th><th>name</th><th>confidence</th><th>customers</th><th>reservations</th><th>payments</th><th>volume</th><th>review items</th></tr>");
    for b in r.by_business.iter().take(200) {
        let vol: Vec<String> = b
            .payment_volume
            .iter()
            .map(|(c, v)| crate::util::money::format_major(*v, c))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=num>{:.3}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td>{}</td><td class=num>{}</td></tr>",
            esc(&b.business_id),
            esc(b.name.as_deref().unwrap_or("")),
            b.confidence,
            b.customers,
            b.reservations,
            b.payments,
            esc(&vol.join(", ")),
            b.review_items
        );
    }
    h.push_str("</table>");

    h.push_str("<h2>By month (created)</h2><table><tr><th>month</th><th>reservations</th><th>payments</th><th>reservations by sources</th></tr>");
    for m in &r.by_month {
        let by: Vec<String> = m
            .reservations_by_sources
            .iter()
            .map(|(k, v)| format!("{}: {v}", esc(k)))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td><td>{}</td></tr>",
            esc(&m.month),
            m.reservations,
            m.payments,
            by.join(", ")
        );
    }
    h.push_str("</table></body></html>\n");
    h
}

/// Money in major units with its currency's symbol.
fn money(minor: i64, currency: &str) -> String {
    esc(&crate::util::money::format_major(minor, currency))
}

/// The headline: what a person should do first, with links to each section.
fn first_things(h: &mut String, r: &Report) {
    let m = &r.money;
    let new_rows: usize = r
        .since_backup
        .changes
        .iter()
        .filter(|c| c.kind == "new")
        .map(|c| c.rows)
        .sum();
    let changed: usize = r
        .since_backup
        .changes
        .iter()
        .filter(|c| c.kind.starts_with("changed:"))
        .map(|c| c.rows)
        .sum();
    let _ = write!(
        h,
        "<h2>First things first</h2><ol>\
<li><a href=\"#money\">Money</a>: {} of {} businesses reconcile with Stripe; {} payments differ.</li>\
<li><a href=\"#worklist\">Review</a>: {} rows to decide, in {} kinds.</li>\
<li><a href=\"#changes\">Since the backup</a>: {new_rows} rows no backup row shows, {changed} changed values; about {} bookings no source witnessed.</li>\
</ol>",
        m.businesses_reconciled,
        m.businesses_reconciled + m.businesses_not_reconciled,
        m.payments_differing,
        r.worklist.items.len(),
        r.worklist.groups.len(),
        r.since_backup.gaps.estimated_missing,
    );
}

/// Businesses whose money does not reconcile are listed in full (each with its
/// differing payments); of the others, this many.
const RECONCILED_LISTED: usize = 100;

fn money_section(h: &mut String, r: &Report) {
    let m = &r.money;
    let _ = write!(
        h,
        "<h2 id=\"money\">Money against Stripe</h2><p>Per business and currency: what Stripe's own records of the rebuilt payments net to (gross less refunds and disputes), what the rebuilt payments net to, what the backup's rows of them said at its snapshot, and payments outside Stripe (cash, another processor). {}</p>",
        match m.businesses_not_reconciled {
            0 => format!("All {} businesses reconcile.", m.businesses_reconciled),
            n => format!(
                "{} of {} businesses reconcile; the {n} that do not come first, each with a link to the payments that explain the difference.",
                m.businesses_reconciled,
                m.businesses_reconciled + n
            ),
        }
    );
    h.push_str(&super::svg::money_svg(m, 20));
    h.push_str("<table><tr><th>business</th><th>currency</th><th>Stripe net</th><th>rebuilt net</th><th>difference</th><th>backup knew</th><th>outside Stripe</th><th>payments differing</th></tr>");
    let mut listed = 0;
    for b in &m.businesses {
        if b.reconciled {
            if listed >= RECONCILED_LISTED {
                continue;
            }
            listed += 1;
        }
        for (cur, t) in &b.totals {
            let link = if b.reconciled {
                String::new()
            } else {
                format!(" <a href=\"#money-{}\">rows</a>", esc(&b.business_id))
            };
            let _ = write!(
                h,
                "<tr><td>{} {}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}{link}</td></tr>",
                esc(&b.business_id),
                esc(b.name.as_deref().unwrap_or("")),
                esc(&cur.to_uppercase()),
                money(t.stripe_net, cur),
                money(t.rebuilt_net, cur),
                money(t.difference, cur),
                money(t.backup_net, cur),
                money(t.outside_stripe_net, cur),
                t.rows_differing,
            );
        }
    }
    h.push_str("</table>");
    let shown = m
        .businesses
        .len()
        .min(m.businesses_not_reconciled + RECONCILED_LISTED);
    if shown < m.businesses.len() {
        let _ = write!(
            h,
            "<p>{} more businesses reconcile; all are in <code>report.json</code> (<code>money.businesses</code>).</p>",
            m.businesses.len() - shown
        );
    }
    for b in m.businesses.iter().filter(|b| !b.reconciled) {
        let _ = write!(
            h,
            "<details id=\"money-{}\"><summary>{} {}: the payments that differ</summary><table><tr><th>month</th><th>payment</th><th>rebuilt net</th><th>Stripe net</th><th>why</th><th>sources</th><th>confidence</th></tr>",
            esc(&b.business_id),
            esc(&b.business_id),
            esc(b.name.as_deref().unwrap_or(""))
        );
        for c in b.cells.iter().filter(|c| c.rows_differing > 0) {
            for row in &c.rows {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td><code>{}</code></td><td class=num>{}</td><td class=num>{}</td><td>{}</td><td>{}</td><td class=num>{:.3}</td></tr>",
                    esc(&c.month),
                    esc(&row.payment_id),
                    money(row.rebuilt_net, &c.currency),
                    money(row.stripe_net, &c.currency),
                    esc(&row.why),
                    esc(&row.sources),
                    row.confidence
                );
            }
            if c.rows_differing > c.rows.len() {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td colspan=6>and {} more in this month</td></tr>",
                    esc(&c.month),
                    c.rows_differing - c.rows.len()
                );
            }
        }
        h.push_str("</table></details>");
    }
}

fn changes_section(h: &mut String, r: &Report) {
    let c = &r.since_backup;
    let _ = write!(
        h,
        "<h2 id=\"changes\">What changed since the backup</h2><p>Against the backup taken {}: rows no backup row shows, and values the rebuild holds that differ from the backup's, counted by the kind of source the new value came from.</p><table><tr><th>table</th><th>change</th><th>rows</th><th>by source</th><th>examples (row: backup &rarr; now)</th></tr>",
        esc(c.snapshot_at.as_deref().unwrap_or("(no snapshot time known)"))
    );
    for ch in &c.changes {
        let by: Vec<String> = ch
            .by_source
            .iter()
            .map(|(k, v)| format!("{}: {v}", esc(k)))
            .collect();
        let ex: Vec<String> = ch
            .examples
            .iter()
            .take(5)
            .map(|(id, was, now)| {
                format!(
                    "<code>{}</code>: {} &rarr; {}",
                    esc(id),
                    esc(was.as_deref().unwrap_or("none")),
                    esc(now.as_deref().unwrap_or("none"))
                )
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=num>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&ch.table),
            esc(&ch.kind),
            ch.rows,
            by.join(", "),
            ex.join("<br>")
        );
    }
    let _ = write!(
        h,
        "</table><p><b>What no source could recover:</b> {}.</p>",
        esc(&c.gaps.explanation)
    );
}

/// Review items shown per reason (all are in `report.json` and `review_queue`).
const ITEMS_PER_REASON: usize = 100;

/// The evidence of a work-list item shown in the page (whole in `report.json`): the page
/// of a 1,600-business incident stays a few hundred KB and opens in well under a second.
const DETAILS_CHARS: usize = 240;

/// `s` cut to `max` characters, with an ellipsis when cut.
fn short(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn worklist_section(h: &mut String, r: &Report) {
    let w = &r.worklist;
    let _ = write!(
        h,
        "<h2 id=\"worklist\">Review: the work list ({} rows)</h2><p>Rows a person should decide before the data goes back into production, grouped by reason, the reason with the most money at stake first, and the largest amount first within it. Every item is in the <code>review_queue</code> table of <code>recovered.sqlite</code> and in <code>report.json</code> (<code>worklist</code>).</p><table><tr><th>reason</th><th>rows</th><th>money at stake</th><th>decision</th></tr>",
        w.items.len()
    );
    for g in &w.groups {
        let stake: Vec<String> = g.at_stake.iter().map(|(c, v)| money(*v, c)).collect();
        let _ = write!(
            h,
            "<tr><td><a href=\"#reason-{}\">{}</a></td><td class=num>{}</td><td class=num>{}</td><td>{}</td></tr>",
            esc(&g.reason),
            esc(&g.reason),
            g.items,
            stake.join(", "),
            esc(&g.decision)
        );
    }
    h.push_str("</table>");
    // Filters: by business and by reason (a few lines of inline script; the page works
    // without it, showing every item).
    let mut businesses: Vec<&str> = w
        .items
        .iter()
        .filter_map(|i| i.business_id.as_deref())
        .collect();
    businesses.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    businesses.dedup();
    h.push_str("<p><label>business <select id=\"f-business\"><option value=\"\">all</option>");
    for b in &businesses {
        let _ = write!(h, "<option>{}</option>", esc(b));
    }
    h.push_str(
        "</select></label> <label>reason <select id=\"f-reason\"><option value=\"\">all</option>",
    );
    for g in &w.groups {
        let _ = write!(h, "<option>{}</option>", esc(&g.reason));
    }
    h.push_str("</select></label></p>");
    let mut shown: std::collections::HashMap<&str, usize> = Default::default();
    for g in &w.groups {
        let _ = write!(
            h,
            "<h3 id=\"reason-{}\">{} ({})</h3><table class=\"work\"><tr><th>table</th><th>row</th><th>business</th><th>amount</th><th>confidence</th><th>evidence</th></tr>",
            esc(&g.reason),
            esc(&g.reason),
            g.items
        );
        for i in w.items.iter().filter(|i| i.reason == g.reason) {
            let n = shown.entry(i.reason.as_str()).or_insert(0);
            *n += 1;
            if *n > ITEMS_PER_REASON {
                continue;
            }
            let amount = match (i.amount, &i.currency) {
                (Some(a), Some(c)) => money(a, c),
                (Some(a), None) => a.to_string(),
                _ => String::new(),
            };
            let _ = write!(
                h,
                "<tr data-business=\"{}\" data-reason=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}</td><td class=num>{amount}</td><td class=num>{}</td><td><code>{}</code></td></tr>",
                esc(i.business_id.as_deref().unwrap_or("")),
                esc(&i.reason),
                esc(&i.table),
                esc(&i.row_id),
                esc(i.business_id.as_deref().unwrap_or("")),
                i.confidence.map(|c| format!("{c:.3}")).unwrap_or_default(),
                esc(&short(&i.details.to_string(), DETAILS_CHARS))
            );
        }
        h.push_str("</table>");
        if g.items > ITEMS_PER_REASON {
            let _ = write!(
                h,
                "<p>and {} more of this reason in <code>report.json</code>.</p>",
                g.items - ITEMS_PER_REASON
            );
        }
    }
    h.push_str(
        "<script>(function(){var b=document.getElementById('f-business'),r=document.getElementById('f-reason');\
function f(){document.querySelectorAll('tr[data-reason]').forEach(function(t){\
t.style.display=(!b.value||t.dataset.business===b.value)&&(!r.value||t.dataset.reason===r.value)?'':'none';});\
document.querySelectorAll('h3[id^=reason-]').forEach(function(x){x.style.display=!r.value||x.id==='reason-'+r.value?'':'none';});}\
b.addEventListener('change',f);r.addEventListener('change',f);})();</script>",
    );
}

/// A table of skip groups: source, kind, count, and a few examples with where and why.
fn skip_groups(h: &mut String, groups: &[super::SkipGroup]) {
    h.push_str(
        "<table><tr><th>source</th><th>kind</th><th>count</th><th>examples (where, why)</th></tr>",
    );
    for g in groups {
        let ex: Vec<String> = g
            .examples
            .iter()
            .map(|e| format!("<code>{}</code>: {}", esc(&e.location), esc(&e.reason)))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=num>{}</td><td>{}</td></tr>",
            esc(&g.source),
            esc(&g.kind),
            g.count,
            ex.join("<br>")
        );
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_evidence_is_cut_on_a_character() {
        assert_eq!(short("abc", 5), "abc");
        assert_eq!(short("ééééé", 2), "éé…");
    }

    #[test]
    fn a_histogram_is_a_picture_with_one_bar_per_decile() {
        let svg = confidence_svg(&[0, 0, 0, 0, 0, 3, 0, 0, 10, 400], "payments");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 10);
        assert!(svg.contains("0.9-1.0: 400 rows"));
        assert!(
            svg.contains("height=\"60.0\""),
            "the largest bar is full height"
        );
        // An empty table draws empty bars, not a division by zero.
        assert!(!confidence_svg(&[0; 10], "x").contains("NaN"));
    }

    #[test]
    fn the_reliability_diagram_has_a_dot_per_bin_with_rows() {
        let rel = crate::report::Reliability {
            truth: "truth.sqlite".into(),
            ece: 0.01,
            bins: vec![
                (0.0, 0.1, 0, 0.0, 0.0),
                (0.8, 0.9, 30, 0.85, 0.8),
                (0.9, 1.0, 900, 0.97, 0.98),
            ],
        };
        let svg = reliability_svg(&rel);
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("0.9-1.0: 900 rows, mean confidence 0.970, right 0.980"));
    }
}
