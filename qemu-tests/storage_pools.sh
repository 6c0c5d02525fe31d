#!/bin/sh
# storage_pools.sh: the real image with one NVMe, one SCSI SSD
# (rotation_rate=1), two SCSI HDDs (rotation_rate=7200) and one disk holding
# a foreign ext4: pools are right, MariaDB's data lands on fast (the NVMe),
# chunk dirs span both SSDs, the foreign disk is untouched byte for byte; a
# disk hot-added through the monitor (drive_add + device_add) is provisioned
# and mounted (time printed, not asserted), then removed again (device_del):
# reported missing, its pool degraded; a hot-added SSD joins MariaDB's pool
# and qserv-worker's chunk directories without a restart (and leaves them
# when removed); after a power-off and a boot on
# the same disk files every disk of ours is mounted as found at the same
# place, nothing is reformatted (same filesystem UUIDs and markers, a file
# written between the boots is still there) and MariaDB reuses its data.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
# disk images go, console logs stay
trap 'vm_kill_all; rm -f "$VM_DIR"/*.img' EXIT INT TERM
tap_plan 22
MiB=1048576

nvme=$(disk_file nvme.img 1G)
ssd=$(disk_file ssd.img 1G)
hdd1=$(disk_file hdd1.img 2G)
hdd2=$(disk_file hdd2.img 2G)
foreign=$(disk_file foreign.img 512M)
hot=$(disk_file hot.img 1G)
hotfast=$(disk_file hotfast.img 1G)
echo "precious foreign data" > "$VM_DIR/precious.txt"
mkfs.ext4 -q -F -L precious "$foreign"
debugfs -w -R "write $VM_DIR/precious.txt precious.txt" "$foreign" > /dev/null 2>&1
sum_foreign=$(sha256sum < "$foreign")

boot() {
	name=$1; shift
	vm_append "$name" "qserv.role=worker"
	vm_start "$name" -uuid 7c4d2e1a-9b3f-4a6c-8d5e-1f2a3b4c5d6e \
		-drive "file=$nvme,if=none,id=dnvme,format=raw" -device nvme,drive=dnvme,serial=NVME-S1 \
		-device virtio-scsi-pci,id=scsi0 \
		-drive "file=$ssd,if=none,id=dssd,format=raw" -device scsi-hd,drive=dssd,bus=scsi0.0,rotation_rate=1,serial=SSD-S1 \
		-drive "file=$hdd1,if=none,id=dhdd1,format=raw" -device scsi-hd,drive=dhdd1,bus=scsi0.0,rotation_rate=7200,serial=HDD-S1 \
		-drive "file=$hdd2,if=none,id=dhdd2,format=raw" -device scsi-hd,drive=dhdd2,bus=scsi0.0,rotation_rate=7200,serial=HDD-S2 \
		-drive "file=$foreign,if=none,id=dfor,format=raw" -device scsi-hd,drive=dfor,bus=scsi0.0,rotation_rate=7200,serial=FOREIGN-S1 \
		"$@"
}
# wait until the storage pass has run (the status server starts first)
storage_done() { [ "$(vm_status "$1" | json '.storage.mariadb_dir // ""')" != "" ]; }
mariadb_dir_known() { [ "$(vm_status "$1" | json '.mariadb.dir // ""')" != "" ]; }
hot_state_is() { [ "$(disk first HOT-S1 | cut -d' ' -f"$1")" = "$2" ]; }
wait_storage() {
	vm_wait_status "$1" 90 && wait_until 120 storage_done "$1"
}
# "state pool mountpoint" of the disk with this serial
disk() { vm_status "$1" | json ".disks[] | select(.serial == \"$2\") | \"\(.state) \(.pool) \(.mountpoint)\""; }
# filesystem UUID and marker of our partition (1 MiB in), read from the host
fs_id() { blkid -p -O $MiB -s UUID -o value "$1"; debugfs -R "cat /.qserv-disk" "$1?offset=$MiB" 2>/dev/null | tr -d ' \n'; }

boot first
if wait_storage first; then tap_pass "first boot: storage pass done"; else tap_fail "first boot: storage pass done" "$(tail -5 "$VM_DIR/first/console.log")"; fi
tap_is "$(disk first NVME-S1)" "provisioned-now fast /data/fast0" "NVMe provisioned into fast0"
tap_is "$(disk first SSD-S1)" "provisioned-now fast /data/fast1" "SCSI SSD (rotation_rate=1) into fast1"
tap_is "$(disk first HDD-S1 | cut -d' ' -f1,2) $(disk first HDD-S2 | cut -d' ' -f1,2)" \
	"provisioned-now bulk provisioned-now bulk" "both HDDs (rotation_rate=7200) into bulk"
tap_is "$(vm_status first | json '.disks[] | select(.serial == "FOREIGN-S1") | "\(.state) \(.signature)"')" \
	"foreign ext4" "foreign ext4 disk reported foreign"
st=$(vm_status first || echo '{}')
tap_is "$(echo "$st" | json '.storage.mariadb_dir') $(echo "$st" | json '.storage.staging_dir')" \
	"/data/fast0/mariadb /data/bulk0/staging" "MariaDB data on fast, staging on bulk"
tap_is "$(echo "$st" | json '.storage.chunk_dirs | join(" ")')" "/data/fast0/chunks /data/fast1/chunks" \
	"chunk tables spread over both fast disks"
wait_until 60 mariadb_dir_known first
tap_is "$(vm_status first | json '.mariadb.dir // ""')" "/data/fast0/mariadb" "MariaDB started on the fast pool"
worker_up() { [ "$(vm_status first | json '.processes[] | select(.name == "qserv-worker") | .state')" = up ]; }
worker_spreads() { wait_until 120 worker_up && grep -q "qserv-worker as .*, 2 chunk dir(s)" "$VM_DIR/first/console.log"; }
tap_ok "qserv-worker up with its chunk tables spread over both fast disks (--chunk-dirs-file)" worker_spreads

# hot-add a blank HDD through the monitor
t0=$(date +%s%N)
vm_monitor first "drive_add 0 if=none,id=dhot,file=$hot,format=raw"
vm_monitor first "device_add scsi-hd,drive=dhot,bus=scsi0.0,rotation_rate=7200,serial=HOT-S1,id=hotdev"
wait_until 60 hot_state_is 1-3 "provisioned-now bulk /data/bulk2"
dt=$((($(date +%s%N) - t0) / 1000000))
tap_is "$(disk first HOT-S1)" "provisioned-now bulk /data/bulk2" "hot-added disk provisioned and mounted"
tap_diag "hot-add (device_add) to mounted in /status: $dt ms (TCG; includes /status polling every 200 ms)"
tap_is "$(vm_metrics first | grep -c '^qserv_storage_pool_disks{pool="bulk"} 3')" 1 "/metrics counts 3 bulk disks"

# hot-remove it again (mounted): reported missing, pool degraded, agent fine
vm_monitor first "device_del hotdev"
wait_until 30 hot_state_is 1 missing
tap_is "$(disk first HOT-S1 | cut -d' ' -f1) $(vm_status first | json '.storage.pools.bulk.degraded')" "missing true" \
	"hot-removed disk reported missing, bulk pool degraded"
tap_is "$(vm_status first | json '.disks[] | select(.serial == "NVME-S1") | .state')" "provisioned-now" "the other disks are unaffected"

# hot-add an SSD: MariaDB's pool grows, so do the worker's chunk directories
# (the list file qserv-worker reads again; no restart)
wpid() { vm_status first | json '.processes[] | select(.name == "qserv-worker") | .pid'; }
pid0=$(wpid)
vm_monitor first "drive_add 0 if=none,id=dhotf,file=$hotfast,format=raw"
vm_monitor first "device_add scsi-hd,drive=dhotf,bus=scsi0.0,rotation_rate=1,serial=HOTF-S1,id=hotfdev"
spread3() { console_has first "chunk tables now spread over 3 chunk dir\\(s\\), was 2"; }
if wait_until 60 spread3 && [ "$(wpid)" = "$pid0" ]; then
	tap_pass "hot-added SSD: qserv-worker's chunk tables spread over 3 disks, same process"
else
	tap_fail "hot-added SSD: qserv-worker's chunk tables spread over 3 disks, same process" \
		"$(disk first HOTF-S1); pid $pid0 -> $(wpid); $(grep 'chunk' "$VM_DIR/first/console.log" | tail -2 | tr '\n' '|')"
fi
vm_monitor first "device_del hotfdev"
spread2() { console_has first "chunk tables now spread over 2 chunk dir\\(s\\), was 3"; }
tap_ok "hot-removed SSD: back to 2 chunk directories" wait_until 60 spread2

vm_monitor first system_powerdown
tap_ok "first boot powers off" vm_wait_exit first 90
tap_is "$(sha256sum < "$foreign")" "$sum_foreign" "foreign disk byte-for-byte intact"
# the hot disk left uncleanly (device_del while mounted): its marker may
# still sit in the journal, so only its filesystem UUID is compared
ids1=$(for f in "$nvme" "$ssd" "$hdd1" "$hdd2"; do fs_id "$f"; done; blkid -p -O $MiB -s UUID -o value "$hot")
echo "written between boots" > "$VM_DIR/between.txt"
debugfs -w -R "write $VM_DIR/between.txt between.txt" "$hdd1?offset=$MiB" > /dev/null 2>&1

# second boot on the same disk files, the hot-added one now present at boot
boot second -drive "file=$hot,if=none,id=dhot,format=raw" -device scsi-hd,drive=dhot,bus=scsi0.0,rotation_rate=7200,serial=HOT-S1
if wait_storage second; then tap_pass "second boot: storage pass done"; else tap_fail "second boot: storage pass done"; fi
got=""
for s in NVME-S1 SSD-S1 HDD-S1 HDD-S2 HOT-S1; do got="$got$(disk second $s | cut -d' ' -f1,3);"; done
tap_is "$got" "ours-mounted /data/fast0;ours-mounted /data/fast1;$(disk second HDD-S1 | grep -q bulk0 && echo 'ours-mounted /data/bulk0;ours-mounted /data/bulk1' || echo 'ours-mounted /data/bulk1;ours-mounted /data/bulk0');ours-mounted /data/bulk2;" \
	"second boot: every disk of ours mounted as found, same mount points"
tap_is "$(vm_status second | json '.disks[] | select(.serial == "FOREIGN-S1") | .state')" "foreign" "foreign disk still foreign"
wait_until 60 mariadb_dir_known second
vm_monitor second system_powerdown
vm_wait_exit second 90
ids2=$(for f in "$nvme" "$ssd" "$hdd1" "$hdd2"; do fs_id "$f"; done; blkid -p -O $MiB -s UUID -o value "$hot")
tap_is "$ids2" "$ids1" "nothing reformatted: same filesystem UUIDs and markers"
tap_is "$(debugfs -R "cat /between.txt" "$hdd1?offset=$MiB" 2>/dev/null) $(sha256sum < "$foreign" | cut -c1-12)" \
	"written between boots $(echo "$sum_foreign" | cut -c1-12)" "file written between boots intact, foreign disk intact"
tap_done
