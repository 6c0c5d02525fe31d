#!/bin/sh
# build-rootfs.sh: assembles the root filesystem and packs the initramfs.
#
# Usage: build-rootfs.sh BUILD_DIR OUT_INITRAMFS PROJECT_FILE...
#
# 1. packages.txt names Debian packages and the paths kept from each; they
#    are fetched with `apt-get download` into BUILD_DIR/debs (a cache) and
#    unpacked with `dpkg-deb -x`.
# 2. The tree gets the skeleton (skel/), BusyBox applet links, the kept
#    paths and the project's files (build/bin/qagent -> /sbin, other
#    programs -> /usr/bin, *.so -> MariaDB's plugin directory).
# 3. Every ELF file's shared-library closure (ldd) is added, each library
#    copied from the Debian package that owns it (downloaded the same way),
#    so the image holds exactly what runs and nothing else: no docs, man
#    pages or locales are ever copied.
# 4. The cpio is deterministic: sorted names, owner 0:0, permissions
#    normalised, mtimes = SOURCE_DATE_EPOCH; compressed with lz4 -l (the
#    legacy frame the kernel's initramfs loader reads).
set -eu
build=$(mkdir -p "$1" && cd "$1" && pwd)
out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
epoch=${SOURCE_DATE_EPOCH:-1700000000}
debs=${DEBS_DIR:-$build/debs}
root=$build/rootfs
mkdir -p "$debs/x"

# fetch PKG: downloads (once) and unpacks the package; prints its root.
fetch() {
	pkg=$1
	if [ ! -d "$debs/x/$pkg" ]; then
		ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
		(cd "$debs" && { [ -n "$ver" ] && apt-get download -q "$pkg=$ver" >/dev/null 2>&1 ||
			apt-get download -q "$pkg" >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && apt-get download -q "$pkg" >/dev/null; }; }) ||
			{ echo "rootfs: cannot download $pkg" >&2; exit 1; }
		deb=$(ls -t "$debs/${pkg}"_*.deb | head -n1)
		mkdir -p "$debs/x/$pkg.tmp"
		dpkg-deb -x "$deb" "$debs/x/$pkg.tmp"
		mv "$debs/x/$pkg.tmp" "$debs/x/$pkg"
	fi
	echo "$debs/x/$pkg"
}

# resolve PKGROOT PATH: follows symlinks inside the unpacked package;
# prints the real file's path, or nothing.
resolve() {
	p=$2
	for _ in 1 2 3 4 5 6 7 8; do
		f=$1$p
		if [ -L "$f" ]; then
			t=$(readlink "$f")
			case "$t" in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
		elif [ -e "$f" ]; then
			echo "$f"; return 0
		else
			return 0
		fi
	done
}

rm -rf "$root"
mkdir -p "$root"
for d in bin sbin lib lib64; do
	mkdir -p "$root/usr/$d"
	ln -s "usr/$d" "$root/$d"
done
mkdir -p "$root/dev" "$root/proc" "$root/sys" "$root/run" "$root/tmp" "$root/data" \
	"$root/root" "$root/var/lib/mysql" "$root/usr/lib/mysql/plugin" "$root/etc/mysql"
cp -R "$here/skel/." "$root/"

# Kept paths of the declared packages.
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt" | while read -r pkg paths; do
	pr=$(fetch "$pkg")
	for pat in $paths; do
		found=0
		for src in "$pr"/$pat; do
			[ -e "$src" ] || continue
			found=1
			rel=${src#"$pr"/}
			mkdir -p "$root/$(dirname "$rel")"
			cp -R "$src" "$root/$rel"
		done
		[ "$found" = 1 ] || { echo "rootfs: $pkg has no $pat" >&2; exit 1; }
	done
done

# BusyBox applets, unless a real program of that name is in the image.
"$root/bin/busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# Project files.
for f in "$@"; do
	case "$f" in
	*/qagent) dst=$root/usr/sbin/qagent ;;
	*.so) dst=$root/usr/lib/mysql/plugin/$(basename "$f") ;;
	*/scisql/install.sql) dst=$root/usr/share/mysql/qserv_scisql.sql ;;
	*.sql) dst=$root/usr/share/mysql/$(basename "$f") ;;
	*) dst=$root/usr/bin/$(basename "$f") ;;
	esac
	cp "$f" "$dst"
	if head -c4 "$dst" | grep -q ELF; then strip --strip-unneeded "$dst"; fi
done

# Shared-library closure of every ELF file, from the owning packages.
libs=$build/rootfs-libs.txt
: > "$libs"
find "$root" -type f | while read -r f; do
	head -c4 "$f" | grep -q ELF || continue
	ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]+ \(/ { print $1 }' >> "$libs" || true
	if ldd "$f" 2>/dev/null | grep -q "not found"; then
		echo "rootfs: $f needs a library this machine lacks:" >&2
		ldd "$f" | grep "not found" >&2
		exit 1
	fi
done
sort -u "$libs" | while read -r lib; do
	real=$(readlink -f "$lib")
	owner=
	for cand in "$lib" "$real" "${lib#/usr}" "/usr$lib" "${real#/usr}" "/usr$real"; do
		owner=$(dpkg -S "$cand" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$owner" ] && break
	done
	[ -n "$owner" ] || { echo "rootfs: no package owns $lib" >&2; exit 1; }
	pr=$(fetch "$owner")
	src=
	for cand in "$lib" "$real" "${lib#/usr}" "/usr$lib" "${real#/usr}" "/usr$real"; do
		src=$(resolve "$pr" "$cand")
		[ -n "$src" ] && break
	done
	[ -n "$src" ] || { echo "rootfs: $owner does not ship $lib" >&2; exit 1; }
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$src" "$root$lib"
done

# Deterministic archive.
rm -f "$root/dev/console"
mknod -m 600 "$root/dev/console" c 5 1
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -perm -u+x -exec chmod 0755 {} +
find "$root" -type f ! -perm -u+x -exec chmod 0644 {} +
chmod 1777 "$root/tmp"
find "$root" -exec touch -h -d "@$epoch" {} +
mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --reproducible -R 0:0 --quiet) > "$out.cpio"
lz4 -l -9 -q -f "$out.cpio" "$out"
rm -f "$out.cpio"
echo "rootfs: $(du -sh "$root" | cut -f1) tree, initramfs $(stat -c %s "$out") bytes"
