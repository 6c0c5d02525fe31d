#!/bin/sh
# ingest_guard.sh: what the ingest path refuses or survives, on a 1-worker
# dev cluster (HTTPS with the cluster CA and the admin key, cluster.env):
# a hung http:// source holds only its own transaction (another
# transaction of the same database commits while the first one's commit
# waits for the download), a published database takes no write (a new
# transaction: 409 naming it; the worker refuses a transaction, a table
# and a drop itself), and a registered director_key is not rewritten.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
TD=$top/qserv/controller/tests
T=$(mktemp -d /tmp/ingest_guard.XXXXXX)
HUNG= CPID=
cleanup() {
	[ -n "$HUNG" ] && kill "$HUNG" 2>/dev/null
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 17

tap_ok "dev cluster with 1 worker comes up" "$top/tools/dev-cluster" up --workers 1 --dir "$T/cluster"
set -a; . "$T/cluster/cluster.env"; set +a
U=$QSERV_INGEST_URL
WU=https://$QSERV_WORKER_1_HOST:$QSERV_WORKER_1_INGEST_PORT
. "$TD/qcurl.sh"
api() { qcurl -s -X "$1" "$U$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
wapi() { qcurl -s -X "$1" "$WU$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
wsql() { mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -B -e "$1"; }
has() { printf '%s' "$1" | grep -q -- "$2"; }
state() { api GET "/ingest/trans/$1" | jq -r .transaction.state; }
ok() { echo "$1" | jq -en 'input | .success == 1' >/dev/null; }

api POST /ingest/database '{"database":"g","num_stripes":85,"num_sub_stripes":12,"overlap":0.01667}' > /dev/null
api POST /ingest/table '{"database":"g","table":"R","is_partitioned":0,"schema":[{"name":"id","type":"INT"},{"name":"name","type":"CHAR(1)"}]}' > /dev/null
OBJ='[{"name":"objectId","type":"BIGINT NOT NULL"},{"name":"ra","type":"DOUBLE"},{"name":"decl","type":"DOUBLE"},{"name":"chunkId","type":"INT"},{"name":"subChunkId","type":"INT"}]'
obj() { echo "{\"database\":\"g\",\"table\":\"Object\",\"is_partitioned\":1,\"director_key\":\"$1\",\"latitude_key\":\"decl\",\"longitude_key\":\"ra\",\"schema\":$OBJ}"; }
tap_ok "register director table Object (director_key objectId)" ok "$(api POST /ingest/table "$(obj objectId)")"

# 1. a hung http:// source: the server accepts and says nothing until released
python3 - "$T/release" > "$T/hung.port" <<'PY' &
import os, socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8); print(s.getsockname()[1], flush=True)
s.settimeout(0.2)
conns, end = [], time.time() + 300
while not os.path.exists(sys.argv[1]) and time.time() < end:
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
for c in conns: c.close()
PY
HUNG=$!
i=0; until [ -s "$T/hung.port" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
A=$(api POST /ingest/trans '{"database":"g"}' | jq -r .transaction.id)
B=$(api POST /ingest/trans '{"database":"g"}' | jq -r .transaction.id)
cid=$(wapi POST /ingest/file-async "{\"transaction_id\":$A,\"table\":\"R\",\"url\":\"http://127.0.0.1:$(cat "$T/hung.port")/r.tsv\"}" | jq -r .contrib.id)
i=0; until [ "$(wapi GET "/ingest/file-async/$cid" | jq -r .contrib.status)" = IN_PROGRESS ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
api PUT "/ingest/trans/$A?abort=0" > "$T/commitA" &
CPID=$!
i=0; until [ "$(state "$A")" = IS_FINISHING ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
tap_is "$(state "$A")" IS_FINISHING "the commit of A waits for its contribution from the hung source"
printf '1\ta\n2\tb\n' > "$T/r.tsv"
r=$(wapi POST /ingest/file "{\"transaction_id\":$B,\"table\":\"R\",\"url\":\"file://$T/r.tsv\"}")
tap_is "$(echo "$r" | jq -r .contrib.num_rows)" 2 "a contribution of B loads meanwhile"
tap_ok "B commits meanwhile (no lock held across the worker call)" ok "$(api PUT "/ingest/trans/$B?abort=0")"
tap_ok "and A's commit is still waiting then" kill -0 "$CPID"
r=$(api PUT "/ingest/trans/$A?abort=1")
tap_ok "aborting A while its commit runs is refused (409, try again)" has "$r" "is being committed or aborted by another request"
touch "$T/release"
i=0; while kill -0 "$CPID" 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
wait "$CPID" 2>/dev/null; CPID=
tap_ok "A's commit ends once the source goes away" ok "$(cat "$T/commitA")"
tap_is "$(wapi GET "/ingest/file-async/$cid" | jq -r .contrib.status)" FAILED "the hung contribution failed (nothing loaded)"
tap_is "$(wsql 'SELECT COUNT(*) FROM g.R')" 2 "only B's rows are in the table"

# 2. a registered director_key is not rewritten
r=$(api POST /ingest/table "$(obj ra)")
tap_is "$(echo "$r" | jq -r .success)" 0 "POST /ingest/table rewriting director_key is refused"
tap_is "$(wsql "SELECT director_key FROM qservWorker.tables WHERE db='g' AND name='Object'")" objectId \
	"the worker's director_key is unchanged"

# 3. a published database takes no write
tap_ok "publish g" ok "$(api PUT /ingest/database/g)"
code=$(qcurl -s -o "$T/r" -w '%{http_code}' -X POST "$U/ingest/trans" -H 'Content-Type: application/json' -d '{"database":"g"}')
tap_is "$code $(jq -r .error "$T/r")" "409 database g is published: no new transactions" \
	"a new transaction in a published database: 409 naming it"
tap_ok "the worker itself refuses a transaction in it" has "$(wapi POST /worker/trans '{"database":"g","transaction_id":999,"action":"begin"}')" 'database g is published'
tap_ok "the worker refuses a new table in it" has "$(wapi POST /worker/table '{"database":"g","table":"N","is_partitioned":0,"schema":[{"name":"id","type":"INT"}]}')" 'database g is published'
r=$(api DELETE /ingest/database/g)
tap_is "$(echo "$r" | jq -r .success)/$(wsql 'SELECT COUNT(*) FROM g.R')" "0/2" "DELETE of a published database is refused, its rows stay"
tap_done
