//! Streaming MMDF reader: each message sits between two `\x01\x01\x01\x01` lines (as
//! Python's `mailbox.MMDF` reads it). A `From ` envelope line opening a message is dropped.
//! Bytes between entries are not part of any message; a non-blank stretch of them is
//! returned as a message of its own (Python drops it without a word).

use super::mbox::{Acc, Lines, MboxItem};
use std::io::BufRead;

/// Whether a file's first bytes open an MMDF archive.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"\x01\x01\x01\x01\n") || head.starts_with(b"\x01\x01\x01\x01\r\n")
}

fn is_delimiter(line: &[u8]) -> bool {
    line == b"\x01\x01\x01\x01\n" || line == b"\x01\x01\x01\x01\r\n" || line == b"\x01\x01\x01\x01"
}

pub struct MmdfReader<R: BufRead> {
    src: Lines<R>,
    line: Vec<u8>,
    cap: u64,
    done: bool,
}

impl<R: BufRead> MmdfReader<R> {
    pub fn with_cap(r: R, cap: u64) -> Self {
        MmdfReader {
            src: Lines::new(r),
            line: Vec::with_capacity(256),
            cap,
            done: false,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.src.taken()
    }

    fn step(&mut self) -> std::io::Result<Option<MboxItem>> {
        // Between entries: blank lines, or stray text (returned as an entry).
        let mut stray: Option<Acc> = None;
        loop {
            let n = self.src.next_line(&mut self.line)?;
            if n == 0 {
                self.done = true;
                return Ok(stray.map(|a| a.into_item(false)));
            }
            let offset = self.src.pos() - n as u64;
            if is_delimiter(&self.line) && !self.src.continues() {
                if let Some(a) = stray {
                    self.src.push_back(&self.line);
                    return Ok(Some(a.into_item(false)));
                }
                return self.entry(offset).map(Some);
            }
            if stray.is_none() && self.line.iter().all(|c| c.is_ascii_whitespace()) {
                continue;
            }
            stray
                .get_or_insert_with(|| Acc::new(offset))
                .push(&self.line, self.cap);
        }
    }

    /// The entry opened by the delimiter at `offset`, read to its closing delimiter.
    fn entry(&mut self, offset: u64) -> std::io::Result<MboxItem> {
        let mut acc = Acc::new(offset);
        let mut first = true;
        loop {
            let n = self.src.next_line(&mut self.line)?;
            if n == 0 {
                self.done = true;
                break;
            }
            if is_delimiter(&self.line) && !self.src.continues() {
                break;
            }
            if first && self.line.starts_with(b"From ") {
                first = false;
                continue;
            }
            first = false;
            acc.push(&self.line, self.cap);
        }
        Ok(acc.into_item(false))
    }
}

impl<R: BufRead> Iterator for MmdfReader<R> {
    type Item = std::io::Result<MboxItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        super::mbox::settle(&mut self.done, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::email::mbox::Entry;

    fn split(s: &str, cap: u64) -> Vec<(u64, Entry)> {
        MmdfReader::with_cap(s.as_bytes(), cap)
            .map(|r| {
                let r = r.unwrap();
                (r.offset, r.entry)
            })
            .collect()
    }

    #[test]
    fn splits_at_delimiters() {
        let a = "\x01\x01\x01\x01\nFrom a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\nFrom the team\n\x01\x01\x01\x01\n";
        let b = "\x01\x01\x01\x01\nSubject: two\n\nbody\n\x01\x01\x01\x01\n";
        let e = "\x01\x01\x01\x01\n\x01\x01\x01\x01\n";
        let file = format!("{a}\n{b}{e}");
        assert!(sniff(file.as_bytes()));
        let m = split(&file, u64::MAX);
        assert_eq!(
            m,
            [
                (
                    0,
                    Entry::Message(b"Subject: one\n\nFrom the team\n".to_vec())
                ),
                (
                    a.len() as u64 + 1,
                    Entry::Message(b"Subject: two\n\nbody\n".to_vec())
                ),
                ((a.len() + 1 + b.len()) as u64, Entry::Empty),
            ]
        );
        // Cut short: the last entry is what there is.
        let m = split("\x01\x01\x01\x01\nSubject: x\n\nbo", u64::MAX);
        assert_eq!(m, [(0, Entry::Message(b"Subject: x\n\nbo".to_vec()))]);
    }

    #[test]
    fn too_big_and_stray_text() {
        let file = format!(
            "\x01\x01\x01\x01\nSubject: big\n\n{}\x01\x01\x01\x01\nstray\n\x01\x01\x01\x01\nSubject: two\n\n\x01\x01\x01\x01\n",
            "x\n".repeat(100)
        );
        let m = split(&file, 100);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(m[0].1, Entry::TooBig { size: 14 + 200 });
        assert_eq!(m[1].1, Entry::Message(b"stray\n".to_vec()));
        assert_eq!(m[2].1, Entry::Message(b"Subject: two\n\n".to_vec()));
    }
}
