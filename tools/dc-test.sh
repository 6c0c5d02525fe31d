# dc-test.sh: what the tests on a dev cluster (tools/dev-cluster) share;
# sourced after tools/tap.sh, with REPO set to the top of the tree.
#
#   dc_init NAME          T (a new /tmp/qserv-NAME.XXXXXX), BIN, DC; an exit
#                         trap that kills the test's background loops
#                         ($DC_PIDS), continues what it stopped ($DC_STOPPED),
#                         stops the cluster and removes T; bails out unless
#                         the binaries are built; skips without mariadbd or jq
#   dc_up N [UP ARGS]     tools/dev-cluster up --workers N UP ARGS --dir
#                         $T/cluster, its cluster.env exported; 1 on failure
#                         (the log is $T/up.log)
#   dc_catalog DB N [SAMPLE-CATALOG ARGS]   tools/sample-catalog.sh's catalog
#                         DB ingested into a new dev cluster of N workers:
#                         one TAP check, and the script exits when it fails
#   api METHOD PATH [BODY] [CURL ARGS]   a controller call: prints the HTTP
#                         status, the reply goes to $T/r
#   key                   the admin key's Authorization header
#   my SOCKET ARGS...     the mariadb client as root on a unix socket (-N -B)
#   meta SQL              on the czar's MariaDB (qservMeta)
#   sql SQL               through the czar's SQL port
#   status                GET /replication/status
#   wstate WORKER         that worker's state in it
#   now                   seconds since the epoch, to 0.01 s
#   wait_until SECONDS CMD...   CMD retried every 0.5 s; 1 when time ran out
#   czar_is SQL WANT      sql SQL's answer, retried every 0.5 s (10 s at
#                         most) until it is WANT (the czar's metadata
#                         catching up); prints the last answer
#   czar_args FILE        the running czar's options, one a line, into FILE
#                         (edit it, then czar_restart it)
#   czar_restart [FILE]   the czar stopped and started again with FILE's
#                         options (default $T/czar.args), its output to
#                         $T/czar.log; 0 once its SQL port and (with
#                         QSERV_HTTP_URL) its HTTPS frontend answer, 1
#                         after 30 s; the cluster's pids file follows

dc_cleanup() {
	for _p in ${DC_STOPPED:-}; do kill -CONT "$_p" 2> /dev/null; done
	for _p in ${DC_PIDS:-}; do kill "$_p" 2> /dev/null; done
	"$DC" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T"
}

dc_init() {
	BIN=${BUILD:-$REPO/build}/bin
	DC="$REPO/tools/dev-cluster"
	T=$(mktemp -d "/tmp/qserv-$1.XXXXXX")
	DC_PIDS= DC_STOPPED=
	trap dc_cleanup EXIT
	trap 'dc_cleanup; exit 1' INT TERM
	for _b in qservctl qserv-gen qserv-partition qserv-worker qserv-controller qserv-czar qserv-certs; do
		[ -x "$BIN/$_b" ] || { echo "Bail out! $BIN/$_b is not built"; exit 1; }
	done
	command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"
	command -v jq > /dev/null || tap_skip_all "needs jq"
}

dc_up() {
	_n=$1; shift
	"$DC" up --workers "$_n" "$@" --dir "$T/cluster" > "$T/up.log" 2>&1 &&
		set -a && . "$T/cluster/cluster.env" && set +a
}

dc_catalog() {
	_db=$1 _n=$2; shift 2
	"$REPO/tools/sample-catalog.sh" "$T" "$_db" "$@" || exit 1
	if dc_up "$_n" && "$BIN/qservctl" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
		tap_pass "dev cluster with $_n worker(s) up, catalog ingested"
	else
		tap_fail "dev cluster with $_n worker(s) up, catalog ingested" \
			"$(tail -n 5 "$T/up.log" "$T/ingest.log" 2>/dev/null)"
		exit 1
	fi
}

api() {
	_m=$1 _p=$2 _b=${3:-}
	if [ $# -ge 3 ]; then shift 3; else shift $#; fi
	curl -s -o "$T/r" -w '%{http_code}' --cacert "$QSERV_CA_FILE" -X "$_m" \
		${_b:+-H 'Content-Type: application/json' -d "$_b"} "$@" "$QSERV_INGEST_URL$_p"
}
key() { echo "Authorization: Bearer $QSERV_AUTH_KEY"; }
my() { _s=$1; shift; mariadb --no-defaults -S "$_s" -uroot -N -B "$@" 2>&1; }
meta() { my "$QSERV_CZAR_DB_SOCKET" -e "$1"; }
sql() { mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -N -e "$1" 2>&1; }
status() { curl -s --cacert "$QSERV_CA_FILE" "$QSERV_INGEST_URL/replication/status"; }
wstate() { status | jq -r --arg w "$1" '.workers[] | select(.id == $w) | .state'; }
now() { date +%s.%N | cut -c1-14; }
wait_until() {
	_end=$(($(date +%s) + $1)); shift
	until "$@" > /dev/null 2>&1; do
		[ "$(date +%s)" -ge $_end ] && return 1
		sleep 0.5
	done
}

czar_is() {
	_i=0
	while :; do
		_got=$(sql "$1")
		[ "$_got" = "$2" ] || [ $_i -ge 20 ] && break
		_i=$((_i + 1)); sleep 0.5
	done
	echo "$_got"
}

czar_pid() { awk '$1 == "czar" { p = $2 } END { print p }' "$T/cluster/pids"; }
czar_args() { tr '\0' '\n' < "/proc/$(czar_pid)/cmdline" > "$1"; }
czar_ready() {
	mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" \
		-N -e 'SELECT 1' > /dev/null 2>&1 &&
		{ [ -z "${QSERV_HTTP_URL:-}" ] ||
			curl -s -o /dev/null -m 5 --cacert "$QSERV_CA_FILE" "$QSERV_HTTP_URL/meta/version"; }
}
czar_restart() {
	_f=${1:-$T/czar.args} _p=$(czar_pid)
	kill "$_p" 2> /dev/null
	_i=0
	while kill -0 "$_p" 2> /dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	(
		set --
		while IFS= read -r _a; do set -- "$@" "$_a"; done < "$_f"
		exec "$@" >> "$T/czar.log" 2>&1
	) &
	echo "czar $!" >> "$T/cluster/pids"
	wait_until 30 czar_ready
}
