# tap.sh: TAP output for shell test scripts (sourced, POSIX sh).
#
#   . tools/tap.sh; tap_plan 3; tap_ok "name" cmd args...; tap_is A B "name"
#   tap_skip "name" "reason"; tap_done
#   tap_skip_all "reason"   (instead of a plan: the whole script cannot run
#                            here; prints "1..0 # SKIP reason" and exits 0.
#                            tools/run-tests counts it as one skip, and as a
#                            failure when CI=true)
# Each check prints "ok N - name" or "not ok N - name"; tap_done exits
# non-zero when any check failed.  Scripts clean up in a trap of their own.
TAP_N=0
TAP_FAILED=0
tap_plan() { echo "1..$1"; }
tap_pass() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
tap_fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $1"; [ -n "${2:-}" ] && echo "# $2"; return 0; }
tap_ok() { _n=$1; shift; if "$@"; then tap_pass "$_n"; else tap_fail "$_n" "command failed: $*"; fi; }
tap_is() { if [ "$1" = "$2" ]; then tap_pass "$3"; else tap_fail "$3" "got '$1', want '$2'"; fi; }
tap_skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
tap_skip_all() { echo "1..0 # SKIP $1"; exit 0; }
tap_diag() { echo "# $*"; }
tap_done() { [ "$TAP_FAILED" -eq 0 ]; }
