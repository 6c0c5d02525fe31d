#!/bin/sh
# cluster_netns.sh: a registry and several agents, each a real qagent in host
# mode in its own network namespace, on a bridge in a namespace this test
# creates (10.250.0.0/24, nothing leaves it).  Covers: join and names, the
# same name after an agent restart, wrong token refused, wrong CA pin
# refused by the agent, token rotation, a killed agent going down and coming
# back ready, and a registry restart keeping the CA and every identity.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/agent/tests/netns_agents.sh"
BUILD=${BUILD:-$REPO/build}
QAGENT=${QAGENT:-$BUILD/bin/qagent}
QSERVCTL=$BUILD/bin/qservctl
P=qr$$
T=$(mktemp -d /tmp/qserv-cluster-netns.XXXXXX)
NODES="czar w1 w2 w3"

cleanup() {
	netns_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

if [ "$(id -u)" != 0 ] || ! ip netns add "$P-br" 2>/dev/null; then
	tap_skip_all "needs root and ip netns"
fi
tap_plan 17

# --- network: a bridge namespace, one veth per node --------------------------
netns_nodes 10.250.0

my_name() { status "$1" | jq -r '.membership.name // empty'; }
has_name() { [ "$(my_name "$1")" = "$2" ]; }
last_error() { status "$1" | jq -r '.membership.last_error // empty'; }
error_has() { last_error "$1" | grep -q "$2"; }

# --- czar --------------------------------------------------------------------
start czar "qserv.role=czar qserv.cluster=nstest"
wait_for 20 sh -c "ip netns exec $P-czar curl -sf -m 2 http://127.0.0.1:9400/status | jq -e .registry.ca_pin > /dev/null"
TOKEN=$(status czar | jq -r .registry.token)
PIN=$(status czar | jq -r .registry.ca_pin)
case "$PIN" in sha256:????????????????????????????????????????????????????????????????) tap_pass "czar prints a CA pin in /status" ;;
	*) tap_fail "czar prints a CA pin in /status" "got '$PIN'" ;; esac
if grep -q "qserv.token=$TOKEN qserv.ca=$PIN" "$T/czar.log"; then tap_pass "token and pin on the console"; else tap_fail "token and pin on the console"; fi
# from another node (not loopback): the pin, never the token
far=$(ip netns exec "$P-w1" curl -sf -m 3 http://10.250.0.1:9400/status | jq -r '"\(.registry.ca_pin) \(.registry | has("token"))"')
tap_is "$far" "$PIN false" "/status from another node shows the CA pin but not the join token"
if wait_for 20 is_state czar-0 ready; then tap_pass "czar joined itself as czar-0"; else tap_fail "czar joined itself as czar-0" "$(nodes)"; fi

# --- workers join --------------------------------------------------------------
W="qserv.role=worker qserv.join=10.250.0.1:7070 qserv.token=$TOKEN qserv.ca=$PIN"
start w1 "$W"
wait_for 60 is_state worker-0 ready
start w2 "$W"
if wait_for 60 is_state worker-1 ready && wait_for 5 has_name w1 worker-0 && wait_for 5 has_name w2 worker-1; then
	tap_pass "two workers joined as worker-0 and worker-1"
else
	tap_fail "two workers joined as worker-0 and worker-1" "$(nodes)"
fi
tap_is "$(node_field worker-1 addr) $(node_field czar-0 addr)" "10.250.0.3 10.250.0.1" \
	"registry records the workers' addresses and the czar's as workers reach it"
if "$QSERVCTL" nodes -s "$T/admin.sock" | grep -q "^worker-1 .*ready .*10.250.0.3"; then
	tap_pass "qservctl nodes lists worker-1 ready"
else
	tap_fail "qservctl nodes lists worker-1 ready" "$("$QSERVCTL" nodes -s "$T/admin.sock" 2>&1)"
fi
if wait_for 10 sh -c "ip netns exec $P-w1 curl -sf http://127.0.0.1:9400/status | jq -e '.cluster_map.nodes | map(select(.name == \"worker-1\" and .state == \"ready\")) | length == 1' > /dev/null"; then
	tap_pass "cluster map pushed to worker-0 shows worker-1"
else
	tap_fail "cluster map pushed to worker-0 shows worker-1"
fi

# --- same name after restart ----------------------------------------------------
uuid1=$(node_field worker-0 uuid)
stop w1
start w1 "$W"
if wait_for 20 has_name w1 worker-0 && [ "$(node_field worker-0 uuid)" = "$uuid1" ]; then
	tap_pass "restarted worker keeps worker-0"
else
	tap_fail "restarted worker keeps worker-0" "$(my_name w1)"
fi

# --- wrong token, wrong pin -----------------------------------------------------
before=$(nodes | jq '.nodes | length')
start w3 "qserv.role=worker qserv.join=10.250.0.1:7070 qserv.token=000000.0000000000000000 qserv.ca=$PIN"
if wait_for 15 error_has w3 bad_token && grep -q "refused: wrong token" "$T/czar.log"; then
	tap_pass "wrong token refused, reported on both sides"
else
	tap_fail "wrong token refused, reported on both sides" "$(last_error w3)"
fi
stop w3
rm -rf "$T/w3"
badpin=sha256:$(printf '%064d' 0)
start w3 "qserv.role=worker qserv.join=10.250.0.1:7070 qserv.token=$TOKEN qserv.ca=$badpin"
if wait_for 15 error_has w3 pinned; then tap_pass "wrong CA pin refused by the agent"; else tap_fail "wrong CA pin refused by the agent" "$(last_error w3)"; fi
stop w3
tap_is "$(nodes | jq '.nodes | length')" "$before" "refused joins registered nothing"

# --- token rotation ---------------------------------------------------------------
NEW=$("$QSERVCTL" token rotate -s "$T/admin.sock" | sed -n 's/^qserv.token=//p')
rm -rf "$T/w3"
start w3 "$W"      # a new machine with the old token
wait_for 15 error_has w3 bad_token
stop w3
rm -rf "$T/w3"
start w3 "qserv.role=worker qserv.join=10.250.0.1:7070 qserv.token=$NEW qserv.ca=$PIN"
stop w1
start w1 "$W"      # joined node, old token in its config: still fine
if wait_for 20 is_state worker-2 ready && wait_for 20 has_name w1 worker-0; then
	tap_pass "token rotation: new token joins worker-2, joined worker-0 unaffected"
else
	tap_fail "token rotation: new token joins worker-2, joined worker-0 unaffected" "$(nodes)"
fi

# --- a killed agent goes down, and comes back -------------------------------------
kill -9 "$(cat "$T/w2.pid")"
wait "$(cat "$T/w2.pid")" 2>/dev/null
if wait_for 25 is_state worker-1 down; then tap_pass "killed agent marked down"; else tap_fail "killed agent marked down" "$(node_field worker-1 state)"; fi
if wait_for 10 sh -c "ip netns exec $P-w1 curl -sf http://127.0.0.1:9400/status | jq -e '.cluster_map.nodes[] | select(.name == \"worker-1\") | .state == \"down\"' > /dev/null"; then
	tap_pass "other nodes' maps show it down"
else
	tap_fail "other nodes' maps show it down"
fi
start w2 "$W"
if wait_for 20 is_state worker-1 ready; then tap_pass "restarted agent ready again as worker-1"; else tap_fail "restarted agent ready again as worker-1"; fi

# --- registry restart -------------------------------------------------------------
stop czar
start czar "qserv.role=czar qserv.cluster=nstest"
wait_for 20 sh -c "ip netns exec $P-czar curl -sf -m 2 http://127.0.0.1:9400/status | jq -e .registry.ca_pin > /dev/null"
PIN2=$(status czar | jq -r .registry.ca_pin)
if [ "$PIN2" = "$PIN" ] && wait_for 30 is_state worker-0 ready && wait_for 30 is_state worker-1 ready &&
	wait_for 30 is_state worker-2 ready && [ "$(node_field worker-0 uuid)" = "$uuid1" ]; then
	tap_pass "registry restart keeps the CA and every identity; sessions come back"
else
	tap_fail "registry restart keeps the CA and every identity; sessions come back" "$(nodes)"
fi
tap_done
