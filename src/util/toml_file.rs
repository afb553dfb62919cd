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

/// Reads a mapping file: an error naming it when it holds nothing but blank lines and
/// comments (a truncated copy, the wrong file), which would otherwise map nothing in
/// silence. `example` as in [`parse`].
pub fn read_mapping(path: &Path, example: &str) -> Result<String> {
    let text = crate::util::fsx::read_text(path)?;
    let empty = text
        .lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#'));
    if empty {
        return Err(Error::config(
            path,
            format!(
                "the mapping file is empty (nothing but blank lines and comments); write its tables (docs/MAPPING.md; see {example}), or fix `mapping` in the incident file"
            ),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_mapping_is_an_error_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("stripe.toml");
        std::fs::write(&p, "\n# nothing yet\n   \n").unwrap();
        let e = super::read_mapping(&p, "x.toml").unwrap_err().to_string();
        assert!(e.contains("stripe.toml: the mapping file is empty"), "{e}");
        std::fs::write(&p, "[payments]\n").unwrap();
        assert!(super::read_mapping(&p, "x.toml").is_ok());
    }

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
