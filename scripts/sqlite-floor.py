#!/usr/bin/env python3
"""What SQLite alone needs to store batches of new incidents, without HTTP, sqlx or Rust.

Copies a database seeded by `custos bench incidents --data-dir DIR`, then inserts batches
of copies of its newest incident (new ids and numbers), one incident CI and one unsealed
audit entry each (the search index trigger fires as in the server), each batch one
transaction committed with synchronous=FULL in WAL mode, as the server does. The sealer
stamps the audit entries every 0.5 s in transactions of 250, as the server does. Prints
the time per batch, incidents per second, the share of commits, and bytes written to
storage per incident (/proc/self/io). Asserts nothing.

    scripts/sqlite-floor.py SEEDED_DIR [batch] [batches]      (default 8 and 800)

FLOOR_DROP=name,name,… drops those indexes or triggers in the copy first, to price each
part of the write (e.g. FLOOR_DROP=incidents_fts_ai for the search index trigger); the
names are in `sqlite_schema`.

FLOOR_INDEX_MS=ms prices search indexing behind the commit: the insert trigger is dropped
and every `ms` the new incidents are indexed in one transaction (with synchronous=NORMAL:
the index is derived data, rebuilt from a watermark if lost), as the sealer does for audit.
"""
import os
import shutil
import sqlite3
import sys
import tempfile
import time

src = sys.argv[1]
B = int(sys.argv[2]) if len(sys.argv) > 2 else 8
N = int(sys.argv[3]) if len(sys.argv) > 3 else 800
work = tempfile.mkdtemp()
dst = os.path.join(work, "db")
shutil.copytree(src, dst)
c = sqlite3.connect(os.path.join(dst, "custos.db"), isolation_level=None)
c.execute("PRAGMA journal_mode=wal")
c.execute("PRAGMA synchronous=FULL")
c.execute("PRAGMA cache_size=-16384")
kinds = dict(c.execute("SELECT name, type FROM sqlite_schema WHERE type IN ('index', 'trigger')"))
for name in filter(None, os.environ.get("FLOOR_DROP", "").split(",")):
    if name not in kinds:
        sys.exit(f"FLOOR_DROP: no index or trigger named {name}")
    c.execute(f'DROP {kinds[name].upper()} "{name}"')
index_ms = int(os.environ.get("FLOOR_INDEX_MS", "0"))
if index_ms:
    c.execute("DROP TRIGGER incidents_fts_insert")
indexed = c.execute("SELECT MAX(rowid) FROM incidents").fetchone()[0]
inc = list(c.execute("SELECT * FROM incidents ORDER BY rowid DESC LIMIT 1").fetchone())
aud = list(c.execute("SELECT * FROM audit_log ORDER BY rowid DESC LIMIT 1").fetchone())
ci = c.execute("SELECT ci_id FROM incident_cis LIMIT 1").fetchone()[0]
seq = c.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0] or 0


def time_ordered_id():
    return (time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10)


def written():
    for line in open("/proc/self/io"):
        if line.startswith("write_bytes"):
            return int(line.split()[1])
    return 0


row = "(" + ",".join("?" * len(inc)) + ")"
arow = "(" + ",".join("?" * len(aud)) + ")"
pending, commit_s, seal_s, index_s = [], 0.0, 0.0, 0.0
t0, w0 = time.perf_counter(), written()
last_seal = last_index = t0


def index_new():
    global indexed
    c.execute("PRAGMA synchronous=NORMAL")
    c.execute("BEGIN IMMEDIATE")
    top = c.execute("SELECT MAX(rowid) FROM incidents").fetchone()[0]
    c.execute(
        "INSERT INTO incidents_fts (rowid, title, description) SELECT rowid, title, description FROM incidents WHERE rowid > ? AND rowid <= ?",
        (indexed, top),
    )
    c.execute("COMMIT")
    c.execute("PRAGMA synchronous=FULL")
    indexed = top


for b in range(N):
    c.execute("BEGIN IMMEDIATE")
    top = c.execute("SELECT COALESCE(MAX(number), 0) FROM incidents").fetchone()[0]
    rows, cis, audits = [], [], []
    for k in range(B):
        r = list(inc)
        r[0], r[1] = time_ordered_id(), top + 1 + k
        a = list(aud)
        a[0], a[1], a[7], a[9], a[10] = time_ordered_id(), None, r[0].hex(), None, None
        rows.append(r), cis.append((r[0], ci)), audits.append(a)
    c.execute("INSERT INTO incidents VALUES " + ",".join([row] * B), [x for r in rows for x in r])
    c.execute("INSERT INTO incident_cis VALUES " + ",".join(["(?,?)"] * B), [x for p in cis for x in p])
    c.execute("INSERT INTO audit_log VALUES " + ",".join([arow] * B), [x for a in audits for x in a])
    t = time.perf_counter()
    c.execute("COMMIT")
    commit_s += time.perf_counter() - t
    pending += [a[0] for a in audits]
    if index_ms and (time.perf_counter() - last_index > index_ms / 1000 or b == N - 1):
        t = time.perf_counter()
        index_new()
        index_s += time.perf_counter() - t
        last_index = time.perf_counter()
    if time.perf_counter() - last_seal > 0.5 or b == N - 1:
        t = time.perf_counter()
        while pending:
            chunk, pending = pending[:250], pending[250:]
            c.execute("BEGIN IMMEDIATE")
            for entry in chunk:
                seq += 1
                c.execute("UPDATE audit_log SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?", (seq, "0" * 64, "1" * 64, entry))
            c.execute("COMMIT")
        seal_s += time.perf_counter() - t
        last_seal = time.perf_counter()
total = time.perf_counter() - t0
print(
    f"SQLite {sqlite3.sqlite_version}, batches of {B}, dropped [{os.environ.get('FLOOR_DROP', '')}], index every {index_ms} ms: {total / N * 1000:.3f} ms per batch, "
    f"{N * B / total:,.0f} incidents/s; commits {commit_s / total:.0%} and sealing {seal_s / total:.0%} "
    f"of the time; indexing {index_s / total:.0%}; {(written() - w0) / (N * B) / 1024:.1f} KiB written per incident"
)
shutil.rmtree(work)
