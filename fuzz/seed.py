#!/usr/bin/env python3
"""Seeds every fuzz target's corpus (fuzz/corpus/<target>/) from real files.

    python3 fuzz/seed.py            # from the repository root or anywhere

Sources (each read in place; whatever is missing on this machine is left out, said once):
  * the bundled demo incident, samples/demo (its dump, mbox, Stripe pages and exports,
    incident files), and every mapping under mappings/;
  * fuzz/seeds/: pg_dump custom archives and --inserts dumps made by the real pg_dump 15
    from a cut-down demo database (see fuzz/README.md), and inputs that once broke a
    reader (fuzz/seeds/<target>/);
  * tests/data/chinook (a public PostgreSQL script we did not write);
  * ../shared/fixtures/stripe (Stripe's example object of each resource; Dashboard CSV
    header rows);
  * the malformed mail ../shared/notes/email-corpus.md points at: CPython's email test
    messages and mail-parser's test messages (read from their installed copies, never
    copied into the repository);
  * ../shared/bench holds programs only (no input files), so gives no seeds.
Seeds are cut to fit the -max_len each target runs with (fuzz/smoke.sh). Existing corpus files
are kept: libFuzzer adds to the corpus and seeding again only adds.
"""

import email
import email.header
import glob
import gzip
import hashlib
import json
import mailbox
import os
import re
import shutil
import subprocess
import sys
import tempfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
MAX = 64 << 10
# The dumps' -max_len: a dump's every line is read three times, so big inputs are slow.
SMALL = 4096

counts = {}


def add(target, data, cut=True):
    if isinstance(data, str):
        data = data.encode()
    if cut:
        data = data[:MAX]
    if not data:
        return
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    p = os.path.join(d, name)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1


def read(p):
    with open(p, "rb") as f:
        return f.read()


def missing(what):
    print(f"seed: {what} not found, left out", file=sys.stderr)


# --- backup: plain SQL ------------------------------------------------------------------


def sql_seeds(text):
    """Small dumps (the targets run with -max_len 4096): per COPY block, the dump's CREATE
    TYPE/TABLE statements and that block cut to 3 rows; the dump itself cut."""
    add("backup_sql", text[:SMALL])
    lines = text.split(b"\n")
    ddl, keep = [], False
    for l in lines:
        if l.startswith((b"CREATE TABLE", b"CREATE TYPE", b"SET standard_conforming", b"-- Started on")):
            keep = True
        if keep:
            ddl.append(l)
            if l.rstrip().endswith(b";"):
                keep = False
    i = 0
    while i < len(lines):
        if lines[i].startswith(b"COPY "):
            j = i + 1
            while j < len(lines) and lines[j] != b"\\.":
                j += 1
            block = lines[i : min(j, i + 4)] + [b"\\.", b""]
            add("backup_sql", b"\n".join(ddl + block)[:SMALL])
            add("backup_sql", b"\n".join(block))
            i = j
        elif lines[i].startswith(b"INSERT "):
            add("backup_sql", b"\n".join(ddl + lines[i : i + 3])[:SMALL])
            add("backup_sql", b"\n".join(lines[i : i + 3]))
            i += 40
        i += 1


def backup():
    demo = os.path.join(ROOT, "samples/demo/backup/app.sql")
    if os.path.exists(demo):
        sql_seeds(read(demo))
    for p in sorted(glob.glob(os.path.join(FUZZ, "seeds/backup_sql/*"))):
        sql_seeds(read(p))
        add("backup_sql", gzip.compress(read(p), mtime=0))
    chinook = os.path.join(ROOT, "tests/data/chinook/Chinook_PostgreSql.sql")
    if os.path.exists(chinook):
        text = read(chinook)
        sql_seeds(text)
    else:
        missing("tests/data/chinook")
    for p in sorted(glob.glob(os.path.join(FUZZ, "seeds/backup_custom/*"))):
        add("backup_custom", read(p), cut=False)


# --- mail -------------------------------------------------------------------------------


def subject(msg):
    try:
        s = str(email.header.make_header(email.header.decode_header(msg.get("Subject", ""))))
    except Exception:
        s = msg.get("Subject", "")
    return re.sub(r"[0-9#(].*", "", s)[:40]


def mail():
    demo = os.path.join(ROOT, "samples/demo/mail/app.mbox")
    msgs = []
    if os.path.exists(demo):
        raw = read(demo)
        starts = [0] + [m.start() + 1 for m in re.finditer(rb"\nFrom ", raw)]
        msgs = [raw[a:b] for a, b in zip(starts, starts[1:] + [len(raw)])]
        # Archives: runs of three messages, from across the file.
        for k in range(0, len(msgs), max(1, len(msgs) // 40)):
            chunk = b"".join(msgs[k : k + 3])
            add("mail_split", chunk)
            add("mail_import", chunk)
        # Single messages: up to three of each kind of subject.
        per = {}
        for m in msgs:
            body = m.split(b"\n", 1)[1] if m.startswith(b"From ") else m
            key = subject(email.message_from_bytes(body))
            if per.get(key, 0) < 3:
                per[key] = per.get(key, 0) + 1
                add("mail_extract", body)
    else:
        missing("samples/demo/mail/app.mbox")
    # The other layouts, written by Python's mailbox from demo messages.
    if msgs:
        tmp = tempfile.mkdtemp()
        try:
            sample = [email.message_from_bytes(m.split(b"\n", 1)[1]) for m in msgs[:3]]
            for kind, cls in [("mmdf", mailbox.MMDF), ("babyl", mailbox.Babyl), ("mbox", mailbox.mbox)]:
                p = os.path.join(tmp, kind)
                box = cls(p)
                for m in sample:
                    box.add(m)
                box.flush()
                box.close()
                data = read(p)
                add("mail_split", data)
                add("mail_import", data)
                add("mail_import", gzip.compress(data, mtime=0))
                if shutil.which("zstd"):
                    z = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True)
                    if z.returncode == 0:
                        add("mail_import", z.stdout)
            # mboxcl2: a Content-Length on each message, body From lines unquoted.
            cl = b""
            for m in msgs[:3]:
                env, rest = m.split(b"\n", 1)
                head, _, body = rest.partition(b"\n\n")
                body = body.rstrip(b"\n") + b"\nFrom the team, thanks\n"
                cl += env + b"\n" + head + b"\nContent-Length: %d\n\n" % len(body) + body + b"\n"
            add("mail_split", cl)
            add("mail_import", cl)
        finally:
            shutil.rmtree(tmp)
    # Malformed and odd mail: CPython's test messages, mail-parser's.
    found = False
    try:
        import test.test_email  # noqa: F401

        d = os.path.join(os.path.dirname(test.test_email.__file__), "data")
        for p in sorted(glob.glob(os.path.join(d, "msg_*.txt"))):
            found = True
            m = read(p)
            add("mail_extract", m)
            env = b"From fuzz@example.com Thu Jan  1 00:00:00 2026\n"
            add("mail_split", env + m + b"\n" + env + m)
            add("mail_import", env + m)
    except ImportError:
        pass
    if not found:
        missing("CPython's email test corpus (test.test_email)")
    home = os.path.expanduser("~/.cargo/registry/src")
    eml = sorted(glob.glob(os.path.join(home, "*", "mail-parser-0.9.*", "resources", "eml", "**", "*"), recursive=True))
    eml = [p for p in eml if os.path.isfile(p) and not p.endswith(".json")]
    for p in eml:
        add("mail_extract", read(p))
    if not eml:
        missing("mail-parser's test messages (cargo registry)")


# --- Stripe -----------------------------------------------------------------------------


def stripe():
    pages = sorted(glob.glob(os.path.join(ROOT, "samples/demo/stripe/api/**/*.json"), recursive=True))
    for p in pages:
        data = read(p)
        page = json.loads(data)
        # Pages of 1 and 3 of the list's objects (the targets run with -max_len 16384).
        for n in (1, 3):
            page["data"] = page.get("data", [])[:n]
            add("stripe_pages", json.dumps(page, indent=2))
    fx = os.path.join(SHARED, "fixtures/stripe/fixtures3.json")
    if os.path.exists(fx):
        res = json.load(open(fx))["resources"]
        for name, obj in sorted(res.items()):
            add("stripe_pages", json.dumps(obj, indent=2))
        for name in ["charge", "customer", "payment_intent", "refund", "account", "checkout.session",
                     "invoice", "invoice_payment", "dispute", "event"]:
            if name in res:
                page = {"object": "list", "url": "/v1/x", "has_more": False, "data": [res[name]]}
                add("stripe_pages", json.dumps(page))
    else:
        missing("../shared/fixtures/stripe/fixtures3.json")
    rows = {}
    for p in sorted(glob.glob(os.path.join(ROOT, "samples/demo/stripe/exports/*/*.csv"))):
        lines = read(p).split(b"\n")
        add("stripe_csv", b"\n".join(lines[:20]) + b"\n")
        rows.setdefault(os.path.basename(p), lines[:4])
    hd = os.path.join(SHARED, "fixtures/stripe/dashboard_csv_headers.json")
    if os.path.exists(hd):
        import csv
        import io

        doc = json.load(open(hd))
        for kind in ["payments", "customers"]:
            demo = rows.get(f"unified_{kind}.csv")
            demo_rows = []
            if demo:
                rd = list(csv.reader(io.StringIO(b"\n".join(demo).decode())))
                demo_rows = [dict(zip(rd[0], r)) for r in rd[1:] if r]
            for name, v in sorted(doc.get(kind, {}).items()):
                cols = v.get("columns") if isinstance(v, dict) else None
                if not cols:
                    continue
                out = io.StringIO()
                w = csv.writer(out, lineterminator="\n")
                w.writerow(cols)
                # The demo's values under this header's columns, matched by name.
                for r in demo_rows:
                    w.writerow([r.get(c, "") for c in cols])
                add("stripe_csv", out.getvalue())
    else:
        missing("../shared/fixtures/stripe/dashboard_csv_headers.json")


# --- mappings and incidents -------------------------------------------------------------


def config():
    for p in sorted(glob.glob(os.path.join(ROOT, "mappings/**/*.toml"), recursive=True)):
        base = os.path.basename(p)
        # Without the comment lines: the same rules in fewer bytes (-max_len 8192).
        text = b"\n".join(l for l in read(p).split(b"\n") if not l.lstrip().startswith(b"#"))
        if base.endswith("incident.toml"):
            add("incident", text)
        elif base == "email.toml":
            add("mapping_email", text)
        elif base == "stripe.toml":
            add("mapping_stripe", text)
        else:
            add("mapping_backup", text)  # backup.toml and the examples' table mappings
    for p in sorted(glob.glob(os.path.join(ROOT, "samples/demo/*.toml"))):
        add("incident", read(p))
    # The built-in Stripe receipt templates are an email mapping too.
    p = os.path.join(ROOT, "src/import/email/stripe_receipts.toml")
    if os.path.exists(p):
        add("mapping_email", read(p))


def regressions():
    """fuzz/seeds/<target>/ of the other targets: inputs that once broke a reader."""
    for d in sorted(glob.glob(os.path.join(FUZZ, "seeds", "*"))):
        t = os.path.basename(d)
        if t in ("backup_sql", "backup_custom"):
            continue  # read above
        for p in sorted(glob.glob(os.path.join(d, "*"))):
            add(t, read(p))


backup()
regressions()
mail()
stripe()
config()
for t in sorted(counts):
    print(f"seed: {t}: {counts[t]} new")
