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
# it shows whether joining stays flat as workers are added.
# BENCH_CLUSTER_BOOT=kernel measures QEMU -kernel boots instead.
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
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
	QSERV_CLUSTER_DIR=$dir "$top/tools/cluster" down > /dev/null 2>&1
done
