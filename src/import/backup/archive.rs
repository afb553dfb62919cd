//! A native reader of pg_dump's custom format (`pg_dump -Fc`, magic `PGDMP`), so a custom
//! archive can be read without PostgreSQL installed. It turns the archive into the plain SQL
//! script `pg_restore -f -` would print (the pre-data definitions, then each table's COPY
//! statement and data), streamed through a channel, for the plain reader.
//!
//! Layout (notes/pg_dump.md, checked against PostgreSQL 15): header, table of contents, then
//! data blocks in order: block type byte, dump id, chunks (int length + bytes, 0 ends) that
//! together are one zlib stream (or raw with `-Z0`). Compression other than zlib (lz4, zstd
//! from PostgreSQL 16), the tar and directory formats, and unknown versions are left to
//! `pg_restore` ([`probe`] says which).

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

const BLK_DATA: u8 = 1;
const BLK_BLOBS: u8 = 3;

#[derive(Debug, Clone)]
pub struct Header {
    pub version: (u8, u8, u8),
    pub int_size: usize,
    pub off_size: usize,
    pub format: u8,
    /// None, or zlib at some level.
    zlib: bool,
    /// The archive's creation time as pg_dump's local wall clock (`2026-08-22 03:00:05`).
    pub created: Option<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    dump_id: i64,
    section: i64,
    defn: Option<String>,
    copy_stmt: Option<String>,
}

fn err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

struct Ar<R> {
    r: R,
    int_size: usize,
    off_size: usize,
}

impl<R: Read> Ar<R> {
    fn byte(&mut self) -> std::io::Result<u8> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b)?;
        Ok(b[0])
    }
    fn int(&mut self) -> std::io::Result<i64> {
        let sign = self.byte()?;
        let mut v: i64 = 0;
        for i in 0..self.int_size {
            let b = self.byte()? as i64;
            if i < 8 {
                v |= b << (8 * i);
            }
        }
        Ok(if sign != 0 { -v } else { v })
    }
    fn str(&mut self) -> std::io::Result<Option<String>> {
        let n = self.int()?;
        if n < 0 {
            return Ok(None);
        }
        if n > (1 << 30) {
            return Err(err("string length out of range"));
        }
        let mut b = vec![0u8; n as usize];
        self.r.read_exact(&mut b)?;
        Ok(Some(String::from_utf8_lossy(&b).into_owned()))
    }
    fn offset(&mut self) -> std::io::Result<()> {
        self.byte()?;
        for _ in 0..self.off_size {
            self.byte()?;
        }
        Ok(())
    }
}

fn ver(h: &Header) -> u32 {
    (h.version.0 as u32) << 16 | (h.version.1 as u32) << 8 | h.version.2 as u32
}
fn v(a: u8, b: u8) -> u32 {
    (a as u32) << 16 | (b as u32) << 8
}

fn read_header<R: Read>(ar: &mut Ar<R>) -> std::io::Result<Header> {
    let mut magic = [0u8; 5];
    ar.r.read_exact(&mut magic)?;
    if &magic != b"PGDMP" {
        return Err(err("not a pg_dump archive (no PGDMP magic)"));
    }
    let vmaj = ar.byte()?;
    let vmin = ar.byte()?;
    let vrev = if vmaj > 1 || (vmaj == 1 && vmin > 0) {
        ar.byte()?
    } else {
        0
    };
    let int_size = ar.byte()? as usize;
    let off_size = ar.byte()? as usize;
    if !(1..=8).contains(&int_size) || !(1..=8).contains(&off_size) {
        return Err(err("bad integer sizes in the archive header"));
    }
    ar.int_size = int_size;
    ar.off_size = off_size;
    let format = ar.byte()?;
    let mut h = Header {
        version: (vmaj, vmin, vrev),
        int_size,
        off_size,
        format,
        zlib: false,
        created: None,
    };
    let vv = ver(&h);
    if vv >= v(1, 15) {
        let alg = ar.byte()?;
        match alg {
            0 => h.zlib = false,
            1 => h.zlib = true,
            _ => {
                return Err(err(format!(
                    "compression algorithm {alg} (lz4/zstd) is not read natively"
                )))
            }
        }
    } else if vv >= v(1, 2) {
        let level = ar.int()?;
        h.zlib = level != 0;
    }
    if vv >= v(1, 4) {
        let mut t = [0i64; 7];
        for x in t.iter_mut() {
            *x = ar.int()?;
        }
        // sec, min, hour, mday, mon (0-11), year - 1900, isdst
        h.created = Some(format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t[5] + 1900,
            t[4] + 1,
            t[3],
            t[2],
            t[1],
            t[0]
        ));
        ar.str()?; // database name
    }
    if vv >= v(1, 10) {
        ar.str()?; // server version
        ar.str()?; // pg_dump version
    }
    Ok(h)
}

fn read_toc<R: Read>(ar: &mut Ar<R>, h: &Header) -> std::io::Result<Vec<Entry>> {
    let vv = ver(h);
    let n = ar.int()?;
    if !(0..10_000_000).contains(&n) {
        return Err(err("bad TOC entry count"));
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let dump_id = ar.int()?;
        let _had_dumper = ar.int()?;
        ar.str()?; // tableoid
        ar.str()?; // oid
        let _tag = ar.str()?;
        ar.str()?; // desc ("TABLE", "TABLE DATA", ...)
        let section = if vv >= v(1, 11) { ar.int()? } else { 1 };
        let defn = ar.str()?;
        ar.str()?; // drop statement
        let copy_stmt = if vv >= v(1, 3) { ar.str()? } else { None };
        if vv >= v(1, 6) {
            ar.str()?; // namespace
        }
        if vv >= v(1, 10) {
            ar.str()?; // tablespace
        }
        if vv >= v(1, 14) {
            ar.str()?; // table access method
        }
        if vv >= v(1, 16) {
            ar.int()?; // relkind
        }
        ar.str()?; // owner
        ar.str()?; // with oids
        if vv >= v(1, 5) {
            while ar.str()?.is_some() {}
        }
        ar.offset()?;
        out.push(Entry {
            dump_id,
            section,
            defn,
            copy_stmt,
        });
    }
    Ok(out)
}

/// Can this archive be read natively? `Ok(header)` if so; `Err(reason)` otherwise (then
/// use pg_restore).
pub fn probe(path: &Path) -> Result<Header, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut ar = Ar {
        r: BufReader::new(f),
        int_size: 4,
        off_size: 8,
    };
    let h = read_header(&mut ar).map_err(|e| e.to_string())?;
    if h.format != 1 {
        return Err(format!(
            "archive format {} is not the custom format",
            h.format
        ));
    }
    if ver(&h) < v(1, 10) || ver(&h) > v(1, 16) {
        return Err(format!(
            "archive version {}.{}.{} is not read natively",
            h.version.0, h.version.1, h.version.2
        ));
    }
    Ok(h)
}

/// The data chunks of one block, as one byte stream.
struct Chunks<'a, R> {
    ar: &'a mut Ar<R>,
    left: usize,
    done: bool,
}

impl<R: Read> Read for Chunks<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.left == 0 {
            if self.done {
                return Ok(0);
            }
            let n = self.ar.int()?;
            if n <= 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = n as usize;
        }
        let k = buf.len().min(self.left);
        let got = self.ar.r.read(&mut buf[..k])?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= got;
        Ok(got)
    }
}

/// Writes into the channel in pieces of about 64 KiB.
struct ChanWriter {
    tx: SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Write for ChanWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let b = std::mem::replace(&mut self.buf, Vec::with_capacity(1 << 16));
            self.tx
                .send(b)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "reader gone"))?;
        }
        Ok(())
    }
}

fn eof(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::UnexpectedEof
}

/// Writes the archive as a plain SQL script. An archive cut short ends the script where
/// the data stops (the plain reader reports the truncation).
fn synthesize(path: &Path, w: &mut ChanWriter) -> std::io::Result<()> {
    let f = std::fs::File::open(path)?;
    let mut ar = Ar {
        r: BufReader::with_capacity(1 << 16, f),
        int_size: 4,
        off_size: 8,
    };
    let h = read_header(&mut ar)?;
    let toc = read_toc(&mut ar, &h)?;
    writeln!(
        w,
        "--\n-- PostgreSQL database dump (read natively from a custom archive)\n--\n"
    )?;
    if let Some(c) = &h.created {
        writeln!(w, "-- Started on {c}\n")?;
    }
    for e in &toc {
        if e.section <= 2 {
            if let Some(d) = e.defn.as_deref().filter(|d| !d.is_empty()) {
                writeln!(w, "{d}")?;
            }
        }
    }
    let by_id: HashMap<i64, &Entry> = toc.iter().map(|e| (e.dump_id, e)).collect();
    loop {
        let t = match ar.byte() {
            Ok(t) => t,
            Err(e) if eof(&e) => break,
            Err(e) => return Err(e),
        };
        let id = match ar.int() {
            Ok(i) => i,
            Err(e) if eof(&e) => break,
            Err(e) => return Err(e),
        };
        match t {
            BLK_DATA => {
                let e = by_id.get(&id);
                if let Some(cs) = e
                    .and_then(|e| e.copy_stmt.as_deref())
                    .filter(|s| !s.is_empty())
                {
                    write!(w, "{cs}")?;
                }
                let res = {
                    let chunks = Chunks {
                        ar: &mut ar,
                        left: 0,
                        done: false,
                    };
                    if h.zlib {
                        let mut d = flate2::read::ZlibDecoder::new(chunks);
                        let r = std::io::copy(&mut d, w);
                        // Read past the rest of the block (the end of its chunks).
                        let mut rest = d.into_inner();
                        r.and_then(|_| std::io::copy(&mut rest, &mut std::io::sink()))
                    } else {
                        let mut c = chunks;
                        std::io::copy(&mut c, w)
                    }
                };
                match res {
                    Ok(_) => {}
                    Err(e) if eof(&e) => break,
                    Err(e) => return Err(e),
                }
            }
            BLK_BLOBS => {
                // Large objects: oid, chunks; an oid of 0 ends the block.
                loop {
                    let oid = match ar.int() {
                        Ok(o) => o,
                        Err(e) if eof(&e) => return w.flush(),
                        Err(e) => return Err(e),
                    };
                    if oid == 0 {
                        break;
                    }
                    let mut c = Chunks {
                        ar: &mut ar,
                        left: 0,
                        done: false,
                    };
                    match std::io::copy(&mut c, &mut std::io::sink()) {
                        Ok(_) => {}
                        Err(e) if eof(&e) => return w.flush(),
                        Err(e) => return Err(e),
                    }
                }
            }
            other => return Err(err(format!("unknown data block type {other}"))),
        }
    }
    w.flush()
}

/// The archive as a plain SQL script, read from a background thread. Call
/// [`NativeStream::finish`] after reading to learn whether the archive was readable.
pub struct NativeStream {
    rx: Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    handle: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl NativeStream {
    pub fn open(path: &Path) -> NativeStream {
        let (tx, rx) = sync_channel::<Vec<u8>>(4);
        let p = path.to_path_buf();
        let handle = std::thread::spawn(move || {
            let mut w = ChanWriter {
                tx,
                buf: Vec::with_capacity(1 << 16),
            };
            synthesize(&p, &mut w)
        });
        NativeStream {
            rx,
            cur: Vec::new(),
            pos: 0,
            handle: Some(handle),
        }
    }

    /// Waits for the reader thread; its error, if the archive was unreadable.
    pub fn finish(mut self) -> Result<(), String> {
        // Stop the writer if the reader stopped early.
        let (_tx, dead) = sync_channel(0);
        drop(std::mem::replace(&mut self.rx, dead));
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(Ok(()))) | None => Ok(()),
            Some(Ok(Err(e))) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Some(Ok(Err(e))) => Err(e.to_string()),
            Some(Err(_)) => Err("the archive reader crashed".into()),
        }
    }
}

impl Read for NativeStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(b) => {
                    self.cur = b;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::backup::source::{Row, Summary, Visitor};

    fn int(out: &mut Vec<u8>, v: i64) {
        out.push(if v < 0 { 1 } else { 0 });
        out.extend_from_slice(&(v.unsigned_abs() as u32).to_le_bytes());
    }
    fn s(out: &mut Vec<u8>, v: Option<&str>) {
        match v {
            None => int(out, -1),
            Some(t) => {
                int(out, t.len() as i64);
                out.extend_from_slice(t.as_bytes());
            }
        }
    }

    /// A custom archive as pg_dump 15 writes it (version 1.14), one table.
    fn archive(zlib: bool, data: &str) -> Vec<u8> {
        let mut a = b"PGDMP".to_vec();
        a.extend_from_slice(&[1, 14, 0, 4, 8, 1]);
        int(&mut a, if zlib { -1 } else { 0 });
        for t in [5, 0, 3, 22, 7, 126, 0] {
            int(&mut a, t); // 2026-08-22 03:00:05
        }
        s(&mut a, Some("app"));
        s(&mut a, Some("15.18"));
        s(&mut a, Some("15.18"));
        let entries: [(i64, i64, &str, &str, Option<&str>); 3] = [
            (1, 1, "ENCODING", "SET client_encoding = 'UTF8';\n", None),
            (
                2,
                2,
                "TABLE",
                "CREATE TABLE public.t (\n    id integer NOT NULL,\n    note text\n);\n",
                None,
            ),
            (
                3,
                3,
                "TABLE DATA",
                "",
                Some("COPY public.t (id, note) FROM stdin;\n"),
            ),
        ];
        int(&mut a, entries.len() as i64);
        for (id, section, desc, defn, copy) in entries {
            int(&mut a, id);
            int(&mut a, if copy.is_some() { 1 } else { 0 });
            s(&mut a, Some("0"));
            s(&mut a, Some("0"));
            s(&mut a, Some("t"));
            s(&mut a, Some(desc));
            int(&mut a, section);
            s(&mut a, Some(defn));
            s(&mut a, Some(""));
            s(&mut a, copy);
            s(&mut a, Some("public"));
            s(&mut a, Some(""));
            s(&mut a, Some("heap"));
            s(&mut a, Some("app"));
            s(&mut a, Some("false"));
            s(&mut a, None); // no dependencies
            a.push(3); // offset: no data
            a.extend_from_slice(&[0; 8]);
        }
        a.push(BLK_DATA);
        int(&mut a, 3);
        let payload = if zlib {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data.as_bytes()).unwrap();
            e.finish().unwrap()
        } else {
            data.as_bytes().to_vec()
        };
        for chunk in payload.chunks(7) {
            int(&mut a, chunk.len() as i64);
            a.extend_from_slice(chunk);
        }
        int(&mut a, 0);
        a
    }

    #[derive(Default)]
    struct Collect {
        rows: Vec<Vec<Option<String>>>,
        skips: Vec<crate::claims::Skip>,
    }
    impl Visitor for Collect {
        fn wants(&self, _t: &str) -> bool {
            true
        }
        fn row(&mut self, r: Row<'_>) -> crate::Result<()> {
            self.rows.push(r.values);
            Ok(())
        }
        fn skip(&mut self, _t: Option<&str>, s: crate::claims::Skip) -> crate::Result<()> {
            self.skips.push(s);
            Ok(())
        }
    }

    fn read(bytes: &[u8]) -> (Collect, Summary, Result<(), String>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("app.dump");
        std::fs::write(&p, bytes).unwrap();
        let mut c = Collect::default();
        let mut sum = Summary::default();
        let mut st = NativeStream::open(&p);
        crate::import::backup::sql::scan_plain(
            BufReader::new(&mut st),
            &p,
            "app.dump",
            &mut sum,
            &mut c,
        )
        .unwrap();
        let r = st.finish();
        (c, sum, r)
    }

    const DATA: &str = "1\tfirst\\tnote\n2\t\\N\n3\tthird\n\\.\n\n\n";

    #[test]
    fn reads_custom_archives() {
        for zlib in [false, true] {
            let a = archive(zlib, DATA);
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("a.dump");
            std::fs::write(&p, &a).unwrap();
            let h = probe(&p).unwrap();
            assert_eq!(h.version, (1, 14, 0));
            assert_eq!(h.created.as_deref(), Some("2026-08-22 03:00:05"));
            let (c, sum, r) = read(&a);
            r.unwrap();
            assert!(c.skips.is_empty(), "{:?}", c.skips);
            assert_eq!(c.rows.len(), 3);
            assert_eq!(
                c.rows[0],
                vec![Some("1".into()), Some("first\tnote".into())]
            );
            assert_eq!(c.rows[1][1], None);
            assert_eq!(
                sum.tables["t"].columns.as_deref(),
                Some(&["id".to_string(), "note".to_string()][..])
            );
            assert_eq!(sum.started_on.as_deref(), Some("2026-08-22 03:00:05"));
        }
    }

    #[test]
    fn truncated_custom_archive_keeps_complete_rows() {
        let mut data = String::new();
        for i in 0..2000u64 {
            data.push_str(&format!(
                "{i}\tnote {}\n",
                i.wrapping_mul(2654435761) % 1_000_003
            ));
        }
        data.push_str("\\.\n\n\n");
        for zlib in [false, true] {
            let a = archive(zlib, &data);
            let cut = &a[..a.len() * 3 / 4];
            let (c, _, r) = read(cut);
            r.unwrap();
            assert!(
                c.rows.len() > 100 && c.rows.len() < 2000,
                "zlib {zlib}: {} rows",
                c.rows.len()
            );
            assert_eq!(c.skips.len(), 1, "{:?}", c.skips);
            assert_eq!(c.skips[0].kind, "truncated");
            // Every row read is whole.
            for (i, r) in c.rows.iter().enumerate() {
                assert_eq!(r[0].as_deref(), Some(i.to_string().as_str()));
            }
        }
    }

    #[test]
    fn not_native() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.dump");
        let mut a = archive(false, DATA);
        a[10] = 3; // tar
        std::fs::write(&p, &a).unwrap();
        assert!(probe(&p).unwrap_err().contains("format 3"));
    }
}
