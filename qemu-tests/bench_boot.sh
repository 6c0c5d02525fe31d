#!/bin/sh
# bench_boot.sh: boot-time benchmark of the image under QEMU.  Boots it
# BOOT_RUNS times (default 3) and reads the console timestamps (printk
# clock, seconds since kernel start): kernel start -> /init, and /init ->
# agent ready (/status served).  Prints each run and the medians; asserts
# nothing.
. "$(dirname "$0")/lib.sh"
trap vm_kill_all EXIT INT TERM
runs=${BOOT_RUNS:-3}
echo "# boot benchmark: $runs runs, accel ${QEMU_ACCEL:-tcg}"
: > "$VM_DIR/times"
i=1
while [ "$i" -le "$runs" ]; do
	vm_append "boot$i" "qserv.role=worker"
	vm_start "boot$i"
	if vm_wait_console "boot$i" "agent ready" 120; then
		log=$VM_DIR/boot$i/console.log
		t_init=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$log" | head -n1)
		t_agent=$(sed -n 's/^\[ *\([0-9.]*\)\] qagent: info: agent ready.*/\1/p' "$log" | head -n1)
		echo "$t_init $t_agent" | awk '{ printf "run %d: kernel->/init %.2f s, /init->agent ready %.2f s, total %.2f s\n", '"$i"', $1, $2 - $1, $2 }'
		echo "$t_init $t_agent" >> "$VM_DIR/times"
	else
		echo "run $i: agent not ready within 120 s"
	fi
	vm_kill_all
	i=$((i + 1))
done
sort -n "$VM_DIR/times" | awk '{ a[NR] = $1; b[NR] = $2 - $1; c[NR] = $2 }
	END { if (NR) { m = int((NR + 1) / 2); printf "median: kernel->/init %.2f s, /init->agent ready %.2f s, kernel->agent ready %.2f s\n", a[m], b[m], c[m] } }'
