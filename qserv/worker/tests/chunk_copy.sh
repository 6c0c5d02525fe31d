#!/bin/sh
# chunk_copy.sh: worker-to-worker chunk copy (qserv/worker/wcopy*.c) on a
# dev cluster of 2 workers.
#
# Checks: who may call GET /replica/chunk (a worker certificate, the admin
# key; not anonymous, not a wrong key, not the czar's certificate) and
# POST /worker/replica (the key, the czar's certificate; not anonymous,
# not a worker's); bad identifiers and URLs refused (400); a chunk the
# source lacks (404) and a copy cut short or with a wrong checksum (served
# by a fake source holding a real stream, truncated or edited) leave no
# table behind on the target; then every chunk of worker-1 copied to
# worker-2, and every chunk table's rows (sorted dumps) the same on both
# MariaDBs.  Prints the copy throughput (not asserted).
# The replica routes (wreplica.c): who may call GET /worker/replicas, GET
# and DELETE /worker/replica (the key, the czar's certificate; not
# anonymous, a wrong key, a worker's certificate); bad query strings 400;
# the list is what qservMeta.chunks places on each worker; rows and
# checksums the same on the source and the target of every copy and as
# the copy's reply verified them; a row changed in one MariaDB changes its
# checksum; DELETE while a copy of the chunk runs is 409, then drops the
# chunk (tables and listing; again: 0 dropped; the dummy chunk 400), and
# the chunk copies back.
# The regular tables (POST /worker/replica {regular: true}, GET
# /replica/chunk?regular=1, GET /worker/replica?regular=1): worker-2's
# Filter changed by hand is made worker-1's again (rows, CHECKSUM TABLE,
# the reply's checksums); who may call; bad bodies and queries 400; a
# refusing, a stalled (a second copy 409) source leave nothing; the source
# refuses rows of an open transaction (409); a crash's Filter__copy is
# dropped at start; `dev-cluster add` gives the new worker the same Filter.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
BIN=${BUILD:-$REPO/build}/bin
T=$(mktemp -d /tmp/qserv-chunkcopy.XXXXXX)
DC="$REPO/tools/dev-cluster"
FAKE_PID= STALL_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	[ -n "$STALL_PID" ] && kill "$STALL_PID" 2>/dev/null
	"$DC" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

for b in qservctl qserv-gen qserv-partition qserv-worker qserv-controller qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"
command -v lz4 > /dev/null || tap_skip_all "needs the lz4 command"
command -v python3 > /dev/null || tap_skip_all "needs python3"
tap_plan 41

DB=ccp
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 20000 --sources-per-object 3 --ra 0,40 --dec -20,20 --stripes 12 --sub-stripes 4 || exit 1
# level 1: each chunk on one worker (the controller's auto level, 2, would
# copy every chunk to both at publish; this test copies them itself)
if QSERV_CONTROLLER_ARGS="--replication-level 1 ${QSERV_CONTROLLER_ARGS:-}" "$DC" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1 &&
	set -a && . "$T/cluster/cluster.env" && set +a &&
	"$BIN/qservctl" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up, catalog ingested and published"
else
	tap_fail "dev cluster up, catalog ingested and published" "$(tail -n 5 "$T/up.log" "$T/ingest.log")"
	exit 1
fi
PKI=$T/cluster/pki
W1=https://127.0.0.1:$QSERV_WORKER_1_INGEST_PORT
W2=https://127.0.0.1:$QSERV_WORKER_2_INGEST_PORT
my() { _s=$1; shift; mariadb --no-defaults -S "$_s" -uroot -N -B "$@" 2>&1; }
chunks_of() { my "$1" -e "SELECT chunk FROM qservWorker.chunks WHERE db='$DB' ORDER BY chunk"; }
# staging tables (and chunk tables of chunk $2) of worker socket $1
leftovers() { my "$1" -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND
	(TABLE_NAME LIKE '%\\_\\_copy' OR TABLE_NAME LIKE '%\\_\\_old' OR TABLE_NAME REGEXP '_${2}\$')"; }
# code URL [curl args]: the HTTP status
code() { _u=$1; shift; curl -s -o "$T/body" -w '%{http_code}' --cacert "$PKI/ca.pem" "$@" "$_u"; }
key() { echo "Authorization: Bearer $QSERV_AUTH_KEY"; }
replica() { # BODY [curl args]: POST /worker/replica to worker-2
	_b=$1; shift
	code "$W2/worker/replica" -X POST -H 'Content-Type: application/json' -d "$_b" "$@"
}

C1=$(chunks_of "$QSERV_WORKER_1_SOCKET")
C2=$(chunks_of "$QSERV_WORKER_2_SOCKET")
FIRST=$(echo "$C1" | head -n 1)
LACK=$(echo "$C2" | head -n 1)
if [ -n "$FIRST" ] && [ -n "$LACK" ]; then
	tap_pass "both workers hold chunks ($(echo "$C1" | wc -l) and $(echo "$C2" | wc -l))"
else
	tap_fail "both workers hold chunks" "worker-1: $C1; worker-2: $C2"
	exit 1
fi

# ---- the replica routes: who may call them, bad queries, the list ----
drop() { _u=$1; shift; code "$_u" -X DELETE "$@"; }
RL="$W1/worker/replicas" RG="$W1/worker/replica?database=$DB&chunk=$FIRST" RD="$W1/worker/replica?database=$DB&chunk=0"
WRONG="Authorization: Bearer 0000"
got="$(code "$RL") $(code "$RG") $(drop "$RD") $(code "$RL" -H "$WRONG") $(code "$RG" -H "$WRONG") $(drop "$RD" -H "$WRONG")"
for u in "$RL" "$RG"; do got="$got $(code "$u" --cert "$PKI/worker-2.pem" --key "$PKI/worker-2.key")"; done
got="$got $(drop "$RD" --cert "$PKI/worker-2.pem" --key "$PKI/worker-2.key")"
tap_is "$got" "401 401 401 401 401 401 403 403 403" \
	"GET /worker/replicas, GET and DELETE /worker/replica: anonymous 401, a wrong key 401, a worker's certificate 403"
got="$(code "$RL" -H "$(key)") $(code "$RG" -H "$(key)") $(drop "$RD" -H "$(key)")"
got="$got $(code "$RL" --cert "$PKI/czar.pem" --key "$PKI/czar.key") $(code "$RG" --cert "$PKI/czar.pem" --key "$PKI/czar.key")"
got="$got $(drop "$RD" --cert "$PKI/czar.pem" --key "$PKI/czar.key") $(sed -n 's/.*"tables_dropped": *\([0-9]*\).*/\1/p' "$T/body")"
tap_is "$got" "200 200 200 200 200 200 0" "the same routes: the key and the czar's certificate 200 (chunk 0, not held: 0 tables dropped)"
bad= errs=
for u in "$RL?database=x%3Bdrop" "$W1/worker/replica?database=mysql&chunk=1" "$W1/worker/replica?database=$DB&chunk=1x" \
	"$W1/worker/replica?chunk=1" "$W1/worker/replica?database=$DB" "$W1/worker/replica?database=$DB&chunk=2147483648"; do
	bad="$bad $(code "$u" -H "$(key)")"
	errs="$errs $(sed -n 's/.*"error": *"\([a-z]*\)[: ].*/\1/p' "$T/body")"
done
bad="$bad $(drop "$W1/worker/replica?database=$DB&chunk=-1" -H "$(key)") $(drop "$W1/worker/replica?database=a%60b&chunk=1" -H "$(key)")"
tap_is "$bad|$errs" " 400 400 400 400 400 400 400 400| database database chunk database chunk chunk" \
	"bad database and chunk in the replica routes' query strings: 400 naming the field"
listed() { # URL: "db chunk" lines of GET /worker/replicas
	code "$1" -H "$(key)" > /dev/null
	python3 -c 'import json,sys; [print(r["database"], r["chunk"]) for r in json.load(open(sys.argv[1]))["replicas"]]' "$T/body"
}
placed() { my "$QSERV_CZAR_DB_SOCKET" -e "SELECT db, chunk FROM qservMeta.chunks WHERE worker_id='$1' ORDER BY db, chunk" | tr '\t' ' '; }
a1=$(listed "$RL") a2=$(listed "$W2/worker/replicas?database=$DB") none=$(listed "$RL?database=nosuchdb")
if [ -n "$a1" ] && [ "$a1" = "$(placed worker-1)" ] && [ "$a2" = "$(placed worker-2)" ] && [ -z "$none" ]; then
	tap_pass "GET /worker/replicas lists what qservMeta.chunks places on each worker ($(echo "$a1" | wc -l), $(echo "$a2" | wc -l); another database: none)"
else
	tap_fail "GET /worker/replicas lists what qservMeta.chunks places on each worker" "worker-1: $a1 / $(placed worker-1); worker-2 $a2; none: $none"
fi
got="$(code "$W1/worker/replica?database=$DB&chunk=$LACK" -H "$(key)") $(drop "$W1/worker/replica?database=$DB&chunk=1234567890" -H "$(key)")"
tap_is "$got" "404 400" "GET /worker/replica of a chunk not held 404; DELETE of the dummy chunk 400"

# ---- who may read a chunk ----
EXP="$W1/replica/chunk?database=$DB&chunk=$FIRST"
got="$(code "$EXP") $(code "$EXP" -H "Authorization: Bearer 0000") $(code "$EXP" --cert "$PKI/czar.pem" --key "$PKI/czar.key")"
tap_is "$got" "401 401 403" "GET /replica/chunk: anonymous 401, a wrong key 401, the czar's certificate 403"
got="$(code "$EXP" --cert "$PKI/worker-2.pem" --key "$PKI/worker-2.key") $(code "$EXP" -H "$(key)")"
cp "$T/body" "$T/stream.lz4"
if [ "$got" = "200 200" ] && lz4 -dc "$T/stream.lz4" > "$T/stream.txt" 2>/dev/null &&
	head -n 1 "$T/stream.txt" | grep -q "^\\\\#chunk $DB $FIRST\$" && tail -n 1 "$T/stream.txt" | grep -q '^\\#done '; then
	tap_pass "a worker's certificate and the admin key read it: an LZ4 frame from \\#chunk to \\#done"
else
	tap_fail "a worker's certificate and the admin key read it" "got $got; $(head -c 300 "$T/stream.txt" 2>/dev/null)"
fi
got="$(code "$W1/replica/chunk?database=$DB&chunk=$LACK" -H "$(key)") $(code "$W1/replica/chunk?database=mysql&chunk=1" -H "$(key)") $(code "$W1/replica/chunk?database=$DB&chunk=1x" -H "$(key)")"
tap_is "$got" "404 400 400" "GET /replica/chunk: a chunk it lacks 404, database mysql 400, chunk 1x 400"

# ---- who may order a copy, bad bodies ----
GOOD="{\"database\":\"$DB\",\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}"
got="$(replica "$GOOD") $(replica "$GOOD" --cert "$PKI/worker-1.pem" --key "$PKI/worker-1.key") $(replica "$GOOD" -H "Authorization: Bearer 0000")"
tap_is "$got" "401 403 401" "POST /worker/replica: anonymous 401, a worker's certificate 403, a wrong key 401"
bad=
for b in "{\"database\":\"x;drop\",\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" \
	"{\"database\":\"$DB\",\"chunk\":-1,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" \
	"{\"database\":\"$DB\",\"chunk\":$FIRST,\"source_id\":\"w'1\",\"source_url\":\"$W1\"}" \
	"{\"database\":\"$DB\",\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"file:///etc/passwd\"}" \
	"{\"database\":\"$DB\",\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"$W1/x?y\"}" \
	"{\"database\":\"qservMeta\",\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}"; do
	bad="$bad $(replica "$b" -H "$(key)")"
done
tap_is "$bad" " 400 400 400 400 400 400" "bad database, chunk, source_id and source_url refused (400)"
MISS="{\"database\":\"$DB\",\"chunk\":$LACK,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}"
# worker-2 holds LACK: ask worker-2 to pull LACK from worker-1 into... a chunk worker-1 lacks
got=$(replica "$MISS" -H "$(key)")
err=$(sed -n 's/.*"error": *"\([^"]*\)".*/\1/p' "$T/body")
left=$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE '%\\_\\_copy'")
if [ "$got" = 404 ] && [ "$left" = 0 ]; then
	tap_pass "a chunk the source lacks: 404 ($err), no staging table left"
else
	tap_fail "a chunk the source lacks: 404, no staging table left" "got $got ($err), $left staging tables"
fi

# ---- a fake source: a real stream, cut short or with a wrong checksum ----
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$T/fake.py" <<'EOF'
import http.server, ssl, sys
port, cert, key, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-lz4")
        self.send_header("Content-Length", str(len(data) if self.server.honest else 2 * len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
s.honest = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
EOF
python3 "$T/fake.py" "$FPORT" "$PKI/worker-1.pem" "$PKI/worker-1.key" "$T/served.lz4" 2> "$T/fake.log" &
FAKE_PID=$!
FAKE="{\"database\":\"$DB\",\"chunk\":$FIRST,\"source_id\":\"fake\",\"source_url\":\"https://127.0.0.1:$FPORT\"}"
i=0
until curl -sk -o /dev/null "https://127.0.0.1:$FPORT/" 2>/dev/null || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done

# cut short: the first half of the frame (the source died mid-copy)
size=$(stat -c %s "$T/stream.lz4")
head -c $((size / 2)) "$T/stream.lz4" > "$T/served.lz4"
got=$(replica "$FAKE" -H "$(key)")
err=$(sed -n 's/.*"error": *"\([^"]*\)".*/\1/p' "$T/body")
left=$(leftovers "$QSERV_WORKER_2_SOCKET" "$FIRST")
if [ "$got" = 500 ] && [ -z "$left" ] && [ -z "$(ls "$T/cluster/worker-2/staging" | grep copy-in)" ]; then
	tap_pass "a copy cut short fails ($err) and leaves no table nor file on the target"
else
	tap_fail "a copy cut short fails and leaves nothing" "got $got ($err); tables: $left"
fi

# the stream intact but one checksum wrong
awk '/^\\#end / && !done { $3 = $3 + 1; done = 1 } { print }' "$T/stream.txt" > "$T/bad.txt"
lz4 -q -c "$T/bad.txt" > "$T/served.lz4"
got=$(replica "$FAKE" -H "$(key)")
err=$(sed -n 's/.*"error": *"\([^"]*\)".*/\1/p' "$T/body")
left=$(leftovers "$QSERV_WORKER_2_SOCKET" "$FIRST")
case $err in *checksum*) ck=1 ;; *) ck= ;; esac
if [ "$got" = 500 ] && [ -n "$ck" ] && [ -z "$left" ]; then
	tap_pass "a wrong checksum fails ($err) and leaves no table"
else
	tap_fail "a wrong checksum fails and leaves no table" "got $got ($err); tables: $left"
fi

# the same stream, unedited, through the fake source: accepted (the test's fake is sound)
lz4 -q -c "$T/stream.txt" > "$T/served.lz4"
got=$(replica "$FAKE" -H "$(key)")
tap_is "$got" 200 "the unedited stream re-compressed by lz4(1) through the fake source is accepted"
my "$QSERV_WORKER_2_SOCKET" -e "DELETE FROM qservWorker.chunks WHERE db='$DB' AND chunk=$FIRST" > /dev/null
for t in $(leftovers "$QSERV_WORKER_2_SOCKET" "$FIRST"); do
	my "$QSERV_WORKER_2_SOCKET" -e "DROP TABLE \`$DB\`.\`$t\`" > /dev/null
done
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=

# a source that answers and then says nothing: the copy waits, and a DELETE
# of that chunk meanwhile is refused (409)
cat > "$T/stall.py" <<'EOF'
import http.server, ssl, sys, time
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.flush()
        time.sleep(600)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
EOF
python3 "$T/stall.py" "$FPORT" "$PKI/worker-1.pem" "$PKI/worker-1.key" 2> "$T/stall.log" &
STALL_PID=$!
i=0
until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$FPORT" 2>/dev/null ||
	[ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
(replica "$FAKE" -H "$(key)" > "$T/stall.code") &
POST_PID=$!
# the copy is running once its staging tables exist (they precede the pull)
i=0
until leftovers "$QSERV_WORKER_2_SOCKET" "$FIRST" | grep -q "_${FIRST}__copy\$" || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
got=$(drop "$W2/worker/replica?database=$DB&chunk=$FIRST" -H "$(key)")
err=$(sed -n 's/.*"error": *"\([^"]*\)".*/\1/p' "$T/body")
kill "$STALL_PID" 2>/dev/null; wait "$STALL_PID" 2>/dev/null; STALL_PID=
wait "$POST_PID"
left=$(leftovers "$QSERV_WORKER_2_SOCKET" "$FIRST")
tap_is "$got $(cat "$T/stall.code") $left" "409 500 " "DELETE /worker/replica while a copy of the chunk runs: 409 ($err); the copy, cut, leaves nothing"

# ---- every chunk of worker-1 to worker-2 ----
fail= bytes=0 plain=0 ms=0 rows=0
t0=$(date +%s%N)
for c in $C1; do
	body="{\"database\":\"$DB\",\"chunk\":$c,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}"
	got=$(replica "$body" --cert "$PKI/czar.pem" --key "$PKI/czar.key")
	if [ "$got" != 200 ]; then fail="$fail $c:$got:$(head -c 200 "$T/body")"; continue; fi
	cp "$T/body" "$T/post-$c.json"
	set -- $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["bytes"], j["plain_bytes"], j["rows"], int(j["seconds"]*1000))' "$T/body")
	bytes=$((bytes + $1)) plain=$((plain + $2)) rows=$((rows + $3)) ms=$((ms + $4))
done
t1=$(date +%s%N)
if [ -z "$fail" ]; then
	tap_pass "every chunk of worker-1 copied to worker-2 by the czar's certificate ($(echo "$C1" | wc -l) chunks, $rows rows)"
else
	tap_fail "every chunk of worker-1 copied to worker-2" "$fail"
fi
wall=$(( (t1 - t0) / 1000000 ))
tap_diag "copied $plain plain bytes ($bytes on the wire, LZ4) in $ms ms of copies ($wall ms wall):" \
	"$(awk -v b="$plain" -v ms="$ms" 'BEGIN { if (ms > 0) printf "%.1f MB/s plain", b / ms / 1000; else print "n/a" }')," \
	"$(awk -v b="$bytes" -v ms="$ms" 'BEGIN { if (ms > 0) printf "%.1f MB/s compressed", b / ms / 1000; else print "n/a" }')"

now=$(chunks_of "$QSERV_WORKER_2_SOCKET" | sort -n | tr '\n' ' ')
want=$(printf '%s\n%s\n' "$C1" "$C2" | sort -n | uniq | tr '\n' ' ')
tap_is "$now" "$want" "worker-2 records every chunk of both workers"

diffs= n=0
for c in $C1; do
	for t in $(my "$QSERV_WORKER_1_SOCKET" -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME REGEXP '_${c}\$'"); do
		a=$(my "$QSERV_WORKER_1_SOCKET" -e "SELECT * FROM \`$DB\`.\`$t\`" | sort | md5sum)
		b=$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT * FROM \`$DB\`.\`$t\`" | sort | md5sum)
		[ "$a" = "$b" ] || diffs="$diffs $t"
		n=$((n + 1))
	done
done
if [ -z "$diffs" ] && [ "$n" -gt 0 ]; then
	tap_pass "every chunk table's rows are the same on both MariaDBs ($n tables)"
else
	tap_fail "every chunk table's rows are the same on both MariaDBs" "differ:$diffs ($n tables)"
fi
left=$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND (TABLE_NAME LIKE '%\\_\\_copy' OR TABLE_NAME LIKE '%\\_\\_old')")
tap_is "$left" 0 "no staging table left on worker-2"

# ---- rows and checksums: GET /worker/replica on both, and the copy's reply ----
tables() { # URL: the "tables" of GET /worker/replica, as one line of JSON
	code "$1" -H "$(key)" > /dev/null
	python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["tables"], sort_keys=True))' "$T/body" 2>&1
}
sums() { # the tables JSON on stdin as "table:rows:checksum" lines
	python3 -c 'import json,sys; [print("%s:%d:%d" % (t["table"], t["rows"], t["checksum"])) for t in json.loads(sys.stdin.read())]'
}
diffs= n=0
for c in $C1; do
	a=$(tables "$W1/worker/replica?database=$DB&chunk=$c")
	b=$(tables "$W2/worker/replica?database=$DB&chunk=$c")
	p=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["checksums"], sort_keys=True))' "$T/post-$c.json" 2>&1)
	case $a in '[{"checksum": '*) ok=1 ;; *) ok= ;; esac
	{ [ -n "$ok" ] && [ "$a" = "$b" ] && [ "$a" = "$p" ]; } || diffs="$diffs $c"
	n=$((n + 1))
done
if [ -z "$diffs" ] && [ "$n" -gt 0 ]; then
	tap_pass "GET /worker/replica: the same tables, rows and checksums on source and target, as the copy verified them ($n chunks)"
else
	tap_fail "GET /worker/replica: the same tables, rows and checksums on source and target" "differ:$diffs"
fi
R1="$W1/worker/replica?database=$DB&chunk=$FIRST" R2="$W2/worker/replica?database=$DB&chunk=$FIRST"
a=$(tables "$R1")
tap_diag "chunk $FIRST: $(echo "$a" | sums | tr '\n' ' ')"

# a row changed in worker-2's MariaDB changes its checksum there, only there
my "$QSERV_WORKER_2_SOCKET" -e "UPDATE \`$DB\`.\`Object_$FIRST\` SET qserv_trans_id = qserv_trans_id + 1000 LIMIT 1" > /dev/null
b=$(tables "$R2")
changed=$(printf '%s\n%s\n' "$(echo "$a" | sums)" "$(echo "$b" | sums)" | sort | uniq -u | cut -d: -f1,2 | sort -u | tr '\n' ' ')
want="Object_$FIRST:$(echo "$a" | sums | grep "^Object_$FIRST:" | cut -d: -f2) "
tap_is "$changed|$(tables "$R1")" "$want|$a" \
	"a row changed in worker-2's MariaDB changes Object_$FIRST's checksum there (same rows), nothing else"

# DELETE: the chunk is gone from the list and from MariaDB; again: 0; it copies back
ntab=$(echo "$a" | sums | wc -l)
got=$(drop "$R2" -H "$(key)")
got="$got $(sed -n 's/.*"tables_dropped": *\([0-9]*\).*/\1/p' "$T/body")"
inlist=$(listed "$W2/worker/replicas" | grep -c "^$DB $FIRST\$")
left=$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME REGEXP '_${FIRST}\$'")
tap_is "$got $inlist $left $(code "$R2" -H "$(key)")" "200 $ntab 0 0 404" \
	"DELETE /worker/replica drops its $ntab tables: no longer listed, none in information_schema, GET 404"
got=$(drop "$R2" --cert "$PKI/czar.pem" --key "$PKI/czar.key")
tap_is "$got $(sed -n 's/.*"tables_dropped": *\([0-9]*\).*/\1/p' "$T/body")" "200 0" "a second DELETE: 200, 0 tables dropped"
got=$(replica "{\"database\":\"$DB\",\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" -H "$(key)")
tap_is "$got $(listed "$W2/worker/replicas" | grep -c "^$DB $FIRST\$") $(tables "$R2")" "200 1 $a" \
	"a chunk copied again after a DELETE: listed, and the source's rows and checksums again"

# copying a chunk the target holds replaces it (one RENAME, the old one dropped)
got=$(replica "{\"database\":\"$DB\",\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" -H "$(key)")
a=$(my "$QSERV_WORKER_1_SOCKET" -e "SELECT COUNT(*) FROM \`$DB\`.\`Object_$FIRST\`")
b=$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT COUNT(*) FROM \`$DB\`.\`Object_$FIRST\`")
left=$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND (TABLE_NAME LIKE '%\\_\\_copy' OR TABLE_NAME LIKE '%\\_\\_old')")
tap_is "$got $b $left" "200 $a 0" "a second copy of a chunk replaces it (same rows, nothing left over)"

# ---- the regular tables (Filter): POST /worker/replica {regular: true} ----
fcount() { my "$1" -e "SELECT COUNT(*) FROM \`$DB\`.Filter"; }
fsum() { my "$1" -e "CHECKSUM TABLE \`$DB\`.Filter" | cut -f2; }
fdump() { my "$1" -e "SELECT * FROM \`$DB\`.Filter" | sort | md5sum | cut -c1-32; }
fleft() { my "$1" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME IN ('Filter__copy', 'Filter__old')"; }
nchunks() { my "$1" -e "SELECT COUNT(*) FROM qservWorker.chunks WHERE db='$DB'"; }
REG="{\"database\":\"$DB\",\"regular\":true,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}"
S1=$(fsum "$QSERV_WORKER_1_SOCKET") N1=$(fcount "$QSERV_WORKER_1_SOCKET")
my "$QSERV_WORKER_2_SOCKET" -e "DELETE FROM \`$DB\`.Filter ORDER BY id LIMIT 2" > /dev/null
S2=$(fsum "$QSERV_WORKER_2_SOCKET")
[ "$S1" != "$S2" ] && same=differ || same=same
tap_is "$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT is_partitioned FROM qservWorker.tables WHERE db='$DB' AND name='Filter'") $N1 $(fcount "$QSERV_WORKER_2_SOCKET") $same" \
	"0 6 4 differ" "the regular table Filter on both workers; worker-2's changed by hand (2 of its 6 rows deleted)"

EXR="$W1/replica/chunk?database=$DB&regular=1"
got="$(replica "$REG") $(replica "$REG" --cert "$PKI/worker-1.pem" --key "$PKI/worker-1.key") $(code "$EXR") $(code "$EXR" --cert "$PKI/czar.pem" --key "$PKI/czar.key")"
tap_is "$got" "401 403 401 403" \
	"regular: POST /worker/replica anonymous 401, a worker's certificate 403; GET /replica/chunk?regular=1 anonymous 401, the czar's certificate 403"
got=$(code "$EXR" --cert "$PKI/worker-2.pem" --key "$PKI/worker-2.key")
if [ "$got" = 200 ] && lz4 -dc "$T/body" > "$T/reg.txt" 2>/dev/null && [ "$(head -n 1 "$T/reg.txt")" = "\\#regular $DB" ] &&
	grep -qx '\\#table Filter' "$T/reg.txt" && [ "$(tail -n 1 "$T/reg.txt")" = '\#done 1' ]; then
	tap_pass "GET /replica/chunk?database=$DB&regular=1 with a worker's certificate: \\#regular $DB, \\#table Filter, \\#done 1"
else
	tap_fail "GET /replica/chunk?regular=1 with a worker's certificate" "got $got; $(head -c 300 "$T/reg.txt" 2>/dev/null)"
fi

bad=
for b in "{\"database\":\"$DB\",\"regular\":true,\"chunk\":$FIRST,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" \
	"{\"database\":\"$DB\",\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" \
	"{\"database\":\"$DB\",\"regular\":false,\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}" \
	"{\"database\":\"$DB\",\"regular\":\"yes\",\"source_id\":\"worker-1\",\"source_url\":\"$W1\"}"; do
	bad="$bad $(replica "$b" -H "$(key)")"
done
bad="$bad $(drop "$W2/worker/replica?database=$DB&regular=1" -H "$(key)") $(code "$EXR&chunk=$FIRST" -H "$(key)")"
bad="$bad $(code "$W1/replica/chunk?database=nosuchdb&regular=1" -H "$(key)") $(code "$W2/worker/replica?database=nosuchdb&regular=1" -H "$(key)")"
tap_is "$bad" " 400 400 400 400 400 400 404 404" \
	"regular: chunk and regular, neither, regular false alone, regular \"yes\": 400; DELETE ?regular=1 400; ?regular=1&chunk= 400; a database not there 404"

# a source that refuses (nothing listens on its port): fails, leaves nothing
NOPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
got=$(replica "{\"database\":\"$DB\",\"regular\":true,\"source_id\":\"worker-1\",\"source_url\":\"https://127.0.0.1:$NOPORT\"}" -H "$(key)")
tap_is "$got $(fleft "$QSERV_WORKER_2_SOCKET") $(fsum "$QSERV_WORKER_2_SOCKET")" "500 0 $S2" \
	"regular: a copy from a source that refuses (wrong port) fails, no Filter__copy left, Filter untouched"

# a copy that stalls: a second copy of the same regular tables is 409; the first, cut, leaves nothing
python3 "$T/stall.py" "$FPORT" "$PKI/worker-1.pem" "$PKI/worker-1.key" 2> "$T/stall.log" &
STALL_PID=$!
i=0
until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$FPORT" 2>/dev/null ||
	[ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
(replica "{\"database\":\"$DB\",\"regular\":true,\"source_id\":\"fake\",\"source_url\":\"https://127.0.0.1:$FPORT\"}" -H "$(key)" > "$T/stall.code") &
POST_PID=$!
i=0
until [ "$(fleft "$QSERV_WORKER_2_SOCKET")" = 1 ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
got=$(replica "$REG" -H "$(key)")
kill "$STALL_PID" 2>/dev/null; wait "$STALL_PID" 2>/dev/null; STALL_PID=
wait "$POST_PID"
tap_is "$got $(cat "$T/stall.code") $(fleft "$QSERV_WORKER_2_SOCKET") $(fcount "$QSERV_WORKER_2_SOCKET")" "409 500 0 4" \
	"regular: a second copy while one runs 409; the first, cut, leaves no staging table and Filter as it was"

# the copy, ordered by the czar's certificate (as the controller's join does)
nc=$(nchunks "$QSERV_WORKER_2_SOCKET")
got=$(replica "$REG" --cert "$PKI/czar.pem" --key "$PKI/czar.key")
cp "$T/body" "$T/post-regular.json"
reply=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j.get("regular"), "chunk" in j, j["tables"], j["rows"], j["source_id"], " ".join("%s:%d:%d" % (c["table"], c["rows"], c["checksum"]) for c in j["checksums"]))' "$T/body" 2>&1)
tap_is "$got|$reply" "200|True False 1 $N1 worker-1 Filter:$N1:$S1" \
	"regular: POST /worker/replica {regular: true} from worker-1: 200, {regular: true, no chunk, tables 1, rows $N1, checksums [Filter:$N1:$S1]}"
tap_is "$(fsum "$QSERV_WORKER_2_SOCKET") $(fdump "$QSERV_WORKER_2_SOCKET") $(fleft "$QSERV_WORKER_2_SOCKET") $(nchunks "$QSERV_WORKER_2_SOCKET")" \
	"$S1 $(fdump "$QSERV_WORKER_1_SOCKET") 0 $nc" \
	"regular: worker-2's Filter now has worker-1's rows and CHECKSUM TABLE; no staging table left, no qservWorker.chunks row written"
a=$(tables "$W1/worker/replica?database=$DB&regular=1")
b=$(tables "$W2/worker/replica?database=$DB&regular=1")
p=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["checksums"], sort_keys=True))' "$T/post-regular.json" 2>&1)
isreg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("regular"))' "$T/body" 2>&1)
tap_is "$b|$p|$isreg" "$a|$a|True" "GET /worker/replica?database=$DB&regular=1: the same rows and checksums on both workers, as the copy verified them"

# the source refuses rows of a transaction not committed there (409), and exports again once it is aborted
W1K="$W1/worker"
wpost() { code "$W1K/$1" -X POST -H 'Content-Type: application/json' -d "$2" -H "$(key)"; }
got="$(wpost unpublish "{\"database\":\"$DB\"}") $(wpost trans "{\"database\":\"$DB\",\"transaction_id\":900001,\"action\":\"begin\"}")"
got="$got $(printf '9\tq\n' | code "$W1/ingest/csv?transaction_id=900001&table=Filter&database=$DB" -X POST --data-binary @- -H "$(key)")"
got="$got $(code "$EXR" -H "$(key)") $(sed -n 's/.*"error": *"\([^"]*\)".*/\1/p' "$T/body" | grep -c 'transaction 900001')"
got="$got $(wpost trans '{"transaction_id":900001,"action":"abort"}') $(code "$EXR" -H "$(key)") $(wpost publish "{\"database\":\"$DB\"}")"
tap_is "$got $(fsum "$QSERV_WORKER_1_SOCKET")" "200 200 200 409 1 200 200 200 $S1" \
	"regular: GET /replica/chunk?regular=1 while Filter holds rows of an open transaction 409 (naming it); after its abort 200"

# a worker restarted with a staging table left by a crash drops it
my "$QSERV_WORKER_2_SOCKET" -e "CREATE TABLE \`$DB\`.\`Object_${FIRST}__copy\` LIKE \`$DB\`.\`Object\`" > /dev/null
my "$QSERV_WORKER_2_SOCKET" -e "CREATE TABLE \`$DB\`.Filter__copy LIKE \`$DB\`.Filter; CREATE TABLE \`$DB\`.Filter__old LIKE \`$DB\`.Filter" > /dev/null
"$DC" kill worker-2 --dir "$T/cluster" > /dev/null 2>&1
"$DC" start worker-2 --dir "$T/cluster" > "$T/start.log" 2>&1
left=$(my "$QSERV_WORKER_2_SOCKET" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB' AND TABLE_NAME LIKE '%\\_\\_copy'")
tap_is "$left" 0 "a staging table left by a crash is dropped when the worker starts"
tap_is "$(fleft "$QSERV_WORKER_2_SOCKET") $(fsum "$QSERV_WORKER_2_SOCKET")" "0 $S1" \
	"and so are a regular table's Filter__copy and Filter__old; Filter itself stays"

# the czar still answers (placement unchanged: the copies are not registered)
NOBJ=$(wc -l < "$T/gen/Object.tsv")
got=$(mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -N -e "SELECT COUNT(*) FROM $DB.Object" 2>&1)
i=0
while [ "$got" != "$NOBJ" ] && [ $i -lt 20 ]; do
	sleep 0.5; i=$((i + 1))
	got=$(mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -N -e "SELECT COUNT(*) FROM $DB.Object" 2>&1)
done
tap_is "$got" "$NOBJ" "the czar's COUNT(*) is unchanged by the copies"

# scale-out: a worker added to the cluster gets the regular tables (the controller's join, cjoin.c)
if "$DC" add --dir "$T/cluster" > "$T/add.log" 2>&1 && set -a && . "$T/cluster/cluster.env" && set +a &&
	[ -n "${QSERV_WORKER_3_SOCKET:-}" ]; then
	got="$(fcount "$QSERV_WORKER_3_SOCKET") $(fsum "$QSERV_WORKER_3_SOCKET") $(fleft "$QSERV_WORKER_3_SOCKET")"
else
	got="dev-cluster add failed: $(tail -n 3 "$T/add.log")"
fi
tap_is "$got" "$N1 $S1 0" "dev-cluster add: worker-3 holds Filter with worker-1's rows and checksum, no staging table"
tap_done
