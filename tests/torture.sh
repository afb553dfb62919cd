#!/usr/bin/env bash
# Kills `salvage run` with SIGKILL at random points, many times, on one incident (the
# bundled demo by default), and checks after every kill that the output set a reader
# finds is whole and from one run: `current` names a set whose files are exactly those
# in its manifest.json (sizes and SHA-256), whose run id is the one in recovered.sqlite's
# run_info and in report.json, and which the fixed links (out/recovered.sqlite, ...)
# reach. Then one uninterrupted run must remove every leftover and give the same files
# as a clean run in a fresh folder (timestamps and run ids aside).
#
#   tests/torture.sh [KILLS]            # default 50
#   SALVAGE=path/to/salvage INCIDENT=path/to/incident.toml SEED=7 tests/torture.sh 200
#
# Needs bash and python3. A test (tests/faults.rs) runs a short version with the debug
# binary; run the long one after touching how outputs are written.
set -euo pipefail

KILLS=${1:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SALVAGE:-${CARGO_TARGET_DIR:-$ROOT/target}/release/salvage}
INCIDENT=${INCIDENT:-$ROOT/samples/demo/incident.toml}
RANDOM=${SEED:-$$}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[ -x "$BIN" ] || { echo "torture: no salvage binary at $BIN (set SALVAGE=...)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "torture: python3 is needed for the checks" >&2; exit 1; }

cat >"$WORK/check.py" <<'PY'
"""check.py OUT [--final CLEAN]: the output set under OUT is whole and from one run."""
import hashlib, json, os, sqlite3, sys

def fail(msg):
    print(f"torture: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)

def sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 16), b""):
            h.update(b)
    return h.hexdigest()

def run_info(db):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(c.execute("SELECT key, value FROM run_info"))
    finally:
        c.close()

def check(out):
    cur = os.path.join(out, "current")
    if not os.path.islink(cur):
        return None  # no run ever finished here: nothing to read, nothing half-read
    d = os.path.join(out, os.readlink(cur))
    m = json.load(open(os.path.join(d, "manifest.json")))
    listed = {f["path"]: f for f in m["files"]}
    found = set()
    for base, dirs, files in os.walk(d):
        for n in files:
            rel = os.path.relpath(os.path.join(base, n), d)
            if rel != "manifest.json":
                found.add(rel)
    if found != set(listed):
        fail(f"{d}: files {sorted(found ^ set(listed))} differ from the manifest")
    for rel, f in listed.items():
        p = os.path.join(d, rel)
        if os.path.getsize(p) != f["bytes"] or sha(p) != f["sha256"]:
            fail(f"{p}: not the file the manifest lists")
    rid = m["run_id"]
    if run_info(os.path.join(d, "recovered.sqlite")).get("run_id") != rid:
        fail(f"{d}: recovered.sqlite is from another run than the manifest ({rid})")
    if json.load(open(os.path.join(d, "report.json")))["incident"].get("run_id") != rid:
        fail(f"{d}: report.json is from another run than the manifest ({rid})")
    for name in ["recovered.sqlite", "report.json", "report.html", "schedule", "manifest.json"]:
        p = os.path.join(out, name)
        if not os.path.exists(p) or not os.path.samefile(p, os.path.join(d, name)):
            fail(f"{p} does not lead to the current set")
    return rid

def tables(db):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}
    for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        rows = c.execute(f'SELECT * FROM "{t}"').fetchall()
        if t == "run_info":
            rows = [r for r in rows if r[0] not in ("started_at", "finished_at", "run_id")]
        out[t] = sorted(map(repr, rows))
    c.close()
    return out

def report(p):
    r = json.load(open(p))
    for k in ("started_at", "finished_at", "run_id"):
        r["incident"].pop(k, None)
    for s in r["sources"]:
        s.pop("imported_at", None)
    return r

def text(p):
    # An .ics carries the time it was made (DTSTAMP); the rest must match.
    lines = open(p, encoding="utf-8").read().splitlines()
    return [l for l in lines if not l.startswith("DTSTAMP")]

def same(out, clean):
    a, b = os.path.join(out, "current"), os.path.join(clean, "current")
    if tables(f"{a}/recovered.sqlite") != tables(f"{b}/recovered.sqlite"):
        fail("recovered.sqlite differs from a clean run's")
    if report(f"{a}/report.json") != report(f"{b}/report.json"):
        fail("report.json differs from a clean run's")
    if open(f"{a}/report.html").read() != open(f"{b}/report.html").read():
        fail("report.html differs from a clean run's")
    sa, sb = sorted(os.listdir(f"{a}/schedule")), sorted(os.listdir(f"{b}/schedule"))
    if sa != sb:
        fail(f"schedule/ holds {sa}, a clean run's {sb}")
    for n in sa:
        if text(f"{a}/schedule/{n}") != text(f"{b}/schedule/{n}"):
            fail(f"schedule/{n} differs from a clean run's")
    left = [os.path.join(base, n) for base, dirs, files in os.walk(out)
            for n in dirs + files if n.startswith((".salvage-tmp-", ".salvage-old-"))]
    if left:
        fail(f"left over after a whole run: {left}")
    sets = os.listdir(os.path.join(out, "sets"))
    if len(sets) != 1:
        fail(f"sets/ holds {sets} after a whole run, not the current set alone")

out = sys.argv[1]
rid = check(out)
if len(sys.argv) > 3 and sys.argv[2] == "--final":
    if rid is None:
        fail("no output set after an uninterrupted run")
    same(out, sys.argv[3])
print(rid or "-")
PY

# A clean run in a fresh folder: the reference, and how long a run takes.
t0=$(date +%s%N)
"$BIN" run "$INCIDENT" --out "$WORK/clean" --quiet >/dev/null
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
python3 "$WORK/check.py" "$WORK/clean" >/dev/null
echo "torture: a clean run takes ${ms} ms; killing $KILLS runs at random points in it"

out="$WORK/out"
seen=""       # the run id a reader found after the last kill
switched=0    # kills after which a new set was in place (the run had got that far)
none=0        # kills before any set existed
for i in $(seq 1 "$KILLS"); do
  force=()
  # Every third run re-imports everything, to kill it inside the import as well.
  if (( i % 3 == 0 )); then force=(--force); fi
  "$BIN" run "$INCIDENT" --out "$out" --quiet "${force[@]}" >/dev/null 2>"$WORK/stderr" &
  pid=$!
  wait_ms=$(( (RANDOM * 32768 + RANDOM) % (ms + ms / 10 + 1) ))
  sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -q "panicked" "$WORK/stderr"; then
    echo "torture: FAIL: run $i panicked:" >&2; cat "$WORK/stderr" >&2; exit 1
  fi
  rid=$(python3 "$WORK/check.py" "$out")
  if [ "$rid" = "-" ]; then
    if [ -n "$seen" ]; then echo "torture: FAIL: kill $i: the output set vanished" >&2; exit 1; fi
    none=$((none + 1))
  elif [ "$rid" != "$seen" ]; then
    switched=$((switched + 1))
  fi
  [ "$rid" = "-" ] || seen=$rid
done

"$BIN" run "$INCIDENT" --out "$out" --quiet >/dev/null
python3 "$WORK/check.py" "$out" --final "$WORK/clean" >/dev/null
echo "torture: kills: $KILLS ($none before any set, $switched after a new set was switched in); every set read was whole and from one run; a final run matches a clean one"
