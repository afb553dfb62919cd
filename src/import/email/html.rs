//! HTML mail bodies to text lines that the same extractors read as plain-text bodies:
//! block elements end lines, a table row of cells becomes `cell1: cell2 ...`, scripts and
//! styles vanish, entities are decoded.

/// Turns an HTML body into text. Never fails; garbage in, some text out.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut row: Vec<String> = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut cell: Option<String> = None;
    let mut skip_until: Option<&'static str> = None;
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'<' {
            // Comments.
            if html[i..].starts_with("<!--") {
                i = html[i + 4..]
                    .find("-->")
                    .map(|p| i + 4 + p + 3)
                    .unwrap_or(bytes.len());
                continue;
            }
            let end = match html[i..].find('>') {
                Some(p) => i + p,
                None => break,
            };
            let tag = &html[i + 1..end];
            i = end + 1;
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(stop) = skip_until {
                if closing && name == stop {
                    skip_until = None;
                }
                continue;
            }
            match (name.as_str(), closing) {
                ("script", false) => skip_until = Some("script"),
                ("style", false) => skip_until = Some("style"),
                ("head", false) => skip_until = Some("head"),
                ("title", false) => skip_until = Some("title"),
                ("tr", _) => {
                    flush_cell(&mut cell, &mut row);
                    flush_row(&mut row, &mut header, &mut out);
                }
                ("td" | "th", false) => {
                    flush_cell(&mut cell, &mut row);
                    cell = Some(String::new());
                }
                ("td" | "th", true) => flush_cell(&mut cell, &mut row),
                ("table", _) => {
                    flush_cell(&mut cell, &mut row);
                    flush_row(&mut row, &mut header, &mut out);
                    write_row(header.take().unwrap_or_default(), &mut out);
                    newline(&mut out);
                }
                ("br", _) => match cell.as_mut() {
                    Some(c) => c.push(' '),
                    None => out.push('\n'),
                },
                (
                    "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li" | "ul" | "ol"
                    | "hr" | "blockquote" | "section" | "header" | "footer",
                    _,
                ) => {
                    if cell.is_none() {
                        newline(&mut out);
                    } else if let Some(c) = cell.as_mut() {
                        c.push(' ');
                    }
                }
                _ => {}
            }
            continue;
        }
        // Text run up to the next tag.
        let next = html[i..].find('<').map(|p| i + p).unwrap_or(bytes.len());
        if skip_until.is_none() {
            let text = decode_entities(&html[i..next]);
            let target = match cell.as_mut() {
                Some(c) => c,
                None => &mut out,
            };
            push_collapsed(target, &text);
        }
        i = next;
    }
    flush_cell(&mut cell, &mut row);
    flush_row(&mut row, &mut header, &mut out);
    write_row(header.take().unwrap_or_default(), &mut out);
    // Trim each line, drop runs of blank lines.
    let mut clean = String::with_capacity(out.len());
    let mut blank = true;
    for line in out.lines() {
        let l = line.trim();
        if l.is_empty() {
            if !blank {
                clean.push('\n');
            }
            blank = true;
        } else {
            clean.push_str(l);
            clean.push('\n');
            blank = false;
        }
    }
    clean
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn push_collapsed(target: &mut String, text: &str) {
    for ch in text.chars() {
        if ch.is_whitespace() && ch != '\u{a0}' {
            if !target.ends_with(' ') && !target.ends_with('\n') && !target.is_empty() {
                target.push(' ');
            }
        } else if ch == '\u{a0}' {
            target.push(' ');
        } else {
            target.push(ch);
        }
    }
}

fn flush_cell(cell: &mut Option<String>, row: &mut Vec<String>) {
    if let Some(c) = cell.take() {
        let c = c.split_whitespace().collect::<Vec<_>>().join(" ");
        row.push(c);
    }
}

/// A finished table row. Label/value rows become `label: value`. A row of three or more
/// labels followed by a row of as many values (receipts lay "Amount paid | Date paid |
/// Payment method" out in columns) becomes one `label: value` line per column.
fn flush_row(row: &mut Vec<String>, header: &mut Option<Vec<String>>, out: &mut String) {
    let cells: Vec<String> = row.drain(..).filter(|c| !c.is_empty()).collect();
    if cells.is_empty() {
        return;
    }
    if let Some(h) = header.take() {
        if h.len() == cells.len() {
            for (l, v) in h.iter().zip(&cells) {
                newline(out);
                out.push_str(l.trim_end_matches(':'));
                out.push_str(": ");
                out.push_str(v);
                out.push('\n');
            }
            return;
        }
        write_row(h, out);
    }
    let label_like = |c: &String| {
        c.chars().count() <= 40
            && !c
                .chars()
                .any(|ch| ch.is_ascii_digit() || "$€£¥".contains(ch))
    };
    if cells.len() >= 3 && cells.iter().all(label_like) {
        *header = Some(cells);
        return;
    }
    write_row(cells, out);
}

fn write_row(cells: Vec<String>, out: &mut String) {
    if cells.is_empty() {
        return;
    }
    newline(out);
    out.push_str(cells[0].trim_end_matches(':'));
    if cells.len() > 1 {
        out.push_str(": ");
        out.push_str(&cells[1..].join(" "));
    }
    out.push('\n');
}

/// Decodes the common named entities and numeric references.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|b| *b == b';');
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let ch = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "middot" => Some('·'),
                "euro" => Some('€'),
                "pound" => Some('£'),
                "yen" => Some('¥'),
                "copy" => Some('©'),
                _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                    u32::from_str_radix(&ent[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if ent.starts_with('#') => ent[1..].parse::<u32>().ok().and_then(char::from_u32),
                _ => None,
            };
            ch.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_become_label_value_lines() {
        let h = "<html><head><style>td{x}</style></head><body><h1>Booked &amp; done</h1>\
                 <table><tr><td>Booking code</td><td><b>BK-7Q2X9</b></td></tr>\
                 <tr><th>Total:</th><td>&euro;1,234.50</td></tr></table>\
                 <p>See&nbsp;you<br>soon</p><script>var x=1;</script><!-- c --></body></html>";
        let t = html_to_text(h);
        assert!(t.contains("Booked & done\n"), "{t}");
        assert!(t.contains("Booking code: BK-7Q2X9\n"), "{t}");
        assert!(t.contains("Total: €1,234.50\n"), "{t}");
        assert!(t.contains("See you\nsoon"), "{t}");
        assert!(!t.contains("var x") && !t.contains("td{x}"), "{t}");
    }

    #[test]
    fn column_tables_pair_headers_with_values() {
        let h = "<table><tr><td>Amount paid</td><td>Date paid</td><td>Payment method</td></tr>\
                 <tr><td>$45.00</td><td>Jul 14, 2026</td><td>Visa &ndash; 4242</td></tr></table>\
                 <table><tr><td>Service</td><td>Cut</td></tr><tr><td>Party</td><td>2</td></tr>\
                 <tr><td>A</td><td>B</td><td>C</td></tr></table>";
        let t = html_to_text(h);
        assert!(
            t.contains(
                "Amount paid: $45.00\nDate paid: Jul 14, 2026\nPayment method: Visa – 4242\n"
            ),
            "{t}"
        );
        assert!(t.contains("Service: Cut\nParty: 2\n"), "{t}");
        assert!(t.contains("A: B C\n"), "{t}");
    }

    #[test]
    fn broken_html_does_not_panic() {
        for h in [
            "<",
            "<td>",
            "&#xZZZ;",
            "a &amp",
            "<table><tr><td>x",
            "&#99999999;",
            "é<b",
        ] {
            let _ = html_to_text(h);
        }
        assert_eq!(decode_entities("&#233;t&eacute;"), "ét&eacute;");
    }
}
