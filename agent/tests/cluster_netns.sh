#!/bin/sh
# cluster_netns.sh: a registry and several agents, each a real qagent in host
# mode in its own network namespace, on a bridge in a namespace this test
# creates (10.250.0.0/24, nothing leaves it).  Covers: join and names, the
# same name after an agent restart, wrong token refused, wrong CA pin
# refused by the agent, token rotation, a killed agent going down and coming
# back ready, a registry restart keeping the CA and every identity, and
# failure zones (issue 13): qserv.zone on the command line and zone= in
# qserv.conf reach the registry's listing and the cluster map, a node
# without one shows "", a restarted node's new zone wins, a bad one is
# reported and ignored by the agent and refused by the registry.
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
tap_plan 24

# --- network: a bridge namespace, one veth per node --------------------------
netns_nodes 10.250.0

my_name() { status "$1" | jq -r '.membership.name // empty'; }
has_name() { [ "$(my_name "$1")" = "$2" ]; }
last_error() { status "$1" | jq -r '.membership.last_error // empty'; }
error_has() { last_error "$1" | grep -q "$2"; }

# --- czar --------------------------------------------------------------------
start czar "qserv.role=czar qserv.cluster=nstest"
# one document for both secrets: two fetches could see one answer and one
# timeout on a loaded machine (an empty token then failed every join)
secrets() { status czar | jq -er '.registry | select(.token and .ca_pin) | "\(.token) \(.ca_pin)"' > "$T/secrets" && [ -s "$T/secrets" ]; }
wait_for 90 secrets
read -r TOKEN PIN < "$T/secrets"
case "$PIN" in sha256:????????????????????????????????????????????????????????????????) tap_pass "czar prints a CA pin in /status" ;;
	*) tap_fail "czar prints a CA pin in /status" "got '$PIN'" ;; esac
if grep -q "qserv.token=$TOKEN qserv.ca=$PIN" "$T/czar.log"; then tap_pass "token and pin on the console"; else tap_fail "token and pin on the console"; fi
# from another node (not loopback): the pin, never the token
far=$(ip netns exec "$P-w1" curl -sf -m 3 http://10.250.0.1:9400/status | jq -r '"\(.registry.ca_pin) \(.registry | has("token"))"')
tap_is "$far" "$PIN false" "/status from another node shows the CA pin but not the join token"
if wait_for 20 is_state czar-0 ready; then tap_pass "czar joined itself as czar-0"; else tap_fail "czar joined itself as czar-0" "$(nodes)"; fi

# --- workers join (w1 in zone rack1 by its command line, w2 in rack2 by its qserv.conf)
W="qserv.role=worker qserv.join=10.250.0.1:7070 qserv.token=$TOKEN qserv.ca=$PIN"
start w1 "$W qserv.zone=rack1"
wait_for 60 is_state worker-0 ready
printf '# this rack\nzone=rack2\n' > "$T/w2.conf"
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
if wait_for 10 sh -c "ip netns exec $P-w1 curl -sf http://127.0.0.1:9400/status | jq -en 'input | .cluster_map.nodes | map(select(.name == \"worker-1\" and .state == \"ready\")) | length == 1' > /dev/null"; then
	tap_pass "cluster map pushed to worker-0 shows worker-1"
else
	tap_fail "cluster map pushed to worker-0 shows worker-1"
fi

# --- failure zones -----------------------------------------------------------------
zones() { nodes | jq -r '[.nodes[] | "\(.name)=\(.zone)"] | sort | join(" ")'; }
map_zones() { status "$1" | jq -r '[.cluster_map.nodes[] | "\(.name)=\(.zone)"] | sort | join(" ")'; }
map_zones_are() { [ "$(map_zones "$1")" = "$2" ]; }
zone_is() { [ "$(node_field "$1" zone)" = "$2" ]; }
tap_is "$(zones)" "czar-0= worker-0=rack1 worker-1=rack2" \
	"registry listing: worker-0 in rack1 (qserv.zone), worker-1 in rack2 (qserv.conf), the czar in none (\"\")"
if wait_for 10 map_zones_are w1 "czar-0= worker-0=rack1 worker-1=rack2" &&
	wait_for 10 map_zones_are czar "czar-0= worker-0=rack1 worker-1=rack2"; then
	tap_pass "the cluster map (the czar's and worker-0's copies) carries the zones"
else
	tap_fail "the cluster map (the czar's and worker-0's copies) carries the zones" "w1: $(map_zones w1); czar: $(map_zones czar)"
fi
tap_is "$(status w1 | jq -r '"\(.zone) \(.membership.zone)"') $(status w2 | jq -r .zone) $(status czar | jq -r '.zone | length')" \
	"rack1 rack1 rack2 0" "each agent's /status reports its zone (the czar none)"

# --- same name after restart, in another zone: the newest wins ------------------------
uuid1=$(node_field worker-0 uuid)
stop w1
start w1 "$W qserv.zone=rack3"
if wait_for 20 has_name w1 worker-0 && [ "$(node_field worker-0 uuid)" = "$uuid1" ]; then
	tap_pass "restarted worker keeps worker-0"
else
	tap_fail "restarted worker keeps worker-0" "$(my_name w1)"
fi
if wait_for 20 zone_is worker-0 rack3 &&
	grep -q "worker-0's failure zone changed from 'rack1' to 'rack3' (the newest wins)" "$T/czar.log"; then
	tap_pass "a restarted worker's new zone wins (HELLO, no new join), logged by the registry"
else
	tap_fail "a restarted worker's new zone wins (HELLO, no new join), logged by the registry" "$(zones)"
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
start w3 "qserv.role=worker qserv.join=10.250.0.1:7070 qserv.token=$NEW qserv.ca=$PIN qserv.zone=rack/1"
stop w1
start w1 "$W"      # joined node, old token in its config: still fine
if wait_for 20 is_state worker-2 ready && wait_for 20 has_name w1 worker-0; then
	tap_pass "token rotation: new token joins worker-2, joined worker-0 unaffected"
else
	tap_fail "token rotation: new token joins worker-2, joined worker-0 unaffected" "$(nodes)"
fi
# w3 (worker-2) booted with qserv.zone=rack/1: reported with its source, ignored
if grep -q "config cmdline:5: zone: zone must be 1-64 characters of A-Z a-z 0-9 . _ -, not 'rack/1', ignored" "$T/w3.log" &&
	[ "$(node_field worker-2 zone)" = "" ] && [ "$(status w3 | jq -r '.zone | length')" = 0 ]; then
	tap_pass "a bad qserv.zone is reported with its source and ignored: worker-2 has none"
else
	tap_fail "a bad qserv.zone is reported with its source and ignored: worker-2 has none" \
		"$(grep zone "$T/w3.log" | head -n 3); registry: $(node_field worker-2 zone)"
fi
# the registry checks the zone of a JOIN itself (a client that does not)
zj=$(ip netns exec "$P-czar" "$BUILD/bin/qregistry-join" --registry 127.0.0.1:7070 --token "$NEW" --pin "$PIN" \
	--uuid zone-test-machine --dir "$T/zj" --zone 'rack 1' 2>&1)
if echo "$zj" | grep -q "registry refused: bad_request: field 'zone' must be a string of 1-64 characters" &&
	[ "$(nodes | jq '[.nodes[] | select(.uuid == "zone-test-machine")] | length')" = 0 ]; then
	tap_pass "the registry refuses a JOIN with a bad zone, naming the field"
else
	tap_fail "the registry refuses a JOIN with a bad zone, naming the field" "$zj"
fi

# --- a killed agent goes down, and comes back -------------------------------------
kill -9 "$(cat "$T/w2.pid")"
wait "$(cat "$T/w2.pid")" 2>/dev/null
if wait_for 25 is_state worker-1 down; then tap_pass "killed agent marked down"; else tap_fail "killed agent marked down" "$(node_field worker-1 state)"; fi
if wait_for 10 sh -c "ip netns exec $P-w1 curl -sf http://127.0.0.1:9400/status | jq -en 'input | .cluster_map.nodes[] | select(.name == \"worker-1\") | .state == \"down\"' > /dev/null"; then
	tap_pass "other nodes' maps show it down"
else
	tap_fail "other nodes' maps show it down"
fi
start w2 "$W"
if wait_for 20 is_state worker-1 ready; then tap_pass "restarted agent ready again as worker-1"; else tap_fail "restarted agent ready again as worker-1"; fi

# --- registry restart -------------------------------------------------------------
stop czar
start czar "qserv.role=czar qserv.cluster=nstest"
wait_for 90 sh -c "ip netns exec $P-czar curl -sf -m 2 http://127.0.0.1:9400/status | jq -en 'input | .registry.ca_pin' > /dev/null"
PIN2=$(status czar | jq -r .registry.ca_pin)
if [ "$PIN2" = "$PIN" ] && wait_for 30 is_state worker-0 ready && wait_for 30 is_state worker-1 ready &&
	wait_for 30 is_state worker-2 ready && [ "$(node_field worker-0 uuid)" = "$uuid1" ]; then
	tap_pass "registry restart keeps the CA and every identity; sessions come back"
else
	tap_fail "registry restart keeps the CA and every identity; sessions come back" "$(nodes)"
fi
# worker-0 now runs without a zone (restarted with $W above), worker-1 kept rack2
tap_is "$(zones)" "czar-0= worker-0= worker-1=rack2 worker-2=" "zones after the registry restart"
tap_done
