//! Stable ids and hashes.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// A synthetic id for a row whose original id no source shows: `rec_` + 16 hex digits of
/// SHA-256 over `parts`. Stable across runs for the same inputs.
pub fn synthetic_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    format!("rec_{}", &hex::encode(h.finalize())[..16])
}

/// SHA-256 of a file, or of every regular file under a directory (sorted by path, names
/// included; listed as the importers list it, [`crate::util::walk`]: a FIFO or a dangling
/// link is left out, never opened). A file that cannot be opened is hashed by its name and
/// the error, so the import that follows names it as a skip.
pub fn sha256_path(path: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let is_dir = path.is_dir();
    let mut files = crate::util::walk::Walker::new().files(path, true);
    files.sort();
    let mut buf = vec![0u8; 1 << 16];
    for f in files {
        if is_dir {
            h.update(
                f.strip_prefix(path)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .as_bytes(),
            );
        }
        let mut file = match crate::util::fsx::open_input(&f) {
            Ok(file) => file,
            Err(e) if is_dir => {
                h.update(format!("\0unreadable: {e}\0").as_bytes());
                continue;
            }
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        };
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_ids_are_stable_and_distinct() {
        let a = super::synthetic_id(&["customer", "b1", "ann@x.org"]);
        assert_eq!(a, super::synthetic_id(&["customer", "b1", "ann@x.org"]));
        assert_ne!(a, super::synthetic_id(&["customer", "b1ann@x.org", ""]));
        assert!(a.starts_with("rec_") && a.len() == 20);
    }
}
