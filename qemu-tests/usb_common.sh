# usb_common.sh: the body of usb_uefi.sh and usb_bios.sh (sourced, with
# USB_FIRMWARE=uefi|bios).  A copy of build/images/qserv-node.img gets an
# edited qserv.conf (written with mtools, as an operator's laptop would) and
# boots as a USB stick (qemu-xhci + usb-storage) under OVMF or SeaBIOS with
# no -kernel: the firmware, the stick's boot loader and the kernel command
# line inside the image do everything.  The node must answer /status with
# the role and cluster of the edited file, name the stick as its boot
# medium and slot a (the loader's entry, systemd-boot or syslinux), leave
# it unprovisioned, and not change a byte of it.  The copy
# is grown to 1 GiB, as the image is when written to a real stick.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
# Logs stay in $VM_DIR; the 1 GiB stick copy goes.
trap 'vm_kill_all; rm -f "$VM_DIR/stick.img"' EXIT INT TERM
tap_plan 10

img=$BUILD/images/qserv-node.img
stick=$VM_DIR/stick.img
cluster=usb-$USB_FIRMWARE-$$
cp "$img" "$stick"
# A real stick is bigger than the image: the backup GPT is then not at its end.
truncate -s 1G "$stick"
img_append_cmdline "$stick" "$TCG_CMDLINE"
off=$(img_part_offset "$stick" QSERVCONF)
# The edited file: CRLF line ends for the BIOS run (a Windows laptop's editor).
if [ "$USB_FIRMWARE" = bios ]; then eol='\r\n'; else eol='\n'; fi
printf "# edited for the $USB_FIRMWARE test$eol""role=worker$eol""cluster=$cluster$eol" > "$VM_DIR/qserv.conf"
if [ -n "$off" ] && mcopy -o -i "$stick@@$off" "$VM_DIR/qserv.conf" ::/qserv.conf; then
	tap_pass "qserv.conf edited in the QSERVCONF partition with mtools"
else
	tap_fail "qserv.conf edited in the QSERVCONF partition with mtools" "offset '$off'"
fi
before=$(sha256sum < "$stick")

fw=
[ "$USB_FIRMWARE" = uefi ] && fw=$(ovmf_args node)
# shellcheck disable=SC2086
vm_boot node $fw -device qemu-xhci,id=xhci \
	-drive "file=$stick,if=none,id=stick,format=raw" -device usb-storage,bus=xhci.0,drive=stick,bootindex=1

tap_booted node "$USB_FIRMWARE: the stick boots and /status answers"
st=$(vm_status node || echo '{}')
tap_is "$(echo "$st" | json .role)" "worker" "role from the stick's qserv.conf"
tap_is "$(echo "$st" | json .cluster)" "$cluster" "cluster from the stick's qserv.conf"
bm=$(echo "$st" | json '.boot_medium // ""')
tap_is "$(echo "$st" | json "[.disks[] | select(.transport == \"usb\") | .name] | join(\" \")")" \
	"${bm:-none}" "/status names the USB disk as its boot medium"
tap_is "$(echo "$st" | json '.boot_slot // "none"')" "a" "$USB_FIRMWARE: the loader booted slot a (bootslot=a)"
# The storage pass runs after /status is up: give it a moment to report.
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$end" ]; do
	state=$(vm_status node | json ".disks[] | select(.name == \"$bm\") | .state // \"\"")
	[ -n "$state" ] && break
	sleep 1
done
tap_is "$state" "boot-medium" "the stick's disk state is boot-medium (never provisioned)"
tap_ok "console logs the boot medium" console_has node "boot medium: disk $bm"

vm_monitor node system_powerdown
tap_ok "system_powerdown powers the VM off" vm_wait_exit node 90
vm_kill_all
tap_is "$(sha256sum < "$stick")" "$before" "not a byte of the stick changed"
tap_done
