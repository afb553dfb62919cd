//! Streaming mbox reader (mboxo/mboxrd): a message starts at a `From ` line that opens the
//! file or follows a blank line; `>From ` lines (any number of `>`) lose one `>`. One
//! message is in memory at a time.

use std::io::BufRead;

/// A message's bytes and the byte offset of its `From ` line (or of its first byte).
#[derive(Debug)]
pub struct MboxItem {
    pub offset: u64,
    pub bytes: Vec<u8>,
}

pub struct MboxReader<R: BufRead> {
    r: R,
    pos: u64,
    line: Vec<u8>,
    /// Offset and bytes of the message being read.
    cur: Option<(u64, Vec<u8>)>,
    prev_blank: bool,
    at_start: bool,
    done: bool,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(r: R) -> Self {
        MboxReader {
            r,
            pos: 0,
            line: Vec::with_capacity(256),
            cur: None,
            prev_blank: true,
            at_start: true,
            done: false,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.pos
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// `From sender Tue Jul 14 16:30:00 2026`: at least three words and ends in a digit (the
/// year or a zone). Keeps an unquoted prose line "From the team..." after a blank line (mboxo
/// archives) from splitting a message.
fn looks_like_separator(line: &[u8]) -> bool {
    let l = line.trim_ascii_end();
    l.split(|c| *c == b' ').filter(|w| !w.is_empty()).count() >= 3
        && l.last().is_some_and(|c| c.is_ascii_digit())
}

/// Removes the blank line mbox puts before the next `From `.
fn finish(mut b: Vec<u8>) -> Vec<u8> {
    if b.ends_with(b"\r\n\r\n") {
        b.truncate(b.len() - 2);
    } else if b.ends_with(b"\n\n") {
        b.truncate(b.len() - 1);
    }
    b
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = std::io::Result<MboxItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            self.line.clear();
            let n = match self.r.read_until(b'\n', &mut self.line) {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if n == 0 {
                self.done = true;
                return self.cur.take().and_then(|(offset, bytes)| {
                    let bytes = finish(bytes);
                    (!bytes.iter().all(|c| c.is_ascii_whitespace()))
                        .then_some(Ok(MboxItem { offset, bytes }))
                });
            }
            let offset = self.pos;
            self.pos += n as u64;
            let line = &self.line[..];
            if line.starts_with(b"From ")
                && (self.at_start || (self.prev_blank && looks_like_separator(line)))
            {
                self.at_start = false;
                self.prev_blank = false;
                let prev = self.cur.replace((offset, Vec::with_capacity(4096)));
                if let Some((o, b)) = prev {
                    let b = finish(b);
                    if !b.iter().all(|c| c.is_ascii_whitespace()) {
                        return Some(Ok(MboxItem {
                            offset: o,
                            bytes: b,
                        }));
                    }
                }
                continue;
            }
            if self.at_start && is_blank(line) {
                // Leading blank lines before the first separator.
                continue;
            }
            self.at_start = false;
            self.prev_blank = is_blank(line);
            let cur = self
                .cur
                .get_or_insert_with(|| (offset, Vec::with_capacity(4096)));
            // mboxrd: ">From ", ">>From " ... lose one '>'.
            let gt = line.iter().take_while(|c| **c == b'>').count();
            if gt > 0 && line[gt..].starts_with(b"From ") {
                cur.1.extend_from_slice(&line[1..]);
            } else {
                cur.1.extend_from_slice(line);
            }
        }
    }
}

/// Quotes a message body line for mboxrd (used by the generator and tests).
pub fn quote_line(line: &[u8], out: &mut Vec<u8>) {
    let gt = line.iter().take_while(|c| **c == b'>').count();
    if line[gt..].starts_with(b"From ") {
        out.push(b'>');
    }
    out.extend_from_slice(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<(u64, String)> {
        MboxReader::new(s.as_bytes())
            .map(|r| {
                let r = r.unwrap();
                (r.offset, String::from_utf8(r.bytes).unwrap())
            })
            .collect()
    }

    #[test]
    fn splits_and_unquotes() {
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\n>From the start\n>From here\n>>From there\nFrom inside a paragraph is not a separator\n\nFrom all of us, thanks\nFrom b@c Tue Jul 14 16:31:00 2026\n\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: two\n\nbody\n";
        let m = split(mbox);
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!(m[0].0, 0);
        assert_eq!(
            m[0].1,
            "Subject: one\n\nFrom the start\nFrom here\n>From there\nFrom inside a paragraph is not a separator\n\nFrom all of us, thanks\nFrom b@c Tue Jul 14 16:31:00 2026\n"
        );
        assert_eq!(m[1].0, mbox.rfind("From b@c").unwrap() as u64);
        assert_eq!(m[1].1, "Subject: two\n\nbody\n");
    }

    #[test]
    fn file_without_separator_is_one_message_and_empty_is_none() {
        let m = split("\n\nSubject: x\n\nhi\n");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].1, "Subject: x\n\nhi\n");
        assert!(split("").is_empty());
        assert!(split("From x\n\n").is_empty());
    }

    #[test]
    fn quoting_round_trips() {
        let mut out = Vec::new();
        for l in ["From me\n", ">From you\n", "Fromage\n"] {
            quote_line(l.as_bytes(), &mut out);
        }
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            ">From me\n>>From you\nFromage\n"
        );
        let mut mbox = b"From x Tue Jul 14 16:30:00 2026\nSubject: q\n\n".to_vec();
        mbox.extend_from_slice(&out);
        let m: Vec<_> = MboxReader::new(&mbox[..]).collect();
        assert_eq!(
            String::from_utf8(m[0].as_ref().unwrap().bytes.clone()).unwrap(),
            "Subject: q\n\nFrom me\n>From you\nFromage\n"
        );
    }
}
