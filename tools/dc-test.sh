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
