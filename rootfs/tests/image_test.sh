#!/bin/sh
# image_test.sh: the boot files exist, fit their size budgets (kernel < 8 MB,
# compressed initramfs < 48 MB), the initramfs is a valid LZ4 newc cpio with
# what the node needs, and building it again gives a byte-identical file.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tools/tap.sh"
BUILD=${BUILD:-$REPO/build}
img=$BUILD/images
tmp=$(mktemp -d /tmp/qserv-image-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
tap_plan 7

ksize=$(stat -c %s "$img/qserv-node.vmlinuz" 2>/dev/null || echo 0)
isize=$(stat -c %s "$img/qserv-node.initramfs" 2>/dev/null || echo 0)
tap_diag "kernel $ksize bytes, initramfs $isize bytes"
if [ "$ksize" -gt 0 ] && [ "$ksize" -lt 8000000 ]; then tap_pass "kernel under 8 MB"; else tap_fail "kernel under 8 MB" "$ksize bytes"; fi
if [ "$isize" -gt 0 ] && [ "$isize" -lt 48000000 ]; then tap_pass "initramfs under 48 MB"; else tap_fail "initramfs under 48 MB" "$isize bytes"; fi

lz4 -dc "$img/qserv-node.initramfs" > "$tmp/root.cpio" 2>/dev/null
cpio -it --quiet < "$tmp/root.cpio" > "$tmp/list" 2>/dev/null
missing=
for f in init sbin lib64 usr/sbin/init etc/inittab etc/init.d/rcS usr/sbin/qagent usr/sbin/mariadbd \
	usr/bin/busybox usr/share/mysql/english/errmsg.sys usr/lib64/ld-linux-x86-64.so.2 dev/console; do
	grep -qx "$f" "$tmp/list" || missing="$missing $f"
done
tap_is "$missing" "" "initramfs holds init, qagent, mariadbd and their files"
if grep -q "usr/share/doc\\|usr/share/man\\|usr/share/locale" "$tmp/list"; then
	tap_fail "no docs, man pages or locales"
else
	tap_pass "no docs, man pages or locales"
fi
owners=$(cpio -itv --quiet < "$tmp/root.cpio" 2>/dev/null | awk '{print $3":"$4}' | sort -u | tr '\n' ' ')
tap_is "$owners" "root:root " "every entry owned by 0:0"

# Every dynamic ELF in the tree resolves all its libraries inside the tree.
mkdir -p "$tmp/root" && (cd "$tmp/root" && cpio -id --quiet < "$tmp/root.cpio" 2>/dev/null)
unresolved=
for f in usr/sbin/mariadbd usr/sbin/qagent usr/bin/mariadb sbin/mkfs.ext4; do
	[ -e "$tmp/root/$f" ] || continue
	for lib in $(ldd "$tmp/root/$f" 2>/dev/null | awk '/=> \// { print $3 }'); do
		[ -e "$tmp/root$lib" ] || unresolved="$unresolved $f:$lib"
	done
done
tap_is "$unresolved" "" "library closure complete"

# Build twice from the same inputs into scratch build dirs (sharing the
# package cache) and compare.
mkdir -p "$tmp/b1" "$tmp/b2"
if DEBS_DIR=$BUILD/debs "$REPO/rootfs/build-rootfs.sh" "$tmp/b1" "$tmp/one.initramfs" \
	$(cat "$img/image-files.txt") > "$tmp/rebuild.log" 2>&1 &&
	DEBS_DIR=$BUILD/debs "$REPO/rootfs/build-rootfs.sh" "$tmp/b2" "$tmp/two.initramfs" \
	$(cat "$img/image-files.txt") >> "$tmp/rebuild.log" 2>&1 &&
	cmp -s "$tmp/one.initramfs" "$tmp/two.initramfs"; then
	tap_pass "a second build is byte-identical"
else
	tap_fail "a second build is byte-identical" "$(tail -3 "$tmp/rebuild.log")"
fi
tap_done
