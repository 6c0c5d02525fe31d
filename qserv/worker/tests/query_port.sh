#!/bin/sh
# query_port.sh: the worker's chunk-query port (mutual TLS, qserv/wire)
# against a real private mariadbd: chunk queries run as the read-only
# account (LOAD_FILE reads nothing, INTO OUTFILE, mysql.user, qservWorker
# and writes are refused by MariaDB; a database created later is readable;
# a catalog named with a GRANT wildcard does not open mysql.*), and 300
# idle TCP connections neither grow the worker's threads past its bounds
# nor keep a czar from querying; the idle ones are closed.  A statement
# that runs for 6 s (SLEEP) gets keep-alive frames (query_live.h) in its
# answer, and its rows after them.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/test-mariadb.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/query_port.XXXXXX)
WPID= IPID=
cleanup() {
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	test_mariadb_stop "$T"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 17

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { mariadb --no-defaults -S "$T/my.sock" -uroot -N -B -e "$1"; }
post() { qcurl -s -H "Authorization: Bearer $KEY" -X POST "$W$1" -H 'Content-Type: application/json' -d "$2"; }
ok() { echo "$1" | jq -en 'input | .success == 1' >/dev/null; }
has() { printf '%s' "$1" | grep -q -- "$2"; }
q() { "$BIN/qserv-wquery" --tls-dir "$T/pki" --name czar-1 --port "$QP" "$1" 2>&1; }

test_mariadb_start "$T" --local-infile=1 || tap_diag "mariadbd did not start: $(tail -3 "$T/my.err")"
for n in worker-q:worker czar-1:czar; do
	"$BIN/qserv-certs" --dir "$T/pki" --cluster t --name "${n%:*}" --role "${n#*:}" > /dev/null
done
PORT=$(free_port) QP=$(free_port)
KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n'); echo "$KEY" > "$T/admin.key"   # the admin key writes need
W=https://127.0.0.1:$PORT    # the API is HTTPS with QSERV_TLS_DIR's certificate (qcurl.sh checks it)
QSERV_AUTH_KEY= QSERV_CA_FILE=$T/pki/ca.pem
. "$top/qserv/controller/tests/qcurl.sh"
mkdir -p "$T/staging"
QSERV_QUERY_PORT=$QP QSERV_TLS_DIR=$T/pki QSERV_QUERY_HANDSHAKES=16 QSERV_QUERY_MAX_CONNS=8 \
"$BIN/qserv-worker" --socket "$T/my.sock" --port "$PORT" --bind 127.0.0.1 --id worker-q \
	--staging "$T/staging" --file-root "$T" --auth-key-file "$T/admin.key" >> "$T/worker.log" 2>&1 &
WPID=$!
i=0; until qcurl -sf "$W/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done

post /worker/database '{"database":"wq"}' >/dev/null
post /worker/table '{"database":"wq","table":"R","is_partitioned":0,"schema":[{"name":"id","type":"INT"},{"name":"name","type":"CHAR(1)"}]}' >/dev/null
post /worker/trans '{"database":"wq","transaction_id":1,"action":"begin"}' >/dev/null
printf '1\ta\n2\tb\n3\tc\n' > "$T/r.tsv"
post /ingest/file "{\"transaction_id\":1,\"table\":\"R\",\"url\":\"file://$T/r.tsv\"}" >/dev/null
post /worker/trans '{"database":"wq","transaction_id":1,"action":"commit"}' >/dev/null

tap_is "$(q 'SELECT COUNT(*) FROM wq.R')" 3 "a chunk query reads the catalog"
tap_is "$(sql "SELECT CONCAT(Select_priv, File_priv, Process_priv, Super_priv) FROM mysql.user WHERE User='qserv_query_worker-q'")" NNNN \
	"the query account has no global privilege"
tap_is "$(q "SELECT LOAD_FILE('/etc/passwd')")" '\N' "LOAD_FILE through a chunk query reads nothing (no FILE privilege)"
tap_ok "SELECT ... INTO OUTFILE is refused" has "$(q "SELECT * FROM wq.R INTO OUTFILE '$T/out.txt'")" '^ERROR 1227.*FILE privilege'
tap_is "$(ls "$T/out.txt" 2>/dev/null)" "" "and nothing was written"
tap_ok "reading mysql.user is refused" has "$(q 'SELECT COUNT(*) FROM mysql.user')" '^ERROR 1142'
tap_ok "reading qservWorker is refused" has "$(q 'SELECT COUNT(*) FROM qservWorker.tables')" '^ERROR 1142'
tap_ok "a write is refused" has "$(q "INSERT INTO wq.R VALUES (9, 'z', 1)")" '^ERROR 1142'
tap_is "$(sql 'SELECT COUNT(*) FROM wq.R')" 3 "the table is unchanged"
post /worker/database '{"database":"wq2"}' >/dev/null
post /worker/table '{"database":"wq2","table":"S","is_partitioned":0,"schema":[{"name":"id","type":"INT"}]}' >/dev/null
tap_is "$(q 'SELECT COUNT(*) FROM wq2.S')" 0 "a database created after the start is readable"
post /worker/database '{"database":"mysq_"}' >/dev/null
tap_ok "a catalog named mysq_ (a GRANT wildcard) does not open mysql.*" has "$(q 'SELECT COUNT(*) FROM mysql.user')" '^ERROR 1142'

"$BIN/qserv-wquery" --tls-dir "$T/pki" --name czar-1 --port "$QP" --keepalives \
	'SELECT SLEEP(6), COUNT(*) FROM wq.R' > "$T/slow.out" 2> "$T/slow.err"
tap_is "$(cat "$T/slow.out")" "$(printf '0\t3')" "a 6 s chunk query answers after its keep-alives"
nka=$(grep -c '^KEEPALIVE [0-9]' "$T/slow.err")
tap_ok "it got keep-alive frames while MariaDB worked ($nka; $(tr '\n' ' ' < "$T/slow.err"))" test "$nka" -ge 1

# 300 idle TCP connections that never start TLS
python3 - "$QP" > "$T/idle.out" 2>&1 <<'PY' &
import select, socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(300):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    socks.append(s)
print("open", len(socks), flush=True)
closed = set()
end = time.time() + 40
while len(closed) < len(socks) and time.time() < end:
    r, _, _ = select.select([s for s in socks if s.fileno() not in closed], [], [], 1)
    for s in r:
        try:
            if not s.recv(1):
                closed.add(s.fileno())
        except OSError:
            closed.add(s.fileno())
print("closed", len(closed), flush=True)
time.sleep(30)
PY
IPID=$!
i=0; until grep -q '^open' "$T/idle.out" || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.1; done
tap_is "$(head -1 "$T/idle.out")" "open 300" "300 idle connections are open on the query port"
good=0
for n in 1 2 3 4 5; do [ "$(q 'SELECT COUNT(*) FROM wq.R')" = 3 ] && good=$((good + 1)); done
tap_is "$good" 5 "the czar's queries are answered meanwhile"
th=$(awk '/^Threads:/ { print $2 }' "/proc/$WPID/status")
tap_diag "worker threads with 300 idle connections: $th"
tap_ok "the worker's threads stay bounded (16 handshakes + 8 czars + its own)" test "$th" -lt 60
i=0; until grep -q '^closed' "$T/idle.out" || [ $i -gt 450 ]; do i=$((i + 1)); sleep 0.1; done
tap_is "$(sed -n 2p "$T/idle.out")" "closed 300" "every idle connection is closed by the worker"
tap_done
