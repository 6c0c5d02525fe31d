#!/bin/sh
# dev_cluster.sh: tools/dev-cluster's kill and start (a worker crashes and
# comes back with its data), on loopback with host processes.
#
# Checks: up with 2 workers (replica level 1: one copy of each chunk) and
# a small catalog; the statements right
# after its publish (a SELECT and a USE) see it although the czar's
# metadata snapshot was taken before; `kill worker-1` leaves neither its qserv-worker nor its
# mariadbd running and drops them from DIR/pids; a query that needs worker-1
# then fails with an error (never a wrong count); `start worker-1` brings it
# back on the same ports (cluster.env unchanged) and the same count comes
# back; kill/start refuse names that are not workers and double starts;
# down leaves no process of the cluster.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tools/tap.sh"
BIN=${BUILD:-$REPO/build}/bin
T=$(mktemp -d /tmp/qserv-devcluster.XXXXXX)
DC="$REPO/tools/dev-cluster"
cleanup() { "$DC" down --dir "$T/cluster" > /dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

for b in qservctl qserv-gen qserv-partition qserv-worker qserv-controller qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"
tap_plan 9

"$REPO/tools/sample-catalog.sh" "$T" dcl --objects 400 --sources-per-object 1 --ra 0,20 --dec -10,10 || exit 1
if QSERV_CONTROLLER_ARGS="--replication-level 1 ${QSERV_CONTROLLER_ARGS:-}" "$DC" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1 &&
	set -a && . "$T/cluster/cluster.env" && set +a &&
	"$BIN/qservctl" ingest -q --no-publish "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up, catalog ingested (not yet published)"
else
	tap_fail "dev cluster up, catalog ingested (not yet published)" "$(tail -n 5 "$T/up.log" "$T/ingest.log")"
	exit 1
fi
sql() { mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -N -e "$1" 2>&1; }
NOBJ=$(wc -l < "$T/gen/Object.tsv")
pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$T/cluster/pids"; }
W1=$(pid_of worker-1) M1=$(pid_of mariadb-worker-1)
cp "$T/cluster/cluster.env" "$T/env.before"

# The czar's metadata snapshot now lacks dcl; the statements right after
# the publish must see it all the same (the czar reloads before refusing).
before=$(sql "SELECT COUNT(*) FROM dcl.Object")
curl -sf --cacert "$QSERV_CA_FILE" -H "Authorization: Bearer $QSERV_AUTH_KEY" -X PUT \
	"$QSERV_INGEST_URL/ingest/database/dcl" > "$T/publish.out" 2>&1
got=$(sql "SELECT COUNT(*) FROM dcl.Object")
used=$(mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" \
	-N -D dcl -e "SELECT COUNT(*) FROM Object" 2>&1)
case $before in *ERROR*) ;; *) got="before the publish: $before" ;; esac
if [ "$got" = "$NOBJ" ] && [ "$used" = "$NOBJ" ]; then
	tap_pass "the statements right after the publish see the catalog ($got)"
else
	tap_fail "the statements right after the publish see the catalog" "want $NOBJ, got: $got; with -D dcl: $used; publish: $(cat "$T/publish.out")"
fi

"$DC" kill worker-1 --dir "$T/cluster" > "$T/kill.log" 2>&1
if [ -n "$W1" ] && [ -n "$M1" ] && ! kill -0 "$W1" 2>/dev/null && ! kill -0 "$M1" 2>/dev/null &&
	[ -z "$(pid_of worker-1)" ] && [ -z "$(pid_of mariadb-worker-1)" ] && [ -n "$(pid_of worker-2)" ]; then
	tap_pass "kill worker-1: its qserv-worker and mariadbd are gone, worker-2 runs"
else
	tap_fail "kill worker-1: its qserv-worker and mariadbd are gone, worker-2 runs" "pids $W1 $M1; $(cat "$T/kill.log" "$T/cluster/pids")"
fi

got=$(sql "SELECT COUNT(*) FROM dcl.Object")
case $got in
*ERROR*) tap_pass "a query that needs worker-1 fails with an error" ;;
*) tap_fail "a query that needs worker-1 fails with an error" "got: $got" ;;
esac

if ! "$DC" kill czar --dir "$T/cluster" > /dev/null 2>&1 && ! "$DC" start worker-2 --dir "$T/cluster" > /dev/null 2>&1 &&
	! "$DC" start worker-9 --dir "$T/cluster" > /dev/null 2>&1; then
	tap_pass "kill/start refuse a non-worker, a running worker and an unknown one"
else
	tap_fail "kill/start refuse a non-worker, a running worker and an unknown one"
fi

if "$DC" start worker-1 --dir "$T/cluster" > "$T/start.log" 2>&1 && [ -n "$(pid_of worker-1)" ] &&
	cmp -s "$T/env.before" "$T/cluster/cluster.env"; then
	tap_pass "start worker-1: running again, cluster.env unchanged"
else
	tap_fail "start worker-1: running again, cluster.env unchanged" "$(cat "$T/start.log"; diff "$T/env.before" "$T/cluster/cluster.env")"
fi

# the czar reconnects on its own; allow it a few tries
i=0
while :; do
	got=$(sql "SELECT COUNT(*) FROM dcl.Object")
	[ "$got" = "$NOBJ" ] || [ $i -ge 20 ] && break
	i=$((i + 1)); sleep 0.5
done
if [ "$got" = "$NOBJ" ]; then tap_pass "the same count after the restart ($got)"; else tap_fail "the same count after the restart" "want $NOBJ, got: $got"; fi

n=$(mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='dcl'" 2>&1)
if [ "${n:-0}" -gt 0 ] 2>/dev/null; then tap_pass "worker-1's chunk tables survived ($n tables)"; else tap_fail "worker-1's chunk tables survived" "$n"; fi

pids=$(awk '{ print $2 }' "$T/cluster/pids")
"$DC" down --dir "$T/cluster" > /dev/null 2>&1
alive=
for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
if [ -z "$alive" ] && [ ! -f "$T/cluster/pids" ]; then tap_pass "down stops every process, the restarted ones too"; else tap_fail "down stops every process, the restarted ones too" "alive:$alive"; fi
tap_done
