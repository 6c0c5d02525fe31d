#!/usr/bin/python3
"""check_layout.py: reads every worker's MariaDB and the czar-side qservMeta
of a dev cluster and prints `name|value` lines about database DB, for the
integration test to compare with what it expects:

  object_rows, object_distinct, object_chunk_ok (rows whose chunkId column
  equals their table's chunk), source_rows, index_rows, index_match (index
  rows whose chunk/sub-chunk equal the row's), placement_ok (each placed
  chunk's tables on exactly its worker), placement_spread (max-min chunks
  per worker), regular_<worker> (rows of the regular table per worker)."""
import os, re, sys
import pymysql

env = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l)
db = sys.argv[2]
regular = sys.argv[3] if len(sys.argv) > 3 else None
n = int(env["QSERV_WORKERS"])

def conn(sock):
    return pymysql.connect(unix_socket=sock, user="root", password="", autocommit=True)

objs, src_rows, chunk_ok, bad_chunk = {}, 0, 0, 0
tables_at = {}
out = {}
for i in range(1, n + 1):
    wid = env["QSERV_WORKER_%d_ID" % i]
    c = conn(env["QSERV_WORKER_%d_SOCKET" % i]).cursor()
    c.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s", (db,))
    names = [r[0] for r in c.fetchall()]
    for t in names:
        m = re.fullmatch(r"(Object|Source)_(\d+)", t)
        if not m or m.group(2) == "1234567890":
            continue
        chunk = int(m.group(2))
        tables_at.setdefault(chunk, set()).add(wid)
        if m.group(1) == "Object":
            c.execute("SELECT objectId, chunkId, subChunkId FROM `%s`.`%s`" % (db, t))
            for oid, ch, sc in c.fetchall():
                objs.setdefault(oid, []).append((ch, sc))
                if ch == chunk:
                    chunk_ok += 1
        else:
            c.execute("SELECT COUNT(*) FROM `%s`.`%s`" % (db, t))
            src_rows += c.fetchone()[0]
    if regular:
        out["regular_" + wid] = 0
        if regular in names:
            c.execute("SELECT COUNT(*) FROM `%s`.`%s`" % (db, regular))
            out["regular_" + wid] = c.fetchone()[0]
out["object_rows"] = sum(len(v) for v in objs.values())
out["object_distinct"] = len(objs)
out["object_chunk_ok"] = chunk_ok
out["source_rows"] = src_rows

m = conn(env["QSERV_CZAR_DB_SOCKET"]).cursor()
try:
    m.execute("SELECT objectId, chunkId, subChunkId FROM qservMeta.`%s__Object`" % db)
    idx = m.fetchall()
except pymysql.err.ProgrammingError:
    idx = []
out["index_rows"] = len(idx)
out["index_match"] = sum(1 for oid, ch, sc in idx if objs.get(oid) == [(ch, sc)])
m.execute("SELECT chunk, worker_id FROM qservMeta.chunks WHERE db=%s", (db,))
placed = m.fetchall()
out["placement_ok"] = int(all(tables_at.get(ch, set()) <= {w} for ch, w in placed)
                          and set(tables_at) <= {ch for ch, _ in placed})
per = {}
for ch, w in placed:
    per[w] = per.get(w, 0) + 1
counts = [per.get(env["QSERV_WORKER_%d_ID" % i], 0) for i in range(1, n + 1)]
out["placement_spread"] = max(counts) - min(counts) if counts else 0
for k, v in out.items():
    print("%s|%s" % (k, v))
