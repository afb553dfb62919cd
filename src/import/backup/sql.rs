//! Reader of pg_dump's plain format (and any SQL script of the same shape), line by line:
//! `CREATE TABLE` column lists, `COPY ... FROM stdin;` data blocks, and `INSERT` statements
//! (`--inserts`, `--column-inserts`, multi-row `VALUES`, literals spanning lines). psql
//! meta-commands (`\restrict`, `\unrestrict`, `\connect`) are skipped. Everything else is
//! read past.

use super::copy::parse_copy_line;
use super::source::{split_qualified, unqualified, Row, Summary, Visitor};
use crate::claims::Skip;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// Where a statement's text stands while it is read.
#[derive(Debug, Clone, PartialEq)]
enum Lex {
    Normal,
    /// Inside `'...'`; `backslash` when backslash escapes apply (E'' or
    /// standard_conforming_strings off).
    Single {
        backslash: bool,
    },
    Double,
    Dollar(String),
    Block(u32),
}

struct CopyBlock {
    table: String,
    columns: Vec<String>,
    start_line: u64,
    rows: u64,
    wanted: bool,
}

/// Scans a plain SQL dump. `label` names the file in locations (`app.sql:120`); `path` is
/// for read errors.
pub fn scan_plain(
    mut reader: impl BufRead,
    path: &Path,
    label: &str,
    summary: &mut Summary,
    v: &mut dyn Visitor,
) -> Result<()> {
    let mut st = Scanner {
        label: label.to_string(),
        lex: Lex::Normal,
        stmt: String::new(),
        stmt_line: 0,
        scs: true,
        parents: HashMap::new(),
    };
    let mut buf = Vec::with_capacity(8192);
    let mut line_no: u64 = 0;
    let mut copy: Option<CopyBlock> = None;
    let mut complete = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::read(path, e))?;
        if n == 0 {
            break;
        }
        v.progress(n as u64);
        line_no += 1;
        if line_no == 1 && buf.starts_with("\u{feff}".as_bytes()) {
            buf.drain(..3); // a byte-order mark some editors add
        }
        let terminated = buf.last() == Some(&b'\n');
        if let Some(cb) = copy.as_mut() {
            let mut line: &[u8] = &buf;
            if terminated {
                line = &line[..line.len() - 1];
            }
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if line == b"\\." {
                let t = summary.table_mut(&cb.table);
                t.rows += cb.rows;
                copy = None;
                continue;
            }
            if !terminated {
                // The file ends in the middle of this row: it is incomplete.
                line_no -= 1;
                break;
            }
            let loc = format!("{}:{}", st.label, line_no);
            if !cb.wanted {
                cb.rows += 1;
                continue;
            }
            match parse_copy_line(line) {
                Ok(values) if values.len() == cb.columns.len() => {
                    cb.rows += 1;
                    v.row(Row {
                        table: &cb.table,
                        columns: &cb.columns,
                        values,
                        location: loc,
                    })?;
                }
                Ok(values) => {
                    v.skip(
                        Some(&cb.table),
                        Skip {
                            location: loc,
                            kind: "bad_row".into(),
                            reason: format!(
                                "COPY row of table {} has {} columns, the COPY header at line {} names {}",
                                cb.table,
                                values.len(),
                                cb.start_line,
                                cb.columns.len()
                            ),
                        },
                    )?;
                }
                Err(e) => {
                    v.skip(
                        Some(&cb.table),
                        Skip {
                            location: loc,
                            kind: "bad_row".into(),
                            reason: format!("COPY row of table {}: {e}", cb.table),
                        },
                    )?;
                }
            }
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        if st.stmt.trim().is_empty() && st.lex == Lex::Normal {
            let t = text.trim_start();
            if t.starts_with('\\') {
                // psql meta-command (\restrict KEY, \unrestrict KEY, \connect db).
                continue;
            }
            if let Some(rest) = t.strip_prefix("-- Started on ") {
                summary.started_on = Some(rest.trim().to_string());
                continue;
            }
        }
        complete.clear();
        st.feed(&text, line_no, &mut complete);
        for (stmt, at) in complete.drain(..) {
            if let Some(cb) = st.statement(&stmt, at, summary, v)? {
                copy = Some(cb);
            }
        }
    }
    if let Some(cb) = copy {
        summary.table_mut(&cb.table).rows += cb.rows;
        v.skip(
            Some(&cb.table),
            Skip {
                location: format!("{}:{}", st.label, line_no + 1),
                kind: "truncated".into(),
                reason: format!(
                    "the dump ends inside the data of table {} (COPY at line {}, no `\\.` end marker): \
                     {} complete rows were read; the rest of this table and everything after it is \
                     missing. The file was probably cut short; look for a complete copy of the backup",
                    cb.table, cb.start_line, cb.rows
                ),
            },
        )?;
    } else if !st.stmt.trim().is_empty() {
        v.skip(
            None,
            Skip {
                location: format!("{}:{}", st.label, st.stmt_line),
                kind: "truncated".into(),
                reason: "the dump ends inside an unfinished SQL statement (no closing `;`); \
                         its rows were not imported. The file was probably cut short"
                    .into(),
            },
        )?;
    }
    Ok(())
}

struct Scanner {
    label: String,
    lex: Lex,
    stmt: String,
    stmt_line: u64,
    /// standard_conforming_strings (on unless the script says `SET ... = off`).
    scs: bool,
    /// Partition -> parent table (from `ALTER TABLE ... ATTACH PARTITION`).
    parents: HashMap<String, String>,
}

impl Scanner {
    /// Adds a line to the statement being read; pushes each completed statement (with its
    /// first line) to `out`.
    fn feed(&mut self, line: &str, line_no: u64, out: &mut Vec<(String, u64)>) {
        let b = line.as_bytes();
        let mut i = 0;
        let mut seg = 0;
        while i < b.len() {
            let c = b[i];
            match &mut self.lex {
                Lex::Normal => match c {
                    b'\'' => {
                        let prev = if i > 0 { b[i - 1] } else { b' ' };
                        let before = if i > 1 { b[i - 2] } else { b' ' };
                        let e_prefix = (prev == b'E' || prev == b'e')
                            && !(before.is_ascii_alphanumeric() || before == b'_');
                        self.lex = Lex::Single {
                            backslash: e_prefix || !self.scs,
                        };
                    }
                    b'"' => self.lex = Lex::Double,
                    b'$' => {
                        if let Some(tag) = dollar_tag(&b[i..]) {
                            let prev = if i > 0 { b[i - 1] } else { b' ' };
                            if !(prev.is_ascii_alphanumeric() || prev == b'_') {
                                i += tag.len() - 1;
                                self.lex = Lex::Dollar(tag);
                            }
                        }
                    }
                    b'-' if b.get(i + 1) == Some(&b'-') => {
                        self.push(&line[seg..i], line_no);
                        // The rest of the line is a comment; keep the newline.
                        self.push("\n", line_no);
                        seg = b.len();
                        i = b.len();
                        continue;
                    }
                    b'/' if b.get(i + 1) == Some(&b'*') => {
                        self.lex = Lex::Block(1);
                        i += 1;
                    }
                    b';' => {
                        self.push(&line[seg..=i], line_no);
                        seg = i + 1;
                        out.push((std::mem::take(&mut self.stmt), self.stmt_line));
                    }
                    _ => {}
                },
                Lex::Single { backslash } => {
                    if *backslash && c == b'\\' {
                        i += 1;
                    } else if c == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            self.lex = Lex::Normal;
                        }
                    }
                }
                Lex::Double => {
                    if c == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            i += 1;
                        } else {
                            self.lex = Lex::Normal;
                        }
                    }
                }
                Lex::Dollar(tag) => {
                    if b[i..].starts_with(tag.as_bytes()) {
                        i += tag.len() - 1;
                        self.lex = Lex::Normal;
                    }
                }
                Lex::Block(d) => {
                    if c == b'*' && b.get(i + 1) == Some(&b'/') {
                        *d -= 1;
                        i += 1;
                        if *d == 0 {
                            self.lex = Lex::Normal;
                        }
                    } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
                        *d += 1;
                        i += 1;
                    }
                }
            }
            i += 1;
        }
        if seg < b.len() {
            self.push(&line[seg..], line_no);
        }
    }

    fn push(&mut self, s: &str, line_no: u64) {
        if self.stmt.trim().is_empty() {
            if s.trim().is_empty() {
                self.stmt.clear();
                return;
            }
            self.stmt.clear();
            self.stmt_line = line_no;
        }
        self.stmt.push_str(s);
    }

    fn table_of(&self, name: &str) -> String {
        let mut t = unqualified(name);
        let mut guard = 0;
        while let Some(p) = self.parents.get(&t) {
            t = p.clone();
            guard += 1;
            if guard > 16 {
                break;
            }
        }
        t
    }

    /// Handles one complete statement. Returns the COPY block it opens, if any.
    fn statement(
        &mut self,
        stmt: &str,
        line: u64,
        summary: &mut Summary,
        v: &mut dyn Visitor,
    ) -> Result<Option<CopyBlock>> {
        let t = stmt.trim_start();
        let head: String = t.chars().take(40).collect::<String>().to_ascii_uppercase();
        let words: Vec<&str> = head.split_whitespace().collect();
        let loc = format!("{}:{}", self.label, line);
        match words.as_slice() {
            ["COPY", ..] => {
                let mut cur = Cursor::new(&t[4..]);
                let name = cur.qualified_name();
                cur.ws();
                let cols = if cur.peek() == Some('(') {
                    cur.ident_list()
                } else {
                    None
                };
                let rest = cur.rest().to_ascii_uppercase();
                if !rest.trim_start().starts_with("FROM STDIN") {
                    return Ok(None);
                }
                let table = self.table_of(&name);
                let columns = cols
                    .or_else(|| summary.tables.get(&table).and_then(|t| t.columns.clone()))
                    .unwrap_or_default();
                summary.set_columns(&table, &columns);
                let info = summary.table_mut(&table);
                if info.data_at.is_none() {
                    info.data_at = Some(loc);
                }
                let wanted = v.wants(&table);
                Ok(Some(CopyBlock {
                    table,
                    columns,
                    start_line: line,
                    rows: 0,
                    wanted,
                }))
            }
            ["CREATE", "TABLE", ..]
            | ["CREATE", "UNLOGGED" | "TEMP" | "TEMPORARY" | "FOREIGN", "TABLE", ..] => {
                if let Some((name, cols)) = parse_create_table(t) {
                    let table = unqualified(&name);
                    let info = summary.table_mut(&table);
                    if info.columns.is_none() && !cols.is_empty() {
                        info.columns = Some(cols);
                    }
                }
                Ok(None)
            }
            ["ALTER", "TABLE", ..] if head.contains("ATTACH") || t.contains("ATTACH PARTITION") => {
                if let Some((parent, child)) = parse_attach(t) {
                    if parent != child {
                        self.parents.insert(child, parent);
                    }
                }
                Ok(None)
            }
            ["SET", "STANDARD_CONFORMING_STRINGS", ..] => {
                let l = t.to_ascii_lowercase();
                self.scs = !(l.contains("off") || l.contains("false"));
                Ok(None)
            }
            ["INSERT", "INTO", ..] => {
                self.insert(t, loc, summary, v)?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    fn insert(
        &mut self,
        t: &str,
        loc: String,
        summary: &mut Summary,
        v: &mut dyn Visitor,
    ) -> Result<()> {
        let mut cur = Cursor::new(&t["INSERT INTO".len()..]);
        let name = cur.qualified_name();
        let table = self.table_of(&name);
        cur.ws();
        let cols = if cur.peek() == Some('(') {
            cur.ident_list()
        } else {
            None
        };
        let columns = match cols {
            Some(c) => {
                summary.set_columns(&table, &c);
                c
            }
            None => match summary.tables.get(&table).and_then(|i| i.columns.clone()) {
                Some(c) => c,
                None => {
                    return v.skip(
                        Some(&table),
                        Skip {
                            location: loc,
                            kind: "bad_row".into(),
                            reason: format!(
                                "INSERT into {table} has no column list and no CREATE TABLE for it came before"
                            ),
                        },
                    );
                }
            },
        };
        {
            let info = summary.table_mut(&table);
            if info.data_at.is_none() {
                info.data_at = Some(loc.clone());
            }
        }
        let tuples = match parse_values(cur.rest(), self.scs) {
            Ok(t) => t,
            Err(e) => {
                return v.skip(
                    Some(&table),
                    Skip {
                        location: loc,
                        kind: "bad_row".into(),
                        reason: format!("INSERT into {table}: {e}"),
                    },
                );
            }
        };
        let wanted = v.wants(&table);
        let mut good = 0;
        for values in tuples {
            if values.len() != columns.len() {
                v.skip(
                    Some(&table),
                    Skip {
                        location: loc.clone(),
                        kind: "bad_row".into(),
                        reason: format!(
                            "INSERT into {table} has {} values for {} columns",
                            values.len(),
                            columns.len()
                        ),
                    },
                )?;
                continue;
            }
            good += 1;
            if wanted {
                v.row(Row {
                    table: &table,
                    columns: &columns,
                    values,
                    location: loc.clone(),
                })?;
            }
        }
        summary.table_mut(&table).rows += good;
        Ok(())
    }
}

/// `$tag$` at the start of `b`, if it is one.
fn dollar_tag(b: &[u8]) -> Option<String> {
    let mut j = 1;
    while j < b.len() {
        let c = b[j];
        if c == b'$' {
            return Some(String::from_utf8_lossy(&b[..=j]).into_owned());
        }
        if !(c.is_ascii_alphanumeric() || c == b'_') || (j == 1 && c.is_ascii_digit()) {
            return None;
        }
        j += 1;
    }
    None
}

/// `CREATE TABLE name (col type, ..., CONSTRAINT ...)` -> name and column names.
pub fn parse_create_table(t: &str) -> Option<(String, Vec<String>)> {
    let upper = t.to_ascii_uppercase();
    let at = upper.find("TABLE")? + "TABLE".len();
    let mut cur = Cursor::new(&t[at..]);
    cur.ws();
    if cur.rest().to_ascii_uppercase().starts_with("IF NOT EXISTS") {
        cur.advance("IF NOT EXISTS".len());
    }
    let name = cur.qualified_name();
    cur.ws();
    if cur.peek() != Some('(') {
        return Some((name, Vec::new()));
    }
    let body = cur.paren_body()?;
    let mut cols = Vec::new();
    for item in split_top_level(body, ',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let first = item
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if matches!(
            first.as_str(),
            "CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN" | "EXCLUDE" | "LIKE"
        ) {
            continue;
        }
        let mut c = Cursor::new(item);
        let n = c.ident();
        if !n.is_empty() {
            cols.push(n);
        }
    }
    Some((name, cols))
}

/// `ALTER TABLE [ONLY] parent ATTACH PARTITION child ...` -> (parent, child), unqualified.
fn parse_attach(t: &str) -> Option<(String, String)> {
    let upper = t.to_ascii_uppercase();
    let mut cur = Cursor::new(&t["ALTER TABLE".len()..]);
    cur.ws();
    if cur.rest().to_ascii_uppercase().starts_with("ONLY ") {
        cur.advance(5);
    }
    let parent = cur.qualified_name();
    let at = upper.find("ATTACH PARTITION")? + "ATTACH PARTITION".len();
    let mut c2 = Cursor::new(&t[at..]);
    let child = c2.qualified_name();
    Some((unqualified(&parent), unqualified(&child)))
}

/// Splits at `sep` outside parentheses and quotes.
fn split_top_level(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                c if c == sep && depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Parses the tuples of `VALUES (...), (...);` (the text after the column list, possibly
/// starting with `OVERRIDING SYSTEM VALUE`). Values are returned as their text form.
pub fn parse_values(s: &str, scs: bool) -> Result<Vec<Vec<Option<String>>>, String> {
    let mut cur = Cursor::new(s);
    cur.ws();
    let up = cur.rest().to_ascii_uppercase();
    if up.starts_with("OVERRIDING") {
        let at = up.find("VALUES").ok_or("no VALUES")?;
        cur.advance(at);
    }
    if !cur.rest().to_ascii_uppercase().starts_with("VALUES") {
        return Err("expected VALUES (INSERT ... SELECT is not supported)".into());
    }
    cur.advance(6);
    let mut tuples = Vec::new();
    loop {
        cur.ws();
        match cur.peek() {
            Some('(') => {
                cur.advance(1);
            }
            Some(c) => return Err(format!("expected `(` at {c:?}")),
            None => return Err("unexpected end of statement".into()),
        }
        let mut vals = Vec::new();
        loop {
            cur.ws();
            vals.push(cur.value(scs)?);
            cur.ws();
            match cur.next() {
                Some(',') => continue,
                Some(')') => break,
                Some(c) => return Err(format!("unexpected {c:?} after a value")),
                None => return Err("unexpected end of statement inside VALUES".into()),
            }
        }
        tuples.push(vals);
        cur.ws();
        match cur.next() {
            Some(',') => continue,
            Some(';') | None => break,
            Some(c) => {
                // ON CONFLICT ... and the like: the tuples are complete.
                let _ = c;
                break;
            }
        }
    }
    Ok(tuples)
}

/// A cursor over statement text.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, i: 0 }
    }
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }
    #[allow(clippy::should_implement_trait)]
    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        Some(c)
    }
    fn advance(&mut self, n: usize) {
        self.i = (self.i + n).min(self.s.len());
        while !self.s.is_char_boundary(self.i) {
            self.i += 1;
        }
    }
    fn ws(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.next();
                }
                Some('-') if self.peek2() == Some('-') => {
                    while let Some(c) = self.next() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
    }
    /// A possibly qualified, possibly quoted name, as written (`public."Order"`).
    fn qualified_name(&mut self) -> String {
        self.ws();
        let start = self.i;
        let mut quoted = false;
        while let Some(c) = self.peek() {
            if quoted {
                self.next();
                if c == '"' {
                    if self.peek() == Some('"') {
                        self.next();
                    } else {
                        quoted = false;
                    }
                }
            } else if c == '"' {
                quoted = true;
                self.next();
            } else if c.is_whitespace() || c == '(' || c == ';' || c == ',' {
                break;
            } else {
                self.next();
            }
        }
        self.s[start..self.i].to_string()
    }
    /// One identifier, unquoted (bare ones lowercased).
    fn ident(&mut self) -> String {
        self.ws();
        let start = self.i;
        if self.peek() == Some('"') {
            self.next();
            while let Some(c) = self.next() {
                if c == '"' {
                    if self.peek() == Some('"') {
                        self.next();
                    } else {
                        break;
                    }
                }
            }
        } else {
            while let Some(c) = self.peek() {
                if c.is_alphanumeric() || c == '_' || c == '$' {
                    self.next();
                } else {
                    break;
                }
            }
        }
        split_qualified(&self.s[start..self.i])
            .pop()
            .unwrap_or_default()
    }
    /// `(a, "B", c)` -> names.
    fn ident_list(&mut self) -> Option<Vec<String>> {
        let body = self.paren_body()?;
        Some(
            split_top_level(body, ',')
                .into_iter()
                .map(|p| Cursor::new(p).ident())
                .filter(|n| !n.is_empty())
                .collect(),
        )
    }
    /// The text inside balanced parentheses starting at the cursor; moves past `)`.
    fn paren_body(&mut self) -> Option<&'a str> {
        if self.peek() != Some('(') {
            return None;
        }
        self.next();
        let start = self.i;
        let mut depth = 1;
        let mut quote: Option<char> = None;
        while let Some(c) = self.next() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(&self.s[start..self.i - 1]);
                        }
                    }
                    _ => {}
                },
            }
        }
        None
    }
    /// One value of a VALUES tuple: a string literal (with an optional cast), NULL, DEFAULT,
    /// or a bare token (number, true/false, ...).
    fn value(&mut self, scs: bool) -> Result<Option<String>, String> {
        let c = self.peek().ok_or("unexpected end of statement")?;
        let c2 = self.peek2();
        let v = if c == '\'' {
            Some(self.string(!scs)?)
        } else if (c == 'E' || c == 'e') && c2 == Some('\'') {
            self.next();
            Some(self.string(true)?)
        } else if matches!(c, 'B' | 'b' | 'X' | 'x' | 'N' | 'n') && c2 == Some('\'') {
            self.next();
            Some(self.string(!scs)?)
        } else {
            let raw = self.until_separator().trim().to_string();
            let bare = raw.split("::").next().unwrap_or("").trim();
            if bare.eq_ignore_ascii_case("NULL") || bare.eq_ignore_ascii_case("DEFAULT") {
                None
            } else if bare.is_empty() {
                return Err("empty value".into());
            } else {
                Some(bare.trim_matches(|c| c == '(' || c == ')').to_string())
            }
        };
        // A cast (`::public.visit_state`, `::character varying(16)`) or the like.
        self.until_separator();
        Ok(v)
    }
    /// Moves to the next top-level `,` or `)` of the tuple; returns what was passed.
    fn until_separator(&mut self) -> &'a str {
        let start = self.i;
        let mut depth = 0;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '(' | '[' => depth += 1,
                    ')' | ']' if depth > 0 => depth -= 1,
                    ',' | ')' if depth == 0 => break,
                    _ => {}
                },
            }
            self.next();
        }
        &self.s[start..self.i]
    }
    /// A `'...'` literal at the cursor; `backslash` for E'' semantics.
    fn string(&mut self, backslash: bool) -> Result<String, String> {
        self.next(); // opening quote
        let mut out = String::new();
        loop {
            let c = self
                .next()
                .ok_or("unterminated string literal (the statement is cut short)")?;
            match c {
                '\'' => {
                    if self.peek() == Some('\'') {
                        self.next();
                        out.push('\'');
                    } else {
                        break;
                    }
                }
                '\\' if backslash => {
                    let e = self.next().ok_or("unterminated string literal")?;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        '0'..='7' => {
                            let mut v = e.to_digit(8).unwrap_or(0);
                            for _ in 0..2 {
                                match self.peek().and_then(|d| d.to_digit(8)) {
                                    Some(d) => {
                                        v = v * 8 + d;
                                        self.next();
                                    }
                                    None => break,
                                }
                            }
                            out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        }
                        'x' => {
                            let mut v = 0;
                            let mut n = 0;
                            while n < 2 {
                                match self.peek().and_then(|d| d.to_digit(16)) {
                                    Some(d) => {
                                        v = v * 16 + d;
                                        self.next();
                                        n += 1;
                                    }
                                    None => break,
                                }
                            }
                            out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        }
                        'u' | 'U' => {
                            let len = if e == 'u' { 4 } else { 8 };
                            let mut v = 0;
                            for _ in 0..len {
                                let d = self
                                    .next()
                                    .and_then(|d| d.to_digit(16))
                                    .ok_or("bad \\u escape")?;
                                v = v * 16 + d;
                            }
                            out.push(char::from_u32(v).ok_or("bad \\u escape")?);
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Skip;

    type Seen = (String, Vec<String>, Vec<Option<String>>, String);

    #[derive(Default)]
    struct Collect {
        rows: Vec<Seen>,
        skips: Vec<Skip>,
    }
    impl Visitor for Collect {
        fn wants(&self, _t: &str) -> bool {
            true
        }
        fn row(&mut self, r: Row<'_>) -> Result<()> {
            self.rows.push((
                r.table.to_string(),
                r.columns.to_vec(),
                r.values,
                r.location,
            ));
            Ok(())
        }
        fn skip(&mut self, _t: Option<&str>, s: Skip) -> Result<()> {
            self.skips.push(s);
            Ok(())
        }
    }

    fn scan(text: &str) -> (Collect, Summary) {
        let mut c = Collect::default();
        let mut s = Summary::default();
        scan_plain(text.as_bytes(), Path::new("x.sql"), "x.sql", &mut s, &mut c).unwrap();
        (c, s)
    }

    fn sv(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|o| o.map(|s| s.to_string())).collect()
    }

    #[test]
    fn values_parser() {
        let t = parse_values(
            "VALUES (1, 'Zoë''s', NULL, -5.99, true, 'a\tb\nc\\d', '{\"a\": 1}', 'booked'::public.appt_status, E'x\\ny', DEFAULT);",
            true,
        )
        .unwrap();
        assert_eq!(
            t,
            vec![sv(&[
                Some("1"),
                Some("Zoë's"),
                None,
                Some("-5.99"),
                Some("true"),
                Some("a\tb\nc\\d"),
                Some("{\"a\": 1}"),
                Some("booked"),
                Some("x\ny"),
                None
            ])]
        );
        let t = parse_values("VALUES\n\t(1, 'a'),\n\t(2, 'b;c');", true).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1][1].as_deref(), Some("b;c"));
        let t = parse_values("OVERRIDING SYSTEM VALUE VALUES (7, 'C:\\temp')", true).unwrap();
        assert_eq!(t[0][1].as_deref(), Some("C:\\temp"));
        // standard_conforming_strings off: backslashes escape.
        let t = parse_values("VALUES ('C:\\\\temp', 'it\\'s')", false).unwrap();
        assert_eq!(t[0], sv(&[Some("C:\\temp"), Some("it's")]));
        assert!(parse_values("VALUES (1, 'open", true).is_err());
        assert!(parse_values("SELECT 1", true).is_err());
    }

    #[test]
    fn create_table_columns() {
        let (n, c) = parse_create_table(
            "CREATE TABLE public.appointments (\n    id bigint NOT NULL,\n    \"order\" integer,\n    price numeric(12,2),\n    status public.appt_status DEFAULT 'booked'::public.appt_status NOT NULL,\n    CONSTRAINT party_size_positive CHECK ((party_size > 0))\n);",
        )
        .unwrap();
        assert_eq!(n, "public.appointments");
        assert_eq!(c, vec!["id", "order", "price", "status"]);
    }

    #[test]
    fn plain_copy_and_inserts() {
        let text = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\nSET standard_conforming_strings = on;\n\
CREATE TABLE public.t (\n    id integer NOT NULL,\n    note text\n);\n\n\
COPY public.t (id, note) FROM stdin;\n1\ta\\tb\n2\t\\N\n3\n\\.\n\n\
INSERT INTO public.t VALUES (4, 'multi\nline; with semicolon');\n\
INSERT INTO public.u (id, note) VALUES\n\t(5, 'x'),\n\t(6, NULL);\n\
-- PostgreSQL database dump complete\n\\unrestrict abc\n";
        let (c, s) = scan(text);
        assert_eq!(c.rows.len(), 5, "{:?}", c.rows);
        // A byte-order mark and CRLF line ends change nothing.
        let (c2, _) = scan(&format!("\u{feff}{}", text.replace('\n', "\r\n")));
        assert_eq!(c2.rows.len(), 5, "{:?}", c2.rows);
        assert_eq!(c2.rows[0].2, c.rows[0].2);
        assert_eq!(c.rows[0].2, sv(&[Some("1"), Some("a\tb")]));
        assert_eq!(c.rows[0].3, "x.sql:14");
        assert_eq!(c.rows[1].2, sv(&[Some("2"), None]));
        assert_eq!(
            c.rows[2].2,
            sv(&[Some("4"), Some("multi\nline; with semicolon")])
        );
        assert_eq!(c.rows[3].0, "u");
        assert_eq!(c.skips.len(), 1);
        assert_eq!(c.skips[0].location, "x.sql:16");
        assert_eq!(c.skips[0].kind, "bad_row");
        assert_eq!(s.tables["t"].rows, 3);
        assert_eq!(s.tables["u"].rows, 2);
    }

    #[test]
    fn truncated_copy() {
        let text = "COPY public.t (id, note) FROM stdin;\n1\ta\n2\tb\n3\tcut sho";
        let (c, s) = scan(text);
        assert_eq!(c.rows.len(), 2);
        assert_eq!(c.skips.len(), 1);
        assert_eq!(c.skips[0].kind, "truncated");
        assert_eq!(c.skips[0].location, "x.sql:4");
        assert!(c.skips[0].reason.contains("table t"));
        assert_eq!(s.tables["t"].rows, 2);
        let (c, _) = scan("COPY public.t (id) FROM stdin;\n1\n2\n");
        assert_eq!(c.rows.len(), 2);
        assert_eq!(c.skips[0].location, "x.sql:4");
        let (c, _) = scan("INSERT INTO public.t (id, n) VALUES (1, 'a');\nINSERT INTO public.t (id, n) VALUES (2, 'cut\n");
        assert_eq!(c.rows.len(), 1);
        assert_eq!(c.skips[0].kind, "truncated");
        assert_eq!(c.skips[0].location, "x.sql:2");
    }

    #[test]
    fn partitions_and_functions() {
        let text =
            "CREATE FUNCTION f() RETURNS trigger AS $_$\nBEGIN; -- ';'\n RETURN NEW; END $_$;\n\
CREATE TABLE public.b (id integer, x text) PARTITION BY RANGE (id);\n\
CREATE TABLE public.b_1 (id integer, x text);\n\
ALTER TABLE ONLY public.b ATTACH PARTITION public.b_1 FOR VALUES FROM (0) TO (10);\n\
COPY public.b_1 (id, x) FROM stdin;\n1\ty\n\\.\n";
        let (c, s) = scan(text);
        assert_eq!(c.rows.len(), 1);
        assert_eq!(c.rows[0].0, "b");
        assert_eq!(s.tables.keys().collect::<Vec<_>>(), vec!["b", "b_1"]);
        assert!(c.skips.is_empty());
    }
}
