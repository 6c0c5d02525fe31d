#!/bin/sh
# analyze.sh: `make analyze` (scan-build, Debian clang-tools, over every
# program and library) as TAP: one "not ok" per report, naming the checker,
# file:line and the HTML report that shows the path the analyzer took; none:
# one "ok - scan-build finds nothing".  A build that fails is one "not ok".
# Objects go to $BUILD/analyze (BUILD as tools/run-tests has it, default
# build), rebuilt from scratch each run; ANALYZE_JOBS parallel jobs (2).
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tools/tap.sh"
command -v scan-build >/dev/null 2>&1 || tap_skip_all "scan-build not installed (make deps: clang-tools)"
B=${BUILD:-build}
case "$B" in /*) ;; *) B=$REPO/$B ;; esac
mkdir -p "$B"
log=$B/analyze.out
# a clean environment for make: no jobserver or flags of a make that runs us
MAKEFLAGS= MFLAGS= MAKELEVEL= make -C "$REPO" --no-print-directory -j"${ANALYZE_JOBS:-2}" \
	BUILD="$B" analyze >"$log" 2>&1
rc=$?
reports=$(grep -E '^[^|]+ \| [^|]+:[0-9]+ \| .*report-[0-9a-f]+\.html$' "$log")
n=$(printf '%s' "$reports" | grep -c .)
if [ "$n" -gt 0 ]; then
	tap_plan "$n"
	printf '%s\n' "$reports" | awk '{ print "not ok " NR " - scan-build: " $0 }'
	exit 1
fi
tap_plan 1
if [ "$rc" -eq 0 ] && grep -q '^analyze: scan-build finds nothing$' "$log"; then
	tap_pass "scan-build finds nothing"
else
	tail -n 20 "$log" | sed 's/^/# /'
	tap_fail "make analyze ran (exit $rc, see $log)"
fi
tap_done
