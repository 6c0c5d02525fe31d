#!/bin/sh
# registry_attack.sh: a hostile host on the cluster LAN against the registry,
# with real processes: a czar qagent (registry) and a worker qagent, each in
# its own network namespace on a bridge this test creates (10.251.0.0/24,
# nothing leaves it), an attacker namespace and a second joiner namespace.
# Covers: a stolen join token plus a known uuid (public in /status) is
# refused with a clear error, the registry logs the refused takeover with the
# attacker's address, and the real node keeps its identity and session; 200
# idle and 40 trickling TCP connections to port 7070 do not stop a
# legitimate join from finishing; rapid join attempts from one address are
# refused (rate_limited) while another address joins; token rotation keeps
# joined nodes and refuses the old token; one address gets at most 4
# connections before their first message (the rest closed at once,
# counted as handshakes_capped).  The certificates the registry issued,
# served by a TLS server (openssl s_server) on the nodes' addresses, are
# accepted by curl and by openssl s_client's host name and IP checks.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/agent/tests/netns_agents.sh"
BUILD=${BUILD:-$REPO/build}
QAGENT=${QAGENT:-$BUILD/bin/qagent}
QSERVCTL=$BUILD/bin/qservctl
JOIN=$BUILD/bin/qregistry-join
P=qa$$
T=$(mktemp -d /tmp/qserv-registry-attack.XXXXXX)
NODES="czar w1 atk w3"     # 10.251.0.1 .2 .3 .4

cleanup() {
	for _f in idle srv-w1 srv-czar; do
		[ -f "$T/$_f.pid" ] && kill "$(cat "$T/$_f.pid")" 2>/dev/null
	done
	netns_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

if [ "$(id -u)" != 0 ] || ! ip netns add "$P-br" 2>/dev/null; then
	tap_skip_all "needs root and ip netns"
fi
tap_plan 15
netns_nodes 10.251.0

# join NS UUID DIR [TOKEN]: one join attempt from namespace NS (output in $T/out)
join() {
	ip netns exec "$P-$1" "$JOIN" --registry 10.251.0.1:7070 --token "${4:-$TOKEN}" --pin "$PIN" \
		--uuid "$2" --dir "$T/$3" > "$T/out" 2>&1
}

start czar "qserv.role=czar qserv.cluster=attack"
wait_for 20 sh -c "ip netns exec $P-czar curl -sf -m 2 http://127.0.0.1:9400/status | jq -en 'input | .registry.ca_pin' > /dev/null"
TOKEN=$(status czar | jq -r .registry.token)
PIN=$(status czar | jq -r .registry.ca_pin)
W="qserv.role=worker qserv.join=10.251.0.1:7070 qserv.token=$TOKEN qserv.ca=$PIN"
start w1 "$W"
if wait_for 30 is_state worker-0 ready; then tap_pass "the real worker joined as worker-0"; else tap_fail "the real worker joined as worker-0" "$(nodes)"; fi
uuid=$(node_field worker-0 uuid)
w1_ready() { status w1 | jq -en 'input | .membership.state == "ready"' > /dev/null; }
wait_for 10 w1_ready
sessions=$(status w1 | jq -r .membership.sessions)

# --- a stolen token and a known uuid -------------------------------------------
if join atk "$uuid" atk1; then
	tap_fail "stolen token + known uuid refused" "$(cat "$T/out")"
elif grep -q "machine $uuid is already worker-0: it must prove its node key, or the operator re-admits it with \`qservctl nodes readmit worker-0\`" "$T/out"; then
	tap_pass "stolen token + known uuid refused, the attacker told what would admit it"
else
	tap_fail "stolen token + known uuid refused, the attacker told what would admit it" "$(cat "$T/out")"
fi
if wait_for 5 grep -q "join from 10.251.0.3 refused: takeover of worker-0 (machine $uuid) refused" "$T/czar.log"; then
	tap_pass "the registry logs the refused takeover with the attacker's address"
else
	tap_fail "the registry logs the refused takeover with the attacker's address" "$(grep -i refused "$T/czar.log" | tail -3)"
fi
sleep 1
st=$(status w1)
if [ "$(node_field worker-0 addr) $(node_field worker-0 state)" = "10.251.0.2 ready" ] &&
	[ "$(echo "$st" | jq -r '"\(.membership.name) \(.membership.state) \(.membership.sessions)"')" = "worker-0 ready $sessions" ] &&
	! ip netns exec "$P-atk" test -s "$T/atk1/node.crt"; then
	tap_pass "the real node keeps its identity, address and session; the attacker got no certificate"
else
	tap_fail "the real node keeps its identity, address and session; the attacker got no certificate" \
		"$(node_field worker-0 addr) $(node_field worker-0 state) $(echo "$st" | jq -c .membership)"
fi

# --- idle and trickling sockets --------------------------------------------------
ip netns exec "$P-atk" python3 -c '
import socket, sys, time
held = []
for i in range(240):
    s = socket.create_connection(("10.251.0.1", 7070), timeout=5)
    if i >= 200:
        s.send(b"\x16")          # the first byte of a TLS record, then nothing
    held.append(s)
open(sys.argv[1], "w").write("%d\n" % len(held))
time.sleep(60)
' "$T/idle.ready" > "$T/idle.log" 2>&1 &
echo $! > "$T/idle.pid"
if wait_for 20 test -s "$T/idle.ready"; then tap_pass "240 idle and trickling connections opened to port 7070"
else tap_fail "240 idle and trickling connections opened to port 7070" "$(cat "$T/idle.log")"; fi
capped() { [ "$(status czar | jq -r '.registry.counters.handshakes_capped // 0')" -ge "$1" ]; }
if wait_for 20 capped 236; then
	tap_pass "one address gets 4 connections before their first message, the other 236 closed and counted"
else
	tap_fail "one address gets 4 connections before their first message" \
		"$(status czar | jq -c .registry.counters)"
fi
start w3 "$W"
if wait_for 40 is_state worker-1 ready; then
	tap_pass "a legitimate worker joins meanwhile (worker-1)"
else
	tap_fail "a legitimate worker joins meanwhile (worker-1)" "$(nodes | jq -c '.nodes[] | [.name, .state]') $(tail -3 "$T/w3.log")"
fi
kill "$(cat "$T/idle.pid")" 2>/dev/null
rm -f "$T/idle.pid"

# --- the issued certificates name the node and its address ------------------------
# serve NODE ADDR: the node's registry-issued certificate and key on ADDR:7443
serve() {
	ip netns exec "$P-$1" openssl s_server -quiet -www -accept "$2:7443" -cert "$T/$1/agent/node.crt" \
		-key "$T/$1/agent/node.key" > "$T/srv-$1.log" 2>&1 &
	echo $! > "$T/srv-$1.pid"
}
# fetch ADDR: curl from the attacker's namespace, trusting only the cluster CA
fetch() { ip netns exec "$P-atk" curl -sf -m 5 -o /dev/null --cacert "$T/w1/agent/ca.crt" "https://$1:7443/"; }
# s_client ADDR OPTS...: openssl's verification of the server's certificate
s_client() {
	_a=$1; shift
	echo | ip netns exec "$P-atk" openssl s_client -connect "$_a:7443" -CAfile "$T/w1/agent/ca.crt" \
		-verify_return_error "$@" 2>&1 | grep -q "Verify return code: 0 (ok)"
}
if ! command -v openssl > /dev/null; then
	tap_skip "openssl not installed: certificate name checks"
	tap_skip "openssl not installed: certificate name checks"
	tap_skip "openssl not installed: certificate name checks"
else
	serve w1 10.251.0.2
	serve czar 10.251.0.1
	if wait_for 10 fetch 10.251.0.2; then
		tap_pass "curl --cacert ca.crt https://10.251.0.2:7443/ accepts worker-0's certificate"
	else
		tap_fail "curl --cacert ca.crt https://10.251.0.2:7443/ accepts worker-0's certificate" \
			"$(openssl x509 -noout -ext subjectAltName -in "$T/w1/agent/node.crt" 2>&1) $(cat "$T/srv-w1.log")"
	fi
	if s_client 10.251.0.2 -verify_ip 10.251.0.2 && s_client 10.251.0.2 -verify_hostname worker-0 &&
		! s_client 10.251.0.2 -verify_ip 10.251.0.4 && ! s_client 10.251.0.2 -verify_hostname worker-1; then
		tap_pass "openssl s_client -verify_ip 10.251.0.2 / -verify_hostname worker-0 accept it, another address or name not"
	else
		tap_fail "openssl s_client -verify_ip / -verify_hostname" \
			"$(echo | ip netns exec "$P-atk" openssl s_client -connect 10.251.0.2:7443 -CAfile "$T/w1/agent/ca.crt" -verify_ip 10.251.0.2 2>&1 | grep -i verif)"
	fi
	if wait_for 10 fetch 10.251.0.1 && s_client 10.251.0.1 -verify_ip 10.251.0.1 -verify_hostname czar-0; then
		tap_pass "the czar's certificate is accepted at 10.251.0.1 as czar-0 (curl, openssl)"
	else
		tap_fail "the czar's certificate is accepted at 10.251.0.1 as czar-0" \
			"$(openssl x509 -noout -ext subjectAltName -in "$T/czar/agent/node.crt" 2>&1) $(cat "$T/srv-czar.log")"
	fi
	for _f in srv-w1 srv-czar; do kill "$(cat "$T/$_f.pid")" 2>/dev/null; rm -f "$T/$_f.pid"; done
fi

# --- rapid join attempts from one address -----------------------------------------
limited=0
ok=0
for i in $(seq 1 14); do
	if join atk "atk-$i" "atk-$i"; then ok=$((ok + 1)); elif grep -q rate_limited "$T/out"; then limited=$((limited + 1)); fi
done
msg=$(grep -h rate_limited "$T/out")
if [ "$limited" -ge 4 ] && echo "$msg" | grep -q "too many join attempts from 10.251.0.3"; then
	tap_pass "rapid joins from one address refused ($ok admitted, $limited rate_limited, clear error)"
else
	tap_fail "rapid joins from one address refused" "$ok admitted, $limited rate_limited: $(cat "$T/out")"
fi
if join w3 "other-machine" other && grep -q "^joined worker-" "$T/out"; then
	tap_pass "another address joins meanwhile"
else
	tap_fail "another address joins meanwhile" "$(cat "$T/out")"
fi

# --- token rotation ----------------------------------------------------------------
old=$TOKEN
TOKEN=$("$QSERVCTL" token rotate -s "$T/admin.sock" | sed -n 's/^qserv.token=\([^ ]*\).*/\1/p')
if [ -n "$TOKEN" ] && [ "$TOKEN" != "$old" ] && ! join w3 "rot-old" rot-old "$old" && grep -q bad_token "$T/out" &&
	join w3 "rot-new" rot-new && sleep 1 && is_state worker-0 ready; then
	tap_pass "qservctl token rotate: old token refused, new one joins, joined nodes unaffected"
else
	tap_fail "qservctl token rotate: old token refused, new one joins, joined nodes unaffected" "$TOKEN $(cat "$T/out")"
fi

# --- single-use tokens (qservctl token issue) ---------------------------------------
one=$("$QSERVCTL" token issue --uuid single-1 --ttl 600 -s "$T/admin.sock" | sed -n 's/^qserv.token=\([^ ]*\).*/\1/p')
if [ -n "$one" ] && ! join w3 "single-2" single-2 "$one" && join w3 "single-1" single-1 "$one" &&
	grep -q "^joined worker-" "$T/out"; then
	tap_pass "qservctl token issue --uuid: admits that machine only"
else
	tap_fail "qservctl token issue --uuid: admits that machine only" "$one $(cat "$T/out")"
fi
if ! join w3 "single-3" single-3 "$one"; then
	tap_pass "a single-use token is spent after one join ($(head -c 80 "$T/out"))"
else
	tap_fail "a single-use token is spent after one join" "$(cat "$T/out")"
fi
tap_done
