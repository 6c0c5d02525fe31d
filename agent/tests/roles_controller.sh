#!/bin/sh
# roles_controller.sh: the czar agent's registration of the cluster map's
# ready workers (agent/roles.c, roles_sync_workers) against a real
# qserv-controller: a dev cluster on loopback (tools/dev-cluster, one
# worker, the controller's plain loopback listener --local-port as on a
# czar node) and qroles-sync, one pass of the sync over a cluster map this
# test writes.  Checks that the map's failure zone arrives in
# qservMeta.workers.zone (issue 13), that another zone replaces it, and that
# a worker without one is registered with none (''); and that a worker
# the map shows down is reported to the controller (POST
# /replication/health), which marks it down at once.
#
# The dev cluster is a throwaway one: the registration points worker-1 at
# the appliance's ports (25004/25005), which this test never uses.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tools/tap.sh"
BUILD=${BUILD:-$REPO/build}
BIN=$BUILD/bin
T=$(mktemp -d /tmp/qserv-roles-ctl.XXXXXX)

cleanup() {
	"$REPO/tools/dev-cluster" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

for b in qroles-sync qserv-controller qserv-worker qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
command -v mariadbd > /dev/null || command -v /usr/sbin/mariadbd > /dev/null || tap_skip_all "no mariadbd"
tap_plan 6

LPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
if QSERV_CONTROLLER_ARGS="--local-port $LPORT ${QSERV_CONTROLLER_ARGS:-}" \
	"$REPO/tools/dev-cluster" up --workers 1 --dir "$T/cluster" > "$T/up.log" 2>&1; then
	tap_pass "dev cluster up, the controller's loopback listener on $LPORT"
else
	tap_fail "dev cluster up, the controller's loopback listener on $LPORT" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
. "$T/cluster/cluster.env"
zone_of() {
	mariadb --no-defaults -S "$QSERV_CZAR_DB_SOCKET" -uroot -N -e \
		"SELECT CONCAT('[', zone, ']') FROM qservMeta.workers WHERE id='$1'" 2>&1
}

# map: the czar, worker-1 ready (zone $1, or none when empty: no "zone" key,
# as from a registry before zones), worker-9 down (never registered)
write_map() {
	mkdir -p "$T/data/agent"
	if [ -n "$1" ]; then z=", \"zone\": \"$1\""; else z=; fi
	cat > "$T/data/agent/cluster-map.json" <<EOF
{"version": 3, "nodes": [
 {"name": "czar-0", "role": "czar", "addr": "127.0.0.1", "state": "ready", "zone": ""},
 {"name": "worker-1", "role": "worker", "addr": "127.0.0.1", "state": "ready"$z},
 {"name": "worker-9", "role": "worker", "addr": "10.9.9.9", "state": "down", "zone": "rack-z"}]}
EOF
}
sync_once() { "$BIN/qroles-sync" --data-dir "$T/data" --port "$LPORT" --key-file "$T/cluster/admin.key" 2>> "$T/sync.log"; }

write_map rack-a
out=$(sync_once)
if [ "$(zone_of worker-1)" = "[rack-a]" ] && [ "$(zone_of worker-9)" = "" ] &&
	[ "$(echo "$out" | jq -r '.registered_zones["worker-1"]')" = rack-a ]; then
	tap_pass "the map's zone arrives in qservMeta.workers.zone (POST /meta/worker {..., zone})"
else
	tap_fail "the map's zone arrives in qservMeta.workers.zone (POST /meta/worker {..., zone})" \
		"db: $(zone_of worker-1); sync: $out $(tail -n 3 "$T/sync.log")"
fi
write_map rack-b.2
sync_once > /dev/null
tap_is "$(zone_of worker-1)" "[rack-b.2]" "another zone replaces it"
write_map ""
sync_once > /dev/null
tap_is "$(zone_of worker-1)" "[]" "a worker without a zone is registered with none ('')"

# the registry's up/down events: worker-1 down in the map -> told to the
# controller (POST /replication/health), which marks it down at once;
# worker-9 (down, unknown to the controller) is refused there, not kept
write_map rack-a
sed -i 's/"worker-1", "role": "worker", "addr": "127.0.0.1", "state": "ready"/"worker-1", "role": "worker", "addr": "127.0.0.1", "state": "down"/' \
	"$T/data/agent/cluster-map.json"
out=$(sync_once)
if [ "$(echo "$out" | jq -c '.registry_health')" = '{"worker-1":"down"}' ] &&
	grep -q "registry: worker worker-1 is down" "$T/cluster/czar/controller.log"; then
	tap_pass "a worker down in the registry's map is reported to the controller, which marks it down"
else
	tap_fail "a worker down in the registry's map is reported to the controller, which marks it down" \
		"sync: $(echo "$out" | jq -c .registry_health); $(grep -i registry "$T/cluster/czar/controller.log" | tail -n 2)"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$QSERV_CA_FILE" -X POST -H 'Content-Type: application/json' \
	-d '{"worker":"worker-1","up":false}' "$QSERV_INGEST_URL/replication/health")
tap_is "$code" 401 "POST /replication/health without the admin key: 401"
tap_done
