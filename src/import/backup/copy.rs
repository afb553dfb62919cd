//! PostgreSQL `COPY ... FROM stdin` text format: one row per line, columns separated by TAB,
//! `\N` for NULL, backslash escapes. Verified behaviour (see notes/pg_dump.md): the server
//! writes `\\ \b \f \n \r \t \v` and `\N`; on input it also accepts `\` + 1-3 octal digits,
//! `\x` + 1-2 hex digits, and `\` + any other character (that character).

/// Splits one COPY data line (without its trailing newline) into fields and unescapes each.
/// `None` is SQL NULL. Returns an error text when a field is not valid UTF-8 after
/// unescaping (octal/hex escapes can produce arbitrary bytes).
pub fn parse_copy_line(line: &[u8]) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    for (i, raw) in line.split(|&b| b == b'\t').enumerate() {
        out.push(unescape_field(raw).map_err(|e| format!("column {}: {e}", i + 1))?);
    }
    Ok(out)
}

/// Unescapes one COPY text field. Only a field that is exactly `\N` (unescaped) is NULL.
pub fn unescape_field(raw: &[u8]) -> Result<Option<String>, String> {
    if raw == b"\\N" {
        return Ok(None);
    }
    if !raw.contains(&b'\\') {
        return String::from_utf8(raw.to_vec())
            .map(Some)
            .map_err(|_| "invalid UTF-8".to_string());
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&c) = raw.get(i) else {
            // A lone backslash at the very end: PostgreSQL would join the next line; we keep it.
            out.push(b'\\');
            break;
        };
        i += 1;
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut v: u32 = (c - b'0') as u32;
                let mut n = 1;
                while n < 3 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 {
                    match raw.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n == 0 {
                    // `\x` without hex digits is just `x`.
                    out.push(b'x');
                } else {
                    out.push(v as u8);
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out)
        .map(Some)
        .map_err(|_| "invalid UTF-8 after unescaping".to_string())
}

/// Escapes a value for a COPY text field, exactly as the server's output does.
pub fn escape_field(v: Option<&str>) -> String {
    let Some(s) = v else {
        return "\\N".to_string();
    };
    let mut out = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Option<String> {
        unescape_field(s.as_bytes()).unwrap()
    }

    #[test]
    fn server_output_escapes() {
        assert_eq!(u("\\N"), None);
        assert_eq!(u(""), Some(String::new()));
        assert_eq!(u("\\\\N"), Some("\\N".into()));
        assert_eq!(u("a\\tb\\nc\\\\d"), Some("a\tb\nc\\d".into()));
        assert_eq!(u("\\b\\f\\r\\v"), Some("\u{8}\u{c}\r\u{b}".into()));
        assert_eq!(u("Zoë's Salon"), Some("Zoë's Salon".into()));
        // jsonb inside COPY: JSON escape, then COPY doubling.
        assert_eq!(u("{\"a\": \"x\\\\ny\"}"), Some("{\"a\": \"x\\ny\"}".into()));
        assert_eq!(u("C:\\\\."), Some("C:\\.".into()));
    }

    #[test]
    fn input_only_escapes() {
        assert_eq!(u("\\101"), Some("A".into()));
        assert_eq!(u("\\0101"), Some("\u{8}1".into()));
        assert_eq!(u("\\x4a3"), Some("J3".into()));
        assert_eq!(u("\\xe2\\x82\\xac"), Some("€".into()));
        assert_eq!(u("\\q"), Some("q".into()));
        assert_eq!(u("\\x"), Some("x".into()));
        assert!(unescape_field(b"\\xff").is_err());
    }

    #[test]
    fn lines_and_round_trip() {
        let row = parse_copy_line(b"1\t\\N\t\ta\\tb").unwrap();
        assert_eq!(
            row,
            vec![
                Some("1".into()),
                None,
                Some(String::new()),
                Some("a\tb".into())
            ]
        );
        for s in ["a\tb\nc\\d\r\u{8}\u{b}\u{c}", "\\N", "", "é€\u{7}\u{1b}"] {
            assert_eq!(u(&escape_field(Some(s))), Some(s.to_string()));
        }
        assert_eq!(escape_field(None), "\\N");
    }
}
