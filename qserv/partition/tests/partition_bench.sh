#!/bin/sh
# partition_bench.sh: qserv-partition throughput (MB/s) on a generated
# Object catalog, against plain passes over the same file measured in the
# same run: `cat > /dev/null` (read speed) and `wc -l` (a minimal per-line
# pass).  Also with 1 worker (scaling) and with LZ4 output.  Prints ratios;
# asserts nothing.
cd "$(dirname "$0")/../../.." || exit 1
N=${QPART_BENCH_OBJECTS:-1000000}
T=$(mktemp -d /tmp/qpart_bench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
build/bin/qserv-gen --objects "$N" --ra 0,60 --dec -10,0 --out-dir "$T/g" --seed 5 >/dev/null || exit 1
F=$T/g/Object.tsv
MB=$(awk "BEGIN {print $(stat -c %s "$F") / 1e6}")
now() { date +%s.%N; }
run() {	# run NAME CMD...: prints seconds
	t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
	awk "BEGIN {print $t1 - $t0}"
}
cat "$F" > /dev/null	# warm the page cache
t_cat=$(run sh -c "cat '$F' > /dev/null")
t_wc=$(run wc -l "$F")
t_p2=$(run build/bin/qserv-partition --config-file="$T/g/Object.json" --in.path="$F" --out.dir="$T/o2")
rm -rf "$T/o2"
t_p1=$(run build/bin/qserv-partition --config-file="$T/g/Object.json" --in.path="$F" --out.dir="$T/o1" --mr.num-workers=1)
rm -rf "$T/o1"
t_lz=$(run build/bin/qserv-partition --config-file="$T/g/Object.json" --in.path="$F" --out.dir="$T/oz" --out.lz4=true)
rm -rf "$T/oz"
awk -v mb="$MB" -v n="$N" -v c="$t_cat" -v w="$t_wc" -v p2="$t_p2" -v p1="$t_p1" -v lz="$t_lz" 'BEGIN {
	printf "partition: %d objects in 600 deg2 (about 170 chunks), %.1f MB input (S=85, SS=12, overlap 1 arcmin)\n", n, mb
	printf "  cat > /dev/null      %8.1f MB/s\n", mb / c
	printf "  wc -l                %8.1f MB/s\n", mb / w
	printf "  qserv-partition (2)  %8.1f MB/s   %.3f x wc -l, %.3f x cat\n", mb / p2, w / p2, c / p2
	printf "  qserv-partition (1)  %8.1f MB/s   2-worker speed-up %.2f x\n", mb / p1, p1 / p2
	printf "  qserv-partition lz4  %8.1f MB/s   %.3f x uncompressed\n", mb / lz, p2 / lz
}'
