#!/usr/bin/python3
"""peer_client.py: point lookups by objectId through pymysql, the way an
astronomer's script sends them, against any MySQL-protocol server (the czar,
one MariaDB, MariaDB Spider), for peer_bench.sh.

  peer_client.py latency    CONN N_IDS LOOKUPS   -> mean milliseconds per lookup
  peer_client.py throughput CONN N_IDS CLIENTS SECONDS -> lookups per second
  peer_client.py best       CONN RUNS OUTFILE SQL -> best seconds of RUNS runs

best runs SQL once to warm the connection, then RUNS times on it, and
writes the last run's rows to OUTFILE as the mariadb client's -N -B does
(tab-separated text as the server sent it, NULL as "NULL"), so answers of
different servers compare byte for byte: the statement's own time, without
the client's process start and connection that a mariadb CLI run adds.

CONN is host:port:user:password:db or unix:SOCKET:user:password:db.  Every
lookup checks its answer (one row, the id asked for); a wrong answer or an
error is counted and reported on stderr, and the exit status is 1."""
import multiprocessing, random, sys, time

import pymysql


def connect(spec, **options):
    kind, where, user, pw, db = spec.split(":", 4)
    if kind == "unix":
        return pymysql.connect(unix_socket=where, user=user, password=pw, database=db, **options)
    return pymysql.connect(host=kind, port=int(where), user=user, password=pw, database=db, **options)


def lookup(cur, oid):
    cur.execute("SELECT objectId, ra, decl FROM Object WHERE objectId = %d" % oid)
    rows = cur.fetchall()
    return len(rows) == 1 and int(rows[0][0]) == oid


def latency(spec, nids, n):
    rng = random.Random(1)
    conn = connect(spec)
    cur = conn.cursor()
    bad = 0
    lookup(cur, 1)   # warm the connection
    t0 = time.perf_counter()
    for _ in range(n):
        if not lookup(cur, rng.randint(1, nids)):
            bad += 1
    dt = time.perf_counter() - t0
    conn.close()
    print("%.4f" % (dt * 1000 / n))
    return bad


def worker(spec, nids, seconds, seed, out):
    rng = random.Random(seed)
    conn = connect(spec)
    cur = conn.cursor()
    done = bad = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        try:
            if lookup(cur, rng.randint(1, nids)):
                done += 1
            else:
                bad += 1
        except pymysql.MySQLError:
            bad += 1
    conn.close()
    out.put((done, bad))


def throughput(spec, nids, clients, seconds):
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(spec, nids, seconds, i, out)) for i in range(clients)]
    for p in procs:
        p.start()
    res = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    done, bad = sum(r[0] for r in res), sum(r[1] for r in res)
    print("%.1f" % (done / seconds))
    return bad


def best(spec, runs, outfile, sql):
    conn = connect(spec, conv={})   # no decoders: every value stays the text the server sent
    cur = conn.cursor()
    cur.execute(sql)
    cur.fetchall()
    b = None
    for _ in range(runs):
        t0 = time.perf_counter()
        cur.execute(sql)
        rows = cur.fetchall()
        dt = time.perf_counter() - t0
        b = dt if b is None or dt < b else b
    conn.close()
    with open(outfile, "w") as f:
        for r in rows:
            f.write("\t".join("NULL" if v is None else (v.decode() if isinstance(v, bytes) else str(v)) for v in r) + "\n")
    print("%.6f" % b)
    return 0


def main():
    if sys.argv[1] == "best":
        sys.exit(best(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    mode, spec, nids = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "latency":
        bad = latency(spec, nids, int(sys.argv[4]))
    else:
        bad = throughput(spec, nids, int(sys.argv[4]), float(sys.argv[5]))
    if bad:
        print("%d lookup(s) failed or answered wrongly" % bad, file=sys.stderr)
        sys.exit(1)


main()
