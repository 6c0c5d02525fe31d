#!/bin/sh
# zones.sh: failure zones in replica placement (crepl.c) on a dev cluster
# of 4 workers in 2 zones (tools/dev-cluster up --zones r1,r1,r2,r2), at
# the default replica level (auto: 2).
#
# Checks: the zones are in GET /replication/status and cluster.env; a
# catalog ingested with qservctl (its own publish and row check: every
# chunk counted once although it has 2 replicas) leaves every chunk on 2
# workers in distinct zones; the czar's COUNT(*) is right; POST
# /meta/worker refuses a bad zone (400, naming the field) and without the
# key (401); `dev-cluster add --zone r3` registers worker-5 in zone r3 and
# gives it the catalog's databases and tables (cjoin.c).
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init zones
tap_plan 8

DB=zones
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 3000 --sources-per-object 1 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
dc_up 4 --zones r1,r1,r2,r2 || { echo "Bail out! dev cluster: $(tail -n 5 "$T/up.log")"; exit 1; }
C=$QSERV_INGEST_URL

got=$(status | jq -r '[.workers[] | "\(.id)=\(.zone)"] | join(" ")')
tap_is "$got $QSERV_WORKER_3_ZONE" "worker-1=r1 worker-2=r1 worker-3=r2 worker-4=r2 r2" \
	"GET /replication/status and cluster.env name each worker's zone"

if "$BIN/qservctl" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "qservctl ingest: loaded, published, every table's rows counted once"
else
	tap_fail "qservctl ingest: loaded, published, every table's rows counted once" "$(tail -n 8 "$T/ingest.log")"
fi

# per chunk: its holders and their distinct zones
meta "SELECT c.chunk, COUNT(*), COUNT(DISTINCT w.zone) FROM qservMeta.chunks c JOIN qservMeta.workers w
	ON w.id = c.worker_id WHERE c.db = '$DB' GROUP BY c.chunk" > "$T/placement"
n=$(wc -l < "$T/placement")
bad=$(awk '$2 != 2 || $3 != 2' "$T/placement" | head -n 5 | tr '\n' ' ')
if [ "$n" -gt 0 ] && [ -z "$bad" ]; then
	tap_pass "every chunk ($n) on 2 workers in 2 distinct zones"
else
	tap_fail "every chunk on 2 workers in 2 distinct zones" "chunks $n; chunk holders zones: $bad"
fi

want=$(wc -l < "$T/gen/Object.tsv")
tap_is "$(sql "SELECT COUNT(*) FROM $DB.Object")" "$want" "the czar counts every object once"

code() { curl -s -o "$T/r" -w '%{http_code}' --cacert "$QSERV_CA_FILE" "$@"; }
bodyz='{"id":"worker-9","host":"127.0.0.1","ingest_port":1,"query_port":1,"zone":"rack 9"}'
got="$(code -X POST -H "$(key)" -H 'Content-Type: application/json' -d "$bodyz" "$C/meta/worker") $(jq -r .error "$T/r")"
case $got in "400 zone: "*) tap_pass "POST /meta/worker refuses a bad zone, naming the field" ;;
*) tap_fail "POST /meta/worker refuses a bad zone, naming the field" "$got" ;; esac
got=$(code -X POST -H 'Content-Type: application/json' -d "${bodyz%,\"zone\"*}}" "$C/meta/worker")
tap_is "$got" 401 "POST /meta/worker without the key: 401"

if "$DC" add --zone r3 --dir "$T/cluster" > "$T/add.log" 2>&1 && set -a && . "$T/cluster/cluster.env" && set +a; then
	got=$(status | jq -r '.workers[] | select(.id == "worker-5") | .zone')
	tap_is "$got $QSERV_WORKER_5_ZONE" "r3 r3" "dev-cluster add --zone r3: worker-5 registered in zone r3"
else
	tap_fail "dev-cluster add --zone r3: worker-5 registered in zone r3" "$(tail -n 5 "$T/add.log")"
fi
t1=$(mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -B -e \
	"SELECT GROUP_CONCAT(name ORDER BY name) FROM qservWorker.tables WHERE db = '$DB'" 2>&1)
t5=$(mariadb --no-defaults -S "${QSERV_WORKER_5_SOCKET:-/nonexistent}" -uroot -N -B -e \
	"SELECT GROUP_CONCAT(name ORDER BY name) FROM qservWorker.tables WHERE db = '$DB'" 2>&1)
tap_is "$t5" "$t1" "the new worker was given the catalog's tables ($t1)"
tap_done
