#!/bin/sh
# bench_provision.sh: how long provisioning takes per disk and how long a
# hot-added disk takes to be mounted, on loop devices (root).  Baselines
# from the same run: a bare `mkfs.ext4 + mount` of the same size (the
# irreducible part), and a direct `qstorage apply` after attaching (no
# watcher).  Prints measurements and ratios; asserts nothing.
. "$(dirname "$0")/tests/loop_lib.sh"   # (re-runs this script in a private mount namespace)
cd "$(dirname "$0")/.."
Q=$PWD/build/bin/qstorage
N=${BENCH_DISKS:-4}
SIZE=${BENCH_DISK_SIZE:-1G}
if ! loop_usable; then
	echo "# storage bench skipped: needs root and loop devices"; exit 0
fi
loop_init qstorage-bench
mkdisk() { truncate -s "$SIZE" "$T/$1.img" && attach "$1"; }
qs() { "$Q" --loop --only "loop:$T/*" --mount-root "$T/mnt" "$@"; }
echo "# storage bench: $N loop disks of $SIZE"

# baseline: bare mkfs.ext4 + mount on one disk of the same size
mkdisk base; mkdir -p "$T/base"
t0=$(now_ms)
mkfs.ext4 -q -m 0 -E lazy_itable_init=1,lazy_journal_init=1 "$L" && mount -o noatime "$L" "$T/base"
base=$(($(now_ms) - t0))
umount "$T/base"; detach "$L"; LOOPS=""

# provisioning N blank disks in one pass
i=0; while [ $i -lt "$N" ]; do mkdisk "d$i"; i=$((i + 1)); done
t0=$(now_ms)
qs apply > /dev/null
prov=$(($(now_ms) - t0))
got=$(grep -c " $T/mnt/" /proc/self/mounts)
# a second pass over the same disks (ours, already mounted): the cost of a rescan
t0=$(now_ms); qs apply > /dev/null; rescan=$(($(now_ms) - t0))
# a "reboot" pass: unmounted disks of ours, fsck + mount
unmount_all
t0=$(now_ms); qs apply > /dev/null; reboot=$(($(now_ms) - t0))
echo "$base $prov $N $got $rescan $reboot" | awk '{
	per = $2 / $3
	printf "baseline mkfs.ext4+mount, one disk: %d ms\n", $1
	printf "provisioning %d disks (%d mounted): %d ms, %.0f ms per disk, %.2fx baseline\n", $3, $4, $2, per, per / ($1 ? $1 : 1)
	printf "rescan with all disks already mounted: %d ms (%.2fx baseline)\n", $5, $5 / ($1 ? $1 : 1)
	printf "boot pass (fsck + mount of %d disks of ours): %d ms, %.0f ms per disk\n", $3, $6, $6 / $3 }'
unmount_all

# hot-add to mounted, through the watcher, vs a direct apply after attach
"$Q" --loop --only "loop:$T/*" --mount-root "$T/mnt" watch > "$T/watch.out" 2>&1 &  # not through qs(): $! must be qstorage
WPID=$!
i=0; while [ $i -lt 100 ] && [ "$(grep -c " $T/mnt/" /proc/self/mounts)" -lt "$N" ]; do sleep 0.1; i=$((i + 1)); done
total=0; runs=3; r=0
while [ $r -lt $runs ]; do
	before=$(grep -c " $T/mnt/" /proc/self/mounts)
	t0=$(now_ms); mkdisk "hot$r"
	while [ "$(grep -c " $T/mnt/" /proc/self/mounts)" -le "$before" ] && [ $(($(now_ms) - t0)) -lt 30000 ]; do sleep 0.02; done
	dt=$(($(now_ms) - t0)); total=$((total + dt))
	echo "hot-add run $r: attach -> mounted $dt ms"
	r=$((r + 1))
done
kill "$WPID"; wait "$WPID" 2>/dev/null; WPID=""
t0=$(now_ms); mkdisk direct; qs apply > /dev/null; direct=$(($(now_ms) - t0))
echo "$total $runs $direct" | awk '{ m = $1 / $2
	printf "hot-add to mounted (watcher): mean %.0f ms; direct attach+apply: %d ms; ratio %.2fx\n", m, $3, m / ($3 ? $3 : 1) }'
