#!/bin/sh
# contrib_retry.sh: the worker's automatic retries of a contribution whose
# source fails transiently (Qserv's num_retries; qserv/worker/wingest.c
# download, wfetch.c wfetch_transient), against a private mariadbd and a
# python3 http.server that answers 503 a given number of times first.
#
# Checks: async, a source failing once (503) then serving: FINISHED with
# num_failed_retries 1, failed_retries [{http_error 503, error, start_time,
# read_time...}], the rows loaded once; a source that always answers 503
# with num_retries 2: FAILED after 3 attempts, failed_retries lists 2, the
# server saw 3 requests; connection refused is retried too; a 404 is not
# retried (num_failed_retries 0); num_retries 0 disables retries; a
# num_retries above the worker's max (QSERV_INGEST_MAX_RETRIES=3) is
# lowered to it (max_retries 3); no num_retries: the worker's default
# (QSERV_INGEST_NUM_RETRIES=1); the synchronous service ignores
# num_retries (max_retries 0, as in Qserv); num_retries -1 refused 400.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
. "$top/tools/test-mariadb.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/contrib_retry.XXXXXX)
WPID= HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	test_mariadb_stop "$T"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
command -v python3 > /dev/null || tap_skip_all "needs python3"
command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"

tap_plan 17

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { mariadb --no-defaults -S "$T/my.sock" -uroot -N -B -e "$1"; }
test_mariadb_start "$T" --local-infile=1 || tap_diag "mariadbd did not start: $(tail -3 "$T/my.err")"
KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n'); echo "$KEY" > "$T/admin.key"
PORT=$(free_port)
W=https://127.0.0.1:$PORT
"$BIN/qserv-certs" --dir "$T/pki" --cluster rt --name worker-r --role worker > /dev/null || tap_diag "qserv-certs failed"
QSERV_AUTH_KEY=$KEY QSERV_CA_FILE=$T/pki/ca.pem
. "$top/qserv/controller/tests/qcurl.sh"
QSERV_FETCH_TIMEOUT_S=5 QSERV_INGEST_NUM_RETRIES=1 QSERV_INGEST_MAX_RETRIES=3 \
	"$BIN/qserv-worker" --socket "$T/my.sock" --port "$PORT" --bind 127.0.0.1 --id worker-r \
	--staging "$T/staging" --file-root "$T" --auth-key-file "$T/admin.key" --tls-dir "$T/pki" \
	--tls-name worker-r >> "$T/worker.log" 2>&1 &
WPID=$!
i=0; until qcurl -sf "$W/status" > /dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done

# the source: /fail/N/NAME answers 503 to the first N requests of NAME, then
# the rows; /gone answers 404; every request is logged to $T/hits
cat > "$T/src.py" <<'EOF'
import http.server, sys
hits = {}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "a") as f:
            f.write(self.path + "\n")
        p = self.path.split("/")
        if len(p) == 4 and p[1] == "fail":
            hits[p[3]] = hits.get(p[3], 0) + 1
            if hits[p[3]] <= int(p[2]):
                self.send_response(503); self.end_headers(); return
            body = b"1\ta\n2\tb\n3\tc\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body); return
        self.send_response(404); self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
SP=$(free_port)
python3 "$T/src.py" "$SP" "$T/hits" &
HPID=$!
i=0; until curl -s -o /dev/null "http://127.0.0.1:$SP/"; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
post() { qcurl -s -X POST "$W$1" -H 'Content-Type: application/json' -d "$2"; }
post /worker/database '{"database":"rt"}' > /dev/null
post /worker/table '{"database":"rt","table":"R","is_partitioned":0,"schema":[{"name":"id","type":"INT"},{"name":"s","type":"CHAR(1)"}]}' > /dev/null
tap_is "$(post /worker/trans '{"database":"rt","transaction_id":5,"action":"begin"}' | jq -r .success)" 1 "begin transaction 5"

# async(URL, EXTRA): the contribution's id; wait_done ID: its final descriptor in $T/d
async() { post /ingest/file-async "{\"transaction_id\":5,\"table\":\"R\",\"url\":\"$1\"${2:+,$2}}" | jq -r .contrib.id; }
wait_done() {
	i=0
	while [ $i -lt 300 ]; do
		qcurl -s "$W/ingest/file-async/$1" > "$T/d"
		case $(jq -r .contrib.status "$T/d") in FINISHED|FAILED) return 0 ;; esac
		i=$((i + 1)); sleep 0.1
	done
	return 1
}
d() { jq -r "$1" "$T/d"; }
hits() { grep -c "$1" "$T/hits"; }

id=$(async "http://127.0.0.1:$SP/fail/1/once" '"num_retries":3')
wait_done "$id"
tap_is "$(d '[.contrib.status, .contrib.num_failed_retries, (.contrib.failed_retries | length), .contrib.max_retries] | join(" ")')" \
	"FINISHED 1 1 3" "a source failing once (503): FINISHED after 1 failed retry"
tap_is "$(d '.contrib.failed_retries[0] | [.http_error, (.start_time > 0), (.read_time >= .start_time), (.error | test("503"))] | join(" ")')" \
	"503 true true true" "failed_retries[0]: http_error 503, its times and error"
tap_is "$(hits /fail/1/once) $(sql 'SELECT COUNT(*) FROM rt.R')" "2 3" "two requests to the source, its 3 rows loaded once"

id=$(async "http://127.0.0.1:$SP/fail/99/always" '"num_retries":2')
wait_done "$id"
tap_is "$(d '[.contrib.status, .contrib.num_failed_retries, (.contrib.failed_retries | length)] | join(" ")')" \
	"FAILED 2 2" "a source always 503 with num_retries 2: FAILED, 2 failed retries listed"
tap_is "$(hits /fail/99/always)" 3 "the source saw 3 attempts"
tap_ok "the error names the last failure" sh -c "jq -r .contrib.error '$T/d' | grep -q 'download failed'"
tap_is "$(d '.contrib.retry_allowed')" 1 "and a manual retry is still allowed"

DEAD=$(free_port)
id=$(async "http://127.0.0.1:$DEAD/x" '"num_retries":1')
wait_done "$id"
tap_is "$(d '[.contrib.status, .contrib.num_failed_retries, .contrib.failed_retries[0].http_error] | join(" ")')" "FAILED 1 0" \
	"connection refused is retried (http_error 0)"

id=$(async "http://127.0.0.1:$SP/gone" '"num_retries":3')
wait_done "$id"
tap_is "$(d '[.contrib.status, .contrib.num_failed_retries] | join(" ")') $(hits /gone)" "FAILED 0 1" "a 404 is not retried"

id=$(async "http://127.0.0.1:$SP/fail/1/zero" '"num_retries":0')
wait_done "$id"
tap_is "$(d '[.contrib.status, .contrib.num_failed_retries, .contrib.max_retries] | join(" ")')" "FAILED 0 0" "num_retries 0: no retry"

id=$(async "http://127.0.0.1:$SP/fail/1/big" '"num_retries":50')
wait_done "$id"
tap_is "$(d '[.contrib.status, .contrib.max_retries] | join(" ")')" "FINISHED 3" "num_retries 50 lowered to the worker's max 3"

id=$(async "http://127.0.0.1:$SP/fail/1/dflt")
wait_done "$id"
tap_is "$(d '[.contrib.status, .contrib.num_failed_retries, .contrib.max_retries] | join(" ")')" "FINISHED 1 1" \
	"no num_retries: the worker's default (1)"

r=$(post /ingest/file "{\"transaction_id\":5,\"table\":\"R\",\"url\":\"http://127.0.0.1:$SP/fail/1/sync\",\"num_retries\":3}")
tap_is "$(echo "$r" | jq -r '[.contrib.status, .contrib.max_retries, .contrib.num_failed_retries] | join(" ")')" "FAILED 0 0" \
	"the synchronous service ignores num_retries (Qserv)"
c=$(qcurl -s -o "$T/r" -w '%{http_code}' -X POST "$W/ingest/file-async" -d "{\"transaction_id\":5,\"table\":\"R\",\"url\":\"http://127.0.0.1:$SP/x\",\"num_retries\":-1}")
tap_is "$c $(jq -r .error "$T/r")" "400 num_retries: must be 0 to 65535" "num_retries -1 refused 400"
tap_is "$(sql 'SELECT COUNT(*) FROM rt.R')" 9 "only the successful contributions' rows are in (3 x 3)"
tap_is "$(post /worker/trans '{"database":"rt","transaction_id":5,"action":"abort"}' | jq -r .success) $(sql 'SELECT COUNT(*) FROM rt.R')" \
	"1 0" "abort removes them"
tap_done
echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"
