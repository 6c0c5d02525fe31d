#!/bin/sh
# backup.sh: backups and restores of a published database (qserv/controller/
# cbackup*.c, the workers' wbackup.c, qservctl backup/restore) on a dev
# cluster of 3 workers (replica level 2: each chunk has a worker without it).
#
# Checks: no admin key -> 401 (POST /backup, POST /restore, a worker's
# POST /backup/file); a catalog (director Object, child Source, regular
# Filter) ingested and published, the czar's answers recorded; a backup to
# the workers' pools: every file of the manifest there with its SHA-256
# (the czar's users file too, --backup-include),
# every chunk's file on a worker holding no replica of it; a backup --to
# DIR: the files and the manifest in DIR, checksums right; a backup is
# refused while a transaction is open; the database dropped, a backup
# whose chunk file was corrupted on its worker is refused naming the file
# and creates nothing; the good one restored: the same answers; a
# corrupted DIR refused before anything is sent; then a fresh cluster
# restores DIR (and again --as another name): the same answers; DELETE
# /worker/backup/NAME removes a backup from a pool.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init backup
tap_plan 22

DB=bak
"$REPO/tools/sample-catalog.sh" "$T" $DB --objects 3000 --sources-per-object 2 --ra 0,40 --dec -20,20 \
	--stripes 12 --sub-stripes 4 || exit 1
# the czar's users file travels with every backup (--backup-include)
export QSERV_CONTROLLER_ARGS="--backup-include $T/cluster/czar/users"
if dc_up 3; then
	tap_pass "dev cluster with 3 workers up"
else
	tap_fail "dev cluster with 3 workers up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
ctl() { "$BIN/qservctl" "$@"; }

if ctl ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "catalog ingested and published"
else
	tap_fail "catalog ingested and published" "$(tail -n 5 "$T/ingest.log")"
	exit 1
fi
OID=$(sql "SELECT objectId FROM $DB.Object ORDER BY objectId LIMIT 1 OFFSET 100")
Q1="SELECT COUNT(*) FROM $DB.Object"
Q2="SELECT COUNT(*) FROM $DB.Source"
Q3="SELECT COUNT(*), SUM(s.objectId) FROM $DB.Source s JOIN $DB.Object o ON o.objectId = s.objectId WHERE o.objectId = $OID"
Q4="SELECT COUNT(*) FROM $DB.Filter"
A1=$(sql "$Q1") A2=$(sql "$Q2") A3=$(sql "$Q3") A4=$(sql "$Q4")
answers() { # DB: the four answers through the czar, on one line
	for _i in 1 2 3 4; do
		eval "_q=\$Q$_i _a=\$A$_i"
		czar_is "$(echo "$_q" | sed "s/$DB\./$1./g")" "$_a" | tr '\t\n' '  '
	done
}
WANT=$(answers $DB)
tap_diag "answers: $WANT"

got="$(api POST /backup "{\"database\":\"$DB\"}") $(api POST /restore '{"name":"x"}')"
W1=${QSERV_INGEST_URL%%://*}://$QSERV_WORKER_1_HOST:$QSERV_WORKER_1_INGEST_PORT
got="$got $(curl -s -o /dev/null -w '%{http_code}' --cacert "$QSERV_CA_FILE" -X POST --data-binary x "$W1/backup/file/n/f")"
got="$got $(curl -s -o /dev/null -w '%{http_code}' --cacert "$QSERV_CA_FILE" "$W1/backup/file/n/f")"
tap_is "$got" "401 401 401 401" "no admin key: POST /backup, POST /restore, a worker's POST and GET /backup/file are 401"

# the files of backup $1 on the pools against its manifest: "ok" or what differs
pool_check() {
	jq -r '.files[] | "\(.worker) \(.file) \(.sha256)"' "$T/man-$1.json" | while read -r w f s; do
		p="$T/cluster/$w/staging/backups/$1/$f"
		[ -f "$p" ] || { echo "missing $w:$f"; continue; }
		[ "$(sha256sum < "$p" | cut -d' ' -f1)" = "$s" ] || echo "bad $w:$f"
	done
	echo ok
}
if ctl backup $DB --name b1 > "$T/b1.log" 2>&1; then
	tap_pass "qservctl backup $DB --name b1: $(tail -n 1 "$T/b1.log")"
else
	tap_fail "qservctl backup $DB --name b1" "$(tail -n 5 "$T/b1.log")"
fi
api GET /backup/status > /dev/null
jq .manifest "$T/r" > "$T/man-b1.json"
NCH=$(meta "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db='$DB'")
got=$(jq -r '[.files[] | select(.chunk != null)] | length' "$T/man-b1.json")
got="$got $(jq -r '[.files[].file | select(. == "regular.lz4" or . == "meta.json.lz4" or . == "index_Object.lz4")] | length' "$T/man-b1.json")"
tap_is "$got" "$NCH 3" "the manifest lists the $NCH chunk files, regular.lz4, meta.json.lz4, index_Object.lz4"
got=$(jq -r '.files[] | select(.file == "extra_users") | .sha256' "$T/man-b1.json")
tap_is "$got" "$(sha256sum < "$T/cluster/czar/users" | cut -d' ' -f1)" "--backup-include: the czar's users file is in the backup (extra_users)"
tap_is "$(pool_check b1 | tr '\n' ' ')" "ok " "every file of b1 is on its worker's pool with the manifest's SHA-256"
bad=0
for pair in $(jq -r '.files[] | select(.chunk != null) | "\(.chunk):\(.worker)"' "$T/man-b1.json"); do
	n=$(meta "SELECT COUNT(*) FROM qservMeta.chunks WHERE db='$DB' AND chunk=${pair%%:*} AND worker_id='${pair#*:}'")
	[ "$n" = 0 ] || bad=$((bad + 1))
done
tap_is "$bad" 0 "every chunk's backup file is on a worker holding no replica of it"
tap_is "$(grep -c '^backup b1: [0-9]*/[0-9]*$' "$T/b1.log" | sed 's/^[1-9][0-9]*$/yes/')" yes "qservctl printed the progress (done/total)"

if ctl backup $DB --name b2 --to "$T/dir" > "$T/b2.log" 2>&1; then
	tap_pass "qservctl backup --to DIR: $(tail -n 1 "$T/b2.log")"
else
	tap_fail "qservctl backup --to DIR" "$(tail -n 5 "$T/b2.log")"
fi
got=$(jq -r '.files[] | "\(.sha256)  \(.file)"' "$T/dir/manifest.json" | (cd "$T/dir" && sha256sum -c --quiet - 2>&1) | wc -l)
tap_is "$got $(jq '.files | length' "$T/dir/manifest.json")" "0 $((NCH + 4))" "DIR holds every file of the manifest, each checksum right"

# an open transaction: the database un-published, a transaction begun
api PUT "/ingest/database/$DB" '{"publish":false}' -H "$(key)" > /dev/null
api POST /ingest/trans "{\"database\":\"$DB\"}" -H "$(key)" > /dev/null
TID=$(jq -r .transaction.id "$T/r")
got=$(api POST /backup "{\"database\":\"$DB\"}" -H "$(key)")
tap_is "$got $(jq -r .error "$T/r" | grep -o 'open transaction')" "409 open transaction" "a backup is refused (409) while a transaction is open"
api PUT "/ingest/trans/$TID?abort=1" '' -H "$(key)" > /dev/null
aborted() { [ "$(meta "SELECT state FROM qservMeta.trans WHERE id=$TID")" = ABORTED ]; }
wait_until 60 aborted || tap_diag "transaction $TID: $(meta "SELECT state FROM qservMeta.trans WHERE id=$TID") $(cat "$T/r")"
api PUT "/ingest/database/$DB" '' -H "$(key)" > /dev/null || tap_diag "publish: $(cat "$T/r")"

# the database dropped; b2's first chunk file corrupted on its pool
got="$(api PUT "/ingest/database/$DB" '{"publish":false}' -H "$(key)") $(api DELETE "/ingest/database/$DB" '' -H "$(key)")"
tap_is "$got" "200 200" "database un-published and dropped"
[ "$got" = "200 200" ] || tap_diag "$(cat "$T/r")"
cp "$T/dir/manifest.json" "$T/man-b2.json"
set -- $(jq -r '[.files[] | select(.chunk != null)][0] | "\(.worker) \(.file)"' "$T/man-b2.json")
printf 'XXXX' | dd of="$T/cluster/$1/staging/backups/b2/$2" bs=1 seek=100 conv=notrunc 2> /dev/null
ctl restore b2 > "$T/r2.log" 2>&1; rc=$?
tap_is "$rc $(grep -c "file $2 on $1: checksum" "$T/r2.log") $(meta "SELECT COUNT(*) FROM qservMeta.dbs WHERE name='$DB'")" "1 1 0" \
	"restore of a corrupted backup fails naming the file ($2 on $1) and creates nothing"
[ "$rc" = 1 ] && grep -q "file $2 on $1: checksum" "$T/r2.log" || tap_diag "$(tail -n 3 "$T/r2.log")"

if ctl restore b1 > "$T/r1.log" 2>&1; then
	tap_pass "qservctl restore b1: $(tail -n 1 "$T/r1.log")"
else
	tap_fail "qservctl restore b1" "$(tail -n 5 "$T/r1.log"; grep -i 'restore\|backup' "$T/cluster/czar/controller.log" | tail -n 5)"
fi
tap_is "$(answers $DB)" "$WANT" "after the restore the czar gives the same answers"

cp -r "$T/dir" "$T/dirbad"
f=$(jq -r '.files[0].file' "$T/dirbad/manifest.json")
printf 'XXXX' | dd of="$T/dirbad/$f" bs=1 seek=50 conv=notrunc 2> /dev/null
ctl restore "$T/dirbad" --as bad2 > "$T/rbad.log" 2>&1; rc=$?
tap_is "$rc $(grep -c "$f: checksum .*nothing restored" "$T/rbad.log")" "1 1" "a corrupted DIR is refused before anything is sent, naming $f"

# a fresh cluster: the old one down, a new one up, DIR restored
"$DC" down --dir "$T/cluster" > /dev/null 2>&1
rm -rf "$T/cluster"
if dc_up 3; then
	tap_pass "a fresh dev cluster with 3 workers up"
else
	tap_fail "a fresh dev cluster with 3 workers up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
if ctl restore "$T/dir" > "$T/r3.log" 2>&1; then
	tap_pass "qservctl restore DIR into the fresh cluster: $(tail -n 1 "$T/r3.log")"
else
	tap_fail "qservctl restore DIR into the fresh cluster" "$(tail -n 5 "$T/r3.log")"
fi
tap_is "$(answers $DB)" "$WANT" "the fresh cluster gives the same answers"
ctl restore b2 --as ${DB}2 > "$T/r4.log" 2>&1 || tap_diag "$(tail -n 3 "$T/r4.log")"
tap_is "$(answers ${DB}2)" "$WANT" "restore --as ${DB}2 (the pools' copy of DIR): the same answers under the new name"
got=""
for i in 1 2 3; do
	eval "u=${QSERV_INGEST_URL%%://*}://\$QSERV_WORKER_${i}_HOST:\$QSERV_WORKER_${i}_INGEST_PORT"
	got="$got$(curl -s -o /dev/null -w '%{http_code}' --cacert "$QSERV_CA_FILE" -X DELETE -H "$(key)" "$u/worker/backup/b2")"
	[ -d "$T/cluster/worker-$i/staging/backups/b2" ] && got="$got-left"
done
tap_is "$got" "200200200" "DELETE /worker/backup/b2 on each worker removes its files"
tap_done
