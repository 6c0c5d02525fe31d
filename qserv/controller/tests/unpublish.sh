#!/bin/sh
# unpublish.sh: the operator's way back from publish, on a 1-worker dev
# cluster: writes to a published database are refused (409 naming it)
# until PUT /ingest/database/<db> {"publish": false}; then a transaction
# loads and commits, the database is published again and holds both
# loads; un-publishing it again lets DELETE drop it.  Needs the routes of
# cpublish.c (controller) and POST /worker/unpublish (worker).
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
TD=$top/qserv/controller/tests
T=$(mktemp -d /tmp/unpublish.XXXXXX)
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

tap_plan 12

tap_ok "dev cluster with 1 worker comes up" "$top/tools/dev-cluster" up --workers 1 --dir "$T/cluster"
set -a; . "$T/cluster/cluster.env"; set +a
U=$QSERV_INGEST_URL
WU=https://$QSERV_WORKER_1_HOST:$QSERV_WORKER_1_INGEST_PORT
. "$TD/qcurl.sh"
api() { qcurl -s -X "$1" "$U$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
wapi() { qcurl -s -X "$1" "$WU$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
wsql() { mariadb --no-defaults -S "$QSERV_WORKER_1_SOCKET" -uroot -N -B -e "$1"; }
ok() { echo "$1" | jq -en 'input | .success == 1' >/dev/null; }
code() { qcurl -s -o "$T/r" -w '%{http_code}' -X "$1" "$U$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
load() {   # load DATA: a transaction with one contribution, committed
	printf "$1" > "$T/r.tsv"
	id=$(api POST /ingest/trans '{"database":"u"}' | jq -r .transaction.id)
	wapi POST /ingest/file "{\"transaction_id\":$id,\"table\":\"R\",\"url\":\"file://$T/r.tsv\"}" > /dev/null
	ok "$(api PUT "/ingest/trans/$id?abort=0")"
}

api POST /ingest/database '{"database":"u","num_stripes":85,"num_sub_stripes":12,"overlap":0.01667}' > /dev/null
api POST /ingest/table '{"database":"u","table":"R","is_partitioned":0,"schema":[{"name":"id","type":"INT"}]}' > /dev/null
tap_ok "load and commit" load '1\n2\n'
tap_ok "publish u" ok "$(api PUT /ingest/database/u)"
tap_is "$(code POST /ingest/trans '{"database":"u"}') $(jq -r .error "$T/r")" "409 database u is published: no new transactions" \
	"a transaction in the published database: 409 naming it"
tap_is "$(code PUT /ingest/database/u '{"publish":"no"}') $(jq -r .error "$T/r")" "400 publish: must be true or false" \
	"publish must be a boolean"
tap_ok "un-publish u" ok "$(api PUT /ingest/database/u '{"publish":false}')"
tap_is "$(api GET /ingest/database | jq -r '.databases[] | select(.database=="u") | .is_published')" 0 \
	"the controller lists it unpublished"
tap_ok "a transaction loads and commits again" load '3\n4\n'
tap_ok "publish u again" ok "$(api PUT /ingest/database/u '{"publish":true}')"
tap_is "$(wsql 'SELECT COUNT(*) FROM u.R')" 4 "both loads are in the table"
tap_is "$(code DELETE /ingest/database/u)" 409 "DELETE of the published database: 409"
api PUT /ingest/database/u '{"publish":false}' > /dev/null
tap_is "$(api DELETE /ingest/database/u | jq -r .success)/$(wsql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='u'")" \
	"1/0" "after un-publishing, DELETE drops it"
tap_done
