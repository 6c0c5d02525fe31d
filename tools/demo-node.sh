#!/bin/sh
# demo-node.sh: `make demo`, a smaller look than `make cluster`: boots one node of
# the image in QEMU with an NVMe SSD and a SCSI HDD, shows what it reports on
# /status and /metrics, then powers it off through ACPI.
set -eu
. "$(dirname "$0")/../qemu-tests/lib.sh"
VM_DIR=$BUILD/demo
rm -rf "$VM_DIR"
mkdir -p "$VM_DIR"
trap vm_kill_all EXIT INT TERM
nvme=$(disk_file nvme.img 4G)
hdd=$(disk_file hdd.img 8G)
vm_append node "qserv.role=worker"
echo "demo: booting a worker node (QEMU ${QEMU_ACCEL:-tcg}, NVMe SSD + SCSI HDD); console: $VM_DIR/node/console.log"
vm_start node -uuid 0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6 \
	-drive "file=$nvme,if=none,id=dnvme,format=raw" -device nvme,drive=dnvme,serial=DEMO-NVME \
	-device virtio-scsi-pci,id=scsi0 \
	-drive "file=$hdd,if=none,id=dhdd,format=raw" -device scsi-hd,drive=dhdd,bus=scsi0.0,rotation_rate=7200,serial=DEMO-HDD
if ! vm_wait_status node 120; then
	echo "demo: the node did not answer; last console lines:" >&2
	tail -20 "$VM_DIR/node/console.log" >&2
	exit 1
fi
echo "demo: node up; /status on 127.0.0.1:$(vm_port node)"
sleep 3
vm_status node | jq .
echo "demo: /metrics (first lines)"
vm_metrics node | head -12
echo "demo: powering off (ACPI)"
vm_monitor node system_powerdown
vm_wait_exit node 60 && echo "demo: node powered off cleanly"
grep -E "qagent: |qserv-node:" "$VM_DIR/node/console.log" | tail -8
