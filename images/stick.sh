#!/bin/sh
# stick.sh: edits a copy of qserv-node.img (a file or a stick's device) the
# way an operator's laptop would, without root or loop devices (mtools at
# the partitions' offsets):
#
#   images/stick.sh IMG offset LABEL    byte offset of the GPT partition named LABEL
#   images/stick.sh IMG conf FILE       FILE becomes qserv.conf on QSERVCONF
#   images/stick.sh IMG append WORDS    WORDS appended to the kernel command line
#                                       of every boot entry (systemd-boot and
#                                       syslinux) on QSERVBOOT
#   images/stick.sh IMG slot S          makes boot slot S (a or b, its files
#                                       and entry already there) the active
#                                       one: its systemd-boot entry gets the
#                                       highest version and 3 counted tries
#                                       (qserv-S+3.conf: if none of them
#                                       reaches the agent's /status, UEFI
#                                       falls back to the other slot), and
#                                       syslinux's DEFAULT becomes qserv-S
#                                       (BIOS: no fallback)
#
# Used by tools/cluster (the czar's stick) and the QEMU tests (TCG-only
# kernel words such as no_timer_check).
set -eu
[ $# -eq 3 ] || { echo "usage: images/stick.sh IMG offset LABEL | conf FILE | append WORDS | slot a|b" >&2; exit 100; }
img=$1 cmd=$2 arg=$3

offset() {
	sfdisk -J "$img" 2> /dev/null | jq -r --arg l "$1" \
		'.partitiontable as $t | $t.partitions[] | select(.name == $l) | .start * ($t.sectorsize // 512)'
}
part() {
	o=$(offset "$1")
	[ -n "$o" ] || { echo "stick: $img has no partition named $1" >&2; exit 1; }
	echo "$img@@$o"
}

case $cmd in
offset) offset "$arg" ;;
conf) mcopy -o -i "$(part QSERVCONF)" "$arg" ::/qserv.conf ;;
append)
	[ -n "$arg" ] || exit 0
	esp=$(part QSERVBOOT)
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	for e in $(mdir -b -i "$esp" ::/loader/entries/ | sed -n 's|.*/\([^/]*\.conf\)$|\1|p'); do
		mtype -i "$esp" "::/loader/entries/$e" | sed "s/^options .*/& $arg/" > "$tmp"
		mcopy -o -i "$esp" "$tmp" "::/loader/entries/$e"
	done
	mtype -i "$esp" ::/syslinux/syslinux.cfg | sed "s/^ *APPEND .*/& $arg/" > "$tmp"
	mcopy -o -i "$esp" "$tmp" ::/syslinux/syslinux.cfg
	;;
slot)
	case $arg in a | b) ;; *) echo "stick: slot $arg: a or b" >&2; exit 100 ;; esac
	esp=$(part QSERVBOOT)
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	entries=$(mdir -b -i "$esp" ::/loader/entries/ | sed -n 's|.*/\([^/]*\.conf\)$|\1|p')
	mine=$(echo "$entries" | grep -E "^qserv-$arg(\+[0-9-]+)?\.conf$" | head -n 1)
	[ -n "$mine" ] || { echo "stick: $img has no boot entry for slot $arg" >&2; exit 1; }
	mdir -i "$esp" "::/qserv/$arg/initramfs" > /dev/null 2>&1 ||
		{ echo "stick: $img has no /qserv/$arg/initramfs" >&2; exit 1; }
	top=0
	for e in $entries; do
		v=$(mtype -i "$esp" "::/loader/entries/$e" | sed -n 's/^version *\([0-9]*\).*/\1/p')
		[ "${v:-0}" -gt "$top" ] && top=$v
	done
	mtype -i "$esp" "::/loader/entries/$mine" | sed "s/^version .*/version  $((top + 1))/" > "$tmp"
	mdel -i "$esp" "::/loader/entries/$mine"
	mcopy -i "$esp" "$tmp" "::/loader/entries/qserv-$arg+3.conf"
	mtype -i "$esp" ::/syslinux/syslinux.cfg | sed "s/^DEFAULT .*/DEFAULT qserv-$arg/" > "$tmp"
	mcopy -o -i "$esp" "$tmp" ::/syslinux/syslinux.cfg
	;;
*) echo "stick: unknown command $cmd" >&2; exit 100 ;;
esac
