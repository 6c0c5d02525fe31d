#!/bin/sh
# dashboard.sh: the czar's dashboard (http_dash.h) on a 2-worker dev
# cluster, in Debian's headless Chromium driven by tools/browser/dashboard.js
# (puppeteer-core under build/npm; the browser trusts only the czar's
# certificate, pinned by its public key).  Users: qsmaster (admin), bob and
# alice (not admins), added by a restart of the czar.
#   - curl: no or wrong credentials 401; alice gets 403 for an admin view
#     and for a POST without the dashboard's header; the page's files are
#     served from the binary with a same-origin-only CSP; the admin's JSON
#     views answer (cluster: both workers, ingest: the catalog, replication);
#   - the browser as qsmaster: every view, the cluster's workers listed,
#     quotas "not configured" while GET /quota is 404, qserv-mobu's flock
#     (--mobu-url) with its successes; as bob: only the
#     queries view; with a wrong password: 401;
#   - bob's slow distributed query (SLEEP in every chunk query) from the
#     mariadb CLI: bob sees it with chunks done / total moving, alice does
#     not see it and cannot cancel it; qsmaster's page shows it with its
#     chunks and its Cancel button stops it: the CLI gets its error, the
#     query leaves the running list and its history row is ABORTED;
#   - with --registry-url (a stand-in agent /status): the cluster map is the
#     registry's nodes (role, state, boot slot, image version), without its
#     join token or CA pin.
# Every wait is bounded.
top=$(cd "$(dirname "$0")/../../.." && pwd)
REPO=$top
. "$top/tools/tap.sh"
. "$top/tools/dc-test.sh"
dc_init dash
NODE_PATH=$top/build/npm/node_modules
export NODE_PATH
[ -x /usr/bin/chromium ] || tap_skip_all "needs chromium (make deps)"
command -v node > /dev/null || tap_skip_all "needs node (make deps)"
[ -d "$NODE_PATH/puppeteer-core" ] || tap_skip_all "needs build/npm puppeteer-core (make deps)"
tap_plan 28
done_line() { echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"; }
# a filter true of one document (jq -e alone passes an empty file)
jqe() { _f=$1; shift; jq -en "input | ($_f)" "$@" > /dev/null; }

"$top/tools/sample-catalog.sh" "$T" dsh --objects 2000 --sources-per-object 1 --ra 0,40 --dec -20,20 \
	> "$T/gen.log" 2>&1 || { echo "Bail out! sample catalog: $(tail -n 3 "$T/gen.log")"; exit 1; }
if dc_up 2 && "$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up (2 workers), catalog dsh ingested"
else
	tap_fail "dev cluster up (2 workers), catalog dsh ingested" "$(tail -n 5 "$T/up.log" "$T/ingest.log" 2>/dev/null)"
	done_line
	exit 1
fi

# ---- the czar again with users bob and alice
czar_args "$T/czar.args"
USERS=$(awk 'p { print; exit } $0 == "--users" { p = 1 }' "$T/czar.args")
CERT=$(awk 'p { print; exit } $0 == "--ssl-cert" { p = 1 }' "$T/czar.args")
hash() { echo "$1" | "$BIN/qserv-czar" --hash-password; }
printf 'bob:%s\nalice:%s\n' "$(hash bob-pw)" "$(hash alice-pw)" >> "$USERS"
MPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf -- '--mobu-url\nhttp://127.0.0.1:%s\n' "$MPORT" >> "$T/czar.args"
URL=$QSERV_HTTP_URL
hc() { curl -sS --max-time 30 --cacert "$QSERV_CA_FILE" "$@"; }
tap_ok "czar restarted with users bob and alice, --mobu-url" czar_restart

# ---- curl: credentials, roles, files
code() { hc -o "$T/r" -w '%{http_code}' "$@"; }
tap_is "$(code "$URL/dashboard/")" 401 "no credentials: 401"
tap_is "$(code -u qsmaster:wrong "$URL/dashboard/api/me")" 401 "a wrong password: 401"
tap_is "$(code -u alice:alice-pw "$URL/dashboard/api/cluster")" 403 "alice (not an admin) asks for the cluster view: 403"
tap_is "$(code -u alice:alice-pw -X POST "$URL/dashboard/api/cancel/1")" 403 \
	"a POST without the X-Qserv-Dashboard header (what a cross-site form sends): 403"
hc -D "$T/h" -o "$T/js" -u alice:alice-pw "$URL/dashboard/dash.js"
tap_is "$(grep -ci "^content-security-policy: default-src 'self'" "$T/h"):$(cmp -s "$T/js" "$top/qserv/czar/dashboard/dash.js" && echo same)" \
	"1:same" "dash.js is served from the binary, byte for byte, with a same-origin-only CSP"
WORKERS=$(api GET /meta/workers > /dev/null && jq -r '[.locations[] | (.worker // .id)] | sort | join(" ")' "$T/r")
U=qsmaster:$QSERV_PASSWORD
tap_is "$(hc -u "$U" "$URL/dashboard/api/cluster" | jq -r '[.success, .source, ([.workers[] | (.worker // .id)] | sort | join(" "))] | join(",")')" \
	"1,controller,$WORKERS" "admin cluster view: the controller's workers ($WORKERS)"
tap_is "$(hc -u "$U" "$URL/dashboard/api/ingest" | jq -r '[.success, ([.databases[].database] | index("dsh") != null)] | join(",")')" \
	"1,true" "admin ingest view: the databases include dsh"
tap_is "$(hc -u "$U" "$URL/dashboard/api/replication" | jq -r '[.success, (.status.level | type), (.status.databases | length > 0)] | join(",")')" \
	"1,number,true" "admin replication view: the level and the databases' under-replicated chunks"

# ---- qserv-mobu's flock, read by the czar
"$BIN/qserv-mobu" -h 127.0.0.1 -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p "$QSERV_PASSWORD" -D dsh \
	--flock look:lookup:1 --duration 0 --wait-ms 200 --metrics-port "$MPORT" > "$T/mobu.log" 2>&1 &
MOBU=$!
DC_PIDS="$DC_PIDS $MOBU"
mobu_ok() { hc -u "$U" "$URL/dashboard/api/mobu" | jq -en 'input | .success == 1 and (.metrics | test("result=\"success\"} [1-9]"))'; }
tap_ok "admin mobu view: qserv-mobu's metrics with successful runs" wait_until 30 mobu_ok

# ---- the browser
SPKI=$(openssl x509 -in "$CERT" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
browse() {   # USER PW ARGS...
	_u=$1 _p=$2; shift 2
	DASH_URL=$URL DASH_USER=$_u DASH_PW=$_p DASH_SPKI=$SPKI timeout 150 node "$top/tools/browser/dashboard.js" "$@" 2>> "$T/browser.log"
}
browse qsmaster "$QSERV_PASSWORD" summary > "$T/admin.json"
tap_is "$(jq -r '[.status, (.sections | join(" "))] | join(",")' "$T/admin.json")" \
	"200,queries cluster replication ingest quotas mobu" "browser as qsmaster: every view" 
missing=
for w in $WORKERS; do jq -en --arg w "$w" 'input | .workers | contains($w)' "$T/admin.json" > /dev/null || missing="$missing $w"; done
if [ -n "$WORKERS" ] && [ -z "$missing" ]; then tap_pass "browser: the cluster view lists the workers ($WORKERS)"
else tap_fail "browser: the cluster view lists the workers ($WORKERS)" "missing:$missing; $(head -c 400 "$T/admin.json")"; fi
if [ "$(code -u "$U" "$URL/quota")" = 404 ]; then
	tap_is "$(jq -r .quotas "$T/admin.json")" "quotas not configured" "browser: GET /quota is 404, the quota view says quotas not configured"
else
	tap_is "$(jq -r '.quotas | length > 0' "$T/admin.json")" true "browser: GET /quota answers, the quota view shows it"
fi
tap_ok "browser: the load runner view shows flock look (lookup) with its successes" \
	jqe '.mobu | test("look\tlookup\t[1-9]")' "$T/admin.json"
kill "$MOBU"
browse bob bob-pw summary > "$T/bob.json"
tap_is "$(jq -r '[.status, (.sections | join(" ")), .who] | join(",")' "$T/bob.json")" "200,queries,bob" \
	"browser as bob (not an admin): the queries view only"
browse qsmaster wrong-pw summary > "$T/wrong.json"
tap_is "$(jq -r .status "$T/wrong.json")" 401 "browser with a wrong password: 401"

# ---- a slow distributed query, seen and cancelled
SLOW="SELECT objectId, SLEEP(0.3) FROM dsh.Object"
timeout 300 mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -ubob -pbob-pw -N -B -e "$SLOW" > "$T/slow.out" 2>&1 &
SLOWPID=$!
DC_PIDS="$DC_PIDS $SLOWPID"
running() { hc -u "$1" "$URL/dashboard/api/queries" | jq -c '[.running[] | {id, user, chunks, chunks_done}]'; }
moving() { running bob:bob-pw | jq -en 'input | .[0] | .chunks_done >= 1 and .chunks > .chunks_done' > /dev/null; }
if wait_until 60 moving; then tap_pass "bob sees his running query, chunks done / total moving: $(running bob:bob-pw)"
else tap_fail "bob sees his running query, chunks done / total moving" "$(running bob:bob-pw); $(cat "$T/slow.out")"; fi
QID=$(running bob:bob-pw | jq -r '.[0].id')
tap_is "$(running alice:alice-pw)" "[]" "alice does not see bob's query"
tap_is "$(code -u alice:alice-pw -H 'X-Qserv-Dashboard: 1' -X POST "$URL/dashboard/api/cancel/$QID")" 404 \
	"alice cannot cancel it (404, as a query that does not exist)"
tap_is "$(running "$U" | jq -r --arg id "$QID" '[.[] | select(.id == $id) | .user] | join(",")')" bob \
	"qsmaster sees bob's query"
browse qsmaster "$QSERV_PASSWORD" cancel "$QID" > "$T/cancel.json"
tap_is "$(jq -r '[.id, .gone, (.chunks | test("^[0-9]+ / [1-9][0-9]*$"))] | join(",")' "$T/cancel.json")" "$QID,true,true" \
	"browser as qsmaster: the query with its chunks done / total, Cancel clicked, it leaves the running list"
i=0
while kill -0 "$SLOWPID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if ! kill -0 "$SLOWPID" 2>/dev/null && wait "$SLOWPID"; then rc=0; else rc=$?; fi
tap_is "$rc:$(grep -c '^ERROR' "$T/slow.out")" "1:1" "the mariadb CLI gets its error: $(grep '^ERROR' "$T/slow.out")"
hist() { hc -u bob:bob-pw "$URL/dashboard/api/queries" | jq -r --arg id "$QID" '.history[] | select(.id == $id) | .status'; }
aborted() { [ "$(hist)" = ABORTED ]; }
tap_ok "its history row is ABORTED" wait_until 20 aborted
tap_is "$(running bob:bob-pw)" "[]" "no query of bob's runs any more"
# ---- the cluster map from the registry (--registry-url): a stand-in for
# the czar node agent's /status, its join token and CA pin included
RPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/reg"
cat > "$T/reg/status" <<'EOF'
{"registry": {"cluster": "dev", "token": "SECRET-JOIN-TOKEN", "ca_pin": "SECRET-PIN", "map_version": 7,
 "nodes": [{"name": "czar-0", "role": "czar", "state": "ready", "addr": "10.0.0.1", "zone": "", "last_seen_ms_ago": 500,
            "health": {"role_state": "running", "boot_slot": "A", "image_version": "v42",
                       "storage": {"disks": [{"dev": "vda", "pool": "data"}]}}},
           {"name": "worker-7", "role": "worker", "state": "down", "addr": "10.0.0.7", "zone": "z1",
            "last_seen_ms_ago": 90000, "health": {"role_state": "stopped", "boot_slot": "B", "image_version": "v41"}}]}}
EOF
/usr/bin/python3 -m http.server --bind 127.0.0.1 "$RPORT" --directory "$T/reg" > "$T/reg.log" 2>&1 &
DC_PIDS="$DC_PIDS $!"
printf -- '--registry-url\nhttp://127.0.0.1:%s/status\n' "$RPORT" >> "$T/czar.args"
czar_restart
reg_ok() { hc -u "$U" "$URL/dashboard/api/cluster" > "$T/reg.json" && jq -en 'input | .source == "registry"' "$T/reg.json"; }
wait_until 20 reg_ok
tap_is "$(jq -r '[.success, .source, .map_version, ([.nodes[].name] | join(" "))] | join(",")' "$T/reg.json"):$(grep -c SECRET "$T/reg.json")" \
	"1,registry,7,czar-0 worker-7:0" "with --registry-url: the registry's nodes, never its join token or CA pin"
browse qsmaster "$QSERV_PASSWORD" summary > "$T/reg-page.json"
tap_ok "browser: the cluster map shows the nodes' roles, states, boot slots and image versions" \
	jqe '.workers | test("czar-0\tczar\tready") and test("worker-7\tworker\tdown") and test("\tA\tv42") and test("\tB\tv41")' \
	"$T/reg-page.json"
tap_is "$(sql 'SELECT COUNT(*) FROM dsh.Filter')" 6 "the czar still answers queries"
done_line
tap_done
