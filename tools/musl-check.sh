#!/bin/sh
# musl-check.sh: compiles every project C file with musl-gcc -fsyntax-only, so
# the code stays portable to a musl toolchain.  Third-party headers (libmnl,
# mbedTLS, MariaDB, ...) come from Debian's /usr/include through a directory
# of links, since musl-gcc hides glibc's include path.
set -eu
cd "$(dirname "$0")/.."
inc=build/musl-include
mkdir -p "$inc" build/include
for h in libmnl mbedtls psa mariadb blkid libfdisk lz4.h lz4frame.h lz4hc.h jansson.h jansson_config.h \
	 microhttpd.h curl gnutls linux asm-generic mtd; do
	for d in /usr/include /usr/include/x86_64-linux-gnu; do
		[ -e "$d/$h" ] && ln -sfn "$d/$h" "$inc/$h" && break
	done
done
ln -sfn /usr/include/x86_64-linux-gnu/asm "$inc/asm"
[ -f build/include/kselftest_harness.h ] || make -s build/include/kselftest_harness.h
[ -f build/include/dash_assets.inc ] || make -s build/include/dash_assets.inc   # the czar dashboard's files (http_dash_assets.c)
n=0 bad=0
for f in $(git ls-files '*.c' 2>/dev/null || find . -name '*.c' -not -path './build/*'); do
	std=-std=c11; case "$f" in */tests/*) std=-std=gnu11 ;; esac
	if ! musl-gcc $std -D_GNU_SOURCE -fsyntax-only -Wall -Wno-unused-parameter -I. -Ilib -Ibuild/include -isystem "$inc" \
		$(sed -n 's|^// musl-check-flags: ||p' "$f") "$f"; then
		bad=$((bad + 1)); echo "musl-check: $f failed"
	fi
	n=$((n + 1))
done
echo "musl-check: $n files, $bad failed"
[ "$bad" -eq 0 ]
