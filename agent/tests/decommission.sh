#!/bin/sh
# decommission.sh: removing workers from a cluster (qservctl nodes remove),
# with host processes only.  A registry and four agents (real qagent in host
# mode, each in its own network namespace on a bridge this test creates,
# 10.251.0.0/24) give the membership side: worker-0, worker-1, worker-2.  A
# dev cluster on loopback (tools/dev-cluster: controller, qserv-czar and two
# qserv-workers with private MariaDBs, ids worker-1 and worker-2) gives the
# data side, with a small catalog ingested and published at replica level
# 1 (one copy of each chunk).  The names match,
# so qservctl drives both as it does on a czar node.
#
# Checks: a worker holding the only replica of chunks is refused by the
# controller through qservctl (exit 1, chunk count, nothing changed in the
# registry or the controller); a worker without chunks is removed: the
# registry shows it removed, its agent logs the refusal by name, it cannot
# rejoin with its certificate nor with the token, the removal survives a
# registry restart, a new machine never gets its name; --force drops the
# worker's placements into qservMeta.lost_chunks, and the czar then refuses
# queries that need a lost chunk, naming it, while queries on the other
# worker's chunks still answer; readmit lets the removed machine back under
# its name.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/agent/tests/netns_agents.sh"
BUILD=${BUILD:-$REPO/build}
BIN=$BUILD/bin
QAGENT=$BIN/qagent
QSERVCTL=$BIN/qservctl
P=qd$$
T=$(mktemp -d /tmp/qserv-decommission.XXXXXX)
NODES="czar w0 w1 w2 w3"
PLAN=19

cleanup() {
	netns_cleanup
	"$REPO/tools/dev-cluster" down --dir "$T/cluster" > /dev/null 2>&1
	[ -n "${DECOM_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

if [ "$(id -u)" != 0 ] || ! ip netns add "$P-br" 2>/dev/null; then
	tap_skip_all "needs root and ip netns"
fi
tap_plan $PLAN
for b in qagent qservctl qserv-gen qserv-partition qserv-worker qserv-controller qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done

# --- data side: dev cluster, a small published catalog -------------------------
"$REPO/tools/sample-catalog.sh" "$T" dcm --objects 600 --sources-per-object 1 --ra 0,20 --dec -10,10 || exit 1
if QSERV_CONTROLLER_ARGS="--replication-level 1 ${QSERV_CONTROLLER_ARGS:-}" "$REPO/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1 &&
	set -a && . "$T/cluster/cluster.env" && set +a &&
	"$QSERVCTL" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up, catalog ingested and published"
else
	tap_fail "dev cluster up, catalog ingested and published" "$(tail -n 5 "$T/up.log" "$T/ingest.log")"
	exit 1
fi
meta() { mariadb --no-defaults -S "$QSERV_CZAR_DB_SOCKET" -uroot -N -e "$1" 2>&1; }
sql() { mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -N -e "$1" 2>&1; }
. "$REPO/qserv/controller/tests/qcurl.sh"   # the controller is HTTPS with the cluster CA
ctl_workers() { qcurl -s "$QSERV_INGEST_URL/meta/workers" | jq -r '[.locations[].worker] | join(",")'; }
W1CHUNKS=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='dcm' AND worker_id='worker-1'")
W2CHUNKS=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='dcm' AND worker_id='worker-2'")
NOBJ=$(wc -l < "$T/gen/Object.tsv")

# --- membership side: registry and agents in namespaces --------------------------
netns_nodes 10.251.0
member() { status "$1" | jq -r ".membership.$2 // empty"; }
member_is() { [ "$(member "$1" "$2")" = "$3" ]; }
remove() { "$QSERVCTL" nodes remove "$@" -s "$T/admin.sock" --controller "$QSERV_INGEST_URL"; }

start czar "qserv.role=czar qserv.cluster=dctest"
# generous: on a loaded machine the czar's agent may take long to start its
# registry, and a join with no token is refused for good
wait_for 90 sh -c "ip netns exec $P-czar curl -sf -m 2 http://127.0.0.1:9400/status | jq -en 'input | .registry.ca_pin' > /dev/null" ||
	echo "# the czar's registry did not answer within 90 s: $(tail -n 3 "$T/czar.log")"
TOKEN=$(status czar | jq -r .registry.token)
PIN=$(status czar | jq -r .registry.ca_pin)
W="qserv.role=worker qserv.join=10.251.0.1:7070 qserv.token=$TOKEN qserv.ca=$PIN"
# Bounded waits, generous for a loaded CI machine: a join refused once waits
# 10 s before its next try (agent/registry/join.c).
start w0 "$W"; wait_for 60 is_state worker-0 ready
start w1 "$W"; wait_for 60 is_state worker-1 ready
start w2 "$W"
if wait_for 60 is_state worker-2 ready && wait_for 20 member_is w0 name worker-0 && wait_for 20 member_is w1 name worker-1; then
	tap_pass "three workers joined as worker-0, worker-1, worker-2"
else
	tap_fail "three workers joined as worker-0, worker-1, worker-2" "$(nodes | jq -c '.nodes[] | [.name, .state, .addr]'; tail -n 5 "$T"/w?.log "$T/czar.log")"
fi

# --- refusal: worker-1 holds the only replica of its chunks --------------------------
remove worker-1 > "$T/out1" 2> "$T/err1"
tap_is "$?" 1 "remove worker-1 (sole replica holder) exits 1"
if grep -q "worker worker-1 holds the only replica of $W1CHUNKS chunk(s): $W1CHUNKS of dcm (published)" "$T/err1"; then
	tap_pass "the controller's refusal reaches the operator with the chunk count ($W1CHUNKS)"
else
	tap_fail "the controller's refusal reaches the operator with the chunk count ($W1CHUNKS)" "$(cat "$T/err1")"
fi
tap_is "$(node_field worker-1 state) $(ctl_workers) $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-1'")" \
	"ready worker-1,worker-2 $W1CHUNKS" "nothing changed: registry, controller and placements as before"

# --- worker-0 holds no chunk: removed ---------------------------------------------------
if remove worker-0 > "$T/out0" 2>&1 && grep -q "worker-0 removed from the cluster" "$T/out0"; then
	tap_pass "remove worker-0 succeeds"
else
	tap_fail "remove worker-0 succeeds" "$(cat "$T/out0")"
fi
tap_is "$(node_field worker-0 state)" removed "the registry marks worker-0 removed"
if "$QSERVCTL" nodes -s "$T/admin.sock" | grep -q "^worker-0 .*removed"; then
	tap_pass "qservctl nodes lists it as removed"
else
	tap_fail "qservctl nodes lists it as removed" "$("$QSERVCTL" nodes -s "$T/admin.sock" 2>&1)"
fi
if wait_for 10 member_is w0 state removed && grep -q "node worker-0 was removed from the cluster" "$T/w0.log"; then
	tap_pass "the removed agent stops and says why in its log"
else
	tap_fail "the removed agent stops and says why in its log" "$(tail -3 "$T/w0.log")"
fi
# a reboot with its certificate, then a re-install (certificate gone, same machine)
stop w0
start w0 "$W"
if wait_for 10 member_is w0 state removed && member w0 last_error | grep -q "node worker-0 was removed"; then
	tap_pass "rejoin with its certificate refused with a clear message"
else
	tap_fail "rejoin with its certificate refused with a clear message" "$(member w0 last_error)"
fi
stop w0
rm -f "$T/w0/agent/node.crt" "$T/w0/agent/identity.json"
: > "$T/w0.log"
start w0 "$W"
if wait_for 10 member_is w0 state removed && grep -q "node worker-0 was removed from the cluster" "$T/w0.log" &&
	grep -q "refused: node worker-0 was removed" "$T/czar.log"; then
	tap_pass "rejoin with the token refused, on both sides"
else
	tap_fail "rejoin with the token refused, on both sides" "$(tail -3 "$T/w0.log")"
fi
tap_is "$(grep -c "was removed from the cluster" "$T/w0.log")" 1 "the agent says it once, not at every retry"
start w3 "$W"
if wait_for 20 is_state worker-3 ready && wait_for 5 member_is w3 name worker-3; then
	tap_pass "a new machine gets worker-3, never the removed name"
else
	tap_fail "a new machine gets worker-3, never the removed name" "$(nodes | jq -c '[.nodes[] | [.name, .state]]')"
fi
stop czar
start czar "qserv.role=czar qserv.cluster=dctest"
if wait_for 20 is_state worker-2 ready && is_state worker-0 removed; then
	tap_pass "the removal survives a registry restart"
else
	tap_fail "the removal survives a registry restart" "$(nodes | jq -c '[.nodes[] | [.name, .state]]')"
fi

# --- --force: worker-1's chunks become lost, the czar refuses queries on them --------------
remove worker-1 --force > "$T/outf" 2>&1
if [ $? -eq 0 ] && grep -q "$W1CHUNKS chunk(s) LOST" "$T/outf"; then
	tap_pass "remove worker-1 --force succeeds and reports $W1CHUNKS lost chunk(s)"
else
	tap_fail "remove worker-1 --force succeeds and reports $W1CHUNKS lost chunk(s)" "$(cat "$T/outf")"
fi
tap_is "$(ctl_workers) $(node_field worker-1 state) $(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE worker_id='worker-1'") $(meta "SELECT COUNT(*) FROM qservMeta.lost_chunks WHERE db='dcm' AND worker_id='worker-1'")" \
	"worker-2 removed 0 $W1CHUNKS" "controller and registry dropped worker-1; its chunks recorded lost"
lost=$(meta "SELECT MIN(chunk) FROM qservMeta.lost_chunks WHERE db='dcm'")
wait_for 10 sh -c "mariadb --no-defaults -h $QSERV_CZAR_HOST -P $QSERV_CZAR_PORT -u $QSERV_USER -p$QSERV_PASSWORD -N -e 'SELECT COUNT(*) FROM dcm.Object' 2>&1 | grep -q 'no worker holds'"
r=$(sql "SELECT COUNT(*) FROM dcm.Object")
if printf '%s' "$r" | grep -q "ERROR.*query needs $W1CHUNKS chunk(s) of database dcm that no worker holds any more: $lost"; then
	tap_pass "a full scan fails naming the missing chunks, no partial count"
else
	tap_fail "a full scan fails naming the missing chunks, no partial count" "$r"
fi
oid=$(meta "SELECT i.objectId FROM qservMeta.dcm__Object i JOIN qservMeta.chunks c ON c.db='dcm' AND c.chunk=i.chunkId AND c.worker_id='worker-2' LIMIT 1")
tap_is "$(sql "SELECT COUNT(*) FROM dcm.Object WHERE objectId=$oid")" 1 "a lookup in a chunk of worker-2 still answers"

# --- readmit -----------------------------------------------------------------------------------
"$QSERVCTL" nodes readmit worker-0 -s "$T/admin.sock" > "$T/outr" 2>&1
if wait_for 25 is_state worker-0 ready && wait_for 10 member_is w0 state ready && member_is w0 name worker-0; then
	tap_pass "readmit: the same machine comes back as worker-0"
else
	tap_fail "readmit: the same machine comes back as worker-0" "$(cat "$T/outr"; member w0 state; member w0 last_error; tail -5 "$T/w0.log"; tail -5 "$T/czar.log"; node_field worker-0 state)"
fi
tap_done
