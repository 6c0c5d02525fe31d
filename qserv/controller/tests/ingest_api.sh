#!/bin/sh
# ingest_api.sh: the ingest details Qserv's loaders rely on (issue 14), on a
# 2-worker dev cluster with real MariaDB: MariaDB warnings counted and kept
# (num_warnings, warnings up to max_num_warnings, num_rows_loaded) instead
# of failing the contribution; GET /ingest/trans/contrib/<id> and
# GET /ingest/trans/<id>?contrib=1; GET /ingest/table/<db>; GET/PUT
# /ingest/config; multipart/form-data POST /ingest/csv as curl -F sends it
# (and bad forms refused 400); a failed contribution retried by PUT
# /ingest/file[-async]/<id>; every new write route refused without the key.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
TD=$top/qserv/controller/tests
T=$(mktemp -d /tmp/ingest_api.XXXXXX)
[ -n "${KEEP:-}" ] && echo "# T=$T"
cleanup() {
	[ -n "${SLOWPID:-}" ] && kill "$SLOWPID" 2>/dev/null
	[ -n "${KEEP:-}" ] && return
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 62

for b in qserv-worker qserv-controller qserv-gen qserv-partition qservctl; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
tap_ok "dev cluster with 2 workers comes up" env QSERV_CONTROLLER_ARGS="--replication-level 1 ${QSERV_CONTROLLER_ARGS:-}" \
	"$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster"
set -a; . "$T/cluster/cluster.env"; set +a
U=$QSERV_INGEST_URL
W1=https://127.0.0.1:$QSERV_WORKER_1_INGEST_PORT
. "$TD/qcurl.sh"
api() { qcurl -s -X "$1" "$U$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
code() { qcurl -s -o "$T/body" -w '%{http_code}' "$@"; }
rows() { mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -e "SELECT COUNT(*) FROM iapi.W"; }

api POST /ingest/database '{"database":"iapi","num_stripes":85,"num_sub_stripes":12,"overlap":0.01667}' >/dev/null
r=$(api POST /ingest/table '{"database":"iapi","table":"W","is_partitioned":0,"schema":[{"name":"id","type":"INT"},{"name":"s","type":"VARCHAR(4)"},{"name":"n","type":"INT"}]}')
tap_is "$(echo "$r" | jq -r .success)" 1 "register a regular table"
tid=$(api POST /ingest/trans '{"database":"iapi"}' | jq -r .transaction.id)

# 1. MariaDB warnings: kept, counted, capped; the contribution succeeds
i=1; : > "$T/warn.tsv"
while [ $i -le 70 ]; do printf '%d\tabcdefgh\t%d\n' $i $i >> "$T/warn.tsv"; i=$((i + 1)); done
printf '71\tok\t\n' >> "$T/warn.tsv"
r=$(qcurl -s -X POST "$W1/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"file://$T/warn.tsv\"}")
c1=$(echo "$r" | jq -r .contrib.id)
tap_is "$(echo "$r" | jq -r '[.success, .contrib.status] | join(" ")')" "1 FINISHED" \
	"a contribution with MariaDB warnings succeeds"
tap_is "$(echo "$r" | jq -r .contrib.num_warnings)" 71 "num_warnings counts every warning"
tap_is "$(echo "$r" | jq -r '.contrib.warnings | length')" 64 "warnings keeps max_num_warnings (default 64)"
tap_is "$(echo "$r" | jq -r '.contrib.warnings[0] | [.level, .code] | join(" ")')" "Warning 1265" \
	"a warning is {level, code, message}"
tap_ok "its message is MariaDB's" sh -c "echo '$(echo "$r" | jq -r '.contrib.warnings[0].message')' | grep -q 'Data truncated'"
tap_is "$(echo "$r" | jq -r '[.contrib.num_rows, .contrib.num_rows_loaded, .contrib.max_num_warnings] | join(" ")')" \
	"71 71 64" "num_rows, num_rows_loaded, max_num_warnings"
r=$(qcurl -s -X POST "$W1/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"file://$T/warn.tsv\",\"max_num_warnings\":2}")
tap_is "$(echo "$r" | jq -r '[.contrib.num_warnings, (.contrib.warnings | length)] | join(" ")')" "71 2" \
	"max_num_warnings 2: two kept, all counted"
tap_is "$(qcurl -s -X POST "$W1/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"file://$T/warn.tsv\",\"max_num_warnings\":65536}" | jq -r .error)" \
	"max_num_warnings: must be 0 to 65535" "max_num_warnings above 65535 refused"
tap_is "$(rows)" 142 "the rows with warnings are in the table"

# 2. multipart /ingest/csv as a Qserv loader sends it (curl -F)
printf '201,a,1\n202,b,2\n203,c,3\n' > "$T/ok.csv"
st=$(code -X POST "$W1/ingest/csv" -F "transaction_id=$tid" -F table=W -F chunk=0 -F overlap=0 \
	-F charset_name=latin1 -F fields_terminated_by=, -F max_num_warnings=5 -F "file=@$T/ok.csv")
tap_is "$st" 200 "multipart /ingest/csv accepted"
tap_is "$(jq -r '[.contrib.status, .contrib.num_rows, .contrib.num_rows_loaded, .contrib.url, .contrib.max_num_warnings] | join(" ")' "$T/body")" \
	"FINISHED 3 3 data-csv 5" "its rows loaded and counted, url data-csv"
tap_is "$(rows)" 145 "the form's rows are in the table"
st=$(code -X POST "$W1/ingest/csv" -F "transaction_id=$tid" -F table=W -F "file=@$T/ok.csv;filename=x.csv" \
	-F fields_terminated_by=,)
tap_is "$st" 200 "fields after the file part are taken too"
st=$(code -X POST "$W1/ingest/csv" -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary 'not a form')
tap_is "$st" 400 "a body that is not a form: 400"
tap_ok "naming the problem" grep -q 'multipart: the body has no boundary line' "$T/body"
st=$(code -X POST "$W1/ingest/csv" -F "transaction_id=$tid" -F table=W)
tap_is "$st:$(jq -r .error "$T/body")" "400:multipart: the file part (a part with a filename) is missing" \
	"a form without its file part: 400"
st=$(code -X POST "$W1/ingest/csv" -F "transaction_id=$tid" -F table=W -F "a=@$T/ok.csv" -F "b=@$T/ok.csv")
tap_is "$st" 400 "two file parts: 400"
st=$(code -X POST "$W1/ingest/csv" -F "transaction_id=$tid" -F 'table=W`x' -F "file=@$T/ok.csv")
tap_is "$st:$(jq -r .error "$T/body")" "400:table: the name may hold only ASCII letters, digits and '_'" "a bad table name in a form: 400"
st=$(code -X POST "$W1/ingest/csv" -H 'Content-Type: multipart/form-data' --data-binary 'x')
tap_is "$st:$(jq -r .error "$T/body")" "400:Content-Type: multipart/form-data without a boundary" \
	"no boundary: 400"
tap_is "$(rows)" 148 "refused forms loaded nothing"
st=$(code -X POST "$W1/ingest/csv?transaction_id=$tid&table=W&fields_terminated_by=," --data-binary "@$T/ok.csv")
tap_is "$st:$(jq -r .contrib.num_rows "$T/body")" "200:3" "the raw body (extension) still works"

# 3. manual retry: PUT /ingest/file/<id>, PUT /ingest/file-async/<id>
r=$(qcurl -s -X POST "$W1/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"file://$T/later.tsv\"}")
c2=$(echo "$r" | jq -r .contrib.id)
tap_is "$(echo "$r" | jq -r '[.success, .contrib.status, .contrib.retry_allowed] | join(" ")')" "0 FAILED 1" \
	"a contribution of a missing file fails, retry allowed"
printf '301\tx\t1\n302\ty\t2\n' > "$T/later.tsv"
st=$(code -X PUT "$W1/ingest/file/$c2")
tap_is "$st:$(jq -r '[.contrib.id, .contrib.status, .contrib.num_rows, .contrib.num_failed_retries] | join(" ")' "$T/body")" \
	"200:$c2 FINISHED 2 1" "PUT /ingest/file/<id> retries it: loaded"
st=$(code -X PUT "$W1/ingest/file/$c2")
tap_is "$st" 409 "a finished contribution is not retried"
st=$(code -X PUT "$W1/ingest/file/999999")
tap_is "$st" 404 "an unknown contribution: 404"
st=$(code -X PUT "$W1/ingest/file/abc")
tap_is "$st" 400 "a bad id: 400"
r=$(qcurl -s -X POST "$W1/ingest/file-async" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"file://$T/later2.tsv\"}")
c3=$(echo "$r" | jq -r .contrib.id)
wait_done() { for _ in $(seq 50); do s=$(qcurl -s "$W1/ingest/file-async/$1" | jq -r .contrib.status)
	[ "$s" = FINISHED ] || [ "$s" = FAILED ] && break; sleep 0.2; done; echo "$s"; }
tap_is "$(wait_done "$c3")" FAILED "an async contribution of a missing file fails"
cp "$T/later.tsv" "$T/later2.tsv"
st=$(code -X PUT "$W1/ingest/file-async/$c3")
tap_is "$st" 200 "PUT /ingest/file-async/<id> queues the retry"
tap_is "$(wait_done "$c3")" FINISHED "and it loads"
tap_is "$(rows)" 155 "the retried rows are in the table"
st=$(code -X POST "$W1/ingest/csv" -F "transaction_id=$tid" -F table=W -F "file=@$T/warn.tsv")
cf=$(jq -r .contrib.id "$T/body")
tap_is "$(code -X PUT "$W1/ingest/file/$cf")" 409 "a contribution by value is not retried (its data is gone)"

# 4. contribution reports from the controller
r=$(api GET "/ingest/trans/contrib/$c1")
tap_is "$(echo "$r" | jq -r '[.contribution.id, .contribution.worker, .contribution.num_warnings, (.contribution.warnings | length)] | join(" ")')" \
	"$c1 worker-1 71 0" "GET /ingest/trans/contrib/<id>: the descriptor, warnings counted"
r=$(api GET "/ingest/trans/contrib/$c1?include_warnings=1&worker=worker-1")
tap_is "$(echo "$r" | jq -r '.contribution.warnings | length')" 64 "include_warnings=1 lists them"
r=$(QSERV_AUTH_KEY= qcurl -s "$U/ingest/trans/contrib/$c1?include_warnings=1&worker=worker-1")
r2=$(QSERV_AUTH_KEY= qcurl -s "$W1/ingest/file-async/trans/$tid")
tap_is "$(echo "$r" | jq -r '.contribution | [.num_warnings, (.warnings | length)] | join(" ")') $(echo "$r2" | jq -r '[.contribs[].warnings | length] | add')" \
	"71 0 0" "without the admin key the open reports count warnings but list none (they may quote catalog values)"
tap_is "$(api GET "/ingest/trans/contrib/$c1?worker=worker-2" | jq -r .error)" "no contribution $c1" \
	"?worker= names another worker: not found"
tap_is "$(code "$U/ingest/trans/contrib/0x1")" 400 "a bad contribution id: 400"
r=$(api GET "/ingest/trans/$tid?contrib=1")
tap_is "$(echo "$r" | jq -r '.transaction.contrib.summary | [.num_warnings, .num_workers, .num_files_by_status.FINISHED, .num_regular_files] | join(" ")')" \
	"213 1 8 8" "?contrib=1: the summary (warnings, workers, files by status)"
tap_is "$(echo "$r" | jq -r '.transaction.contrib.summary.table.W | [.num_rows, .num_rows_loaded, .num_files] | join(" ")')" \
	"226 226 8" "per table: rows parsed and loaded, files"
tap_is "$(echo "$r" | jq -r '.transaction.contrib.files | length')" 0 "no files without contrib_long"
r=$(api GET "/ingest/trans/$tid?contrib=1&contrib_long=1")
tap_is "$(echo "$r" | jq -r '.transaction.contrib.files | length')" 8 "contrib_long=1: every contribution"
tap_is "$(echo "$r" | jq -r '[.transaction.contrib.files[].warnings | length] | add')" 0 "no warning lists without include_warnings"
r=$(api GET "/ingest/trans/$tid?contrib=1&contrib_long=1&include_warnings=1")
tap_is "$(echo "$r" | jq -r '[.transaction.contrib.files[].warnings | length] | add')" 130 "include_warnings=1: the lists kept (64 + 2 + 64)"
tap_is "$(qcurl -s "$W1/ingest/file-async/trans/$tid" | jq -r '.contribs | length')" 8 \
	"the worker's GET /ingest/file-async/trans/<id>"

# 5. GET /ingest/table/<db>, GET/PUT /ingest/config
r=$(QSERV_AUTH_KEY= qcurl -s "$U/ingest/table/iapi")
tap_is "$(echo "$r" | jq -r '.tables | map(.name + ":" + (.is_partitioned | tostring)) | join(",")')" "W:0" \
	"GET /ingest/table/<db> lists the tables (open)"
tap_is "$(code "$U/ingest/table/nodb")" 404 "an unknown database: 404"
tap_is "$(code "$U/ingest/table/bad%60name")" 400 "a bad database name: 400"
r=$(api GET "/ingest/config?database=iapi")
tap_is "$(echo "$r" | jq -r '[.database, .SSL_VERIFYHOST, .ASYNC_PROC_LIMIT, .CAINFO] | join(" ")')" \
	"iapi 2 0 /etc/ssl/certs/ca-certificates.crt" "GET /ingest/config: Qserv's defaults"
r=$(api PUT /ingest/config '{"database":"iapi","SSL_VERIFYHOST":0,"CAINFO":"/etc/x.pem","LOW_SPEED_LIMIT":"100","ASYNC_PROC_LIMIT":4,"num_retries":3,"version":39}')
tap_is "$(echo "$r" | jq -r .success)" 1 "PUT /ingest/config"
r=$(api GET "/ingest/config?database=iapi")
tap_is "$(echo "$r" | jq -r '[.SSL_VERIFYHOST, .CAINFO, .LOW_SPEED_LIMIT, .ASYNC_PROC_LIMIT, .SSL_VERIFYPEER] | join(" ")')" \
	"0 /etc/x.pem 100 4 1" "the values set are kept, the others default"
tap_is "$(api PUT /ingest/config '{"database":"iapi","TIMEOUT":"ten"}' | jq -r .error)" \
	"TIMEOUT: must be a number 0 to 2147483647" "a bad value: refused naming the key"
tap_is "$(code -X PUT "$U/ingest/config" -d '{"database":"nodb","TIMEOUT":1}')" 404 "config of an unknown database: 404"

# 5b. the keys the workers apply: ASYNC_PROC_LIMIT (async loads of the
#     database at once) and TIMEOUT (a download's limit), from a slow source
cat > "$T/slow.py" <<'PY'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(self.path.split("/")[1]))
        body = b"401\tp\t1\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
/usr/bin/python3 "$T/slow.py" > "$T/slow.port" & SLOWPID=$!
for _ in $(seq 50); do [ -s "$T/slow.port" ] && break; sleep 0.1; done
SP=$(cat "$T/slow.port")
api PUT /ingest/config '{"database":"iapi","ASYNC_PROC_LIMIT":1,"TIMEOUT":2}' > /dev/null
ids=
for n in 1 2 3; do
	ids="$ids $(qcurl -s -X POST "$W1/ingest/file-async" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"http://127.0.0.1:$SP/1/$n\"}" | jq -r .contrib.id)"
done
left=3
for _ in $(seq 100); do
	left=0
	for i in $ids; do
		s=$(qcurl -s "$W1/ingest/file-async/$i" | jq -r .contrib.status)
		[ "$s" = FINISHED ] || [ "$s" = FAILED ] || left=$((left + 1))
	done
	[ $left -eq 0 ] && break
	sleep 0.2
done
# each load's [start, start + read + load) (durations in ms): none overlaps the next
for i in $ids; do qcurl -s "$W1/ingest/file-async/$i" | jq -c '.contrib | [.start_time, .start_time + .read_time + .load_time, .status]'; done > "$T/spans"
tap_is "$left:$(jq -s 'sort_by(.[0]) | [range(1; length) as $k | select(.[$k][0] < .[$k - 1][1])] | length' "$T/spans"):$(grep -c FINISHED "$T/spans")" \
	"0:0:3" "ASYNC_PROC_LIMIT 1: three async loads of the database ran one at a time"
r=$(qcurl -s -X POST "$W1/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"http://127.0.0.1:$SP/4/x\"}")
tap_ok "TIMEOUT 2: a download of 4 s fails within it" sh -c "echo '$(echo "$r" | jq -r .error)' | grep -q 'did not finish within 2 s'"
api PUT /ingest/config '{"database":"iapi","ASYNC_PROC_LIMIT":0,"TIMEOUT":0}' > /dev/null
kill "$SLOWPID" 2>/dev/null

# 6. the writes need the admin key
tap_is "$(QSERV_AUTH_KEY= code -X PUT "$U/ingest/config" -d '{"database":"iapi","TIMEOUT":1}')" 401 \
	"PUT /ingest/config without the key: 401"
tap_is "$(QSERV_AUTH_KEY= code -X PUT "$W1/ingest/file/$c2")" 401 "PUT /ingest/file/<id> without the key: 401"
tap_is "$(QSERV_AUTH_KEY= code -X POST "$W1/ingest/csv" -F "transaction_id=$tid" -F table=W -F "file=@$T/ok.csv")" 401 \
	"multipart /ingest/csv without the key: 401"

# 7. no retry once the transaction is closed
r=$(qcurl -s -X POST "$W1/ingest/file" -d "{\"transaction_id\":$tid,\"table\":\"W\",\"url\":\"file://$T/later3.tsv\"}")
c4=$(echo "$r" | jq -r .contrib.id)
api PUT "/ingest/trans/$tid?abort=1" >/dev/null
cp "$T/later.tsv" "$T/later3.tsv"
tap_is "$(code -X PUT "$W1/ingest/file/$c4"):$(jq -r .error "$T/body")" \
	"409:contribution $c4 cannot be retried: transaction $tid is not open" "no retry after the abort"
# 8. qservctl ingest: a contribution with MariaDB warnings fails its batch
#    unless --max-warnings allows them
"$BIN/qserv-gen" --objects 200 --sources-per-object 1 --out-dir "$T/gen" --ra 0,2 --dec -1,1 \
	--num-stripes 85 --num-sub-stripes 12 --overlap 0.01667 > "$T/gen.log" 2>&1
for t in Object Source; do
	"$BIN/qserv-partition" --config-file="$T/gen/$t.json" --in.path="$T/gen/$t.tsv" \
		--out.dir="$T/part/$t" > "$T/part-$t.log" 2>&1
done
printf '1\tu\n2\tthis name is much longer than thirty-two characters\n' > "$T/Filter.tsv"
/usr/bin/python3 "$TD/mkdataset.py" --db iwarn --gen "$T/gen" --part "$T/part" --out "$T/iwarn" --regular "$T/Filter.tsv"
"$BIN/qservctl" ingest -q "$T/iwarn" > "$T/out-w" 2> "$T/err-w"
tap_is "$?" 1 "qservctl ingest: a file raising a MariaDB warning fails the batch"
tap_ok "naming the file, the count and --max-warnings" \
	grep -q "Filter.tsv (table Filter) -> worker-.: 1 MariaDB warning(s) while loading, the first: Data truncated.*--max-warnings" "$T/err-w"
"$BIN/qservctl" ingest -q --max-warnings 1 "$T/iwarn" > "$T/out-w2" 2>&1
tap_is "$?" 0 "with --max-warnings 1 it loads and validates"
tap_done
