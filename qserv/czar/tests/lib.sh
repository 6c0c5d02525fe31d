# lib.sh: helpers for the czar's shell tests (sourced after tools/tap.sh).
#
#   czar_free_port                     prints a free loopback TCP port
#   czar_mariadb_start DIR             private mariadbd in DIR (socket DIR/my.sock,
#                                      no networking, root without password)
#   czar_mariadb_stop DIR
#   czar_start DIR PORT SOCKET [ARGS]  qserv-czar on 127.0.0.1:PORT with the
#                                      users file DIR/users (user qsmaster,
#                                      password CZAR_PW); pid in DIR/czar.pid
# Everything lives under DIR; the caller's trap calls czar_cleanup DIR.
CZAR_PW=${CZAR_PW:-czar-test-pw}
BUILD=${BUILD:-build}

czar_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

. "$(dirname "$0")/../../../tools/test-mariadb.sh"
czar_mariadb_start() { test_mariadb_start "$1" --innodb-buffer-pool-size=64M --max-connections=400; }
czar_mariadb_stop() { test_mariadb_stop "$1"; }

czar_start() {
	_d=$1 _port=$2 _sock=$3
	shift 3
	printf 'qsmaster:%s\n' "$(echo "$CZAR_PW" | "$BUILD/bin/qserv-czar" --hash-password)" >"$_d/users"
	"$BUILD/bin/qserv-czar" --bind 127.0.0.1 --port "$_port" --users "$_d/users" \
		--mariadb-socket "$_sock" "$@" >>"$_d/czar.log" 2>&1 &
	echo $! >"$_d/czar.pid"
	_i=0
	while ! mariadb --no-defaults -h127.0.0.1 -P"$_port" -uqsmaster -p"$CZAR_PW" -e 'SELECT 1' >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		kill -0 "$(cat "$_d/czar.pid")" 2>/dev/null || return 1
		sleep 0.1
	done
}

czar_stop() {
	[ -f "$1/czar.pid" ] || return 0
	kill "$(cat "$1/czar.pid")" 2>/dev/null
	wait "$(cat "$1/czar.pid")" 2>/dev/null
	rm -f "$1/czar.pid"
}

czar_cleanup() {
	czar_stop "$1"
	czar_mariadb_stop "$1"
	rm -rf "$1"
}
