#!/bin/sh
# mariadb_node.sh: a worker node with an NVMe SSD and a SCSI HDD provisions
# both, starts MariaDB with its data on the fast pool, reports it ready in
# /status, and after a power-off and a second boot on the same disk files
# mounts the same filesystems (not reformatted) and MariaDB finds its data.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
trap vm_kill_all EXIT INT TERM
tap_plan 9

nvme=$(disk_file nvme.img 2G)
hdd=$(disk_file hdd.img 2G)
boot() {
	vm_append "$1" "qserv.role=worker"
	vm_start "$1" -uuid 3b8e2a4c-1f5d-4e6a-9c7b-0a1b2c3d4e5f \
		-drive "file=$nvme,if=none,id=dnvme,format=raw" -device nvme,drive=dnvme,serial=NV-MDB \
		-device virtio-scsi-pci,id=scsi0 \
		-drive "file=$hdd,if=none,id=dhdd,format=raw" -device scsi-hd,drive=dhdd,bus=scsi0.0,rotation_rate=7200,serial=HD-MDB
}
mariadb_ready() { [ "$(vm_status "$1" | json .mariadb.ready)" = true ]; }
wait_ready() {
	vm_wait_status "$1" 90 && wait_until 240 mariadb_ready "$1"
}

boot first
if wait_ready first; then tap_pass "MariaDB ready on first boot"; else tap_fail "MariaDB ready on first boot" "$(tail -5 "$VM_DIR/first/console.log")"; fi
st=$(vm_status first || echo '{}')
tap_is "$(echo "$st" | json .mariadb.dir)" "/data/fast0/mariadb" "MariaDB data on the fast pool"
tap_is "$(echo "$st" | json '[.disks[] | .state] | sort | join(",")')" "provisioned-now,provisioned-now" \
	"both blank disks provisioned" 
tap_is "$(echo "$st" | json '.storage.staging_dir')" "/data/bulk0/staging" "staging on the bulk pool"
# fingerprint of the filesystems: their UUIDs must survive the reboot
fs1=$(blkid -o value -s UUID "$nvme" "$hdd" 2>/dev/null; sfdisk -d "$nvme" 2>/dev/null | grep -c qserv)
vm_monitor first system_powerdown
tap_ok "first boot powers off" vm_wait_exit first 90

boot second
if wait_ready second; then tap_pass "MariaDB ready on second boot"; else tap_fail "MariaDB ready on second boot"; fi
st=$(vm_status second || echo '{}')
tap_is "$(echo "$st" | json '[.disks[] | .state] | sort | join(",")')" "ours-mounted,ours-mounted" \
	"second boot mounts the disks as found"
if grep -q "initializing" "$VM_DIR/second/console.log"; then
	tap_fail "MariaDB data directory reused, not re-initialized"
else
	tap_pass "MariaDB data directory reused, not re-initialized"
fi
vm_monitor second system_powerdown
vm_wait_exit second 90
fs2=$(blkid -o value -s UUID "$nvme" "$hdd" 2>/dev/null; sfdisk -d "$nvme" 2>/dev/null | grep -c qserv)
tap_is "$fs2" "$fs1" "partition tables unchanged by the second boot"
tap_done
