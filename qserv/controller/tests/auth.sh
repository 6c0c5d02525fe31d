#!/bin/sh
# auth.sh: who may call what on the controller's and the worker's HTTPS
# APIs, table-driven from the route tables themselves (capi.c `routes`,
# wapi.c `routes` and `mroutes`, read from the source so a new route is
# tried too).  On a 1-worker dev cluster (HTTPS, cluster CA, admin key):
#   - every route that is not open, without credentials: 401, and nothing
#     changed (qservMeta and qservWorker checksums, the databases);
#   - with a wrong key: 401; with a worker's certificate: 403 (a worker can
#     never call the controller's admin API nor a worker's management API);
#   - the czar's certificate: refused (403) on the controller's admin API,
#     accepted on the workers' management routes;
#   - the open routes answer without credentials;
#   - plain HTTP to either HTTPS port gets no HTTP answer;
#   - a CSV upload without a key is refused before its body is spooled, and
#     a body over the limit is refused (413) from its Content-Length alone;
#   - meanwhile a legitimate client (the key, the CA) still works.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
TD=$top/qserv/controller/tests
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/auth.XXXXXX)
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

for b in qserv-worker qserv-controller qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done

# METHOD PATH POLICY, one a line, from the C route tables ('*' -> x/y)
routes_of() { # FILE TABLE-NAME PREFIX
	awk -v t="$2" -v p="$3" '
		$0 ~ "^} " t "\\[\\] = \\{" { on = 1; next }
		on && /^};/ { on = 0 }
		on && /^\t\{ / {
			gsub(/[{},"]/, " "); n = split($0, f, " ")
			pol = (n >= 4 && f[4] ~ /^(QHTTP_|KEY|OPEN)/) ? f[4] : "-"
			sub(/^QHTTP_/, "", pol)
			path = f[2]; sub(/\*$/, "x/y", path)
			print f[1], p path, pol
		}' "$1"
}
routes_of "$top/qserv/controller/capi.c" routes "" > "$T/ctl.routes"
routes_of "$top/qserv/worker/wapi.c" routes "" | grep -v '^NULL ' > "$T/wrk.routes"
routes_of "$top/qserv/worker/wapi.c" mroutes /worker/ | awk '{ print $1, $2, "KEY_OR_CZAR" }' >> "$T/wrk.routes"
NC=$(wc -l < "$T/ctl.routes") NW=$(wc -l < "$T/wrk.routes")
NCK=$(grep -vc ' OPEN$' "$T/ctl.routes") NWK=$(grep -vc ' OPEN$' "$T/wrk.routes")

tap_plan 19
tap_ok "the route tables were read ($NC controller, $NW worker routes)" test "$NC" -ge 20 -a "$NW" -ge 15
tap_ok "dev cluster with 1 worker comes up" "$top/tools/dev-cluster" up --workers 1 --dir "$T/cluster"
set -a; . "$T/cluster/cluster.env"; set +a
. "$TD/qcurl.sh"
QCURL_CERT_DIR=$QSERV_DEV_DIR/pki
KEY=$QSERV_AUTH_KEY
C=$QSERV_INGEST_URL
W=https://127.0.0.1:$QSERV_WORKER_1_INGEST_PORT
sql() { mariadb --no-defaults -S "$1" -uroot -N -B -e "$2"; }
state() {
	for s in "$QSERV_CZAR_DB_SOCKET" "$QSERV_WORKER_1_SOCKET"; do
		tabs=$(sql "$s" "SELECT GROUP_CONCAT(CONCAT(TABLE_SCHEMA,'.',TABLE_NAME)) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('qservMeta','qservWorker')")
		sql "$s" "CHECKSUM TABLE $tabs EXTENDED; SHOW DATABASES"
	done
}
# a legitimate database, so that refused routes would have had something to change
QSERV_AUTH_KEY=$KEY qcurl -s -X POST "$C/ingest/database" -H 'Content-Type: application/json' \
	-d '{"database":"authdb","num_stripes":10,"num_sub_stripes":3,"overlap":0.01}' > "$T/r"
tap_is "$(jq -r .success "$T/r")" 1 "the key creates a database"
state > "$T/before"

# try BASE ROUTES-FILE WANT-FOR-PROTECTED: every protected route; prints
# the routes whose status differs, as "METHOD PATH got CODE"
try() {
	while read -r m p pol; do
		[ "$pol" = OPEN ] && continue
		code=$(qcurl -s -o /dev/null -w '%{http_code}' -X "$m" "$1$p" -H 'Content-Type: application/json' \
			${4:+-H "$4"} -d '{"database":"authdb","table":"x","transaction_id":1,"chunk":1}')
		[ "$code" = "$3" ] || echo "$m $p got $code"
	done < "$2"
}
export QSERV_AUTH_KEY=
tap_is "$(try "$C" "$T/ctl.routes" 401)" "" "controller: all $NCK protected routes refuse a request without credentials (401)"
tap_is "$(try "$W" "$T/wrk.routes" 401)" "" "worker: all $NWK protected routes refuse a request without credentials (401)"
tap_is "$(try "$C" "$T/ctl.routes" 401 "Authorization: Bearer 0000$KEY")" "" "controller: a wrong key is refused (401)"
tap_is "$(try "$W" "$T/wrk.routes" 401 "X-Qserv-Auth-Key: nope")" "" "worker: a wrong key is refused (401)"
qcurl_cert worker-1
tap_is "$(try "$C" "$T/ctl.routes" 403)" "" "controller: a worker's certificate is refused on every admin route (403)"
grep -v ' KEY_OR_WORKER$' "$T/wrk.routes" > "$T/wrk.noworker.routes"   # GET /replica/chunk: a worker's copy source
tap_is "$(try "$W" "$T/wrk.noworker.routes" 403)" "" "worker: a worker's certificate is refused on every route but the chunk export (403)"
qcurl_cert czar
tap_is "$(try "$C" "$T/ctl.routes" 403)" "" "controller: even the czar's certificate is refused on the admin API (403)"
code=$(qcurl -s -o /dev/null -w '%{http_code}' "$W/worker/count?database=authdb&table=x")
tap_ok "worker: the czar's certificate is accepted on a management route (got $code)" test "$code" != 401 -a "$code" != 403
# GET /replica/chunk is KEY_OR_WORKER in the route table: a worker's
# certificate or the key, never the czar's certificate nor no credential
# (the table-driven checks above cover no credential and a wrong key)
RC="$W/replica/chunk?database=authdb&chunk=1"
got="$(qcurl -s -o /dev/null -w '%{http_code}' "$RC")"
qcurl_cert worker-1
got="$got $(qcurl -s -o /dev/null -w '%{http_code}' "$RC")"
qcurl_cert ""
got="$got $(qcurl -s -o /dev/null -w '%{http_code}' -H "X-Qserv-Auth-Key: nope" "$RC") $(QSERV_AUTH_KEY=$KEY qcurl -s -o /dev/null -w '%{http_code}' "$RC")"
tap_is "$got" "403 404 401 404" "worker: GET /replica/chunk refuses the czar's certificate and a wrong key, serves a worker's certificate and the key (404: no such chunk)"
qcurl_cert ""
bad=
while read -r m p pol; do
	[ "$pol" = OPEN ] || continue
	code=$(qcurl -s -o /dev/null -w '%{http_code}' -X "$m" "$C$p")
	case $code in 401|403|000) bad="$bad $m $p:$code" ;; esac
done < "$T/ctl.routes"
tap_is "$bad" "" "controller: the open routes answer without credentials"
state > "$T/after"
tap_ok "nothing changed in qservMeta, qservWorker or the databases" cmp -s "$T/before" "$T/after"
tap_is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${C##*:}/status")$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$QSERV_WORKER_1_INGEST_PORT/status")" \
	000000 "plain HTTP to the controller's and the worker's HTTPS ports gets no HTTP answer"

# bodies: refused before they are read
head -c 8000000 /dev/zero | tr '\0' 'x' > "$T/big"
# curl asks "Expect: 100-continue": a server that refuses at the headers
# gets no byte of the body
r=$(qcurl -s -o /dev/null -w '%{http_code} %{size_upload}' -X POST "$W/ingest/csv?transaction_id=1&table=x" \
	--data-binary @"$T/big")
tap_is "$r" "401 0" "a CSV upload without a key is refused before any byte of its body is sent"
head -c 100000 /dev/zero | tr '\0' 'x' > "$T/mid"
r=$(qcurl -s -o /dev/null -w '%{http_code}' -H 'Expect:' -X POST "$W/ingest/csv?transaction_id=1&table=x" \
	--data-binary @"$T/mid")
tap_is "$r" 401 "and without Expect, a body over 64 KiB without a key header is refused too"
head -c 17000000 /dev/zero | tr '\0' ' ' > "$T/huge"
code=$(QSERV_AUTH_KEY=$KEY qcurl -s -o /dev/null -w '%{http_code}' -X POST "$C/ingest/database" \
	-H 'Content-Type: application/json' --data-binary @"$T/huge")
tap_is "$code" 413 "a JSON body over 16 MiB is refused from its Content-Length (413)"

# a legitimate client still gets in
QSERV_AUTH_KEY=$KEY qcurl -s -X DELETE "$C/ingest/database/authdb" > "$T/r"
tap_is "$(jq -r .success "$T/r")" 1 "the key still deletes the database"
tap_done
