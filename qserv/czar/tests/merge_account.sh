#!/bin/sh
# merge_account.sh: least privilege of what the czar runs on its own
# MariaDB, on a 2-worker dev cluster.  Merges run as qserv_merge_<port>
# (account.h): merged answers (GROUP BY, HAVING, ORDER BY, DISTINCT,
# aggregates) equal a reference MariaDB's; the account holds USAGE and
# CREATE TEMPORARY TABLES on qservResult only, and a merge's rows sit in a
# TEMPORARY table of its session: during a merge the account runs the
# SELECT, no result table exists for any other session (root's SELECT of
# it fails); afterwards, also after a merge that fails, after KILL QUERY of
# a running merge and after concurrent merges, its grants are the same and
# no row of mysql.tables_priv nor result table is left; a stale grant (an
# older czar's, or a crash mid-merge) is cleared by the czar's restart.  A catalog published while
# the czar runs is granted to the users' account when its mirror is made:
# SHOW DATABASES and USE see it at once; deleted on the controller, its
# mirror is dropped and the grant revoked (a database the czar did not
# make stays).
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/czar-merge-account.XXXXXX)
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

for b in qserv-gen qserv-partition qserv-worker qserv-controller qservctl qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
tap_plan 32

"$top/tools/sample-catalog.sh" "$T" mrg --objects 1500 --stripes 18 --sub-stripes 4 || exit 1
"$top/tools/sample-catalog.sh" "$T/late" mysq_ --objects 50 --stripes 18 --sub-stripes 4 || exit 1
if ! "$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1; then
	tap_fail "dev cluster with 2 workers and the czar comes up" "$(cat "$T/up.log")"; exit 1
fi
set -a; . "$T/cluster/cluster.env"; set +a
tap_ok "dev cluster with 2 workers and the czar comes up" test -n "$QSERV_CZAR_PORT"
tap_ok "qservctl ingests the catalog" "$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 2 "$T/ds"

ZP=$QSERV_CZAR_PORT
MACC=qserv_merge_$ZP
ROOT="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot -N -B"
CZ() { mariadb --no-defaults -h127.0.0.1 -P"$ZP" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -N -B "$@"; }
grants() { $ROOT -e "SHOW GRANTS FOR '$MACC'@'localhost'" 2>&1 | sed 's/ IDENTIFIED BY PASSWORD .*//'; }
leftovers() { # rows of mysql.tables_priv of the merge account, result tables
	$ROOT -e "SELECT (SELECT COUNT(*) FROM mysql.tables_priv WHERE User = '$MACC'),
		(SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'qservResult')"
}
USAGE="GRANT USAGE ON *.* TO \`$MACC\`@\`localhost\`
GRANT CREATE TEMPORARY TABLES ON \`qservResult\`.* TO \`$MACC\`@\`localhost\`"

# The reference: the same rows, unpartitioned, in one MariaDB (as e2e.sh).
REF="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot --local-infile=1"
cols() { /usr/bin/python3 -c 'import json,sys; print(", ".join("`%s` %s" % (c["name"], c["type"]) for c in json.load(open(sys.argv[1]))["schema"]))' "$1"; }
$REF -e "CREATE DATABASE ref;
	CREATE TABLE ref.Object ($(cols "$T/gen/Object.schema.json"));
	CREATE TABLE ref.Source ($(cols "$T/gen/Source.schema.json"));
	LOAD DATA LOCAL INFILE '$T/gen/Object.tsv' INTO TABLE ref.Object;
	LOAD DATA LOCAL INFILE '$T/gen/Source.tsv' INTO TABLE ref.Source;"
tap_is "$($REF -N -e 'SELECT COUNT(*) FROM ref.Object')" "$(wc -l < "$T/gen/Object.tsv")" "reference MariaDB holds every row"

# ---- merged answers, as the merge account
while IFS='|' read -r name q; do
	case "$name" in ''|'#'*) continue ;; esac
	CZ -D mrg -e "$q" > "$T/c.out" 2> "$T/c.err"
	$REF -D ref -N -B -e "$q" > "$T/r.out" 2> "$T/r.err"
	sort "$T/c.out" > "$T/c.sorted"; sort "$T/r.out" > "$T/r.sorted"
	if [ -s "$T/c.err" ] || [ -s "$T/r.err" ]; then
		tap_fail "merged: $name" "czar: $(cat "$T/c.err") / ref: $(cat "$T/r.err")"
	elif cmp -s "$T/c.sorted" "$T/r.sorted"; then
		tap_pass "merged: $name ($(wc -l < "$T/r.out") rows)"
	else
		tap_fail "merged: $name" "$(diff "$T/c.sorted" "$T/r.sorted" | head -6)"
	fi
done <<'QEOF'
aggregates|SELECT COUNT(*), SUM(nSources), MIN(decl), MAX(decl), ROUND(AVG(r_psFlux), 3) FROM Object
GROUP BY|SELECT filterName, COUNT(*), ROUND(AVG(psFlux), 3), MIN(midPointTai) FROM Source GROUP BY filterName
GROUP BY HAVING ORDER BY|SELECT nSources AS k, COUNT(*) AS n FROM Object GROUP BY k HAVING n > 10 ORDER BY n DESC
ORDER BY LIMIT|SELECT objectId, r_psFlux FROM Object WHERE r_psFlux IS NOT NULL ORDER BY r_psFlux DESC, objectId LIMIT 10
DISTINCT|SELECT DISTINCT nSources FROM Object
COUNT(DISTINCT) per group|SELECT filterName, COUNT(DISTINCT objectId), COUNT(*) FROM Source GROUP BY filterName
QEOF
tap_is "$(grants)" "$USAGE" "after merges the merge account holds USAGE and CREATE TEMPORARY TABLES on qservResult only"
tap_is "$(leftovers)" "0	0" "no grant row (mysql.tables_priv) nor result table is left"

# ---- during a merge: HAVING is evaluated by the merge SELECT, so
# SLEEP there keeps it running while the account is looked at
CZ -D mrg -e "SELECT nSources, COUNT(*) FROM Object GROUP BY nSources HAVING SLEEP(0.4) = 0" > "$T/slow.out" 2>&1 &
SLOW=$!
who= during= info=
for _ in $(seq 150); do
	info=$($ROOT -e "SELECT USER, INFO FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(0.4)%' AND INFO LIKE '%qservResult%' AND ID <> CONNECTION_ID()" | head -1)
	who=${info%%	*}
	[ -n "$who" ] && { during="$(grants) / $(leftovers)"; break; }
	sleep 0.1
done
tap_is "$who" "$MACC" "the merge SELECT runs as $MACC"
qt=$(echo "$info" | grep -o 'r_[0-9]*' | head -1)
tap_is "$during" "$USAGE / 0	0" "during the merge its grants are the same and no result table exists but its session's own"
out=$($ROOT -e "SELECT COUNT(*) FROM qservResult.\`$qt\`" 2>&1)
case "$qt/$out" in r_[0-9]*/*"ERROR 1146"*) tap_pass "another session (root) cannot read the merging query's rows ($qt: 1146)" ;;
	*) tap_fail "another session (root) cannot read the merging query's rows" "'$qt': $out" ;; esac
id=$(CZ -e 'SHOW SESSIONS' | awk -F'\t' 'index($8, "SLEEP(0.4)") { print $1; exit }')
CZ -e "KILL QUERY $id" > /dev/null 2>&1
wait $SLOW
case "$(cat "$T/slow.out")" in *"ERROR 1317"*|*"ERROR 1969"*|*"ERROR 1927"*) tap_pass "KILL QUERY of the running merge SELECT ends it" ;;
	*) tap_fail "KILL QUERY of the running merge SELECT ends it" "id '$id': $(cat "$T/slow.out")" ;; esac
tap_is "$(grants) / $(leftovers)" "$USAGE / 0	0" "after the killed merge: the same grants, no grant row, no result table"

# ---- a merge SELECT that fails in MariaDB (out of range at the merge step)
out=$(CZ -D mrg -e 'SELECT MAX(objectId) * 9223372036854775807 FROM Object' 2>&1)
case "$out" in *"ERROR 1690"*) tap_pass "a merge failing in MariaDB gives its error (1690)" ;;
	*) tap_fail "a merge failing in MariaDB gives its error (1690)" "$out" ;; esac
tap_is "$(grants) / $(leftovers)" "$USAGE / 0	0" "after the failed merge: the same grants, no grant row, no result table"
out=$(CZ -D mrg -e 'SELECT objectId FROM Object WHERE SLEEP(0) = 0 ORDER BY nope' 2>&1)
tap_is "$(grants) / $(leftovers)" "$USAGE / 0	0" "after a query refused before its merge: nothing left either"

# ---- 8 clients merging at once, 5 queries each
for c in 1 2 3 4 5 6 7 8; do
	( for k in 1 2 3 4 5; do CZ -D mrg -e "SELECT nSources, COUNT(*) FROM Object WHERE objectId % 8 = $((c - 1)) GROUP BY nSources"; done ) > "$T/conc.$c" 2>&1 &
done
wait
bad=0
for c in 1 2 3 4 5 6 7 8; do
	$REF -D ref -N -B -e "SELECT nSources, COUNT(*) FROM Object WHERE objectId % 8 = $((c - 1)) GROUP BY nSources" | sort > "$T/r1"
	for k in 1 2 3 4 5; do cat "$T/r1"; done | sort > "$T/r5"
	sort "$T/conc.$c" | cmp -s - "$T/r5" || bad=$((bad + 1))
done
tap_is "$bad" 0 "40 concurrent merges answer right"
tap_is "$(grants) / $(leftovers)" "$USAGE / 0	0" "after concurrent merges: the same grants, no grant row, no result table"

# ---- a grant a crashed czar left behind is cleared at the next start
$ROOT -e "CREATE TABLE qservResult.r_1 (a INT); GRANT SELECT ON qservResult.r_1 TO '$MACC'@'localhost';
	DROP TABLE qservResult.r_1"
tap_is "$(leftovers)" "1	0" "a stale grant of a dropped result table is planted"
zpid=$(awk '$1 == "czar" { print $2 }' "$QSERV_DEV_DIR/pids")
tr '\0' '\n' < "/proc/$zpid/cmdline" > "$T/czar.args"
kill "$zpid"
i=0; while kill -0 "$zpid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
set -f; IFS='
'; set -- $(cat "$T/czar.args"); unset IFS; set +f
"$@" >> "$QSERV_DEV_DIR/czar/czar.log" 2>&1 &
sed -i "s/^czar .*/czar $!/" "$QSERV_DEV_DIR/pids"
i=0; until CZ -e 'SELECT 1' >/dev/null 2>&1 || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
tap_is "$(grants) / $(leftovers)" "$USAGE / 0	0" "the restarted czar cleared it"
tap_is "$(CZ -D mrg -e 'SELECT COUNT(DISTINCT nSources) FROM Object')" \
	"$($REF -D ref -N -B -e 'SELECT COUNT(DISTINCT nSources) FROM Object')" "and merges after the restart answer right"

# ---- a catalog published while the czar runs: granted when mirrored.  Its
# name, mysq_, ends in `_`, a wildcard in a grant's database name: the
# grant must not open mysql.
CZ -e 'SHOW DATABASES' > /dev/null
"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q "$T/late/ds" > "$T/late.log" 2>&1 ||
	tap_diag "the second catalog's ingest failed: $(tail -3 "$T/late.log")"
# (bounded wait: a SHOW may use a metadata snapshot up to META_TTL_MS old)
i=0; until CZ -e 'SHOW DATABASES' | grep -qx mysq_ || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
tap_is "$(CZ -e 'SHOW DATABASES' | grep -cx mysq_)" 1 "SHOW DATABASES lists a catalog published since the czar started"
tap_is "$($ROOT -r -e "SELECT Db FROM mysql.db WHERE User = 'qserv_sql_$ZP' AND Db LIKE 'mysq%'")" 'mysq\_' \
	"the users' account was granted it (its _ escaped)"
tap_is "$(CZ -D mysq_ -e 'SHOW TABLES' 2>&1 | sort | tr '\n' ' ')" "Filter Object Source " "USE of it and SHOW TABLES work"
out=$(CZ -e 'SELECT COUNT(*) FROM mysql.user' 2>&1)
case $out in *"ERROR 1142"*) tap_pass "the grant's _ is no wildcard: mysql stays unreadable (1142)" ;;
	*) tap_fail "the grant's _ is no wildcard: mysql stays unreadable (1142)" "$out" ;; esac

# ---- the catalog deleted on the controller: its mirror and grant go
. "$top/qserv/controller/tests/qcurl.sh"
r=$(qcurl -s -m 30 -X PUT "$QSERV_INGEST_URL/ingest/database/mysq_" -d '{"publish":false}' | jq -r .success)
r=$r$(qcurl -s -m 30 -X DELETE "$QSERV_INGEST_URL/ingest/database/mysq_" | jq -r .success)
tap_is "$r" 11 "the second catalog is un-published and deleted on the controller"
i=0; while CZ -e 'SHOW DATABASES' | grep -qx mysq_ && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
tap_is "$($ROOT -e 'SHOW DATABASES' | grep -c -x -e mysq_ -e mrg -e ref | tr '\n' ' ')" "2 " \
	"the czar dropped its mirror (the published catalog's and a database it did not make stay)"
tap_is "$($ROOT -e "SELECT COUNT(*) FROM mysql.db WHERE User = 'qserv_sql_$ZP' AND Db LIKE 'mysq%'")" 0 \
	"and revoked the users' account's grant on it"
tap_is "$(CZ -D mrg -e 'SELECT COUNT(*) FROM Object')" "$(wc -l < "$T/gen/Object.tsv")" "the remaining catalog still answers"
tap_done
