#!/bin/sh
# http_frontend.sh: Qserv's HTTP query frontend on the czar (http.h) on a
# 2-worker dev cluster with a 3000-object catalog (dev-cluster starts the
# frontend, QSERV_HTTP_URL), the czar with --http-max-result-bytes 65536: HTTPS with
# the cluster CA, GET /meta/version and Qserv's version check; POST /query
# of a COUNT(*) and a box query equal to the same statements through the
# mariadb CLI on the SQL port; a binary value in hex, b64 and array;
# missing or wrong credentials refused with 401 and WWW-Authenticate; an
# INSERT, an unknown database and a too large result answered with Qserv's
# success 0 + error; Python urllib runs one query; the async round trip
# (POST /query-async, status until COMPLETED, result, result delete,
# cancel of a slow query, another user's job refused); a second user's
# statement refused as on the SQL port, listed in SHOW SESSIONS and
# stopped by KILL QUERY, counted against max_user_connections, stopped when its
# client hangs up; eight concurrent queries.  Waits
# bounded.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
REPO=$top
. "$top/tools/dc-test.sh"
PY=/usr/bin/python3
dc_init czar-http
[ -f "$top/build/lib/qserv_scisql.so" ] || { echo "Bail out! build/lib/qserv_scisql.so is not built"; exit 1; }
command -v curl > /dev/null || tap_skip_all "needs curl"
tap_plan 38

"$top/tools/sample-catalog.sh" "$T" hfe --objects 3000 --sources-per-object 1 --ra 0,2 --dec -1,1 > "$T/gen.log" 2>&1 || exit 1
if QSERV_CZAR_ARGS="--http-max-result-bytes 65536" dc_up 2 &&
	"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up with the HTTP frontend, catalog ingested"
else
	tap_fail "dev cluster up with the HTTP frontend, catalog ingested" "$(tail -n 5 "$T/up.log" "$T/ingest.log" 2>/dev/null)"
	exit 1
fi
URL=$QSERV_HTTP_URL
HP=${URL##*:}
U=$QSERV_USER:$QSERV_PASSWORD
# hc ARGS...: curl with the cluster CA, bounded, body on stdout
hc() { curl -sS --max-time 60 --cacert "$QSERV_CA_FILE" "$@"; }
# q JSON [USER:PW]: POST /query
q() { hc -u "${2:-$U}" -H 'Content-Type: application/json' -d "$1" "$URL/query"; }
# sql STATEMENT: the same statement on the SQL port (tab-separated)
sql() { mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -D hfe -N -B -e "$1"; }
# rows: a /query answer's rows as tab-separated lines
rows() { jq -r '.rows[] | map(if . == null then "NULL" else . end) | @tsv'; }

# ---- version
out=$(hc "$URL/meta/version" | jq -c '[.kind, .name, .version, .success]')
tap_is "$out" '["qserv-czar-query-frontend","http",54,1]' "GET /meta/version: Qserv's kind, name, version, success"
out=$(q '{"query": "SELECT 1", "version": 29}' | jq -c '[.success, .error_ext.max_version, .error_ext.min_version]')
tap_is "$out" '[0,54,30]' "a request for version 29 is refused with max_version and min_version"
out=$(hc "$URL/meta/version?version=12" | jq -c '[.success, .error_ext.max_version]')
tap_is "$out" '[0,54]' "version in the query string of a GET is checked too"

# ---- synchronous queries, compared with the SQL port
Q="SELECT COUNT(*) FROM Object"
out=$(q "{\"query\": \"$Q\", \"database\": \"hfe\", \"version\": 39}" | rows)
tap_is "$out" "$(sql "$Q")" "POST /query COUNT(*) with database: the SQL port's count"
BOX="SELECT objectId, ra, decl FROM hfe.Object WHERE qserv_areaspec_box(0.9, -0.1, 1.1, 0.1) ORDER BY objectId"
q "{\"query\": \"$BOX\"}" > "$T/box.json"
rows < "$T/box.json" > "$T/box.http"
sql "$BOX" > "$T/box.sql"
if [ -s "$T/box.sql" ] && cmp -s "$T/box.http" "$T/box.sql"; then tap_pass "POST /query box query: the SQL port's rows"
else tap_fail "POST /query box query: the SQL port's rows" "$(head -c 300 "$T/box.json")"; fi
out=$(jq -c '[.success, [.schema[] | .column], [.schema[] | .is_binary], .schema[0].type]' < "$T/box.json")
tap_is "$out" '[1,["objectId","ra","decl"],[0,0,0],"BIGINT"]' "its schema: column names, is_binary, type"

# ---- binary encodings
BQ="SELECT UNHEX('0A11FFD2') AS b, 'x' AS s"
tap_is "$(q "{\"query\": \"$BQ\"}" | jq -c '[.schema[0].is_binary, .schema[1].is_binary, .rows[0]]')" \
	'[1,0,["0A11FFD2","x"]]' "binary_encoding default (hex): 0A11FFD2, is_binary 1"
tap_is "$(q "{\"query\": \"$BQ\", \"binary_encoding\": \"b64\"}" | jq -c '.rows[0]')" '["ChH/0g==","x"]' \
	"binary_encoding b64"
tap_is "$(q "{\"query\": \"$BQ\", \"binary_encoding\": \"array\"}" | jq -c '.rows[0]')" '[[10,17,255,210],"x"]' \
	"binary_encoding array"

# ---- authentication
hc -o /dev/null -D "$T/h1" -w '%{http_code}\n' -u "$QSERV_USER:wrong" -d '{"query": "SELECT 1"}' "$URL/query" > "$T/code1"
if [ "$(cat "$T/code1")" = 401 ] && grep -qi '^WWW-Authenticate: Basic' "$T/h1"; then tap_pass "a wrong password: 401 with WWW-Authenticate"
else tap_fail "a wrong password: 401 with WWW-Authenticate" "$(cat "$T/code1" "$T/h1")"; fi
hc -o /dev/null -D "$T/h2" -w '%{http_code}\n' -d '{"query": "SELECT 1"}' "$URL/query" > "$T/code2"
if [ "$(cat "$T/code2")" = 401 ] && grep -qi '^WWW-Authenticate: Basic' "$T/h2"; then tap_pass "no credentials: 401 with WWW-Authenticate"
else tap_fail "no credentials: 401 with WWW-Authenticate" "$(cat "$T/code2" "$T/h2")"; fi
out=$(hc -o /dev/null -w '%{http_code}' -H 'Authorization: Basic !!!not-base64' -d '{"query": "SELECT 1"}' "$URL/query")
tap_is "$out" 401 "a malformed Authorization header: 401"
head -c 1100000 /dev/zero | tr '\0' ' ' > "$T/big"
out=$(hc -o /dev/null -w '%{http_code}' -u "$U" --data-binary @"$T/big" "$URL/query")
tap_is "$out" 413 "a body above 1 MiB: 413"
out=$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -u "$U" "http://127.0.0.1:$HP/meta/version" 2>/dev/null)
case "$out" in 2*) tap_fail "plain HTTP is not answered" "$out" ;; *) tap_pass "plain HTTP is not answered" ;; esac

# ---- refusals in Qserv's shape
out=$(q '{"query": "INSERT INTO hfe.Filter VALUES (9, \"z\", 1)"}')
if [ "$(echo "$out" | jq -c '[.success, (.error | length > 0)]')" = '[0,true]' ] && ! echo "$out" | jq -en 'input | .rows' > /dev/null
then tap_pass "an INSERT: success 0 and an error, no rows"; else tap_fail "an INSERT: success 0 and an error, no rows" "$out"; fi
out=$(q '{"query": "SELECT 1", "database": "nosuchdb"}' | jq -c '[.success, .error_ext.code]')
tap_is "$out" '[0,1049]' "an unknown database: success 0, MySQL's 1049"
out=$(q '{"query": "SELECT * FROM hfe.Object"}' | jq -r '[.success, .error] | @tsv')
case "$out" in "0	"*"limit of 65536 bytes"*) tap_pass "a result past --http-max-result-bytes: success 0, the limit named" ;;
	*) tap_fail "a result past --http-max-result-bytes: success 0, the limit named" "$(echo "$out" | head -c 300)" ;; esac
out=$(q '{"query": 5}' | jq -c .success)
tap_is "$out" 0 "a body without a string query: success 0"

# ---- Python urllib
out=$(URL=$URL U=$QSERV_USER P=$QSERV_PASSWORD CA=$QSERV_CA_FILE $PY - <<'EOF' 2>&1
import base64, json, os, ssl, urllib.request
ctx = ssl.create_default_context(cafile=os.environ["CA"])
req = urllib.request.Request(os.environ["URL"] + "/query", method="POST",
        data=json.dumps({"query": "SELECT COUNT(*) AS n FROM hfe.Object"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Basic " +
                 base64.b64encode((os.environ["U"] + ":" + os.environ["P"]).encode()).decode()})
with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
    j = json.load(r)
print(j["success"], j["schema"][0]["column"], j["rows"][0][0])
EOF
)
tap_is "$out" "1 n $(sql "SELECT COUNT(*) FROM Object")" "Python urllib: POST /query with Basic auth and the CA"

# ---- async: bob, a second user (not an admin), added by a czar restart
czar_args "$T/czar.args"
USERS=$(awk 'p { print; exit } $0 == "--users" { p = 1 }' "$T/czar.args")
printf 'bob:%s:max_user_connections=1\n' "$(echo bob-pw | "$BIN/qserv-czar" --hash-password)" >> "$USERS"
tap_ok "czar restarted with user bob" czar_restart
# bob's statements run as on the SQL port (least-privilege account, same refusal)
B4040=$(mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -ubob -pbob-pw -N -B -e "SELECT COUNT(*) FROM mysql.user" 2>&1 |
	tail -n 1 | sed 's/^ERROR [0-9]* ([0-9A-Z]*)\( at line [0-9]*\)\{0,1\}: //')
out=$(q '{"query": "SELECT COUNT(*) FROM mysql.user"}' bob:bob-pw | jq -r '[.success, .error] | @tsv')
tap_is "$out" "0	$B4040" "bob's SELECT of mysql.user: refused with the SQL port's message"
# eight requests at once, each answered in full
pids=
for i in 1 2 3 4 5 6 7 8; do q '{"query": "SELECT COUNT(*) FROM hfe.Object"}' | rows > "$T/par.$i" & pids="$pids $!"; done
for p in $pids; do wait "$p"; done
n=0
for i in 1 2 3 4 5 6 7 8; do [ "$(cat "$T/par.$i")" = 3000 ] && n=$((n + 1)); done
tap_is "$n" 8 "eight concurrent POST /query: each answers 3000"
# an HTTP statement is a session of its user: in SHOW SESSIONS, KILL stops it
q '{"query": "SELECT objectId, SLEEP(0.05) FROM hfe.Object"}' bob:bob-pw > "$T/killed.json" &
kpid=$!
i=0 kid=
while [ -z "$kid" ] && [ $i -lt 200 ]; do
	kid=$(sql "SHOW FULL SESSIONS" | awk -F '\t' '$2 == "bob" && $8 ~ /SLEEP/ { print $1 }')
	[ -z "$kid" ] && sleep 0.1
	i=$((i + 1))
done
second=$(q '{"query": "SELECT 1"}' bob:bob-pw | jq -c '[.success, .error_ext.code]')
[ -n "$kid" ] && sql "KILL QUERY $kid" > /dev/null 2>&1
wait "$kpid"
if [ -n "$kid" ] && [ "$(jq -c .success < "$T/killed.json")" = 0 ]; then tap_pass "bob's HTTP statement is in SHOW SESSIONS; KILL QUERY stops it (success 0)"
else tap_fail "bob's HTTP statement is in SHOW SESSIONS; KILL QUERY stops it (success 0)" "id '$kid': $(head -c 300 "$T/killed.json")"; fi
tap_is "$second" '[0,1226]' "bob (max_user_connections=1) gets MySQL's 1226 for a second statement at once"
# a client that hangs up stops its statement: bob's session leaves the list
hc --max-time 2 -u bob:bob-pw -d '{"query": "SELECT objectId, SLEEP(0.05) FROM hfe.Object"}' "$URL/query" > /dev/null 2>&1
i=0
while [ -n "$(sql "SHOW FULL SESSIONS" | awk -F '\t' '$2 == "bob"')" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
tap_is "$(sql "SHOW FULL SESSIONS" | awk -F '\t' '$2 == "bob"')" "" "a client that hangs up: its statement is stopped, its session gone"
# qid: the queryId of an answer, as text (jq's numbers are doubles; the ids are 64-bit)
qid() { sed -n 's/.*"queryId":\([0-9]*\).*/\1/p'; }
# aq METHOD PATH [USER:PW]: an async route
aq() { hc -u "${3:-$U}" -X "$1" "$URL$2"; }
# wait_status ID: polls status until it is not EXECUTING (60 s at most)
wait_status() {
	i=0
	while [ "$(aq GET "/query-async/status/$1" | jq -r .status.status)" = EXECUTING ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1)); done
	aq GET "/query-async/status/$1" | jq -r .status.status
}
AQ="SELECT objectId, UNHEX('0A11FFD2') AS b FROM hfe.Object WHERE qserv_areaspec_box(0.9, -0.1, 1.1, 0.1)"
# version 51: what Rubin's qserv-kafka bridge sends
id=$(hc -u "$U" -H 'Content-Type: application/json' -d "{\"query\": \"$AQ\", \"version\": 51}" "$URL/query-async" | qid)
case "$id" in [1-9]*) tap_pass "POST /query-async answers a queryId" ;; *) tap_fail "POST /query-async answers a queryId" "$id" ;; esac
tap_is "$(wait_status "$id")" COMPLETED "GET /query-async/status/:id becomes COMPLETED"
tap_is "$(aq GET "/query-async/status/$id" | qid)" "$id" "its status names its queryId"
out=$(aq GET "/query-async/status/$id" | jq -c '[.success, .status.totalChunks > 0,
	.status.completedChunks == .status.totalChunks, .status.queryBeginEpoch > 1600000000, .status.lastUpdateEpoch > 0]')
tap_is "$out" '[1,true,true,true,true]' "its status: totalChunks, completedChunks, epochs"
out=$(aq GET "/query-async/status/$id?version=51" | jq -c --arg q "$AQ" '[.status.query == $q, .status.error, .status.czarType,
	(.status.czarId | type), .status.finalRows > 0, .status.collectedRows > 0, .status.collectedBytes > 0]')
tap_is "$out" '[true,"","http","number",true,true,true]' "its status has the fields of API 54 qserv-kafka reads (query, error, czarId, czarType, rows, bytes)"
aq GET "/query-async/result/$id" | rows | sort > "$T/async.http"
q "{\"query\": \"$AQ\"}" | rows | sort > "$T/async.sync"
if [ -s "$T/async.sync" ] && cmp -s "$T/async.http" "$T/async.sync"; then tap_pass "GET /query-async/result/:id equals POST /query"
else tap_fail "GET /query-async/result/:id equals POST /query" "$(head -n 3 "$T/async.http" "$T/async.sync")"; fi
out=$(aq GET "/query-async/result/$id?binary_encoding=b64" | jq -r '.rows[0][1]'),$(aq GET "/query-async/result/$id?binary_encoding=array" | jq -c '.rows[0][1]')
tap_is "$out" 'ChH/0g==,[10,17,255,210]' "the result's binary column in b64 and array"
out=$(aq GET "/query-async/status/$id" bob:bob-pw | jq -c .success),$(aq GET "/query-async/result/$id" bob:bob-pw | jq -c .success),$(aq DELETE "/query-async/result/$id" bob:bob-pw | jq -c .success)
tap_is "$out" "0,0,0" "another user can neither see the status, read nor delete the result"
out=$(aq DELETE "/query-async/result/$id" | jq -c .success),$(aq GET "/query-async/result/$id" | jq -c .success)
tap_is "$out" "1,0" "DELETE /query-async/result/:id: deleted, then not readable"
SLOW="SELECT objectId, SLEEP(0.02) FROM hfe.Object"
sid=$(hc -u bob:bob-pw -H 'Content-Type: application/json' -d "{\"query\": \"$SLOW\"}" "$URL/query-async" | qid)
out=$(aq DELETE "/query-async/$sid" | jq -c .success)
tap_is "$out" 1 "DELETE /query-async/:id by an admin user cancels bob's slow query"
tap_is "$(wait_status "$sid")" ABORTED "the cancelled query becomes ABORTED"
out=$(aq GET "/query-async/status/999999999" | jq -c '[.success, (.error | length > 0)]')
tap_is "$out" '[0,true]' "status of an unknown query: success 0 and an error"

tap_done
