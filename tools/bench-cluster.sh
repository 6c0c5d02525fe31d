#!/bin/sh
# bench-cluster.sh: cluster bring-up benchmark, for 1 and for 3 workers
# (BENCH_CLUSTER_SIZES).  Boots the cluster of `make cluster` (czar from a
# USB stick, workers by PXE; no example queries, no port forward) in its own
# state directory and prints, per VM, seconds from its power-on (QEMU start)
# to: the kernel (its banner on the console, polled every 0.2 s; firmware,
# boot loader or iPXE download before it), agent serving /status, joined
# (registry ready), role ready (MariaDB + role daemons), plus kernel start
# -> /init from the console's printk clock, and the whole cluster ready
# (every worker registered in the controller, sample catalog loaded).  The
# /status polling of tools/cluster gives ~1 s resolution.  Asserts nothing:
# it shows whether joining stays flat as workers are added.  On the largest
# cluster, 200 qserv-mobu monkeys (150 lookups, 30 cone searches, 20
# director-child joins, answers checked) run for BENCH_MOBU_SECONDS (30)
# against the czar from the host's side of the bridge: throughput,
# p50/p95/p99 latency and errors per flock (issue 16's QEMU scale run).
# BENCH_CLUSTER_BOOT=kernel measures QEMU -kernel boots instead.
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
largest=$(echo ${BENCH_CLUSTER_SIZES:-1 3} | awk '{ print $NF }')
for n in ${BENCH_CLUSTER_SIZES:-1 3}; do
	dir=$BUILD/bench-cluster-$n
	echo "## cluster with $n worker(s), QEMU ${QEMU_ACCEL:-tcg}"
	if ! QSERV_CLUSTER_DIR=$dir "$top/tools/cluster" up --workers "$n" --boot "${BENCH_CLUSTER_BOOT:-media}" --no-forward --no-queries \
		> "$dir.log" 2>&1; then
		echo "cluster with $n worker(s) did not come up; see $dir.log"
		QSERV_CLUSTER_DIR=$dir "$top/tools/cluster" down > /dev/null 2>&1
		continue
	fi
	printf '%-8s %-10s %12s\n' vm name kernel-init
	for c in "$dir"/*/console.log; do
		vm=$(basename "$(dirname "$c")")
		t=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$c" | head -n1)
		printf '%-8s %-10s %11ss\n' "$vm" "$(cat "$(dirname "$c")/name" 2>/dev/null)" "${t:-?}"
	done
	cat "$dir/timings"
	if [ "$n" = "$largest" ]; then
		. "$dir/cluster.env"
		echo "## 200 qserv-mobu monkeys against the czar of $n worker(s), ${BENCH_MOBU_SECONDS:-30} s"
		ip netns exec "${QSERV_CLUSTER_NS:-qserv-cluster}" "$BUILD/bin/qserv-mobu" -h "${QSERV_CLUSTER_NET:-10.252.0}.10" \
			-P 4040 -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D "${QSERV_DB:-sample}" --duration "${BENCH_MOBU_SECONDS:-30}" \
			--ramp 10 --json --flock qemu-lookup:lookup:150 --flock qemu-cone:cone:30 --flock qemu-join:join:20 \
			> "$dir.mobu.json" 2> "$dir.mobu.err" || echo "qserv-mobu: $(tail -1 "$dir.mobu.err")"
		printf '%-12s %7s %8s %7s %8s %8s %8s %7s\n' flock monkeys runs /s p50_ms p95_ms p99_ms errors
		jq -r '.flocks[] | [.flock, .monkeys, .successes + .failures, (.per_second * 10 | floor) / 10,
			(.latency_ms.p50 | floor), (.latency_ms.p95 | floor), (.latency_ms.p99 | floor), .failures] | @tsv' \
			"$dir.mobu.json" 2> /dev/null | awk -F'\t' '{ printf "%-12s %7s %8s %7s %8s %8s %8s %7s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
	fi
	QSERV_CLUSTER_DIR=$dir "$top/tools/cluster" down > /dev/null 2>&1
done
