#!/bin/sh
# usb_install.sh: install from the stick (docs/usb.md).  A node boots the
# USB stick under OVMF with `install=transport == "virtio"` in its
# qserv.conf, next to a blank virtio disk (the boot disk to be) and a blank
# NVMe SSD (data).  The agent copies the stick onto the virtio disk and
# provisions the NVMe.  The VM powers off, the stick is removed, and the
# node boots again from the virtio disk alone: same machine UUID and
# hostname, qserv.conf from the installed copy, the virtio disk is its boot
# medium and its data disk is found and mounted, not reformatted.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
# Logs stay in $VM_DIR; the disk images go.
trap 'vm_kill_all; rm -f "$VM_DIR/stick.img" "$VM_DIR/boot.img" "$VM_DIR/nvme.img"' EXIT INT TERM
tap_plan 18

uuid=7a3c1e52-90b4-4f0e-8d6a-5b2c1d0e9f37
cluster=install-$$
stick=$VM_DIR/stick.img
cp "$BUILD/images/qserv-node.img" "$stick"
img_append_cmdline "$stick" "$TCG_CMDLINE"
printf 'role=worker\ncluster=%s\ninstall=transport == "virtio"\n' "$cluster" > "$VM_DIR/qserv.conf"
off=$(img_part_offset "$stick" QSERVCONF)
tap_ok "qserv.conf with install= written to the stick" mcopy -o -i "$stick@@$off" "$VM_DIR/qserv.conf" ::/qserv.conf
sfdisk -J "$stick" 2> /dev/null | json '[.partitiontable.id] + [.partitiontable.partitions[].uuid] | .[]' > "$VM_DIR/stick.guids"
boot=$(disk_file boot.img 512M)
nvme=$(disk_file nvme.img 1G)
disks="-drive file=$boot,if=none,id=dboot,format=raw -drive file=$nvme,if=none,id=dnvme,format=raw
	-device nvme,drive=dnvme,serial=NVME0001"

# state NAME SERIAL: the disk's state once the storage pass reported it.
state() {
	_end=$(($(date +%s) + 90))
	while [ "$(date +%s)" -lt "$_end" ]; do
		s=$(vm_status "$1" | json ".disks[] | select(.serial == \"$2\") | .state // \"\"")
		[ -n "$s" ] && { echo "$s"; return; }
		sleep 1
	done
}

# shellcheck disable=SC2086
vm_boot first $(ovmf_args first) -uuid $uuid $disks \
	-device virtio-blk-pci,drive=dboot,serial=BOOT0001,bootindex=2 \
	-device qemu-xhci,id=xhci -drive "file=$stick,if=none,id=stick,format=raw" \
	-device usb-storage,bus=xhci.0,drive=stick,bootindex=1
if vm_wait_status first 300; then
	tap_pass "first boot (stick) answers /status"
	tap_diag "first boot: power-on to /status in $(vm_elapsed first) s"
else
	tap_fail "first boot (stick) answers /status" "see $VM_DIR/first/console.log"
fi
st1=$(vm_status first || echo '{}')
tap_is "$(echo "$st1" | json '.disks[] | select(.transport == "usb") | .name')" \
	"$(echo "$st1" | json '.boot_medium')" "first boot: the stick is the boot medium"
if vm_wait_console first "install: boot medium [a-z0-9]+ copied to vda" 120; then
	tap_pass "first boot: the agent copied the stick onto the virtio disk"
else
	tap_fail "first boot: the agent copied the stick onto the virtio disk" "$(grep 'install:' "$VM_DIR/first/console.log")"
fi
tap_is "$(state first NVME0001)" "provisioned-now" "first boot: the blank NVMe is provisioned"
tap_is "$(vm_status first | json '.disks[] | select(.serial == "BOOT0001") | .state')" "foreign" \
	"first boot: the storage pass leaves the installed boot disk alone"
vm_monitor first system_powerdown
tap_ok "first boot: powers off" vm_wait_exit first 90
vm_kill_all
layout() { sfdisk -J "$1" 2> /dev/null | json '.partitiontable.partitions[] | "\(.name) \(.type) \(.start) \(.size) \(.attrs // "")"'; }
guids() { sfdisk -J "$1" 2> /dev/null | json '[.partitiontable.id] + [.partitiontable.partitions[].uuid] | .[]'; }
tap_is "$(layout "$boot")" "$(layout "$stick")" "installed disk: the stick's partitions (name, type, place, attributes)"
tap_is "$(guids "$boot" | grep -cxFf - "$VM_DIR/stick.guids")" "0" "installed disk: new disk and partition GUIDs"
tap_ok "installed disk: GPT valid with its backup at the disk's end" sh -c "sfdisk -V '$boot' 2>&1 | grep -q 'No errors detected' && ! sfdisk -d '$boot' 2>&1 | grep -q 'not on the end'"

# Second boot: no stick, the virtio disk first in the boot order.
# shellcheck disable=SC2086
vm_boot second $(ovmf_args second) -uuid $uuid $disks \
	-device virtio-blk-pci,drive=dboot,serial=BOOT0001,bootindex=1
if vm_wait_status second 300; then
	tap_pass "second boot (internal disk, no stick) answers /status"
	tap_diag "second boot: power-on to /status in $(vm_elapsed second) s"
else
	tap_fail "second boot (internal disk, no stick) answers /status" "see $VM_DIR/second/console.log"
fi
st2=$(vm_status second || echo '{}')
tap_is "$(echo "$st2" | json '.uuid + " " + .hostname')" "$(echo "$st1" | json '.uuid + " " + .hostname')" \
	"second boot: same machine UUID and hostname"
tap_is "$(echo "$st2" | json '.role + " " + .cluster')" "worker $cluster" "second boot: qserv.conf from the installed copy"
tap_is "$(echo "$st2" | json '.boot_medium')" "vda" "second boot: the virtio disk is the boot medium"
tap_is "$(state second BOOT0001)" "boot-medium" "second boot: the boot disk is never provisioned"
tap_is "$(state second NVME0001)" "ours-mounted" "second boot: the data disk is found and mounted, not reformatted"
if grep -q "install: nothing to do" "$VM_DIR/second/console.log"; then
	tap_pass "second boot: install= sees the job done"
else
	tap_fail "second boot: install= sees the job done" "$(grep 'install:' "$VM_DIR/second/console.log")"
fi
vm_monitor second system_powerdown
tap_ok "second boot: powers off" vm_wait_exit second 90
tap_done
