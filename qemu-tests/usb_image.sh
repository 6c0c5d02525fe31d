#!/bin/sh
# usb_image.sh: build/images/qserv-node.img is reproducible and laid out as
# docs/usb.md says: two builds from the same inputs are byte-identical (and
# equal the one in build/images), another SOURCE_DATE_EPOCH gives other
# GUIDs; GPT with QSERVCONF (basic data) and QSERVBOOT (ESP, legacy BIOS
# bootable), gptmbr.bin as MBR boot code, both boot loaders' files and boot
# slot a on the ESP, whose entries name the medium by the ESP's own GUID,
# the commented qserv.conf template on QSERVCONF; images/stick.sh slot
# switches slots.  No VM is started.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
trap 'rm -rf "$VM_DIR"' EXIT INT TERM
tap_plan 14

k=$BUILD/images/qserv-node.vmlinuz
i=$BUILD/images/qserv-node.initramfs
build() { SOURCE_DATE_EPOCH=$1 "$REPO/images/build-usb.sh" "$k" "$i" "$REPO/images/qserv.conf" "$2" > /dev/null; }
build "${SOURCE_DATE_EPOCH:-1700000000}" "$VM_DIR/a.img"
sleep 1.1
build "${SOURCE_DATE_EPOCH:-1700000000}" "$VM_DIR/b.img"
tap_ok "two builds are byte-identical" cmp -s "$VM_DIR/a.img" "$VM_DIR/b.img"
if [ "$BUILD/images/qserv-node.img" -nt "$i" ] && [ "$BUILD/images/qserv-node.img" -nt "$k" ]; then
	tap_ok "build/images/qserv-node.img is that same image" cmp -s "$VM_DIR/a.img" "$BUILD/images/qserv-node.img"
else
	tap_skip "build/images/qserv-node.img is that same image" "older than the kernel or initramfs (make image)"
fi
build 1600000000 "$VM_DIR/c.img"
tap_ok "another SOURCE_DATE_EPOCH gives another disk GUID" \
	test "$(sfdisk -J "$VM_DIR/a.img" | json .partitiontable.id)" != "$(sfdisk -J "$VM_DIR/c.img" | json .partitiontable.id)"

img=$VM_DIR/a.img
parts=$(sfdisk -J "$img" | json '.partitiontable.partitions[] | "\(.name) \(.type) \(.attrs // "")"' | tr '\n' ';')
tap_is "$parts" "QSERVCONF EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 ;QSERVBOOT C12A7328-F81F-11D2-BA4B-00A0C93EC93B LegacyBIOSBootable;" \
	"GPT: QSERVCONF basic data, QSERVBOOT ESP + LegacyBIOSBootable"
tap_ok "MBR boot code is syslinux gptmbr.bin" \
	cmp -s -n 440 "$img" /usr/lib/syslinux/mbr/gptmbr.bin
esp=$(img_part_offset "$img" QSERVBOOT)
conf=$(img_part_offset "$img" QSERVCONF)
files=$(mdir -i "$img@@$esp" -/ -a -b :: | sed 's|^::||' | sort | tr '\n' ' ')
want=
for f in /EFI/BOOT/BOOTX64.EFI /loader/loader.conf /loader/entries/qserv-a.conf /syslinux/ldlinux.sys \
	/syslinux/ldlinux.c32 /syslinux/syslinux.cfg /qserv/a/vmlinuz /qserv/a/initramfs; do
	case " $files " in *" $f "*) ;; *) want="$want $f" ;; esac
done
tap_is "$want" "" "ESP holds systemd-boot, syslinux, slot a's kernel and initramfs"
tap_is "$(echo "$files" | tr ' ' '\n' | grep -c '^/qserv/b\|qserv-b')" "0" "no slot b on the stick (the installer writes it)"
tap_ok "ESP kernel is the built kernel" sh -c "mtype -i '$img@@$esp' ::/qserv/a/vmlinuz | cmp -s - '$k'"
entry=$(mtype -i "$img@@$esp" ::/loader/entries/qserv-a.conf | sed -n 's/^options *//p')
sysl=$(mtype -i "$img@@$esp" ::/syslinux/syslinux.cfg | sed -n 's/^ *APPEND *//p')
tap_is "$entry" "$sysl" "UEFI and BIOS loaders pass the same kernel command line"
eguid=$(sfdisk -J "$img" | json '.partitiontable.partitions[] | select(.name == "QSERVBOOT") | .uuid')
case " $entry " in
*" console=ttyS0"*" bootmedium=PARTUUID=$eguid bootslot=a "*)
	tap_pass "command line has console=ttyS0, bootmedium=PARTUUID=<the ESP's GUID> and bootslot=a ($entry)" ;;
*) tap_fail "command line has console=ttyS0, bootmedium=PARTUUID=$eguid and bootslot=a" "got '$entry'" ;;
esac
tap_is "$(mtype -i "$img@@$esp" ::/syslinux/syslinux.cfg | sed -n 's/^DEFAULT //p')" "qserv-a" "syslinux boots slot a"
"$REPO/images/stick.sh" "$img" slot a
tap_is "$(mdir -b -i "$img@@$esp" ::/loader/entries/ | sed 's|.*/||') $(mtype -i "$img@@$esp" ::/loader/entries/qserv-a+3.conf | sed -n 's/^version *//p')" \
	"qserv-a+3.conf 2" "stick.sh slot a: counted entry (3 tries) with a higher version" 
tap_is "$(mlabel -i "$img@@$conf" -s :: | sed 's/.* is //' | tr -d ' ')" "QSERVCONF" "config partition's FAT label is QSERVCONF"
tap_ok "QSERVCONF holds the commented qserv.conf template" \
	sh -c "mtype -i '$img@@$conf' ::/qserv.conf | cmp -s - '$REPO/images/qserv.conf'"
tap_done
