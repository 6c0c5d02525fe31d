#!/bin/sh
# build-kernel.sh: builds the qserv-node kernel from Debian's linux-source-6.1
# with tinyconfig + the fragments in kernel-config/, no modules.
#
# Usage: build-kernel.sh BUILD_DIR OUT_BZIMAGE
# The build is cached in BUILD_DIR/kernel/<key>/ where key hashes the
# fragments and the linux-source package version: an unchanged kernel is
# never rebuilt.  Every option a fragment asks for is checked in the final
# .config; one that did not stick fails the build (a typo or a missing
# dependency would otherwise silently give a kernel without a driver).
set -eu
build=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || { echo "build-kernel: $tarball missing (make deps)" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (echo "$srcver"; cat "$here"/*.config) | sha256sum | cut -c1-16)
cache=$build/kernel/$key
if [ -f "$cache/bzImage" ]; then
	install -D -m 0644 "$cache/bzImage" "$out"
	echo "kernel: cached $key"
	exit 0
fi
src=$build/kernel/src-$srcver
if [ ! -f "$src/.extracted" ]; then
	echo "kernel: extracting linux-source $srcver"
	rm -rf "$src" && mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	touch "$src/.extracted"
fi
obj=$build/kernel/obj-$key
mkdir -p "$obj"
export KBUILD_BUILD_TIMESTAMP="${SOURCE_DATE_EPOCH:+@$SOURCE_DATE_EPOCH}"
export KBUILD_BUILD_USER=qserv KBUILD_BUILD_HOST=qserv-node KBUILD_BUILD_VERSION=1
echo "kernel: configuring $key"
make -s -C "$src" O="$(cd "$obj" && pwd)" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$here"/*.config >/dev/null
make -s -C "$src" O="$(cd "$obj" && pwd)" olddefconfig >/dev/null
missing=0
for f in "$here"/*.config; do
	grep -E '^CONFIG_[A-Z0-9_]+=' "$f" | while IFS= read -r want; do
		grep -qx "$want" "$obj/.config" || { echo "kernel: $(basename "$f"): $want did not stick" >&2; echo x; }
	done
done > "$obj/.missing"
if [ -s "$obj/.missing" ]; then exit 1; fi
echo "kernel: building bzImage (a few minutes on 2 cores)"
make -s -C "$src" O="$(cd "$obj" && pwd)" -j"$(nproc)" bzImage
mkdir -p "$cache"
cp "$obj/arch/x86/boot/bzImage" "$cache/bzImage"
cp "$obj/.config" "$cache/config"
install -D -m 0644 "$cache/bzImage" "$out"
echo "kernel: built $key ($(stat -c %s "$cache/bzImage") bytes)"
