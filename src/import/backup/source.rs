//! What every backup format reader produces: table definitions and rows of text values
//! (the columns' text form, as COPY writes it), handed to a [`Visitor`].

use crate::claims::Skip;
use crate::error::Result;
use std::collections::BTreeMap;

/// One row of one table. Values are the PostgreSQL text form (`t`/`true` for booleans,
/// `80.00` for numeric, `2026-01-02 10:00:00+00` for timestamptz); `None` is NULL.
pub struct Row<'a> {
    pub table: &'a str,
    pub columns: &'a [String],
    pub values: Vec<Option<String>>,
    /// `file:line` (or `file:table#rowid`).
    pub location: String,
}

/// Receives what a reader finds.
pub trait Visitor {
    /// Should rows of this table be decoded and passed to [`Visitor::row`]? Rows of other
    /// tables are only counted.
    fn wants(&self, table: &str) -> bool;
    fn row(&mut self, row: Row<'_>) -> Result<()>;
    /// A bad or truncated part of the input; `table` when it belongs to one.
    fn skip(&mut self, table: Option<&str>, skip: Skip) -> Result<()>;
    /// Bytes consumed (for progress).
    fn progress(&mut self, _bytes: u64) {}
}

/// What a reader saw of a table over the whole input.
#[derive(Debug, Clone, Default)]
pub struct TableInfo {
    /// Column names from CREATE TABLE or the first COPY/INSERT column list.
    pub columns: Option<Vec<String>>,
    /// Rows seen (decoded or not), excluding bad ones.
    pub rows: u64,
    /// Where the table's data starts (`file:line`), if it has any.
    pub data_at: Option<String>,
}

/// What a whole pass over the input found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// By unqualified table name.
    pub tables: BTreeMap<String, TableInfo>,
    /// `-- Started on ...` of a verbose pg_dump (the dump's start time, as written).
    pub started_on: Option<String>,
}

impl Summary {
    pub fn table_mut(&mut self, name: &str) -> &mut TableInfo {
        self.tables.entry(name.to_string()).or_default()
    }
    /// The dump's name of table `name` (with columns known): exact, else the one
    /// case-insensitive match.
    pub fn resolve(&self, name: &str) -> Option<&str> {
        let known = |t: &TableInfo| t.columns.is_some();
        if let Some((k, _)) = self.tables.get_key_value(name).filter(|(_, t)| known(t)) {
            return Some(k);
        }
        let mut m = self
            .tables
            .iter()
            .filter(|(k, t)| known(t) && k.eq_ignore_ascii_case(name));
        match (m.next(), m.next()) {
            (Some((k, _)), None) => Some(k),
            _ => None,
        }
    }
    /// Records a column list unless one is known already (CREATE TABLE wins).
    pub fn set_columns(&mut self, name: &str, cols: &[String]) {
        let t = self.table_mut(name);
        if t.columns.is_none() {
            t.columns = Some(cols.to_vec());
        }
    }
}

/// Strips a schema qualifier and identifier quotes: `public."Order"` -> `Order`,
/// `public.people` -> `people`.
pub fn unqualified(name: &str) -> String {
    let parts = split_qualified(name);
    parts.last().cloned().unwrap_or_default()
}

/// Splits `a."b.c"` into `["a", "b.c"]`, unquoting (`""` inside quotes is one `"`).
pub fn split_qualified(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = name.trim().chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' {
            quoted = true;
        } else if c == '.' {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c.to_ascii_lowercase());
        }
    }
    parts.push(cur);
    parts
}

/// Whether a text value means "true" for a boolean column.
pub fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "t" | "true" | "1" | "yes" | "y" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(unqualified("public.clients"), "clients");
        assert_eq!(unqualified("public.\"Order\""), "Order");
        assert_eq!(unqualified("\"a.b\""), "a.b");
        assert_eq!(unqualified("Clients"), "clients");
        assert!(truthy("t") && truthy("true") && !truthy("f") && !truthy("false"));
    }
}
