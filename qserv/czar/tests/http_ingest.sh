#!/bin/sh
# http_ingest.sh: user-table ingest through the czar's HTTP frontend
# (http_ingest.h) on a 2-worker dev cluster: the routes answer a clear
# error until the czar gets --ingest-url/--ingest-key-file (added here by
# a restart unless tools/dev-cluster already passes them), then as user
# bob (not an admin): POST /ingest/data of JSON rows with a BINARY column
# (hex) and a UNIQUE index, read back through the SQL port (4040) and
# POST /query; a VARBINARY column in b64; POST /ingest/csv from curl -F
# (schema and indexes as JSON files, a comma-separated CSV) and from a
# multipart body Python's urllib sends as a Qserv loader would; the first
# table still served after later ones re-published the database.
# Refused: a wrong password (401), bob writing user_qsmaster and a catalog
# database (403), bad identifiers and types, a row of the wrong width, a
# value that does not convert, an existing table, a version out of range.
# DELETE /ingest/table and /ingest/database, then the tables are gone.
# Waits bounded.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
REPO=$top
. "$top/tools/dc-test.sh"
PY=/usr/bin/python3
dc_init czar-ingest
command -v curl > /dev/null || tap_skip_all "needs curl"
tap_plan 31

done_line() { echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"; }
if dc_up 2; then
	tap_pass "dev cluster up with the HTTP frontend"
else
	tap_fail "dev cluster up with the HTTP frontend" "$(tail -n 5 "$T/up.log" 2>/dev/null)"
	done_line
	exit 1
fi
URL=$QSERV_HTTP_URL
U=$QSERV_USER:$QSERV_PASSWORD
B=bob:bob-pw
hc() { curl -sS --max-time 120 --cacert "$QSERV_CA_FILE" "$@"; }
# data JSON [USER:PW]: POST /ingest/data
data() { hc -u "${2:-$B}" -H 'Content-Type: application/json' --data-binary "$1" "$URL/ingest/data"; }
q() { hc -u "${2:-$B}" -H 'Content-Type: application/json' -d "$1" "$URL/query"; }
sql() { mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -ubob -pbob-pw -N -B -e "$1" 2>&1; }
rows() { jq -r '.rows[] | map(if . == null then "NULL" else . end) | @tsv'; }

# ---- before the czar knows the controller: a clear error, not 404
czar_args "$T/czar.args"
grep -qx -- --ingest-url "$T/czar.args" ||
	printf -- '--ingest-url\n%s\n--ingest-key-file\n%s\n' "$QSERV_INGEST_URL" "$T/cluster/admin.key" >> "$T/czar.args"
# the same czar without the two options
awk 'skip { skip = 0; next } $0 == "--ingest-url" || $0 == "--ingest-key-file" { skip = 1; next } { print }' \
	"$T/czar.args" > "$T/czar.off.args"
USERS=$(awk 'p { print; exit } $0 == "--users" { p = 1 }' "$T/czar.args")
printf 'bob:%s\n' "$(echo bob-pw | "$BIN/qserv-czar" --hash-password)" >> "$USERS"
czar_restart "$T/czar.off.args"
out=$(hc -o "$T/off.json" -w '%{http_code}' -u "$U" -H 'Content-Type: application/json' \
	-d '{"database": "user_qsmaster", "table": "t1", "schema": [{"name": "a", "type": "INT"}], "rows": [["1"]]}' \
	"$URL/ingest/data")
tap_is "$out:$(jq -c '[.success, (.error | test("--ingest-url"))]' < "$T/off.json")" '200:[0,true]' \
	"without --ingest-url: success 0 naming the flag (not 404)"
tap_ok "czar restarted with --ingest-url, --ingest-key-file and user bob" czar_restart

# ---- /ingest/data: JSON rows, a BINARY column in hex, a UNIQUE index
EMP='{"version": 39, "database": "user_bob", "table": "employee", "timeout": 120,
 "schema": [{"name": "id", "type": "INT"}, {"name": "val", "type": "VARCHAR(32)"},
            {"name": "active", "type": "BOOL"}, {"name": "b", "type": "BINARY(4)"}],
 "indexes": [{"index": "idx_id", "spec": "UNIQUE", "comment": "the key",
              "columns": [{"column": "id", "length": 0, "ascending": 1}]}],
 "rows": [["123", "Igor Gaponenko", 1, "0A11FFD2"], ["2", "John\tSmith", 0, null], [7, null, true, "00000000"]]}'
out=$(data "$EMP")
tap_is "$(echo "$out" | jq -c '[.success, .num_rows, .error]')" '[1,3,""]' "POST /ingest/data: success, 3 rows"
WANT=$(printf '2\tJohn\\tSmith\t0\tNULL\n7\tNULL\t1\t00000000\n123\tIgor Gaponenko\t1\t0A11FFD2')
tap_is "$(sql "SELECT id, val, active, HEX(b) FROM user_bob.employee ORDER BY id")" "$WANT" \
	"the rows through the SQL port (4040), binary decoded from hex"
tap_is "$(q '{"query": "SELECT id, val, active, HEX(b) FROM user_bob.employee ORDER BY id"}' | rows)" "$WANT" \
	"the same rows through POST /query"
W1=$(mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -B -e \
	"SELECT NON_UNIQUE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='user_bob' AND TABLE_NAME='employee' AND INDEX_NAME='idx_id'" 2>&1)
W2=$(mariadb --no-defaults -S "$QSERV_WORKER_2_SOCKET" -uroot -N -B -e \
	"SELECT COUNT(*) FROM user_bob.employee" 2>&1)
tap_is "$W1,$W2" "0,3" "the UNIQUE index on worker-1, the 3 rows on worker-2 (a regular table on every worker)"

# ---- binary_encoding b64
BIN64='{"database": "user_bob", "table": "blobs", "binary_encoding": "b64",
 "schema": [{"name": "k", "type": "INT"}, {"name": "v", "type": "VARBINARY(8)"}],
 "rows": [[1, "ChH/0g=="], [2, ""]]}'
tap_is "$(data "$BIN64" | jq -c .success)" 1 "POST /ingest/data with binary_encoding b64"
tap_is "$(sql "SELECT k, HEX(v) FROM user_bob.blobs ORDER BY k" | tr '\t\n' ':;')" "1:0A11FFD2;2:;" \
	"the b64 values decoded (VARBINARY)"
tap_is "$(sql "SELECT COUNT(*) FROM user_bob.employee")" 3 "the first table is served again after the database was re-published"

# ---- /ingest/csv from curl -F
printf '[{"name": "id", "type": "INT"}, {"name": "flux", "type": "DOUBLE"}, {"name": "name", "type": "VARCHAR(16)"}]' > "$T/schema.json"
printf '[{"index": "idx_flux", "spec": "DEFAULT", "columns": [{"column": "flux", "length": 0, "ascending": 1}]}]' > "$T/indexes.json"
printf '1,1.5,a\n2,2.5,b\n3,\\N,c\n' > "$T/rows.csv"
out=$(hc -u "$B" -F version=39 -F database=user_bob -F table=fluxes -F 'fields_terminated_by=,' -F timeout=120 \
	-F charset_name=utf8mb4 -F "schema=@$T/schema.json" -F "indexes=@$T/indexes.json" -F "rows=@$T/rows.csv" "$URL/ingest/csv")
tap_is "$(echo "$out" | jq -c '[.success, .num_rows]')" '[1,3]' "POST /ingest/csv (curl -F): success, 3 rows"
tap_is "$(sql "SELECT id, flux, name FROM user_bob.fluxes ORDER BY id" | tr '\t\n' ':;')" "1:1.5:a;2:2.5:b;3:NULL:c;" \
	"its rows through the SQL port (\\\\N is NULL)"

# ---- /ingest/csv as a Python loader builds it (urllib, no extra module)
out=$(URL=$URL CA=$QSERV_CA_FILE $PY - <<'PYEOF' 2>&1
import base64, json, os, ssl, urllib.request, uuid
ctx = ssl.create_default_context(cafile=os.environ["CA"])
b = uuid.uuid4().hex
parts = [("version", None, b"39"), ("database", None, b"user_bob"), ("table", None, b"pyt"),
         ("fields_terminated_by", None, b","),
         ("schema", "schema.json", json.dumps([{"name": "id", "type": "BIGINT"}, {"name": "s", "type": "TEXT"}]).encode()),
         ("rows", "pyt.csv", b"10,ten\n20,twenty\n")]
body = b""
for name, fn, v in parts:
    body += b"--" + b.encode() + b"\r\nContent-Disposition: form-data; name=\"" + name.encode() + b"\""
    if fn:
        body += b"; filename=\"" + fn.encode() + b"\"\r\nContent-Type: application/octet-stream"
    body += b"\r\n\r\n" + v + b"\r\n"
body += b"--" + b.encode() + b"--\r\n"
req = urllib.request.Request(os.environ["URL"] + "/ingest/csv?version=39", data=body, method="POST",
        headers={"Content-Type": "multipart/form-data; boundary=" + b,
                 "Authorization": "Basic " + base64.b64encode(b"bob:bob-pw").decode()})
with urllib.request.urlopen(req, context=ctx, timeout=120) as r:
    j = json.load(r)
print(j["success"], j["error"])
PYEOF
)
tap_is "$out" "1 " "POST /ingest/csv from Python urllib (a multipart body built by hand)"
tap_is "$(sql "SELECT id, s FROM user_bob.pyt ORDER BY id" | tr '\t\n' ':;')" "10:ten;20:twenty;" "its rows through the SQL port"

# ---- an admin user may write any user_* database; a table of no rows
out=$(data '{"database": "user_bob", "table": "empty", "schema": [{"name": "x", "type": "DOUBLE NOT NULL DEFAULT 0"}], "rows": []}' "$U" | jq -c '[.success, .num_rows]')
tap_is "$out:$(sql "SELECT COUNT(*) FROM user_bob.empty")" "[1,0]:0" "an admin user ingests a table of no rows into bob's database"

# ---- refusals
err() { data "$1" | jq -r '[.success, .error] | @tsv'; }
# emp JQ: the employee request changed by a jq filter (printf: dash's echo reads backslashes)
emp() { printf '%s' "$EMP" | jq -c "$1"; }
code=$(hc -o /dev/null -w '%{http_code}' -u bob:wrong -H 'Content-Type: application/json' --data-binary "$EMP" "$URL/ingest/data")
tap_is "$code" 401 "a wrong password: 401"
code=$(hc -o /dev/null -w '%{http_code}' -X DELETE "$URL/ingest/table/user_bob/employee")
tap_is "$code" 401 "no credentials (a DELETE): 401"
out=$(hc -o "$T/r" -w '%{http_code}' -u "$B" -H 'Content-Type: application/json' \
	--data-binary "$(emp '.database = "user_qsmaster"')" "$URL/ingest/data")
tap_is "$out:$(jq -c '[.success, (.error | test("belongs to another user"))]' < "$T/r")" '403:[0,true]' \
	"bob writing user_qsmaster: 403, another user's database"
out=$(hc -o "$T/r" -w '%{http_code}' -u "$U" -H 'Content-Type: application/json' \
	--data-binary "$(emp '.database = "catalog1"')" "$URL/ingest/data")
tap_is "$out:$(jq -c '[.success, (.error | test("not a user database"))]' < "$T/r")" '403:[0,true]' \
	"an admin writing a catalog database: 403"
out=$(hc -o /dev/null -w '%{http_code}' -u "$B" -X DELETE "$URL/ingest/database/catalog1")
tap_is "$out" 403 "DELETE of a catalog database: 403"
case "$(err "$(emp '.table = "bad-name"')")" in "0	table:"*) tap_pass "a table name with '-': refused naming table" ;;
	*) tap_fail "a table name with '-': refused naming table" "$(err "$(emp '.table = "bad-name"')")" ;; esac
case "$(err "$(emp '.schema[0].type = "INT; DROP TABLE x"')")" in "0	schema[0].type"*) tap_pass "a bad column type: refused naming schema[0].type" ;;
	*) tap_fail "a bad column type: refused naming schema[0].type" "$(err "$(emp '.schema[0].type = "INT; DROP TABLE x"')")" ;; esac
case "$(err "$(emp '.table = "qserv_x"')")" in "0	table:"*) tap_pass "a table named qserv_*: refused" ;;
	*) tap_fail "a table named qserv_*: refused" "$(err "$(emp '.table = "qserv_x"')")" ;; esac
case "$(err "$(emp '.table = "t2" | .rows = [[1, "x"]]')")" in "0	rows[0]: 2 values"*) tap_pass "a row of 2 values for 4 columns: refused" ;;
	*) tap_fail "a row of 2 values for 4 columns: refused" "$(err "$(emp '.table = "t2" | .rows = [[1, "x"]]')")" ;; esac
case "$(err "$(emp '.table = "t3" | .rows = [["abc", "x", 1, "00"]]')")" in "0	"*"did not convert"*) tap_pass "a value that does not convert (abc into INT): refused" ;;
	*) tap_fail "a value that does not convert (abc into INT): refused" "$(err "$(emp '.table = "t3" | .rows = [["abc", "x", 1, "00"]]')")" ;; esac
tap_is "$(sql "SELECT COUNT(*) FROM user_bob.t3" | grep -c 1146)" 1 "... and leaves no table behind"
case "$(err "$EMP")" in "0	table user_bob.employee exists"*) tap_pass "an existing table: refused" ;; *) tap_fail "an existing table: refused" "$(err "$EMP")" ;; esac
out=$(hc -u "$B" -F database=user_bob -F table=dir1 -F is_partitioned=1 -F is_director=1 -F "schema=@$T/schema.json" \
	-F "rows=@$T/rows.csv" "$URL/ingest/csv" | jq -r '[.success, .error] | @tsv')
case "$out" in "0	is_partitioned:"*) tap_pass "/ingest/csv of a partitioned table: refused, not loaded as a regular one" ;;
	*) tap_fail "/ingest/csv of a partitioned table: refused, not loaded as a regular one" "$out" ;; esac
tap_is "$(data "$(emp '.version = 29')" | jq -c '[.success, .error_ext.max_version]')" '[0,54]' \
	"version 29: Qserv's version error"

# ---- deletes
# gone SQL: polls (10 s at most, the czar reloads its metadata every 2 s)
# until SQL fails with 1146 or 1049 (or 1142: the czar's mirror of a
# deleted database lingers without its grant); prints the count of such lines
gone() {
	i=0
	until sql "$1" > "$T/gone" && grep -q -E '^ERROR (1146|1049|1142)' "$T/gone" || [ $i -ge 50 ]; do
		sleep 0.2; i=$((i + 1)); done
	grep -q -E '^ERROR (1146|1049|1142)' "$T/gone" || echo "# $1: $(tail -n 2 "$T/gone" | tr '\n' ' ')" >&2
	grep -c -E '^ERROR (1146|1049|1142)' "$T/gone"
}
out=$(hc -u "$B" -X DELETE -H 'Content-Type: application/json' -d '{"version": 39}' "$URL/ingest/table/user_bob/pyt" | jq -c .success)
tap_is "$out:$(gone "SELECT COUNT(*) FROM user_bob.pyt"):$(sql "SELECT COUNT(*) FROM user_bob.employee")" "1:1:3" \
	"DELETE /ingest/table/user_bob/pyt: gone, the other tables still served"
out=$(hc -u "$B" -X DELETE "$URL/ingest/database/user_bob" | jq -c .success)
tap_is "$out:$(gone "SELECT COUNT(*) FROM user_bob.employee")" "1:1" \
	"DELETE /ingest/database/user_bob: the database is gone"

done_line
tap_done
