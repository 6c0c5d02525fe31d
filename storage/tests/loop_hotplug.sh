#!/bin/sh
# loop_hotplug.sh: `qstorage watch` (the uevent watcher + rescans the agent
# runs) on real loop devices (root): a blank disk attached while it runs is
# provisioned and mounted; a detached disk is reported missing and its pool
# degraded; the watcher keeps running.  Time to mounted is printed, not
# asserted.  Only loop devices this script attaches are considered.
. "$(dirname "$0")/loop_lib.sh"   # (re-runs this script in a private mount namespace)
cd "$(dirname "$0")/../.."
. tools/tap.sh
Q=$PWD/build/bin/qstorage

loop_usable || tap_skip_all "needs root and loop devices"
tap_plan 7

loop_init qstorage-hot
# the hot disk's pool depends on the loop driver's default rotational flag
hot_mounted() { m=$(last | jq -r --arg id "loop:$T/hot.img" '.disks[] | select(.id == $id) | .mountpoint'); [ -n "$m" ] && mounted "$m"; }
# wait_for SECONDS CMD...: poll every 50 ms
wait_for() { _end=$(($(now_ms) + $1 * 1000)); shift; while ! "$@"; do [ "$(now_ms)" -ge "$_end" ] && return 1; sleep 0.05; done; }
last() { jq -s 'last' "$T/watch.json" 2>/dev/null; }
state_of() { last | jq -r --arg id "loop:$T/$1.img" '.disks[] | select(.id == $id) | .state'; }
mounted() { grep -q " $1 " /proc/self/mounts; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }

truncate -s 200M "$T/ssd0.img" "$T/hot.img"
truncate -s 100M "$T/old.img"
mkfs.ext4 -q -F "$T/old.img"
attach ssd0; SSD=$L; attach old; OLD=$L
echo 0 > "/sys/block/${SSD#/dev/}/queue/rotational"

"$Q" --loop --only "loop:$T/*" --mount-root "$T/mnt" watch --json > "$T/watch.json" 2> "$T/watch.err" &
WPID=$!
tap_ok "watcher provisions the disk present at start" wait_for 30 mounted "$T/mnt/fast0"

t0=$(now_ms)
attach hot; HOT=$L
if wait_for 30 hot_mounted; then
	tap_pass "hot-added blank disk provisioned and mounted"
	tap_diag "hot-add to mounted: $(($(now_ms) - t0)) ms"
else
	tap_fail "hot-added blank disk provisioned and mounted" "$(cat "$T/watch.err")"
fi
wait_for 10 is_state hot provisioned-now
tap_is "$(state_of hot)" "provisioned-now" "report shows the hot-added disk provisioned-now"

detach "$OLD"
tap_ok "detached foreign disk reported missing" wait_for 30 is_state old missing

umount "$(last | jq -r --arg id "loop:$T/hot.img" '.disks[] | select(.id == $id) | .mountpoint')"
detach "$HOT"
wait_for 30 is_state hot missing
tap_is "$(state_of hot)" "missing" "removed disk of ours reported missing"
tap_is "$(last | jq -r '.pools.fast.degraded or .pools.bulk.degraded')" "true" "its pool is degraded"
tap_ok "watcher still running" kill -0 "$WPID"
tap_done
