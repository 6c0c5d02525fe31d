#!/bin/sh
# pxe_boot.sh: diskless VMs with no -kernel boot build/images/pxe/ through
# their NIC's iPXE ROM (ipxe-qemu), each on a bridge in a network namespace
# this test creates, the two ways docs/pxe.md describes:
#   A  dnsmasq is the DHCP server: fixed lease by MAC, a tag that picks the
#      group's iPXE script (the template with role/cluster set), script and
#      boot files over HTTP (busybox httpd);
#   B  the site already runs DHCP (busybox udhcpd here, static lease):
#      dnsmasq in proxy-DHCP mode hands out only the per-node script
#      (tagged by MAC), script and boot files over dnsmasq's TFTP;
#   C  as A, on the same bridge, under UEFI (OVMF + the ROM's iPXE EFI
#      driver; the kernel's EFI stub takes the initrd= of the script).
# Each node must answer /status on its lease address (curl inside the
# namespace) with the role and cluster of its script and that address.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
PXE=$BUILD/images/pxe
NS_A=qpxeA$$
NS_B=qpxeB$$
DAEMONS=
cleanup() {
	vm_kill_all
	for p in $DAEMONS; do kill "$p" 2>/dev/null; done
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$VM_DIR/http" "$VM_DIR/tftp" # the boot files' copies; logs stay
}
trap cleanup EXIT INT TERM
tap_plan 18

# bridge NS SUBNET: namespace with br0 = SUBNET.1/24 and tap0 on it.
bridge() {
	ip netns add "$1" && ip -n "$1" link set lo up &&
		ip -n "$1" link add br0 type bridge && ip -n "$1" addr add "$2.1/24" dev br0 &&
		ip -n "$1" link set br0 up && ip -n "$1" tuntap add tap0 mode tap &&
		ip -n "$1" link set tap0 master br0 up
}
# script FILE ROLE CLUSTER: the iPXE template with role and cluster set.
script() {
	sed -e "s/^set role .*/set role $2/" -e "s/^set cluster .*/set cluster $3/" \
		-e "s/^set extra.*/set extra $TCG_CMDLINE/" "$PXE/boot.ipxe" > "$1"
}
# ns_status NS ADDR: GET /status of the node at ADDR, from inside NS.
ns_status() { ip netns exec "$1" curl -sf -m 5 "http://$2:9400/status"; }
# wait_addr NS ADDR NAME SECONDS: until /status lists ADDR/24 (the node's
# own DHCP done); gives up at once if the VM is gone or its kernel panicked.
wait_addr() {
	_end=$(($(date +%s) + $4))
	while [ "$(date +%s)" -lt "$_end" ]; do
		ns_status "$1" "$2" 2> /dev/null | json '.addresses[]' 2> /dev/null | grep -qx "$2/24" && return 0
		kill -0 "$(cat "$VM_DIR/$3/pid")" 2> /dev/null || return 1
		grep -q "Kernel panic" "$VM_DIR/$3/console.log" 2> /dev/null && return 1
		sleep 1
	done
	return 1
}

root_a=$VM_DIR/http
root_b=$VM_DIR/tftp
mkdir -p "$root_a" "$root_b"
cp "$PXE/vmlinuz" "$PXE/initramfs" "$root_a/"
cp "$PXE/vmlinuz" "$PXE/initramfs" "$root_b/"
script "$root_a/workers.ipxe" worker "pxe-http-$$"
script "$root_b/node-11.ipxe" worker "pxe-proxy-$$"

ok=true
bridge "$NS_A" 10.77.1 && bridge "$NS_B" 10.77.2 || ok=false
ip -n "$NS_A" tuntap add tap1 mode tap && ip -n "$NS_A" link set tap1 master br0 up || ok=false
if $ok; then
	ip netns exec "$NS_A" busybox httpd -f -p 10.77.1.1:80 -h "$root_a" &
	DAEMONS="$DAEMONS $!"
	ip netns exec "$NS_A" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--interface=br0 --bind-interfaces --dhcp-leasefile="$VM_DIR/a.leases" \
		--dhcp-range=10.77.1.100,10.77.1.200,255.255.255.0,1h \
		--dhcp-host=52:54:00:77:01:10,10.77.1.10,set:workers \
		--dhcp-host=52:54:00:77:01:12,10.77.1.12,set:workers \
		--dhcp-userclass=set:ipxe,iPXE \
		--dhcp-boot=tag:ipxe,tag:workers,http://10.77.1.1/workers.ipxe \
		--pid-file="$VM_DIR/a.dnsmasq.pid" --log-dhcp --log-facility="$VM_DIR/a.dnsmasq.log" &
	DAEMONS="$DAEMONS $!"
	cat > "$VM_DIR/udhcpd.conf" <<-EOC
	start 10.77.2.100
	end 10.77.2.200
	interface br0
	lease_file $VM_DIR/b.udhcpd.leases
	pidfile $VM_DIR/b.udhcpd.pid
	static_lease 52:54:00:77:02:11 10.77.2.11
	option subnet 255.255.255.0
	option lease 3600
	EOC
	ip netns exec "$NS_B" busybox udhcpd -f "$VM_DIR/udhcpd.conf" > "$VM_DIR/b.udhcpd.log" 2>&1 &
	DAEMONS="$DAEMONS $!"
	ip netns exec "$NS_B" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--interface=br0 --bind-interfaces --dhcp-range=10.77.2.0,proxy,255.255.255.0 \
		--dhcp-userclass=set:ipxe,iPXE --dhcp-mac=set:node11,52:54:00:77:02:11 \
		--pxe-service=tag:ipxe,tag:node11,x86PC,qserv-node,node-11.ipxe \
		--enable-tftp --tftp-root="$root_b" \
		--pid-file="$VM_DIR/b.dnsmasq.pid" --log-dhcp --log-facility="$VM_DIR/b.dnsmasq.log" &
	DAEMONS="$DAEMONS $!"
	sleep 1
fi
tap_ok "namespaces, bridges, dnsmasq, httpd and udhcpd started" $ok

VM_WRAP="ip netns exec $NS_A" VM_NIC="tap,ifname=tap0,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:77:01:10" \
	vm_boot a -boot n
VM_WRAP="ip netns exec $NS_B" VM_NIC="tap,ifname=tap0,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:77:02:11" \
	vm_boot b -boot n

# A: DHCP + HTTP
if wait_addr "$NS_A" 10.77.1.10 a 300; then
	tap_pass "A (dnsmasq DHCP, HTTP): node answers /status on its fixed lease 10.77.1.10"
	tap_diag "A: power-on to /status with address in $(vm_elapsed a) s"
else
	tap_fail "A (dnsmasq DHCP, HTTP): node answers /status on its fixed lease 10.77.1.10" "see $VM_DIR/a/console.log"
fi
st=$(ns_status "$NS_A" 10.77.1.10 || echo '{}')
tap_is "$(echo "$st" | json .role)" "worker" "A: role from the group's iPXE script"
tap_is "$(echo "$st" | json .cluster)" "pxe-http-$$" "A: cluster from the group's iPXE script"
tap_is "$(echo "$st" | json '.boot_medium')" "null" "A: no boot medium (network boot)"
tap_ok "A: iPXE fetched the tagged script over HTTP" console_has a "http://10.77.1.1/workers.ipxe"

# B: site DHCP + dnsmasq proxy-DHCP + TFTP
if wait_addr "$NS_B" 10.77.2.11 b 300; then
	tap_pass "B (site DHCP + proxy-DHCP, TFTP): node answers /status on the site's lease 10.77.2.11"
	tap_diag "B: power-on to /status with address in $(vm_elapsed b) s"
else
	tap_fail "B (site DHCP + proxy-DHCP, TFTP): node answers /status on the site's lease 10.77.2.11" "see $VM_DIR/b/console.log"
fi
st=$(ns_status "$NS_B" 10.77.2.11 || echo '{}')
tap_is "$(echo "$st" | json .role)" "worker" "B: role from the per-node iPXE script"
tap_is "$(echo "$st" | json .cluster)" "pxe-proxy-$$" "B: cluster from the per-node iPXE script"
tap_ok "B: iPXE fetched the per-node script by TFTP from the proxy" console_has b "tftp://10.77.2.1/node-11.ipxe"
if grep -q "sent .*initramfs to 10.77.2.11" "$VM_DIR/b.dnsmasq.log"; then
	tap_pass "B: dnsmasq's TFTP sent the initramfs"
else
	tap_fail "B: dnsmasq's TFTP sent the initramfs" "see $VM_DIR/b.dnsmasq.log"
fi
tap_ok "B: the kernel got the script's command line" console_has b "Command line: .*qserv.role=worker qserv.cluster=pxe-proxy-$$"

vm_monitor a system_powerdown
vm_monitor b system_powerdown
tap_ok "A: system_powerdown powers the VM off" vm_wait_exit a 90
tap_ok "B: system_powerdown powers the VM off" vm_wait_exit b 90

# C: UEFI, after A and B are off (TCG on 2 cores).
# shellcheck disable=SC2046
VM_WRAP="ip netns exec $NS_A" VM_NIC="tap,ifname=tap1,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:77:01:12" \
	vm_boot c -boot n $(ovmf_args c)
if wait_addr "$NS_A" 10.77.1.12 c 300; then
	tap_pass "C (UEFI, dnsmasq DHCP, HTTP): node answers /status on its fixed lease 10.77.1.12"
	tap_diag "C: power-on to /status with address in $(vm_elapsed c) s"
else
	tap_fail "C (UEFI, dnsmasq DHCP, HTTP): node answers /status on its fixed lease 10.77.1.12" "see $VM_DIR/c/console.log"
fi
st=$(ns_status "$NS_A" 10.77.1.12 || echo '{}')
tap_is "$(echo "$st" | json '.role + " " + .cluster')" "worker pxe-http-$$" "C: role and cluster from the group's iPXE script"
tap_ok "C: booted through the kernel's EFI stub" console_has c "EFI stub: Loaded initrd"
vm_monitor c system_powerdown
tap_ok "C: system_powerdown powers the VM off" vm_wait_exit c 90
tap_done
