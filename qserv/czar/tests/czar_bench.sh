#!/bin/sh
# czar_bench.sh: the czar against one MariaDB holding every row, measured in
# this run on this machine (2-worker dev cluster on loopback).
#
#  1. point-lookup latency (objectId =) through the czar vs the same lookup
#     on one MariaDB directly (reference table with a primary key);
#  2. full-scan COUNT(*) and a filtered scan, czar vs one MariaDB;
#  3. dispatch overhead per chunk: SELECT COUNT(*) over 10,000 empty chunks
#     (target: under 2 s); the fixture writes qservMeta and the workers'
#     empty chunk tables directly, as the controller would for placed chunks;
#  4. 100 concurrent clients doing point lookups for BENCH_SECONDS (60) s:
#     queries, errors (must be 0) and throughput;
#  5. point-lookup latency over MySQL protocol SSL (a second czar with the
#     dev cluster's czar certificate) next to plain text, same run, and the
#     cost of a login (connect + TLS handshake + auth) with and without SSL;
#  6. HTTP frontend POST /query (curl, HTTPS, a new connection each) vs the
#     same statement through the mariadb CLI on 4040 (plain text, a new
#     connection each): a COUNT(*) and a 100,000-row result, best of 3;
#  7. SUBMIT to COMPLETED (polling information_schema.queries every 5 ms)
#     and SUBMIT to the result read with qserv_result(), vs the same
#     statement run synchronously, on one pymysql connection: a COUNT(*)
#     and a 100,000-row result, best of 3 each.
# Data: qserv-gen, BENCH_OBJECTS (300000) objects with 2 sources each in a
# 10x10 degree field, S=85 SS=12, ingested with qservctl.
top=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${QSERV_BIN:-$top/build/bin}
CLIENT=$top/build/tests/czar-client
N=${BENCH_OBJECTS:-300000}
SECS=${BENCH_SECONDS:-60}
T=$(mktemp -d /tmp/czar_bench.XXXXXX)
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
calc() { echo "scale=4; $*" | bc; }
f2() { printf "%.2f" "$1"; }
f3() { printf "%.3f" "$1"; }

"$top/tools/sample-catalog.sh" "$T" bench --objects "$N" --ra 0,10 --dec -5,5 --no-filter || exit 1
HP=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
QSERV_CZAR_ARGS="--http-port $HP ${QSERV_CZAR_ARGS:-}" "$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > /dev/null || exit 1
set -a; . "$T/cluster/cluster.env"; set +a
"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 4 "$T/ds" > /dev/null || { echo "ingest failed"; exit 1; }

REF="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot --local-infile=1"
CZ="mariadb --no-defaults -h127.0.0.1 -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD"
cols() { /usr/bin/python3 -c 'import json,sys; print(", ".join("`%s` %s" % (c["name"], c["type"]) for c in json.load(open(sys.argv[1]))["schema"]))' "$1"; }
$REF -e "CREATE DATABASE bench_ref;
	CREATE TABLE bench_ref.Object ($(cols "$T/gen/Object.schema.json"), PRIMARY KEY (objectId)) ENGINE=MyISAM;
	CREATE TABLE bench_ref.Source ($(cols "$T/gen/Source.schema.json")) ENGINE=MyISAM;
	LOAD DATA LOCAL INFILE '$T/gen/Object.tsv' INTO TABLE bench_ref.Object;
	LOAD DATA LOCAL INFILE '$T/gen/Source.tsv' INTO TABLE bench_ref.Source;" || exit 1
nchunks=$($REF -N -e "SELECT COUNT(*) FROM qservMeta.chunks WHERE db = 'bench'")
echo "data: $N objects, $((2 * N)) sources in $nchunks chunks on 2 workers"

# 1. point lookups
czl=$("$CLIENT" -h 127.0.0.1 -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D bench latency 300 "$N")
refl=$("$CLIENT" -S "$QSERV_CZAR_DB_SOCKET" -u root -D bench_ref latency 300 "$N")
echo "point lookup: czar $(f3 "$czl") ms, one MariaDB $(f3 "$refl") ms, ratio $(f2 "$(calc "$czl / $refl")")x"

# 2. scans: best of 3
best() { # command...
	b=
	for _ in 1 2 3; do
		t0=$(now); "$@" > /dev/null || echo "query failed: $*" >&2; t1=$(now)
		d=$(calc "$t1 - $t0")
		if [ -z "$b" ] || [ "$(echo "$d < $b" | bc)" = 1 ]; then b=$d; fi
	done
	echo "$b"
}
for q in "SELECT COUNT(*) FROM Object" \
	 "SELECT COUNT(*), AVG(r_psFlux) FROM Object WHERE r_psFlux > 50000 AND decl > 0" \
	 "SELECT COUNT(*) FROM Source WHERE psFlux > 100000"; do
	c=$(best $CZ -D bench -N -e "$q")
	r=$(best $REF -D bench_ref -N -e "$q")
	echo "scan '$q': czar $(f3 "$c") s, one MariaDB $(f3 "$r") s, ratio $(f2 "$(calc "$c / $r")")x"
done

# 3. dispatch overhead: 10,000 empty chunks (S=340: chunk = stripe*680 + i)
$REF -e "INSERT INTO qservMeta.dbs VALUES ('empty10k', 340, 3, 0.01, 0, 1);
	INSERT INTO qservMeta.tables (db, name, is_partitioned, is_director, director_table, director_key,
	  latitude_key, longitude_key, chunk_id_key, sub_chunk_id_key, schema_json, published)
	VALUES ('empty10k', 'T', 1, 1, 'T', 'id', 'decl', 'ra', 'chunkId', 'subChunkId',
	  '[{\"name\":\"id\",\"type\":\"BIGINT\"},{\"name\":\"ra\",\"type\":\"DOUBLE\"},{\"name\":\"decl\",\"type\":\"DOUBLE\"},{\"name\":\"chunkId\",\"type\":\"INT\"},{\"name\":\"subChunkId\",\"type\":\"INT\"}]', 1);" || exit 1
awk 'BEGIN { n = 0; for (s = 150; s < 200 && n < 10000; s++) for (i = 0; i < 200 && n < 10000; i++) { print s * 680 + i, n % 2 + 1; n++ } }' > "$T/chunks"
awk '{ printf "INSERT INTO qservMeta.chunks VALUES (\"empty10k\", %d, \"worker-%d\");\n", $1, $2 }' "$T/chunks" | $REF
for w in 1 2; do
	eval sock=\$QSERV_WORKER_${w}_SOCKET
	{
		echo "CREATE DATABASE empty10k;"
		awk -v w=$w '$2 == w { printf "CREATE TABLE empty10k.T_%d (id BIGINT, ra DOUBLE, decl DOUBLE, chunkId INT, subChunkId INT) ENGINE=MyISAM;\n", $1 }' "$T/chunks"
		echo "CREATE TABLE empty10k.T_1234567890 (id BIGINT, ra DOUBLE, decl DOUBLE, chunkId INT, subChunkId INT) ENGINE=MyISAM;"
		# the workers run chunk queries as a read-only account per worker
		# (qserv_query_<id>): the fixture database is granted to it here
		# as the worker grants a catalog it loads
		mariadb --no-defaults -S "$sock" -uroot -N -e "SELECT CONCAT('GRANT SELECT ON empty10k.* TO ', QUOTE(User), '@', QUOTE(Host), ';') FROM mysql.user WHERE User LIKE 'qserv\\_query%'"
	} | mariadb --no-defaults -S "$sock" -uroot || exit 1
done
sleep 2.5   # the czar's metadata snapshot is refreshed after 2 s
$CZ -N -e "SELECT COUNT(*) FROM empty10k.T" > "$T/c10k" 2>&1
c=$(best $CZ -N -e "SELECT COUNT(*) FROM empty10k.T")
echo "dispatch: SELECT COUNT(*) over $(wc -l < "$T/chunks") empty chunks: $(f3 "$c") s (target < 2 s), $(f3 "$(calc "$c * 1000000 / 10000")") us per chunk; answer $(cat "$T/c10k")"

# 4. 100 concurrent clients, point lookups
out=$("$CLIENT" -h 127.0.0.1 -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D bench lookups 100 "$SECS" "$N")
echo "100 concurrent clients, point lookups for ${SECS} s: $out"

# 5. SSL on the SQL port: a second czar on the same cluster with the czar
# node's certificate; latency per lookup on one connection, and per login.
P2=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/qserv-czar" --bind 127.0.0.1 --port "$P2" --users "$T/cluster/czar/users" --mariadb-socket "$QSERV_CZAR_DB_SOCKET" \
	--tls-dir "$T/cluster/pki" --ssl-cert "$T/cluster/pki/czar.pem" --ssl-key "$T/cluster/pki/czar.key" > "$T/czar2.log" 2>&1 &
Z2=$!
for _ in $(seq 100); do
	$CZ -P"$P2" -e 'SELECT 1' > /dev/null 2>&1 && break
	sleep 0.1
done
CA=$T/cluster/pki/ca.pem
minof() { # the least of the numbers on stdin
	sort -n | head -1
}
lat() { # extra client args...: best of 3 alternating runs, so load on the host hits both alike
	"$CLIENT" "$@" -h 127.0.0.1 -P "$P2" -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D bench latency 300 "$N"
}
for _ in 1 2 3; do lat >> "$T/lat.plain"; lat -C "$CA" >> "$T/lat.ssl"; done
plain=$(minof < "$T/lat.plain")
ssl=$(minof < "$T/lat.ssl")
echo "point lookup over SSL: $(f3 "$ssl") ms, plain text $(f3 "$plain") ms, ratio $(f2 "$(calc "$ssl / $plain")")x (best of 3 each)"
logins() { # extra client args...
	t0=$(now)
	for _ in $(seq 50); do "$CLIENT" "$@" -h 127.0.0.1 -P "$P2" -u "$QSERV_USER" -p "$QSERV_PASSWORD" query 'SELECT 1' > /dev/null || echo "login failed" >&2; done
	calc "($(now) - $t0) * 1000 / 50"
}
lp=$(logins)
ls=$(logins -C "$CA")
echo "login + SELECT 1 (new process each): SSL $(f3 "$ls") ms, plain text $(f3 "$lp") ms"
kill $Z2; wait $Z2 2>/dev/null

# 6. the HTTP frontend (http.h) vs the SQL port, each a new connection per query
http_q() { # statement
	curl -sS --fail --max-time 300 --cacert "$QSERV_CA_FILE" -u "$QSERV_USER:$QSERV_PASSWORD" \
		-d "{\"query\": \"$1\", \"database\": \"bench\"}" "https://127.0.0.1:$HP/query" | grep -q '"success":1'
}
for q in "SELECT COUNT(*) FROM Object" "SELECT objectId, ra, decl FROM Object LIMIT 100000"; do
	h=$(best http_q "$q")
	c=$(best $CZ -D bench -N -B -e "$q")
	echo "HTTP /query '$q': $(f3 "$h") s, 4040 (mariadb CLI) $(f3 "$c") s, ratio $(f2 "$(calc "$h / $c")")x"
done

# 7. asynchronous queries (async.h) vs the same synchronous statement
/usr/bin/python3 - "$QSERV_CZAR_PORT" "$QSERV_USER" "$QSERV_PASSWORD" <<'PYEOF'
import sys, time, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3], database="bench")
cur = c.cursor()
def sync(q):
    t0 = time.monotonic(); cur.execute(q); n = len(cur.fetchall()); return time.monotonic() - t0, n
def submit(q):
    t0 = time.monotonic()
    cur.execute("SUBMIT " + q)
    job = cur.fetchone()[0]
    while True:
        cur.execute("SELECT STATUS FROM information_schema.queries WHERE ID = %s", (job,))
        st = cur.fetchone()[0]
        if st != "EXECUTING":
            break
        time.sleep(0.005)
    done = time.monotonic() - t0
    if st != "COMPLETED":
        raise SystemExit("job %s: %s" % (job, st))
    cur.execute("SELECT * FROM qserv_result(%s)" % job)
    n = len(cur.fetchall())
    read = time.monotonic() - t0
    cur.execute("CALL qserv_result_delete(%s)" % job)
    return done, read, n
for q in ("SELECT COUNT(*) FROM Object", "SELECT objectId, ra, decl FROM Object LIMIT 100000"):
    s = min(sync(q) for _ in range(3))
    a = min(submit(q) for _ in range(3))
    assert a[2] == s[1], (a, s)
    print("SUBMIT '%s' (%d rows): to COMPLETED %.3f s, to the result read %.3f s; synchronous %.3f s; "
          "ratios %.2fx and %.2fx" % (q, s[1], a[0], a[1], s[0], a[0] / s[0], a[1] / s[0]))
PYEOF
