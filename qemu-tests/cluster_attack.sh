#!/bin/sh
# cluster_attack.sh: a hostile host on the cluster bridge against the QEMU
# cluster (tools/cluster: a czar VM from a USB stick and one worker VM from
# the network, a sample catalog ingested).  The hostile host is a network
# namespace of its own with a veth onto the bridge inside the cluster's
# namespace ($NET.66, no DHCP).  It:
#   - fetches the workers' iPXE script over HTTP and takes the join token
#     and the CA pin from it (anyone on the LAN can: the design assumes the
#     token stolen);
#   - reads the worker's machine uuid from its public /status, and the
#     czar's /status holds none of the SQL password, the admin key or the
#     token for it;
#   - tries to join as that uuid with the token (qregistry-join): refused,
#     the real worker keeps its name, address and state;
#   - calls the controller's and the worker's write APIs without the key,
#     with a wrong key, over plain HTTP, and the controller's loopback-only
#     port: refused;
#   - opens the worker's query port without a client certificate: refused;
#   - holds 1,000 idle and 200 slow connections on 4040 and 150 idle on the
#     controller's HTTPS port (tools/tests/attack_flood.py) while the test's
#     legitimate client (in the cluster namespace, with the password, the
#     key and the CA) still queries 4040 and calls the controller;
# and afterwards the catalog's answers through 4040 are the ones before.
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/qemu-tests/lib.sh"
. "$REPO/tools/tap.sh"
export QSERV_CLUSTER_NS=qca$$ QSERV_CLUSTER_DIR=$VM_DIR/cluster QSERV_CLUSTER_NET=10.253.0
export QSERV_CLUSTER_TIMEOUT=300
NET=$QSERV_CLUSTER_NET
CZAR=$NET.10
ATK=qca$$-atk
ATKIP=$NET.66
UP_PID= FPID=
cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	[ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
	ip netns del "$ATK" 2>/dev/null
	"$REPO/tools/cluster" down > "$VM_DIR/down.log" 2>&1
	ip netns del "$QSERV_CLUSTER_NS" 2>/dev/null
	[ -n "${KEEP_VM_DIR:-}" ] || rm -rf "$VM_DIR"
}
trap cleanup EXIT
trap 'trap - EXIT; cleanup; exit 1' INT TERM
if [ "$(id -u)" != 0 ] || [ ! -f "$BUILD/images/qserv-node.img" ] || [ ! -f "$BUILD/images/pxe/initramfs" ] ||
	[ ! -f "$BUILD/lib/qserv_scisql.so" ] || [ ! -x "$BUILD/bin/qregistry-join" ]; then
	tap_skip_all "needs root, the image, the scisql plugin and build/bin/qregistry-join"
fi
tap_plan 18
in_ns() { ip netns exec "$QSERV_CLUSTER_NS" "$@"; }
atk() { ip netns exec "$ATK" "$@"; }

"$REPO/tools/cluster" up --workers 1 --boot media --no-forward --no-queries > "$VM_DIR/up.log" 2>&1 &
UP_PID=$!
wait "$UP_PID"
rc=$?
UP_PID=
if [ $rc = 0 ]; then
	tap_pass "tools/cluster up: czar (USB stick) + 1 worker (PXE) ready, catalog ingested"
else
	tap_fail "tools/cluster up: czar (USB stick) + 1 worker (PXE) ready, catalog ingested" "$(tail -5 "$VM_DIR/up.log")"
	exit 1
fi
. "$QSERV_CLUSTER_DIR/cluster.env"
WIP=$(cat "$QSERV_CLUSTER_DIR/w1/ip")
CZ() { in_ns mariadb --no-defaults -h "$CZAR" -P 4040 -u "$QSERV_USER" -p"$QSERV_PASSWORD" -D "$QSERV_DB" -N -B "$@"; }
answers() {
	CZ -e "SELECT COUNT(*), SUM(nSources), MIN(decl), MAX(ra) FROM Object" 2>&1
	CZ -e "SELECT objectId, ra, decl FROM Object WHERE objectId IN (1, 42, 777)" 2>&1 | sort
	CZ -e "SELECT filterName, COUNT(*) FROM Source GROUP BY filterName" 2>&1 | sort
	CZ -e "SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(10, -20, 40, 10)" 2>&1
	CZ -e "SELECT * FROM Filter" 2>&1 | sort
}
answers > "$VM_DIR/answers.before"
nobj=$(wc -l < "$QSERV_CLUSTER_DIR/catalog/gen/Object.tsv")
tap_ok "the catalog's answers through 4040 taken ($(head -1 "$VM_DIR/answers.before"))" grep -q "^$nobj	" "$VM_DIR/answers.before"

# ---- the hostile host: its own namespace, a veth onto the cluster's bridge
ip netns add "$ATK" &&
	ip -n "$QSERV_CLUSTER_NS" link add atk0 type veth peer name eth0 netns "$ATK" &&
	ip -n "$QSERV_CLUSTER_NS" link set atk0 master br0 up &&
	ip -n "$ATK" link set lo up && ip -n "$ATK" addr add "$ATKIP/24" dev eth0 && ip -n "$ATK" link set eth0 up
wait_until 10 atk curl -s -m 2 -o /dev/null "http://$CZAR:9400/status"
tap_ok "a hostile host on the bridge ($ATKIP) reaches the czar" atk curl -sf -m 5 -o /dev/null "http://$CZAR:9400/status"

ipxe=$(atk curl -sf -m 10 "http://$NET.1/worker.ipxe")
TOKEN=$(echo "$ipxe" | sed -n 's/^set token *//p')
PIN=$(echo "$ipxe" | sed -n 's/^set ca *//p')
tap_ok "it fetches the iPXE script and takes the join token and CA pin from it" test -n "$TOKEN" -a -n "$PIN"
cst=$(atk curl -sf -m 10 "http://$CZAR:9400/status")
case "$cst" in
	'') tap_fail "the czar's public /status reveals no SQL password, admin key or token" "no answer" ;;
	*"$QSERV_PASSWORD"*|*"$QSERV_AUTH_KEY"*|*"$TOKEN"*) tap_fail "the czar's public /status reveals no SQL password, admin key or token" "it does" ;;
	*) tap_pass "the czar's public /status reveals no SQL password, admin key or token" ;;
esac
wst=$(atk curl -sf -m 10 "http://$WIP:9400/status")
UUID=$(echo "$wst" | jq -r .uuid)
WNAME=$(echo "$wst" | jq -r .membership.name)
tap_ok "it reads the worker's uuid ($UUID) from the worker's public /status" test -n "$UUID" -a "$UUID" != null
mkdir -p "$VM_DIR/atk"
atk "$BUILD/bin/qregistry-join" --registry "$CZAR:7070" --token "$TOKEN" --pin "$PIN" --uuid "$UUID" \
	--dir "$VM_DIR/atk" > "$VM_DIR/join.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "machine $UUID is already $WNAME: it must prove its node key" "$VM_DIR/join.out"; then
	tap_pass "joining as $WNAME's uuid with the stolen token is refused, with the reason"
else
	tap_fail "joining as $WNAME's uuid with the stolen token is refused, with the reason" "rc=$rc $(cat "$VM_DIR/join.out")"
fi
tap_ok "the attacker got no node certificate" test ! -s "$VM_DIR/atk/node.crt"
nodes=$(in_ns "$BUILD/bin/qservctl" --url "http://$CZAR:9400" nodes --json 2>/dev/null)
tap_is "$(echo "$nodes" | jq -r --arg n "$WNAME" '.nodes[] | select(.name == $n) | "\(.addr) \(.state) \(.uuid)"')" \
	"$WIP ready $UUID" "the registry still has $WNAME at its own address, ready"

# ---- the write APIs without the key
code() { atk curl -sk -m 20 -o "$VM_DIR/body" -w '%{http_code}' "$@"; }
got="$(code -X POST "https://$CZAR:25081/ingest/database" -H 'Content-Type: application/json' \
	-d '{"database":"evil","num_stripes":10,"num_sub_stripes":3,"overlap":0.01}')"
got="$got $(code -X DELETE "https://$CZAR:25081/ingest/database/$QSERV_DB")"
got="$got $(code -X POST "https://$CZAR:25081/meta/worker" -d '{"worker":"evil","host":"10.253.0.66","port":25004}')"
got="$got $(code -X DELETE "https://$CZAR:25081/ingest/database/$QSERV_DB" -H 'Authorization: Bearer 0123')"
tap_is "$got" "401 401 401 401" "controller: writes without the key and with a wrong key: 401"
got="$(code -X POST "https://$WIP:25004/worker/database" -d '{"database":"evil"}')"
got="$got $(code -X DELETE "https://$WIP:25004/worker/database/$QSERV_DB")"
got="$got $(code -X POST "https://$WIP:25004/ingest/file" -d '{"transaction_id":1,"table":"Object","url":"file:///etc/passwd"}')"
got="$got $(code -X POST "https://$WIP:25004/worker/database" -H 'X-Qserv-Auth-Key: nope' -d '{"database":"evil"}')"
tap_is "$got" "401 401 401 401" "worker: writes without the key and with a wrong key: 401"
got="$(atk curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "http://$CZAR:25081/ingest/database" -d '{}')"
got="$got $(atk curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "http://$WIP:25004/worker/database" -d '{}')"
got="$got $(atk curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "http://$CZAR:25082/ingest/database" -d '{}')"
tap_is "$got" "000 000 000" "plain HTTP to both HTTPS ports and to the controller's loopback port: no answer"
out=$(atk python3 - "$WIP" <<'PY' 2>&1
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    s = ctx.wrap_socket(socket.create_connection((sys.argv[1], 25005), timeout=15))
    s.sendall(b"\0" * 64)
    print("answered" if s.recv(4096) else "closed after the handshake")
except (ssl.SSLError, ConnectionError, socket.timeout) as e:
    print("refused:", type(e).__name__)
PY
)
case $out in refused:*|"closed after the handshake") tap_pass "the worker's query port without a client certificate: $out" ;;
	*) tap_fail "the worker's query port without a client certificate" "$out" ;; esac

# ---- the flood, a legitimate client meanwhile
# the name in the controller's certificate, checked by the legitimate client
CN=$(in_ns openssl s_client -connect "$CZAR:25081" -CAfile "$QSERV_CA_FILE" </dev/null 2>/dev/null |
	openssl x509 -noout -subject -nameopt multiline 2>/dev/null | sed -n 's/^ *commonName *= *//p')
rm -f "$VM_DIR/flood.done"
ip netns exec "$ATK" python3 "$REPO/tools/tests/attack_flood.py" "$VM_DIR/flood.state" "$VM_DIR/flood.done" "$CZAR" \
	"4040:4040:mysql:1000:200" "controller:25081:tls:150:0" > "$VM_DIR/flood.out" 2>&1 &
FPID=$!
wait_until 120 grep -q '^ready' "$VM_DIR/flood.state"
tap_is "$(awk '$1 == "open" { printf "%s %d+%d ", $2, $3, $4 }' "$VM_DIR/flood.state" 2>/dev/null)" "4040 1000+200 controller 150+0 " \
	"the hostile host holds 1,000 idle and 200 slow connections on 4040 and 150 on the controller"
r=$(timeout 120 ip netns exec "$QSERV_CLUSTER_NS" mariadb --no-defaults -h "$CZAR" -P 4040 -u "$QSERV_USER" \
	-p"$QSERV_PASSWORD" -D "$QSERV_DB" -N -e 'SELECT COUNT(*) FROM Object' 2>&1)
tap_is "$r" "$nobj" "during the flood: the legitimate client queries through 4040"
r=$(in_ns curl -s -m 30 --cacert "$QSERV_CA_FILE" --connect-to "$CN:25081:$CZAR:25081" \
	-H "Authorization: Bearer $QSERV_AUTH_KEY" -o /dev/null -w '%{http_code}' "https://$CN:25081/ingest/database" 2>&1)
tap_is "$r" 200 "during the flood: the key and the CA still reach the controller"
touch "$VM_DIR/flood.done"
wait_until 30 sh -c "! kill -0 $FPID 2>/dev/null"
FPID=
tap_diag "sockets the servers had not closed by the end: $(grep '^held' "$VM_DIR/flood.out" | tr '\n' ' ')"

# ---- afterwards
answers > "$VM_DIR/answers.after"
if cmp -s "$VM_DIR/answers.before" "$VM_DIR/answers.after"; then
	tap_pass "the catalog's answers through 4040 are unchanged"
else
	tap_fail "the catalog's answers through 4040 are unchanged" "$(diff "$VM_DIR/answers.before" "$VM_DIR/answers.after" | head -6 | tr '\n' '|')"
fi
tap_is "$(CZ -e 'SHOW DATABASES' 2>&1 | grep -c '^evil$')" 0 "no database 'evil' appeared"
tap_done
