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
#
# Used by tools/cluster (the czar's stick) and the QEMU tests (TCG-only
# kernel words such as no_timer_check).
set -eu
[ $# -eq 3 ] || { echo "usage: images/stick.sh IMG offset LABEL | conf FILE | append WORDS" >&2; exit 100; }
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
*) echo "stick: unknown command $cmd" >&2; exit 100 ;;
esac
