#!/bin/sh
# embed.sh: writes the dashboard's files (qserv/czar/dashboard/*.html,
# *.js, *.css) as C arrays for http_dash_assets.c, so qserv-czar serves
# them with no file on disk.  Usage: embed.sh OUT FILE...  (od and sed
# only: no xxd in the image's build dependencies).
set -eu
out=$1; shift
tmp=$out.tmp
: > "$tmp"
i=0
for f in "$@"; do
	printf 'static const unsigned char dash_a%d[] = {\n' "$i" >> "$tmp"
	od -An -v -tx1 "$f" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g' >> "$tmp"
	printf '};\n' >> "$tmp"
	i=$((i + 1))
done
printf 'const struct dash_asset dash_assets[] = {\n' >> "$tmp"
i=0
for f in "$@"; do
	printf '\t{ "%s", dash_a%d, sizeof(dash_a%d) },\n' "$(basename "$f")" "$i" "$i" >> "$tmp"
	i=$((i + 1))
done
printf '};\nconst size_t dash_nassets = %d;\n' "$i" >> "$tmp"
mv "$tmp" "$out"
