# test-mariadb.sh: a private MariaDB server for host tests (sourced, POSIX sh).
#
#   test_mariadb_start DIR [MARIADBD ARGS...]   initializes DIR/data and starts
#       mariadbd on the unix socket DIR/my.sock (no networking, root without
#       password, log DIR/my.err, pid in DIR/mariadbd.pid); returns once it
#       answers, non-zero if it does not start (within $TEST_MARIADB_WAIT s,
#       default 30; more where VMs load the host) or dies
#   test_mariadb_stop DIR                        TERM, then KILL after 10 s
# Never touches a system-wide MariaDB; the caller's trap calls the stop.
test_mariadb_start() {
	_tm_d=$1
	shift
	mkdir -p "$_tm_d/data"
	mariadb-install-db --no-defaults --datadir="$_tm_d/data" --user=root --skip-test-db \
		--skip-name-resolve --auth-root-authentication-method=normal > "$_tm_d/install.log" 2>&1 || return 1
	mariadbd --no-defaults --datadir="$_tm_d/data" --socket="$_tm_d/my.sock" --skip-networking \
		--user=root --pid-file="$_tm_d/my.pid" --log-error="$_tm_d/my.err" "$@" > /dev/null 2>&1 &
	echo $! > "$_tm_d/mariadbd.pid"
	_tm_i=0
	while ! mariadb --no-defaults -S "$_tm_d/my.sock" -uroot -e 'SELECT 1' > /dev/null 2>&1; do
		_tm_i=$((_tm_i + 1))
		[ $_tm_i -gt $((${TEST_MARIADB_WAIT:-30} * 10)) ] && return 1
		kill -0 "$(cat "$_tm_d/mariadbd.pid")" 2>/dev/null || return 1
		sleep 0.1
	done
}

test_mariadb_stop() {
	[ -f "$1/mariadbd.pid" ] || return 0
	_tm_p=$(cat "$1/mariadbd.pid")
	kill "$_tm_p" 2>/dev/null
	_tm_i=0
	while kill -0 "$_tm_p" 2>/dev/null && [ $_tm_i -lt 100 ]; do sleep 0.1; _tm_i=$((_tm_i + 1)); done
	kill -9 "$_tm_p" 2>/dev/null
	rm -f "$1/mariadbd.pid"
}
