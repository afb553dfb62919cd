//! Streaming mbox reader for every variant (mboxo, mboxrd, mboxcl, mboxcl2). One message is
//! in memory at a time, and never more than the size cap: a bigger one is streamed past and
//! reported as [`Entry::TooBig`].
//!
//! Where a message ends, by the evidence the file gives:
//!
//! * **`Content-Length`** (mboxcl, mboxcl2): when a message's header says its body is N
//!   bytes and the N bytes end exactly before the next `From ` line (or one blank line and
//!   the next `From `, or the end of the file), the header is trusted: `From ` lines inside
//!   the body (mboxcl2 does not quote them) do not split it, and nothing is unquoted. When
//!   it does not point at a `From ` line (a header left over from an edit, a body cut short),
//!   the message is read again by the line rule, as if it had no such header.
//! * **The line rule** otherwise: a `From ` line starts a message when it opens the file or
//!   has the shape of a separator (`From sender Tue Jul 14 16:30:00 2026`: a time, a month
//!   and a year), with or without a blank line before it, as Python's `mailbox` reads it. A
//!   `From ` line of another shape ("From the team, thanks") is body text, unless it
//!   follows a blank line, a header line follows it, and its sender is an address
//!   (`From sender@host`, dateless) or the file has shown `>From ` quoting (mboxo/mboxrd
//!   writers quote every body `From ` line, so an unquoted one is no body text).
//!
//! Body lines `>From `, `>>From ` ... lose one `>` (mboxrd; an mboxo file only ever has one).
//! A separator with nothing after it but blank lines is an [`Entry::Empty`]: Python counts
//! it, and so does the importer.

use std::io::{BufRead, Read};

/// The longest piece of a line read at once: a longer line (a binary blob with no line
/// breaks) comes in pieces, so that memory stays flat whatever the input.
pub(crate) const LINE_MAX: usize = 1 << 20;

/// What an entry of an archive holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    /// The message's bytes (the `From ` envelope line and the blank line after it removed).
    Message(Vec<u8>),
    /// A separator with no message after it (only blank lines).
    Empty,
    /// Larger than the cap; `size` bytes were streamed past, none kept.
    TooBig { size: u64 },
}

/// One entry and the byte offset of its separator (or of its first byte).
#[derive(Debug)]
pub struct MboxItem {
    pub offset: u64,
    pub entry: Entry,
}

/// Reads lines from a `BufRead`, with bytes pushed back in front (a message read again by
/// another rule, a line looked at before its time).
pub(crate) struct Lines<R: BufRead> {
    r: R,
    back: Vec<u8>,
    back_at: usize,
    /// Offset of the next line.
    pos: u64,
    /// Bytes taken from `r` (progress).
    read: u64,
    /// The last piece returned did not end its line.
    partial: bool,
    /// The piece just returned continues the line of the one before.
    cont: bool,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(r: R) -> Self {
        Lines {
            r,
            back: Vec::new(),
            back_at: 0,
            pos: 0,
            read: 0,
            partial: false,
            cont: false,
        }
    }

    /// The piece just read is the rest of a line longer than [`LINE_MAX`], not a line.
    pub(crate) fn continues(&self) -> bool {
        self.cont
    }

    /// Reads the next line (with its `\n`) into `out`, cleared first, or its next
    /// [`LINE_MAX`] bytes; 0 at the end.
    pub(crate) fn next_line(&mut self, out: &mut Vec<u8>) -> std::io::Result<usize> {
        let n = self.read_piece(out)?;
        self.cont = self.partial;
        self.partial = n == LINE_MAX && !out.ends_with(b"\n");
        Ok(n)
    }

    fn read_piece(&mut self, out: &mut Vec<u8>) -> std::io::Result<usize> {
        out.clear();
        if self.back_at < self.back.len() {
            let rest = &self.back[self.back_at..];
            let n = rest
                .iter()
                .take(LINE_MAX)
                .position(|c| *c == b'\n')
                .map_or(rest.len().min(LINE_MAX), |i| i + 1);
            out.extend_from_slice(&rest[..n]);
            self.back_at += n;
            if self.back_at == self.back.len() {
                self.back = Vec::new();
                self.back_at = 0;
            }
            self.pos += n as u64;
            return Ok(n);
        }
        let n = (&mut self.r).take(LINE_MAX as u64).read_until(b'\n', out)?;
        self.pos += n as u64;
        self.read += n as u64;
        Ok(n)
    }

    /// Puts `bytes` back in front: they are the next lines read.
    pub(crate) fn push_back(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut v = Vec::with_capacity(bytes.len() + self.back.len() - self.back_at);
        v.extend_from_slice(bytes);
        v.extend_from_slice(&self.back[self.back_at..]);
        self.back = v;
        self.back_at = 0;
        self.pos -= bytes.len() as u64;
        // What is pushed back starts a line.
        self.partial = false;
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Bytes taken from the input so far.
    pub(crate) fn taken(&self) -> u64 {
        self.read
    }
}

/// A message being read: its bytes until they pass the cap, then only its size.
pub(crate) struct Acc {
    pub(crate) offset: u64,
    pub(crate) bytes: Vec<u8>,
    /// Bytes of the message so far (kept or not).
    size: u64,
    too_big: bool,
}

impl Acc {
    pub(crate) fn new(offset: u64) -> Self {
        Acc {
            offset,
            bytes: Vec::with_capacity(4096),
            size: 0,
            too_big: false,
        }
    }

    pub(crate) fn push(&mut self, line: &[u8], cap: u64) {
        self.size += line.len() as u64;
        if self.too_big {
            return;
        }
        if self.size > cap {
            // Past the cap: let the bytes go, keep counting.
            self.too_big = true;
            self.bytes = Vec::new();
            return;
        }
        self.bytes.extend_from_slice(line);
    }

    pub(crate) fn is_too_big(&self) -> bool {
        self.too_big
    }

    /// The entry; `trim` removes the blank line an mbox puts before the next `From `.
    pub(crate) fn into_item(self, trim: bool) -> MboxItem {
        let entry = if self.too_big {
            Entry::TooBig { size: self.size }
        } else {
            let mut b = self.bytes;
            if trim {
                if b.ends_with(b"\r\n\r\n") {
                    b.truncate(b.len() - 2);
                } else if b.ends_with(b"\n\n") {
                    b.truncate(b.len() - 1);
                }
            }
            if b.iter().all(|c| c.is_ascii_whitespace()) {
                Entry::Empty
            } else {
                Entry::Message(b)
            }
        };
        MboxItem {
            offset: self.offset,
            entry,
        }
    }
}

/// The message being read, and what its headers said.
struct Cur {
    acc: Acc,
    in_headers: bool,
    content_length: Option<u64>,
    /// Its `Content-Length` did not point at a `From ` line: read by the line rule.
    cl_refused: bool,
    /// Body bytes still to read by `Content-Length`.
    cl_left: Option<u64>,
}

impl Cur {
    fn new(offset: u64) -> Self {
        Cur {
            acc: Acc::new(offset),
            in_headers: true,
            content_length: None,
            cl_refused: false,
            cl_left: None,
        }
    }
}

pub struct MboxReader<R: BufRead> {
    src: Lines<R>,
    line: Vec<u8>,
    peek: Vec<u8>,
    cap: u64,
    cur: Option<Cur>,
    prev_blank: bool,
    at_start: bool,
    /// The next `From ` line is a separator whatever its shape (a `Content-Length` ended
    /// right before it).
    force_sep: bool,
    /// A `>From ` line was seen: this file quotes body `From ` lines.
    quoted: bool,
    done: bool,
}

impl<R: BufRead> MboxReader<R> {
    /// A reader with no size cap.
    pub fn new(r: R) -> Self {
        Self::with_cap(r, u64::MAX)
    }

    /// A reader that keeps no message bigger than `cap` bytes.
    pub fn with_cap(r: R, cap: u64) -> Self {
        MboxReader {
            src: Lines::new(r),
            line: Vec::with_capacity(256),
            peek: Vec::new(),
            cap,
            cur: None,
            prev_blank: true,
            at_start: true,
            force_sep: false,
            quoted: false,
            done: false,
        }
    }

    /// Bytes read from the input so far.
    pub fn position(&self) -> u64 {
        self.src.taken()
    }

    /// Reads the message again from its first header line, by the line rule (its
    /// `Content-Length` did not hold); `extra` is what was read past it.
    fn refuse_content_length(&mut self, extra: &[u8]) {
        let Some(cur) = self.cur.as_mut() else {
            return;
        };
        let mut raw = std::mem::take(&mut cur.acc.bytes);
        raw.extend_from_slice(extra);
        self.src.push_back(&raw);
        let offset = cur.acc.offset;
        let mut fresh = Cur::new(offset);
        fresh.cl_refused = true;
        *cur = fresh;
        self.prev_blank = false;
    }

    /// The body ended where `Content-Length` said: true when the next line is a `From `
    /// line (left to be read), a blank line and a `From ` line, or the end. Otherwise the
    /// lines looked at are in `self.peek`.
    fn content_length_holds(&mut self) -> std::io::Result<bool> {
        let mut l1 = Vec::new();
        if self.src.next_line(&mut l1)? == 0 {
            return Ok(true);
        }
        if l1.starts_with(b"From ") && !self.src.continues() {
            self.src.push_back(&l1);
            return Ok(true);
        }
        if is_blank(&l1) {
            let mut l2 = Vec::new();
            if self.src.next_line(&mut l2)? == 0 {
                return Ok(true);
            }
            if l2.starts_with(b"From ") {
                self.src.push_back(&l2);
                return Ok(true);
            }
            l1.extend_from_slice(&l2);
        }
        self.peek = l1;
        Ok(false)
    }

    /// A `From ` line with no date, after a blank line: a separator when the next line is
    /// a header and either the sender is an address (`From sender@host`, as some exporters
    /// write it) or the file quotes body `From ` lines (then an unquoted one is no body
    /// text); after an address, also before a blank line, another `From ` line or the end
    /// (an empty entry).
    /// Prose "From the team" is none of these.
    fn dateless_separator(&mut self) -> std::io::Result<bool> {
        let sender = self.line[5..]
            .split(|c| c.is_ascii_whitespace())
            .find(|w| !w.is_empty())
            .unwrap_or(b"");
        let address = sender.contains(&b'@')
            || sender == b"-"
            || sender.eq_ignore_ascii_case(b"MAILER-DAEMON");
        if !(self.quoted || address) {
            return Ok(false);
        }
        let mut next = std::mem::take(&mut self.peek);
        self.src.next_line(&mut next)?;
        // A header; or, after an address, an empty entry: a blank line, another `From `
        // line or the end.
        let header = is_header_line(&next)
            || (address && (is_blank(&next) || next.is_empty() || next.starts_with(b"From ")));
        self.src.push_back(&next);
        next.clear();
        self.peek = next;
        Ok(header)
    }

    /// After the body's last `Content-Length` byte: the message ends, or is read again.
    fn end_by_content_length(&mut self) -> std::io::Result<Option<MboxItem>> {
        if self.content_length_holds()? {
            self.force_sep = true;
            self.prev_blank = true;
            return Ok(self.cur.take().map(|c| c.acc.into_item(false)));
        }
        let extra = std::mem::take(&mut self.peek);
        self.refuse_content_length(&extra);
        Ok(None)
    }

    fn step(&mut self) -> std::io::Result<Option<MboxItem>> {
        loop {
            let n = self.src.next_line(&mut self.line)?;
            if n == 0 {
                if self.cur.as_ref().is_some_and(|c| c.cl_left.is_some()) {
                    // The file ends inside the body Content-Length announced.
                    self.refuse_content_length(&[]);
                    continue;
                }
                self.done = true;
                return Ok(self.cur.take().map(|c| c.acc.into_item(true)));
            }
            let offset = self.src.pos() - n as u64;
            // A body read by Content-Length: raw, no separator inside.
            if let Some(cur) = self.cur.as_mut() {
                if let Some(left) = cur.cl_left {
                    if n as u64 > left || cur.acc.bytes.len() as u64 + n as u64 > self.cap {
                        // Ends mid-line, or too big to read again later: the line rule.
                        let line = std::mem::take(&mut self.line);
                        self.refuse_content_length(&line);
                        self.line = line;
                        continue;
                    }
                    cur.acc.push(&self.line, self.cap);
                    let left = left - n as u64;
                    cur.cl_left = Some(left);
                    if left == 0 {
                        if let Some(item) = self.end_by_content_length()? {
                            return Ok(Some(item));
                        }
                    }
                    continue;
                }
            }
            // The rest of a very long line: body bytes, whatever they say.
            let cont = self.src.continues();
            let separator = !cont
                && self.line.starts_with(b"From ")
                && (self.at_start
                    || self.force_sep
                    || looks_like_separator(&self.line)
                    || (self.prev_blank && self.dateless_separator()?));
            let line = &self.line[..];
            if separator {
                self.at_start = false;
                self.force_sep = false;
                self.prev_blank = false;
                let prev = self.cur.replace(Cur::new(offset));
                if let Some(c) = prev {
                    return Ok(Some(c.acc.into_item(true)));
                }
                continue;
            }
            self.force_sep = false;
            let blank = !cont && is_blank(line);
            if self.at_start && blank {
                // Leading blank lines before the first separator.
                continue;
            }
            self.at_start = false;
            self.prev_blank = blank;
            let cap = self.cap;
            let cur = self.cur.get_or_insert_with(|| Cur::new(offset));
            if cur.in_headers {
                if blank {
                    cur.in_headers = false;
                    cur.acc.push(line, cap);
                    if let (Some(len), false) = (cur.content_length, cur.cl_refused) {
                        if !cur.acc.is_too_big() {
                            cur.cl_left = Some(len);
                            if len == 0 {
                                if let Some(item) = self.end_by_content_length()? {
                                    return Ok(Some(item));
                                }
                            }
                        }
                    }
                    continue;
                }
                if let Some(v) = header_value(line, b"content-length").filter(|_| !cont) {
                    cur.content_length = std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.trim().parse().ok());
                }
                cur.acc.push(line, cap);
                continue;
            }
            // mboxrd: ">From ", ">>From " ... lose one '>'.
            let gt = line.iter().take_while(|c| **c == b'>').count();
            if gt > 0 && !cont && line[gt..].starts_with(b"From ") {
                self.quoted = true;
                cur.acc.push(&line[1..], cap);
            } else {
                cur.acc.push(line, cap);
            }
        }
    }
}

/// `Name: value`: a field name of printable characters, then a colon.
fn is_header_line(line: &[u8]) -> bool {
    let name_len = line
        .iter()
        .take_while(|c| c.is_ascii_graphic() && **c != b':')
        .count();
    name_len > 0 && line.get(name_len) == Some(&b':')
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// The value of header `name` (lowercase) when `line` is that header.
fn header_value<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let rest = line.get(name.len()..)?;
    (line[..name.len()].eq_ignore_ascii_case(name) && rest.first() == Some(&b':'))
        .then(|| &rest[1..])
}

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// `From sender Tue Jul 14 16:30:00 2026` (asctime, Thunderbird's `From - ...`, Google
/// Takeout's `... +0000 2026`): a sender, then a time, a month and a year among the words.
/// Keeps a prose line "From the team..." or "From 9 to 5" from splitting a message.
pub fn looks_like_separator(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let mut words = rest
        .trim_ascii()
        .split(|c| *c == b' ' || *c == b'\t')
        .filter(|w| !w.is_empty());
    if words.next().is_none() {
        return false;
    }
    let (mut time, mut month, mut year) = (false, false, false);
    for w in words {
        if w.len() == 4 && w.iter().all(u8::is_ascii_digit) {
            year = true;
        } else if w.len() == 3 && MONTHS.iter().any(|m| w.eq_ignore_ascii_case(m)) {
            month = true;
        } else if is_time(w) {
            time = true;
        }
    }
    time && month && year
}

/// `16:30`, `16:30:00`, `9:05:00`.
fn is_time(w: &[u8]) -> bool {
    let mut parts = w.split(|c| *c == b':');
    let ok = |p: Option<&[u8]>, lo: usize| {
        p.is_some_and(|p| (lo..=2).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
    };
    ok(parts.next(), 1) && ok(parts.next(), 2) && {
        let s = parts.next();
        s.is_none() || (ok(s, 2) && parts.next().is_none())
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = std::io::Result<MboxItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        super::mbox::settle(&mut self.done, step)
    }
}

/// One step of a reader as an iterator's item: an error ends the reading (`done`).
pub(super) fn settle(
    done: &mut bool,
    step: std::io::Result<Option<MboxItem>>,
) -> Option<std::io::Result<MboxItem>> {
    match step {
        Ok(item) => item.map(Ok),
        Err(e) => {
            *done = true;
            Some(Err(e))
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

    /// (offset, text) of each entry; "<empty>" and "<too big N>" for the others.
    fn split_cap(s: &str, cap: u64) -> Vec<(u64, String)> {
        MboxReader::with_cap(s.as_bytes(), cap)
            .map(|r| {
                let r = r.unwrap();
                let t = match r.entry {
                    Entry::Message(b) => String::from_utf8(b).unwrap(),
                    Entry::Empty => "<empty>".into(),
                    Entry::TooBig { size } => format!("<too big {size}>"),
                };
                (r.offset, t)
            })
            .collect()
    }

    fn split(s: &str) -> Vec<(u64, String)> {
        split_cap(s, u64::MAX)
    }

    fn texts(s: &str) -> Vec<String> {
        split(s).into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn splits_and_unquotes() {
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\n>From the start\n>From here\n>>From there\nFrom inside a paragraph is not a separator\n\nFrom all of us, thanks\nFrom b@c Tue Jul 14 16:31:00 2026\n\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: two\n\nbody\n";
        let m = split(mbox);
        // Python reads 5 (every "From " line). "From inside a paragraph" has no blank line
        // before it and no separator's shape, "From all of us" no header after it: body
        // text. The separator right after it starts a message (an empty one).
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(m[0].0, 0);
        assert_eq!(
            m[0].1,
            "Subject: one\n\nFrom the start\nFrom here\n>From there\nFrom inside a paragraph is not a separator\n\nFrom all of us, thanks\n"
        );
        assert_eq!(m[1].0, mbox.find("From b@c").unwrap() as u64);
        assert_eq!(m[1].1, "<empty>");
        assert_eq!(m[2].0, mbox.rfind("From b@c").unwrap() as u64);
        assert_eq!(m[2].1, "Subject: two\n\nbody\n");
    }

    #[test]
    fn separator_without_blank_line_before_it_starts_a_message() {
        // Python's mailbox.mbox reads 3.
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\nbody\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: two\n\nbody\nFrom - Wed Jul 15 09:05:00 2026\nSubject: three\n\nbody\n";
        assert_eq!(
            texts(mbox),
            [
                "Subject: one\n\nbody\n",
                "Subject: two\n\nbody\n",
                "Subject: three\n\nbody\n"
            ]
        );
    }

    #[test]
    fn prose_from_lines_in_an_unquoting_file_stay_in_the_body() {
        // No ">From " anywhere: the writer does not quote, so "From the team" is text.
        // (Python splits at every "From " line and would read 4.)
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\nHello\n\nFrom the team at Bookly\nFrom 9 to 5\n\nFrom all of us\n";
        assert_eq!(
            texts(mbox),
            ["Subject: one\n\nHello\n\nFrom the team at Bookly\nFrom 9 to 5\n\nFrom all of us\n"]
        );
    }

    #[test]
    fn dateless_separator_after_a_blank_line_and_before_headers() {
        // Python reads 3; "From the team" (no address) and "From a@b" before a body line
        // stay in the body.
        let mbox = "From a@b\nSubject: one\n\nbody\n\nFrom the team\nX: y\n\nFrom b@c\nSubject: two\n\nbody\n\nFrom c@d\nnot a header\n";
        assert_eq!(
            texts(mbox),
            [
                "Subject: one\n\nbody\n\nFrom the team\nX: y\n",
                "Subject: two\n\nbody\n\nFrom c@d\nnot a header\n"
            ]
        );
    }

    #[test]
    fn in_a_quoting_file_an_unquoted_from_line_before_a_header_is_a_separator() {
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\n>From quoted\n\nFrom somebody\nSubject: two\n\nbody\n\nFrom the team\nthanks\n";
        assert_eq!(
            texts(mbox),
            [
                "Subject: one\n\nFrom quoted\n",
                "Subject: two\n\nbody\n\nFrom the team\nthanks\n"
            ]
        );
        // Without quoting, "From somebody" is text.
        let plain = mbox.replace(">From quoted", "quoted");
        assert_eq!(texts(&plain).len(), 1);
    }

    #[test]
    fn separator_shapes() {
        for l in [
            "From a@b Tue Jul 14 16:30:00 2026\n",
            "From MAILER-DAEMON Tue Oct  7 15:37:04 2025\n",
            "From - Mon Jan 01 00:00:00 2024\r\n",
            "From 1781234567890123456@xxx Sat Jan 01 00:00:00 +0000 2022\n",
            "From a@b Tue, 14 Jul 2026 16:30 +0200\n",
        ] {
            assert!(looks_like_separator(l.as_bytes()), "{l}");
        }
        for l in [
            "From the team at Bookly\n",
            "From 9 to 5\n",
            "From 9:00 to 17:00, every day\n",
            "From a@b\n",
            "From \n",
            "Fromage Tue Jul 14 16:30:00 2026\n",
        ] {
            assert!(!looks_like_separator(l.as_bytes()), "{l}");
        }
    }

    #[test]
    fn content_length_that_points_at_the_next_separator_is_trusted() {
        // mboxcl2: the body's "From " line is not quoted; Content-Length covers it.
        let body1 = "Hi\nFrom a@b Tue Jul 14 16:30:00 2026\n>From here\n";
        let mbox = format!(
            "From a@b Tue Jul 14 16:30:00 2026\nContent-Length: {}\nSubject: one\n\n{body1}\nFrom b@c Tue Jul 14 16:31:00 2026\nContent-Length: 5\nSubject: two\n\nbody\n",
            body1.len()
        );
        let t = texts(&mbox);
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!(
            t[0],
            format!("Content-Length: {}\nSubject: one\n\n{body1}", body1.len())
        );
        assert_eq!(t[1], "Content-Length: 5\nSubject: two\n\nbody\n");
        // Without the blank line before the next separator, and with CRLF.
        let mbox = format!(
            "From a@b Tue Jul 14 16:30:00 2026\r\nContent-Length: {}\r\n\r\n{}From b@c Tue Jul 14 16:31:00 2026\r\nContent-Length: 0\r\n\r\n",
            body1.len() + 3,
            body1.replace('\n', "\r\n")
        );
        let t = texts(&mbox);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with(">From here\r\n"), "{t:?}");
    }

    #[test]
    fn content_length_that_does_not_hold_is_ignored() {
        // Too long: it would swallow the second message.
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nContent-Length: 500\nSubject: one\n\nbody\n\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: two\n\nbody\n";
        assert_eq!(
            texts(mbox),
            [
                "Content-Length: 500\nSubject: one\n\nbody\n",
                "Subject: two\n\nbody\n"
            ]
        );
        // Too short: ends mid-body, before a line that is no separator.
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nContent-Length: 5\nSubject: one\n\nbody\nmore\n>From quoted\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: two\n\nbody\n";
        let m = split(mbox);
        assert_eq!(
            m.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
            [
                "Content-Length: 5\nSubject: one\n\nbody\nmore\nFrom quoted\n",
                "Subject: two\n\nbody\n"
            ]
        );
        assert_eq!(m[1].0, mbox.find("From b@c").unwrap() as u64);
        // Mid-line.
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\nContent-Length: 2\n\nbody\n";
        assert_eq!(texts(mbox), ["Content-Length: 2\n\nbody\n"]);
    }

    #[test]
    fn empty_entries_are_entries() {
        assert!(split("").is_empty());
        assert_eq!(texts("From x\n\n"), ["<empty>"]);
        let mbox = "From a@b Tue Jul 14 16:30:00 2026\n\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: two\n\nbody\n\nFrom c@d Tue Jul 14 16:32:00 2026\n";
        assert_eq!(
            texts(mbox),
            ["<empty>", "Subject: two\n\nbody\n", "<empty>"]
        );
    }

    #[test]
    fn file_without_separator_is_one_message() {
        let m = split("\n\nSubject: x\n\nhi\n");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].1, "Subject: x\n\nhi\n");
    }

    #[test]
    fn a_message_over_the_cap_is_streamed_past() {
        let big = "x".repeat(99) + "\n";
        let mbox = format!(
            "From a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\nbody\n\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: big\n\n{}\nFrom c@d Tue Jul 14 16:32:00 2026\nSubject: three\n\nbody\n",
            big.repeat(50)
        );
        let m = split_cap(&mbox, 1000);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(m[1].0, mbox.find("From b@c").unwrap() as u64);
        assert_eq!(m[1].1, format!("<too big {}>", 14 + 5000 + 1));
        assert_eq!(m[2].1, "Subject: three\n\nbody\n");
        // The same with a Content-Length that holds.
        let body = big.repeat(50);
        let mbox = format!(
            "From b@c Tue Jul 14 16:31:00 2026\nContent-Length: {}\n\n{body}From c@d Tue Jul 14 16:32:00 2026\nSubject: three\n\nbody\n",
            body.len()
        );
        let m = split_cap(&mbox, 1000);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].1.starts_with("<too big"), "{m:?}");
        assert_eq!(m[1].1, "Subject: three\n\nbody\n");
    }

    #[test]
    fn a_line_longer_than_line_max_comes_in_pieces() {
        // One 3.5 MB line holding "From " at a piece boundary: no split, no big buffer.
        let mut blob = "z".repeat(LINE_MAX - 1);
        blob.push('\n');
        let mut long = "a".repeat(LINE_MAX);
        long.push_str("From a@b Tue Jul 14 16:30:00 2026 ");
        long.push_str(&"b".repeat(LINE_MAX * 2));
        long.push('\n');
        let mbox = format!(
            "From a@b Tue Jul 14 16:30:00 2026\nSubject: one\n\n{blob}{long}\nFrom b@c Tue Jul 14 16:31:00 2026\nSubject: two\n\nbody\n"
        );
        let m = split_cap(&mbox, 2 * LINE_MAX as u64);
        assert_eq!(
            m.len(),
            2,
            "{:?}",
            m.iter().map(|(o, t)| (o, t.len())).collect::<Vec<_>>()
        );
        assert!(m[0].1.starts_with("<too big"), "{}", &m[0].1[..40]);
        assert_eq!(m[1].1, "Subject: two\n\nbody\n");
        let m = split(&mbox);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].1.len(), mbox.find("From b@c").unwrap() - 34 - 1);
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
            m[0].as_ref().unwrap().entry,
            Entry::Message(b"Subject: q\n\nFrom me\n>From you\nFromage\n".to_vec())
        );
    }
}
