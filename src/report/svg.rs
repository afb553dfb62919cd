//! Pictures for the HTML report, drawn as inline SVG (no scripts, no network): the
//! evidence timeline and money per business against Stripe.

use super::money::Reconciliation;
use super::TimelineDay;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const SOURCES: [(&str, &str); 3] = [
    ("backup", "#7f7f7f"),
    ("stripe", "#635bff"),
    ("email", "#e67e22"),
];

/// Rows created per day, one line per kind of source, with the backup's snapshot marked.
pub fn timeline_svg(days: &[TimelineDay], snapshot: Option<&str>) -> String {
    const W: f64 = 900.0;
    const H: f64 = 160.0;
    const M: f64 = 30.0;
    if days.is_empty() {
        return String::new();
    }
    let n = days.len();
    let max = days
        .iter()
        .map(|d| d.backup.max(d.stripe).max(d.email))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |i: usize| {
        M + if n > 1 {
            i as f64 / (n - 1) as f64 * W
        } else {
            0.0
        }
    };
    let y = |v: usize| M + H - v as f64 / max * H;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"evidence timeline\">\
<line x1=\"{M}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#888\"/>\
<text x=\"{M}\" y=\"{t}\" font-size=\"11\">{}</text><text x=\"{r}\" y=\"{t}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
<text x=\"2\" y=\"{M}\" font-size=\"11\">{max}</text>",
        W + 2.0 * M,
        H + 2.0 * M + 14.0,
        esc(&days[0].day),
        esc(&days[n - 1].day),
        b = M + H,
        r = M + W,
        t = M + H + 16.0,
    );
    if let Some(snap) = snapshot {
        if let Some(i) = days
            .iter()
            .position(|d| d.day.as_str() >= &snap[..snap.len().min(10)])
        {
            let _ = write!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"{M}\" x2=\"{x:.1}\" y2=\"{b}\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/><text x=\"{x:.1}\" y=\"{ty}\" font-size=\"11\" fill=\"#c0392b\">backup snapshot</text>",
                x = x(i),
                b = M + H,
                ty = M - 6.0
            );
        }
    }
    for (k, (name, colour)) in SOURCES.iter().enumerate() {
        let pts: Vec<String> = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let v = [d.backup, d.stripe, d.email][k];
                format!("{:.1},{:.1}", x(i), y(v))
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\" points=\"{}\"><title>{name}</title></polyline>\
<text x=\"{lx}\" y=\"{ly}\" font-size=\"11\" fill=\"{colour}\">{name}</text>",
            pts.join(" "),
            lx = M + 10.0 + k as f64 * 70.0,
            ly = M + H + 30.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// For the businesses with the largest differences (then the largest volumes), a bar of
/// Stripe's net and one of the rebuild's, per currency, on one scale per currency.
pub fn money_svg(r: &Reconciliation, max_rows: usize) -> String {
    let mut lines: Vec<(&str, &str, i64, i64)> = Vec::new();
    for b in &r.businesses {
        for (cur, t) in &b.totals {
            lines.push((
                b.business_id.as_str(),
                cur.as_str(),
                t.stripe_net,
                t.rebuilt_net,
            ));
        }
    }
    lines.sort_by(|a, b| {
        (b.3 - b.2)
            .abs()
            .cmp(&(a.3 - a.2).abs())
            .then(b.2.max(b.3).cmp(&a.2.max(a.3)))
    });
    lines.truncate(max_rows);
    if lines.is_empty() {
        return String::new();
    }
    const LABEL: f64 = 150.0;
    const W: f64 = 500.0;
    const ROW: f64 = 22.0;
    let mut scale: std::collections::BTreeMap<&str, i64> = Default::default();
    for &(_, cur, s, b) in &lines {
        let m = scale.entry(cur).or_insert(1);
        *m = (*m).max(s.abs()).max(b.abs());
    }
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"money per business against Stripe\">",
        LABEL + W + 150.0,
        ROW * lines.len() as f64 + 20.0
    );
    for (i, &(bid, cur, s, b)) in lines.iter().enumerate() {
        let y = 10.0 + i as f64 * ROW;
        let w = |v: i64| v.max(0) as f64 / scale[cur] as f64 * W;
        let diff = b - s;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty:.1}\" font-size=\"11\">{} ({})</text>\
<rect x=\"{LABEL}\" y=\"{y:.1}\" width=\"{sw:.1}\" height=\"8\" fill=\"#635bff\"><title>Stripe {}</title></rect>\
<rect x=\"{LABEL}\" y=\"{y2:.1}\" width=\"{bw:.1}\" height=\"8\" fill=\"{fill}\"><title>rebuilt {}</title></rect>\
<text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"11\">{}</text>",
            esc(bid),
            esc(cur),
            esc(&crate::util::money::format_major(s, cur)),
            esc(&crate::util::money::format_major(b, cur)),
            if diff == 0 {
                "=".to_string()
            } else {
                esc(&crate::util::money::format_major(diff, cur))
            },
            ty = y + 12.0,
            sw = w(s),
            y2 = y + 9.0,
            bw = w(b),
            fill = if diff == 0 { "#3a7d44" } else { "#c0392b" },
            tx = LABEL + W + 6.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_has_a_line_per_source_and_marks_the_snapshot() {
        let days: Vec<TimelineDay> = (1..=9)
            .map(|d| TimelineDay {
                day: format!("2026-08-0{d}"),
                backup: if d < 5 { 10 } else { 0 },
                stripe: 4,
                email: if d == 7 { 0 } else { 6 },
            })
            .collect();
        let svg = timeline_svg(&days, Some("2026-08-05T03:00:00Z"));
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.contains("backup snapshot"));
        assert!(!svg.contains("NaN"));
        assert_eq!(timeline_svg(&[], None), "");
    }
}
