#!/bin/sh
# bench_registry.sh: registry scale and join latency, on loopback inside a
# network namespace this script creates.
#
#  1. qregistry-sim: 1000 simulated agents (real keys, TLS, protocol) join one
#     real registry (qagent --host, role czar) at once, open their mutual-TLS
#     sessions and heartbeat every 2 s; prints the join rate and the
#     registry's CPU per 1000 joins / sessions / heartbeats, against the
#     baseline of one bare pinned TLS handshake measured in the same run.
#  2. Worker join latency: a real qagent worker started from nothing (new
#     data dir) until the registry lists it ready, 5 times; and restarted
#     with its stored certificate (session only).  Issue target: < 2 s on
#     top of network bring-up.
# Prints measurements and ratios; asserts nothing.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${BUILD:-$REPO/build}
QAGENT=${QAGENT:-$BUILD/bin/qagent}
SIM=$BUILD/bin/qregistry-sim
NODES=${BENCH_NODES:-1000}
NS=qbench$$
T=$(mktemp -d /tmp/qserv-bench-registry.XXXXXX)
cleanup() {
	for f in "$T"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
if [ "$(id -u)" != 0 ] || ! ip netns add "$NS"; then
	echo "# bench_registry: needs root and ip netns; skipped"
	exit 0
fi
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
ms() { date +%s%3N; }

echo "qserv.role=czar qserv.cluster=bench" > "$T/czar.cmdline"
ip netns exec "$NS" "$QAGENT" --host --data-dir "$T/czar" --cmdline "$T/czar.cmdline" --conf /dev/null \
	--pidfile "$T/czar.agentpid" --status-port 9400 --admin-socket "$T/admin.sock" > "$T/czar.log" 2>&1 &
echo $! > "$T/czar.pid"
i=0
until in_ns curl -sf -m 2 http://127.0.0.1:9400/status | jq -en 'input | .registry.ca_pin' > /dev/null 2>&1; do
	i=$((i + 1)); [ "$i" -gt 100 ] && { echo "# registry did not start"; tail "$T/czar.log"; exit 1; }
	sleep 0.2
done
TOKEN=$(in_ns curl -sf http://127.0.0.1:9400/status | jq -r .registry.token)
PIN=$(in_ns curl -sf http://127.0.0.1:9400/status | jq -r .registry.ca_pin)

echo "# $NODES simulated agents against one registry (2 cores shared by both sides)"
in_ns "$SIM" --registry 127.0.0.1:7070 --token "$TOKEN" --pin "$PIN" --nodes "$NODES" --heartbeats 3 \
	--interval-ms 2000 --registry-pid "$(cat "$T/czar.pid")" --admin-socket "$T/admin.sock" \
	--baseline 50 2> "$T/sim.kv" | grep '^#\|^not ok'
cat "$T/sim.kv" | tr ' ' '\n' | grep = | sed 's/^/  /'
hs=$(tr ' ' '\n' < "$T/sim.kv" | sed -n 's/^handshake_ms=//p')
jps=$(tr ' ' '\n' < "$T/sim.kv" | sed -n 's/^joins_per_s=//p')
[ -n "$hs" ] && [ -n "$jps" ] && awk -v hs="$hs" -v jps="$jps" 'BEGIN {
	printf "join throughput vs sequential bare handshakes: %.2fx (%.1f joins/s vs %.1f handshakes/s)\n",
		jps / (1000 / hs), jps, 1000 / hs }'

# Worker join latency, from agent start to "ready" in the registry.
W="qserv.role=worker qserv.join=127.0.0.1:7070 qserv.token=$TOKEN qserv.ca=$PIN"
echo "$W" > "$T/w.cmdline"
# sessions_ready UUID: sessions this registry run opened for UUID while ready (0 if none)
sessions_ready() { "$BUILD/bin/qservctl" nodes -s "$T/admin.sock" --json 2>/dev/null |
	jq -r --arg u "$1" '[.nodes[] | select(.uuid == $u and .state == "ready") | .sessions] | add // 0'; }
run_worker() {  # run_worker DIR PORT: prints ms until the registry lists it ready
	before=0
	[ -s "$1/agent/machine-uuid" ] && before=$(sessions_ready "$(cat "$1/agent/machine-uuid")")
	t0=$(ms)
	ip netns exec "$NS" "$QAGENT" --host --data-dir "$1" --cmdline "$T/w.cmdline" --conf /dev/null \
		--pidfile "$1.agentpid" --status-port "$2" >> "$T/w.log" 2>&1 &
	echo $! > "$T/w.pid"
	n=0
	until [ -s "$1/agent/machine-uuid" ] && [ "$(sessions_ready "$(cat "$1/agent/machine-uuid")")" -gt "$before" ]; do
		n=$((n + 1)); [ "$n" -gt 2000 ] && break
		sleep 0.005
	done
	echo $(( $(ms) - t0 ))
	kill -TERM "$(cat "$T/w.pid")"; wait "$(cat "$T/w.pid")" 2>/dev/null
}
fresh=
for k in 1 2 3; do fresh="$fresh $(run_worker "$T/wf$k" $((9500 + k)))"; done
again=$(run_worker "$T/wf1" 9510)
med=$(echo $fresh | tr ' ' '\n' | sort -n | sed -n 2p)
echo "worker join, agent start -> ready in the registry (fresh machine): runs$fresh ms, median $med ms"
echo "worker restart with its stored certificate (session only): $again ms"
[ -n "$hs" ] && awk -v m="$med" -v hs="$hs" 'BEGIN { printf "fresh join = %.1fx one bare TLS handshake (%.1f ms); issue target < 2000 ms: %s\n",
	m / hs, hs, (m < 2000 ? "met" : "NOT met") }'
