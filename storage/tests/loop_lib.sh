# loop_lib.sh: the set-up shared by the scripts that run qstorage on real
# loop devices (storage/tests/loop_*.sh, storage/bench_provision.sh);
# sourced, POSIX sh.  Sourcing it first re-executes the script in a private
# mount namespace: mounts made there never propagate into namespaces other
# programs create meanwhile (ip netns exec ...), which would keep our file
# systems alive after we unmount them.
#
#   loop_usable                 true when root and loop devices are available
#   loop_init PREFIX            T = a new /tmp/PREFIX.XXXXXX; cleanup on exit
#   attach NAME [ROTATIONAL]    L = /dev/loopN backed by $T/NAME.img (called
#                               directly, not in $(...): LOOPS must grow)
#   detach LOOP                 retried while it is still backed by one of
#                               our files (the number may be reused by
#                               someone else as soon as it is free)
#   unmount_all                 every mount under $T, deepest first
#   now_ms                      wall clock in milliseconds
# The script may set WPID (a background qstorage watch) and LOOP_CLEANUP
# (a command run first at exit).
if [ -z "${QSTORAGE_PRIVATE_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
	export QSTORAGE_PRIVATE_NS=1
	exec unshare -m --propagation private "$0" "$@"
fi
LOOPS="" WPID="" L=""

loop_usable() { [ "$(id -u)" = 0 ] && losetup -f > /dev/null 2>&1; }

loop_init() {
	T=$(mktemp -d "/tmp/$1.XXXXXX")
	trap loop_cleanup EXIT
	trap 'loop_cleanup; trap - EXIT; exit 1' INT TERM
}

ours_loop() { losetup -n -O BACK-FILE "$1" 2>/dev/null | grep -q "^$T/"; }
detach() {
	for _i in $(seq 50); do
		ours_loop "$1" || return 0
		losetup -d "$1" 2>/dev/null
		sleep 0.1
	done
	echo "# could not detach $1" >&2
}
attach() {
	L=$(losetup -P -f --show "$T/$1.img") || return 1
	LOOPS="$LOOPS $L"
	[ -z "${2:-}" ] || echo "$2" > "/sys/block/${L#/dev/}/queue/rotational"
}
unmount_all() { for _m in $(grep " $T/" /proc/self/mounts | awk '{print $2}' | sort -r); do umount "$_m"; done; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

loop_cleanup() {
	[ -n "${LOOP_CLEANUP:-}" ] && eval "$LOOP_CLEANUP"
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	for _m in $(grep " $T/" /proc/self/mounts | awk '{print $2}' | sort -r); do umount "$_m" 2>/dev/null || umount -l "$_m"; done
	for _l in $LOOPS; do detach "$_l"; done
	rm -rf "$T"
}
