#!/bin/sh
# usb_install.sh: install from the stick (docs/usb.md).  A node boots the
# USB stick under OVMF with `install=transport == "virtio"` in its
# qserv.conf, next to a blank virtio disk (the boot disk to be) and a blank
# NVMe SSD (data).  The agent copies the stick onto the virtio disk and
# provisions the NVMe; the copy gets boot slots a and b whose entries name
# its own ESP's new GUID.  The VM powers off, the stick is removed, and the
# node boots again from the virtio disk alone (slot a): same machine UUID
# and hostname, qserv.conf from the installed copy, the virtio disk is its
# boot medium and its data disk is found and mounted, not reformatted.
# Then slot b is made active on the disk (images/stick.sh slot b: boot
# counting) and the node boots a third time from the disk with the stick
# plugged in again: slot b, the virtio disk (not the stick, first in name
# order) is the boot medium, the stick is left alone and unchanged, and the
# agent blesses slot b's counted entry.  Last, slot b's entry is marked as
# if its three tries had failed (qserv-b+0-3.conf): the fourth boot falls
# back to slot a.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
# Logs stay in $VM_DIR; the disk images go.
trap 'vm_kill_all; rm -f "$VM_DIR/stick.img" "$VM_DIR/boot.img" "$VM_DIR/nvme.img"' EXIT INT TERM
tap_plan 39

uuid=7a3c1e52-90b4-4f0e-8d6a-5b2c1d0e9f37
cluster=install-$$
stick=$VM_DIR/stick.img
cp "$BUILD/images/qserv-node.img" "$stick"
img_append_cmdline "$stick" "$TCG_CMDLINE"
printf 'role=worker\ncluster=%s\ninstall=transport == "virtio"\n' "$cluster" > "$VM_DIR/qserv.conf"
off=$(img_part_offset "$stick" QSERVCONF)
tap_ok "qserv.conf with install= written to the stick" mcopy -o -i "$stick@@$off" "$VM_DIR/qserv.conf" ::/qserv.conf
sfdisk -J "$stick" 2> /dev/null | json '[.partitiontable.id] + [.partitiontable.partitions[].uuid] | .[]' > "$VM_DIR/stick.guids"
stick_sum=$(sha256sum < "$stick")
boot=$(disk_file boot.img 512M)
nvme=$(disk_file nvme.img 1G)
disks="-drive file=$boot,if=none,id=dboot,format=raw -drive file=$nvme,if=none,id=dnvme,format=raw
	-device nvme,drive=dnvme,serial=NVME0001"

# state NAME SERIAL|usb: the state of the disk with that serial (or the
# USB disk) once the storage pass reported it.
state() {
	_end=$(($(date +%s) + 90))
	_sel=".serial == \"$2\""
	[ "$2" = usb ] && _sel='.transport == "usb"'
	while [ "$(date +%s)" -lt "$_end" ]; do
		s=$(vm_status "$1" | json ".disks[] | select($_sel) | .state // \"\"")
		[ -n "$s" ] && { echo "$s"; return; }
		sleep 1
	done
}

# shellcheck disable=SC2086
vm_boot first $(ovmf_args first) -uuid $uuid $disks \
	-device virtio-blk-pci,drive=dboot,serial=BOOT0001,bootindex=2 \
	-device qemu-xhci,id=xhci -drive "file=$stick,if=none,id=stick,format=raw" \
	-device usb-storage,bus=xhci.0,drive=stick,bootindex=1
tap_booted first "first boot (stick) answers /status"
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
besp="$boot@@$(img_part_offset "$boot" QSERVBOOT)"
sesp="$stick@@$(img_part_offset "$stick" QSERVBOOT)"
bguid=$(sfdisk -J "$boot" 2> /dev/null | json '.partitiontable.partitions[] | select(.name == "QSERVBOOT") | .uuid')
entries() { mdir -b -i "$besp" ::/loader/entries/ | sed -n 's|.*/||p' | sort | tr '\n' ' '; }
tap_is "$(entries)" "qserv-a.conf qserv-b.conf " "installed disk: a boot entry per slot"
tap_ok "installed disk: both slots hold the stick's kernel and initramfs" sh -c "
	for s in a b; do for f in vmlinuz initramfs; do
		mtype -i '$besp' ::/qserv/\$s/\$f | cmp -s - '$BUILD/images/qserv-node.'\$f || exit 1
	done; done"
opts=$(mtype -i "$besp" ::/loader/entries/qserv-b.conf | sed -n 's/^options *//p')
case " $opts " in
*" bootmedium=PARTUUID=$bguid bootslot=b "*) tap_pass "installed disk: slot b's entry names the disk's own ESP ($bguid)" ;;
*) tap_fail "installed disk: slot b's entry names the disk's own ESP ($bguid)" "options: $opts" ;;
esac
tap_is "$(mtype -i "$besp" ::/syslinux/syslinux.cfg | grep -E '^DEFAULT|APPEND' | sed 's/.*\(DEFAULT [a-z-]*\|PARTUUID=[^ ]* bootslot=[a-z]\).*/\1/' | tr '\n' ';')" \
	"DEFAULT qserv-a;PARTUUID=$bguid bootslot=a;PARTUUID=$bguid bootslot=b;" "installed disk: syslinux.cfg has both slots, slot a the default"

# Second boot: no stick, the virtio disk first in the boot order.
# shellcheck disable=SC2086
vm_boot second $(ovmf_args second) -uuid $uuid $disks \
	-device virtio-blk-pci,drive=dboot,serial=BOOT0001,bootindex=1
tap_booted second "second boot (internal disk, no stick) answers /status"
st2=$(vm_status second || echo '{}')
tap_is "$(echo "$st2" | json '.uuid + " " + .hostname')" "$(echo "$st1" | json '.uuid + " " + .hostname')" \
	"second boot: same machine UUID and hostname"
tap_is "$(echo "$st2" | json '.role + " " + .cluster')" "worker $cluster" "second boot: qserv.conf from the installed copy"
tap_is "$(echo "$st2" | json '.boot_medium')" "vda" "second boot: the virtio disk is the boot medium"
tap_is "$(echo "$st2" | json '.boot_slot')" "a" "second boot: boot slot a"
tap_is "$(state second BOOT0001)" "boot-medium" "second boot: the boot disk is never provisioned"
tap_is "$(state second NVME0001)" "ours-mounted" "second boot: the data disk is found and mounted, not reformatted"
tap_ok "second boot: install= sees the job done" console_has second "install: nothing to do"
vm_monitor second system_powerdown
tap_ok "second boot: powers off" vm_wait_exit second 90
vm_kill_all

# Third boot: slot b made active (counted tries), the stick plugged in again
# next to the disk, the disk first in the boot order.
tap_ok "slot b made the active one on the installed disk (images/stick.sh slot b)" "$REPO/images/stick.sh" "$boot" slot b
tap_is "$(entries)" "qserv-a.conf qserv-b+3.conf " "slot b's entry has three counted tries"
# shellcheck disable=SC2086
vm_boot third $(ovmf_args third) -uuid $uuid $disks \
	-device virtio-blk-pci,drive=dboot,serial=BOOT0001,bootindex=1 \
	-device qemu-xhci,id=xhci -drive "file=$stick,if=none,id=stick,format=raw" \
	-device usb-storage,bus=xhci.0,drive=stick,bootindex=2
tap_booted third "third boot (internal disk, stick plugged in) answers /status"
st3=$(vm_status third || echo '{}')
tap_is "$(echo "$st3" | json '.boot_slot')" "b" "third boot: boot slot b"
tap_is "$(echo "$st3" | json '.boot_medium + " " + ([.disks[] | select(.serial == "BOOT0001") | .name] | join(" "))')" \
	"vda vda" "third boot: the internal disk is the boot medium, not the stick"
tap_is "$(state third usb)" "foreign" "third boot: the stick is left alone (foreign), not provisioned"
tap_is "$(state third NVME0001)" "ours-mounted" "third boot: the data disk is still ours"
if vm_wait_console third "boot slot b: boot counted good" 30; then
	tap_pass "third boot: the agent blesses slot b's counted entry"
else
	tap_fail "third boot: the agent blesses slot b's counted entry" "$(grep 'boot slot' "$VM_DIR/third/console.log")"
fi
vm_monitor third system_powerdown
tap_ok "third boot: powers off" vm_wait_exit third 90
vm_kill_all
tap_is "$(entries)" "qserv-a.conf qserv-b.conf " "slot b's entry blessed on the disk (no counter left)"
tap_is "$(sha256sum < "$stick")" "$stick_sum" "not a byte of the stick changed across three boots"

# Fourth boot: slot b is the newest but out of tries (what systemd-boot
# leaves after three boots that never reached /status): slot a boots.
tap_ok "slot b's entry marked out of tries (qserv-b+0-3.conf)" \
	mren -i "$besp" ::/loader/entries/qserv-b.conf ::/loader/entries/qserv-b+0-3.conf
# shellcheck disable=SC2086
vm_boot fourth $(ovmf_args fourth) -uuid $uuid $disks \
	-device virtio-blk-pci,drive=dboot,serial=BOOT0001,bootindex=1
tap_booted fourth "fourth boot (slot b out of tries) answers /status"
st4=$(vm_status fourth || echo '{}')
tap_is "$(echo "$st4" | json '.boot_slot + " " + .boot_medium')" "a vda" "fourth boot: fell back to slot a of the internal disk"
vm_monitor fourth system_powerdown
tap_ok "fourth boot: powers off" vm_wait_exit fourth 90
vm_kill_all
tap_is "$(entries)" "qserv-a.conf qserv-b+0-3.conf " "slot b stays marked bad until it is rewritten"
tap_done
