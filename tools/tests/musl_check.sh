#!/bin/sh
# musl_check.sh: every project C file passes musl-gcc -fsyntax-only (TAP).
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tools/tap.sh"
tap_plan 1
if out=$("$REPO/tools/musl-check.sh" 2>&1); then
	tap_pass "musl-gcc accepts every project C file ($(echo "$out" | tail -n1))"
else
	echo "$out" | sed 's/^/# /' | tail -20
	tap_fail "musl-gcc accepts every project C file"
fi
tap_done
