#!/bin/sh
# build-usb.sh: the USB stick / disk image, bootable under UEFI and legacy BIOS.
#
# Usage: build-usb.sh KERNEL INITRAMFS QSERV_CONF_TEMPLATE OUT_IMG
#
# Layout (GPT, 512-byte sectors, 1 MiB aligned; docs/usb.md explains why):
#   protective MBR with syslinux's gptmbr.bin as boot code (BIOS)
#   p1 QSERVCONF  Microsoft basic data, FAT, 4 MiB: qserv.conf, the file an
#                 operator edits on any laptop (first, so that even old
#                 Windows versions that mount one partition of a removable
#                 disk show this one)
#   p2 QSERVBOOT  EFI system partition, FAT32, "LegacyBIOSBootable":
#                 /EFI/BOOT/BOOTX64.EFI     systemd-boot (UEFI)
#                 /loader/                  its config and slot a's boot entry
#                 /syslinux/                ldlinux.sys + syslinux.cfg (BIOS)
#                 /qserv/a/vmlinuz, /qserv/a/initramfs   boot slot a, both loaders
#                 (room for slot b, /qserv/b/: the installed disk has both)
#
# Every boot entry names the medium by the ESP's partition GUID and its
# slot: `bootmedium=PARTUUID=<GUID> bootslot=a` (agent/bootmedium.h).
#
# No root, no loop devices: sfdisk writes the table into the file, mtools
# formats and fills the FAT file systems at their offsets, syslinux (the
# mtools flavour) installs its boot sector and ldlinux.sys.  Reproducible:
# disk and partition GUIDs and FAT serials derive from SOURCE_DATE_EPOCH,
# every file and directory time is SOURCE_DATE_EPOCH (mtools honours it),
# so two builds of the same inputs are byte-identical.
set -eu
kernel=$1
initrd=$2
conf=$3
out=$4
epoch=${SOURCE_DATE_EPOCH:-1700000000}
export SOURCE_DATE_EPOCH=$epoch
# Kernel command line of both loaders (the medium and slot words are added
# below); qserv.* keys belong in qserv.conf.
cmdline=${QSERV_USB_CMDLINE:-console=tty0 console=ttyS0,115200 usb-storage.delay_use=0}
stub=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
gptmbr=/usr/lib/syslinux/mbr/gptmbr.bin
for f in "$kernel" "$initrd" "$conf" "$stub" "$gptmbr"; do
	[ -f "$f" ] || { echo "build-usb: $f missing" >&2; exit 1; }
done
command -v syslinux > /dev/null || { echo "build-usb: syslinux missing (make deps)" >&2; exit 1; }

# guid WHAT: a GUID derived from the epoch (RFC 4122 variant, version 4 bits).
guid() {
	h=$(printf 'qserv-node %s %s' "$epoch" "$1" | sha256sum | cut -c1-32)
	printf '%s-%s-4%s-%x%s-%s\n' "$(echo "$h" | cut -c1-8)" "$(echo "$h" | cut -c9-12)" \
		"$(echo "$h" | cut -c14-16)" $(( (0x$(echo "$h" | cut -c17) & 3) | 8 )) \
		"$(echo "$h" | cut -c18-20)" "$(echo "$h" | cut -c21-32)" | tr a-f A-F
}
# serial WHAT: a FAT volume serial (8 hex digits) derived the same way.
serial() { printf 'qserv-node fat %s %s' "$epoch" "$1" | sha256sum | cut -c1-8; }

esp_guid=$(guid esp)
cmdline="$cmdline bootmedium=PARTUUID=$esp_guid bootslot=a"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Staged files, times normalised (mcopy -m keeps them).  The entry and
# syslinux.cfg formats are also written by the installer
# (agent/bootmedium_slots.c, bootmedium_write_slots) and images/stick.sh: the
# loader picks the entry with the highest `version` that boot counting has
# not marked bad (docs/usb.md, "Boot slots").
mkdir -p "$tmp/esp/EFI/BOOT" "$tmp/esp/loader/entries" "$tmp/esp/syslinux" "$tmp/esp/qserv/a" "$tmp/conf"
cp "$stub" "$tmp/esp/EFI/BOOT/BOOTX64.EFI"
cp "$kernel" "$tmp/esp/qserv/a/vmlinuz"
cp "$initrd" "$tmp/esp/qserv/a/initramfs"
cat > "$tmp/esp/loader/loader.conf" <<EOF
default qserv-*
timeout 0
console-mode keep
editor no
EOF
cat > "$tmp/esp/loader/entries/qserv-a.conf" <<EOF
title    qserv-node slot a
sort-key qserv
version  1
linux    /qserv/a/vmlinuz
initrd   /qserv/a/initramfs
options  $cmdline
EOF
cat > "$tmp/esp/syslinux/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT qserv-a
PROMPT 0
TIMEOUT 0
LABEL qserv-a
  LINUX /qserv/a/vmlinuz
  INITRD /qserv/a/initramfs
  APPEND $cmdline
EOF
cp "$conf" "$tmp/conf/qserv.conf"
find "$tmp/esp" "$tmp/conf" -exec touch -h -d "@$epoch" {} +

# Sizes in 512-byte sectors.  The ESP gets room for a second kernel and
# initramfs (slot b, written by the installer or an upgrade) and 16 MiB
# more (a bigger kernel or initramfs later).
mib=2048
conf_start=$mib
conf_size=$((4 * mib))
esp_start=$((conf_start + conf_size))
content=$(du -s -B1M "$tmp/esp" | cut -f1)
esp_mib=$(( (content * 2 + 16 + 15) / 16 * 16 ))
[ "$esp_mib" -ge 64 ] || esp_mib=64
esp_size=$((esp_mib * mib))
total=$((esp_start + esp_size + mib))

rm -f "$out.tmp"
truncate -s $((total * 512)) "$out.tmp"
sfdisk -q --no-reread --no-tell-kernel "$out.tmp" > /dev/null <<EOF
label: gpt
label-id: $(guid disk)
unit: sectors
first-lba: $mib
start=$conf_start, size=$conf_size, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=$(guid conf), name="QSERVCONF"
start=$esp_start, size=$esp_size, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$esp_guid, name="QSERVBOOT", attrs="LegacyBIOSBootable"
EOF
dd if="$gptmbr" of="$out.tmp" bs=440 count=1 conv=notrunc status=none

# FAT file systems in place (-H: hidden sectors = partition start, which
# the syslinux boot sector uses to find itself).
mformat -i "$out.tmp@@$((conf_start * 512))" -T "$conf_size" -H "$conf_start" -h 64 -s 32 \
	-v QSERVCONF -N "$(serial conf)" ::
mformat -i "$out.tmp@@$((esp_start * 512))" -F -T "$esp_size" -H "$esp_start" -h 64 -s 32 \
	-v QSERVBOOT -N "$(serial esp)" ::
mcopy -m -i "$out.tmp@@$((conf_start * 512))" "$tmp/conf/qserv.conf" ::/qserv.conf
mcopy -s -m -i "$out.tmp@@$((esp_start * 512))" "$tmp/esp/EFI" "$tmp/esp/loader" "$tmp/esp/syslinux" \
	"$tmp/esp/qserv" ::/
syslinux --offset $((esp_start * 512)) --directory /syslinux --install "$out.tmp"
mv "$out.tmp" "$out"
echo "usb: $out ($((total / mib)) MiB: QSERVCONF 4 MiB, QSERVBOOT $esp_mib MiB)"
