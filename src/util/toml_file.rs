//! Reading the user's TOML files (incident, mappings): one parser, one error shape —
//! `file: line N: what is wrong. See ... for a commented example.` on a single line.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Parses `text` (the contents of `path`) as `T`. `example` says where a commented example
/// of this kind of file is, for the error message.
pub fn parse<T: DeserializeOwned>(text: &str, path: &Path, example: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let msg = e.message().trim().replace('\n', " ");
        Error::config(
            path,
            match line {
                Some(l) => format!("line {l}: {msg}. See {example} for a commented example"),
                None => format!("{msg}. See {example} for a commented example"),
            },
        )
    })
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: i64,
    }

    #[test]
    fn one_line_with_the_position() {
        let e = super::parse::<T>("a = 1\nb = 2\n", std::path::Path::new("m.toml"), "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.toml: line 2: unknown field `b`"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}
