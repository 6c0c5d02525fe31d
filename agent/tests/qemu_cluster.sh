#!/bin/sh
# qemu_cluster.sh: a czar VM and two worker VMs of the real image on a
# bridge inside a network namespace this test creates (taps, dnsmasq DHCP
# with a fixed lease per MAC, 10.251.0.0/24; nothing leaves the namespace).
# The workers get the token and CA pin on their kernel command line, join
# as worker-0 and worker-1 (qservctl nodes, read from the czar's /status;
# worker-1 with a static qserv.ip instead of DHCP),
# and worker-0 keeps its name after a power cycle (down while off, ready
# again after boot); pulling worker-0's cable (set_link) and plugging it
# back makes it renew its lease and re-open its session.  Boot-to-ready
# times are printed, never asserted.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/qemu-tests/lib.sh"
. "$REPO/tools/tap.sh"
NS=qcl$$
QSERVCTL=$BUILD/bin/qservctl
CZAR=10.251.0.10
cleanup() {
	vm_kill_all
	[ -f "$VM_DIR/dnsmasq.pid" ] && kill "$(cat "$VM_DIR/dnsmasq.pid")" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "${KEEP_VM_DIR:-}" ] || rm -rf "$VM_DIR"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
if [ "$(id -u)" != 0 ] || [ ! -f "$KERNEL" ] || [ ! -f "$INITRD" ] || ! ip netns add "$NS" 2>/dev/null; then
	tap_skip_all "needs root, ip netns and the image"
fi
tap_plan 9
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add 10.251.0.1/24 dev br0
ip -n "$NS" link set br0 up
for t in 0 1 2; do
	ip -n "$NS" tuntap add "tap$t" mode tap
	ip -n "$NS" link set "tap$t" master br0 up
done
ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=br0 \
	--bind-interfaces --dhcp-range=10.251.0.100,10.251.0.150,1h \
	--dhcp-host=52:54:00:51:00:10,$CZAR --dhcp-host=52:54:00:51:00:11,10.251.0.11 \
	--dhcp-host=52:54:00:51:00:12,10.251.0.12 --dhcp-leasefile="$VM_DIR/leases" \
	--pid-file="$VM_DIR/dnsmasq.pid" > "$VM_DIR/dnsmasq.log" 2>&1 &

# node NAME TAP MACBYTE UUID CMDLINE: boot one VM of the image on the bridge
node() {
	VM_WRAP="ip netns exec $NS" VM_NIC="tap,ifname=$2,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:51:00:$3" \
		vm_boot "$1" -kernel "$KERNEL" -initrd "$INITRD" -append "console=ttyS0 $5" -uuid "$4" \
		-device virtio-rng-pci $6
}
# worker-0's NVMe SSD, kept across its power cycle: the agent keeps its node
# key there, which is how a known machine proves itself to the registry when
# it joins again (a diskless one would need `qservctl nodes readmit`).
mkdir -p "$VM_DIR" && truncate -s 1G "$VM_DIR/w0-nvme.img"
W0_DISK="-drive file=$VM_DIR/w0-nvme.img,if=none,id=dn,format=raw -device nvme,drive=dn,serial=QS-w0-NVME"
in_ns() { ip netns exec "$NS" "$@"; }
czar_status() { in_ns curl -sf -m 10 "http://$CZAR:9400/status"; }
nodes_json() { in_ns "$QSERVCTL" --url "http://$CZAR:9400" nodes --json 2>/dev/null || echo '{}'; }
state_of() { nodes_json | jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .state'; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
wait_for() {
	_t=$1; shift
	_i=0
	while [ "$_i" -lt "$_t" ]; do
		"$@" && return 0
		sleep 1
		_i=$((_i + 1))
	done
	return 1
}
# keeps the czar's /status in $ST once it has the registry view
pin_ready() {
	ST=$(czar_status) && echo "$ST" | jq -en 'input | .registry.ca_pin' > /dev/null 2>&1 &&
		grep -q 'registry:   qserv.token=' "$VM_DIR/czar/console.log"
}

node czar tap0 10 5e1f0c2a-0000-4c1e-9a57-00000000c0a1 "qserv.role=czar qserv.cluster=qemutest"
if wait_for 180 pin_ready; then tap_pass "czar VM serves its registry view"; else tap_fail "czar VM serves its registry view" "$(tail -5 "$VM_DIR/czar/console.log")"; fi
PIN=$(echo "$ST" | jq -r .registry.ca_pin)
# the token is read off the czar's console, as an operator would: /status
# from another address never shows it
TOKEN=$(tr -d '\r' < "$VM_DIR/czar/console.log" | sed -n 's/.*registry:   qserv\.token=\([^ ]*\) qserv\.ca=\([^ ]*\).*/\1/p' | tail -n 1)
tap_is "$(grep -c "qserv.token=$TOKEN qserv.ca=$PIN" "$VM_DIR/czar/console.log" | sed 's/^[1-9][0-9]*$/yes/') $(echo "$ST" | jq -r '.registry | has("token")')" \
	"yes false" "token and pin on the czar's console; /status from the network shows the pin, not the token"
W="qserv.role=worker qserv.join=$CZAR:7070 qserv.token=$TOKEN qserv.ca=$PIN"

node w0 tap1 11 5e1f0c2a-0000-4c1e-9a57-0000000000b0 "$W" "$W0_DISK"
wait_for 180 is_state worker-0 ready
tap_diag "worker-0 ready $(vm_elapsed w0) s after its VM started"
# worker-1 takes a static address (qserv.ip, applied over rtnetlink) instead of DHCP
node w1 tap2 12 5e1f0c2a-0000-4c1e-9a57-0000000000b1 "$W qserv.ip=10.251.0.12/24,10.251.0.1"
wait_for 180 is_state worker-1 ready
tap_diag "worker-1 ready $(vm_elapsed w1) s after its VM started"
list=$(in_ns "$QSERVCTL" --url "http://$CZAR:9400" nodes 2>&1)
tap_diag "$(echo "$list" | tr '\n' '|')"
if echo "$list" | grep -q "^worker-0 .*ready .*10.251.0.11" && echo "$list" | grep -q "^worker-1 .*ready .*10.251.0.12"; then
	tap_pass "qservctl nodes lists worker-0 (DHCP) and worker-1 (static ip) ready at their addresses"
else
	tap_fail "qservctl nodes lists worker-0 (DHCP) and worker-1 (static ip) ready at their addresses"
fi
host1=$(in_ns curl -sf -m 10 http://10.251.0.12:9400/status | jq -r .hostname)
tap_is "$host1" "worker-1" "worker-1's hostname is the name the registry gave"
tap_is "$(state_of czar-0) $(nodes_json | jq -r '.nodes[] | select(.name == "czar-0") | .addr')" "ready $CZAR" \
	"czar-0 ready at its own address"

# pull worker-0's cable and plug it back: the agent sees carrier go and come
# back, renews its DHCP lease and re-opens its session (re-announcing itself)
sess=$(nodes_json | jq '.nodes[] | select(.name == "worker-0") | .sessions')
printf 'set_link virtio-net-pci.0 off\n' | socat - "UNIX-CONNECT:$VM_DIR/w0/monitor.sock" > /dev/null 2>&1
sleep 3
printf 'set_link virtio-net-pci.0 on\n' | socat - "UNIX-CONNECT:$VM_DIR/w0/monitor.sock" > /dev/null 2>&1
more_sessions() { [ "$(nodes_json | jq '.nodes[] | select(.name == "worker-0") | .sessions')" -gt "$sess" ] 2>/dev/null; }
if wait_for 60 more_sessions && grep -q "eth0 lost carrier" "$VM_DIR/w0/console.log" &&
	grep -q "renewing its DHCP lease" "$VM_DIR/w0/console.log" && is_state worker-0 ready; then
	tap_pass "cable pulled and back: lease renewed, session re-opened, worker-0 ready"
else
	tap_fail "cable pulled and back: lease renewed, session re-opened, worker-0 ready" \
		"$(grep -i 'carrier\|lease\|registry' "$VM_DIR/w0/console.log" | tail -5)"
fi

# power-cycle worker-0: down while off, same name when back
kill -9 "$(cat "$VM_DIR/w0/pid")"
if wait_for 30 is_state worker-0 down; then tap_pass "powered-off worker-0 marked down"; else tap_fail "powered-off worker-0 marked down"; fi
mv "$VM_DIR/w0" "$VM_DIR/w0.first"
node w0 tap1 11 5e1f0c2a-0000-4c1e-9a57-0000000000b0 "$W" "$W0_DISK"
if wait_for 180 is_state worker-0 ready && [ "$(nodes_json | jq '[.nodes[] | select(.role == "worker")] | length')" = 2 ]; then
	tap_pass "worker-0 back under the same name, no new identity"
else
	tap_fail "worker-0 back under the same name, no new identity" "$(nodes_json)"
fi
tap_diag "worker-0 ready again $(vm_elapsed w0) s after its VM restarted"
# join cost inside the VMs, from their console's kernel timestamps
for v in w0 w1; do
	awk -v v=$v 'function ts() { t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t); return t + 0 }
		/qagent: info: network: .*configured/ { net = ts() }
		/state in .*qserv/ { st = ts() }
		/session with the registry .* up as/ && !up { up = ts() }
		END { if (up) printf "# %s: membership start -> ready %.2f s; network configured -> ready %.2f s\n", v, up - st, up - net }' \
		"$VM_DIR/$v/console.log"
done
if grep -q "session with the registry .* up as worker-0" "$VM_DIR/w0/console.log"; then
	tap_pass "worker console reports its session as worker-0"
else
	tap_fail "worker console reports its session as worker-0" "$(grep -i cluster "$VM_DIR/w0/console.log" | tail -3)"
fi
tap_done
