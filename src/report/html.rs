//! The report as one self-contained HTML page (no scripts, no external assets).

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

    let _ = write!(
        h,
        "<h2>Review queue ({} rows)</h2><p>Rows a person should look at before the data goes back into production. All of them are in the <code>review_queue</code> table of <code>recovered.sqlite</code>.</p><table><tr><th>reason</th><th>rows</th></tr>",
        r.review.total
    );
    for (k, v) in &r.review.by_reason {
        let _ = write!(h, "<tr><td>{}</td><td class=num>{v}</td></tr>", esc(k));
    }
    h.push_str("</table><table><tr><th>table</th><th>row</th><th>reason</th><th>confidence</th><th>details</th></tr>");
    for e in &r.review.examples {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=num>{}</td><td><code>{}</code></td></tr>",
            esc(&e.table),
            esc(&e.row_id),
            esc(&e.reason),
            e.confidence.map(|c| format!("{c:.3}")).unwrap_or_default(),
            esc(&e.details.to_string())
        );
    }
    h.push_str("</table>");

    h.push_str("<h2>By business</h2><p>Businesses with the most review items first.</p><table><tr><th>id</th><th>name</th><th>confidence</th><th>customers</th><th>reservations</th><th>payments</th><th>volume</th><th>review items</th></tr>");
    for b in r.by_business.iter().take(200) {
        let vol: Vec<String> = b
            .payment_volume
            .iter()
            .map(|(c, v)| format!("{v} {c}"))
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
