#!/bin/sh
# injection.sh: SQL-injection payloads against every REST field of the
# controller's and the worker's APIs that names a database, table, column,
# index, character set, column type, worker or URL.  One private mariadbd
# (tools/test-mariadb.sh) holds qservMeta and the worker's tables; one
# qserv-worker and one qserv-controller run on it.  Table-driven (the
# table is in injection.py): each field gets every payload; each must be
# refused with a 4xx whose error names the field, and no reply may contain
# "MariaDB", "SQL syntax", "@@", the server's version or the payload
# echoed back.  Afterwards the checksums of qservMeta's and qservWorker's
# tables, the list of databases and mysql.user are unchanged, and both
# daemons still serve a legitimate request.  Both APIs are HTTPS (a PKI
# from qserv-certs) with an admin key, as on a cluster.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/test-mariadb.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/injection.XXXXXX)
WPID= CPID=
cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	test_mariadb_stop "$T"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

for b in qserv-worker qserv-controller qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { i=0; until curl -sfk "$1/status" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.1; done; }
for n in czar:czar worker-i:worker; do
	"$BIN/qserv-certs" --dir "$T/pki" --cluster inj --name "${n%:*}" --role "${n#*:}" > /dev/null ||
		{ echo "Bail out! qserv-certs failed"; exit 1; }
done
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$T/admin.key"
test_mariadb_start "$T" --local-infile=1 || { echo "Bail out! mariadbd did not start: $(tail -3 "$T/my.err")"; exit 1; }
WP=$(free_port) CP=$(free_port)
mkdir -p "$T/staging"
"$BIN/qserv-worker" --socket "$T/my.sock" --port "$WP" --bind 127.0.0.1 --id worker-i \
	--staging "$T/staging" --auth-key-file "$T/admin.key" --tls-dir "$T/pki" --tls-name worker-i \
	> "$T/worker.log" 2>&1 &
WPID=$!
"$BIN/qserv-controller" --socket "$T/my.sock" --port "$CP" --bind 127.0.0.1 --staging "$T/staging" \
	--worker "worker-i=127.0.0.1:$WP" --auth-key-file "$T/admin.key" --tls-dir "$T/pki" --tls-name czar \
	> "$T/controller.log" 2>&1 &
CPID=$!
wait_http "https://127.0.0.1:$WP" && wait_http "https://127.0.0.1:$CP" ||
	{ echo "Bail out! daemons did not start"; cat "$T"/*.log; exit 1; }

python3 "$top/qserv/controller/tests/injection.py" --socket "$T/my.sock" \
	--controller "https://127.0.0.1:$CP" --worker "https://127.0.0.1:$WP" --tmp "$T" \
	--key-file "$T/admin.key" --ca "$T/pki/ca.pem"
rc=$?
if [ $rc -ne 0 ]; then
	echo "# controller log (tail):"; tail -5 "$T/controller.log" | sed 's/^/# /'
	echo "# worker log (tail):"; tail -5 "$T/worker.log" | sed 's/^/# /'
fi
exit $rc
