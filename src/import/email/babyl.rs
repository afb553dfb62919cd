//! Streaming Babyl reader (Emacs RMAIL files, as Python's `mailbox.Babyl` reads them): a
//! `BABYL OPTIONS:` preamble, then each message after a `\x1f\x0c` line: a labels line, the
//! original headers, `*** EOOH ***`, the headers as shown (dropped), and the body; a `\x1f`
//! line ends the last one. A message is its original headers and its body.

use super::mbox::{Acc, Lines, MboxItem};
use std::io::BufRead;

/// Whether a file's first bytes open a Babyl file.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"BABYL OPTIONS:")
}

fn opens(line: &[u8]) -> bool {
    line == b"\x1f\x0c\n" || line == b"\x1f\x0c\r\n" || line == b"\x1f\x0c"
}

fn closes(line: &[u8]) -> bool {
    line == b"\x1f" || line == b"\x1f\n" || line == b"\x1f\r\n"
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Labels,
    Original,
    Visible,
    Body,
}

pub struct BabylReader<R: BufRead> {
    src: Lines<R>,
    line: Vec<u8>,
    cap: u64,
    done: bool,
}

impl<R: BufRead> BabylReader<R> {
    pub fn with_cap(r: R, cap: u64) -> Self {
        BabylReader {
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
        let mut cur: Option<(Acc, Part)> = None;
        loop {
            let n = self.src.next_line(&mut self.line)?;
            if n == 0 {
                self.done = true;
                return Ok(cur.map(|(a, _)| a.into_item(false)));
            }
            let offset = self.src.pos() - n as u64;
            let line_start = !self.src.continues();
            if line_start && opens(&self.line) {
                if let Some((a, _)) = cur {
                    self.src.push_back(&self.line);
                    return Ok(Some(a.into_item(false)));
                }
                cur = Some((Acc::new(offset), Part::Labels));
                continue;
            }
            if line_start && closes(&self.line) {
                if let Some((a, _)) = cur {
                    return Ok(Some(a.into_item(false)));
                }
                continue;
            }
            // Before the first message: the options.
            let Some((acc, part)) = cur.as_mut() else {
                continue;
            };
            let blank = line_start && (self.line == b"\n" || self.line == b"\r\n");
            match part {
                Part::Labels => *part = Part::Original,
                Part::Original => {
                    if line_start && self.line.trim_ascii_end() == b"*** EOOH ***" {
                        *part = Part::Visible;
                    } else {
                        acc.push(&self.line, self.cap);
                    }
                }
                Part::Visible => {
                    if blank {
                        *part = Part::Body;
                    }
                }
                Part::Body => acc.push(&self.line, self.cap),
            }
        }
    }
}

impl<R: BufRead> Iterator for BabylReader<R> {
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

    #[test]
    fn reads_original_headers_and_body() {
        let file = "BABYL OPTIONS: -*- rmail -*-\nVersion: 5\nLabels:\n\x1f\x0c\n1,,\nSubject: one\nX-A: 1\n\n*** EOOH ***\nSubject: one\n\nbody one\n\x1f\x0c\n1,, unseen,\nSubject: two\n\n*** EOOH ***\nSubject: two\n\nbody two\n\x1f\x0c\n1,,\n\x1f";
        assert!(sniff(file.as_bytes()));
        let m: Vec<MboxItem> = BabylReader::with_cap(file.as_bytes(), u64::MAX)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].offset, file.find('\x1f').unwrap() as u64);
        assert_eq!(
            m[0].entry,
            Entry::Message(b"Subject: one\nX-A: 1\n\nbody one\n".to_vec())
        );
        assert_eq!(
            m[1].entry,
            Entry::Message(b"Subject: two\n\nbody two\n".to_vec())
        );
        assert_eq!(m[2].entry, Entry::Empty);
    }
}
