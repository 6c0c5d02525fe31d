#!/bin/sh
# registry_sim.sh: 1000 simulated agents (qregistry-sim: real keys, TLS and
# protocol, one process) join one real registry (qagent --host, czar) on
# loopback inside a network namespace this test creates, open their
# mutual-TLS sessions and heartbeat: every node joined, every session
# opened, every heartbeat acknowledged and counted by the registry, every
# node ready.  Prints qregistry-sim's TAP; speed is measured in
# bench_registry.sh, never asserted here.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
BUILD=${BUILD:-$REPO/build}
QAGENT=${QAGENT:-$BUILD/bin/qagent}
NODES=${SIM_NODES:-1000}
NS=qsim$$
T=$(mktemp -d /tmp/qserv-registry-sim.XXXXXX)
cleanup() {
	[ -f "$T/czar.pid" ] && kill -9 "$(cat "$T/czar.pid")" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
if [ "$(id -u)" != 0 ] || ! ip netns add "$NS" 2>/dev/null; then
	tap_skip_all "needs root and ip netns"
fi
ip -n "$NS" link set lo up
echo "qserv.role=czar qserv.cluster=sim" > "$T/czar.cmdline"
ip netns exec "$NS" "$QAGENT" --host --data-dir "$T/czar" --cmdline "$T/czar.cmdline" --conf /dev/null \
	--pidfile "$T/czar.agentpid" --status-port 9400 --admin-socket "$T/admin.sock" > "$T/czar.log" 2>&1 &
echo $! > "$T/czar.pid"
i=0
until ip netns exec "$NS" curl -sf -m 2 http://127.0.0.1:9400/status | jq -en 'input | .registry.ca_pin' > /dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then tap_plan 1; tap_fail "registry started" "$(tail -3 "$T/czar.log")"; exit 1; fi
	sleep 0.2
done
# the registry port must accept connections too (curl exit 7 = refused)
i=0
while ip netns exec "$NS" curl -s -m 1 telnet://127.0.0.1:7070 < /dev/null > /dev/null 2>&1; [ $? -eq 7 ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then tap_plan 1; tap_fail "registry listening on 7070" "$(tail -3 "$T/czar.log")"; exit 1; fi
	sleep 0.2
done
st=$(ip netns exec "$NS" curl -sf http://127.0.0.1:9400/status)
ip netns exec "$NS" "$BUILD/bin/qregistry-sim" --registry 127.0.0.1:7070 \
	--token "$(echo "$st" | jq -r .registry.token)" --pin "$(echo "$st" | jq -r .registry.ca_pin)" \
	--nodes "$NODES" --heartbeats 2 --interval-ms 2000 --admin-socket "$T/admin.sock" 2> "$T/sim.err"
rc=$?
# the simulator's own complaints (first failures, thread limits) as TAP diagnostics
grep -v '^join_seconds=' "$T/sim.err" | head -20 | sed 's/^/# sim: /'
grep -q 'registry: ' "$T/czar.log" || tail -5 "$T/czar.log" | sed 's/^/# registry: /'
exit $rc
