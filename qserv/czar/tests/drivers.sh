#!/bin/sh
# drivers.sh: the clients people use, unchanged, against the czar on a
# 2-worker dev cluster with a small dense catalog, every answer compared
# with a reference MariaDB holding the same rows unpartitioned:
# SQLAlchemy (create_engine, inspector, a pooled connection used twice:
# SQLAlchemy sends ROLLBACK at connect and on every return to the pool),
# pandas.read_sql of qserv_areaspec_circle queries, MariaDB Connector/J
# over JDBC (autocommit off and getAutoCommit() following it, read-only,
# isolation level, commit/rollback, getTables, a write refused), pymysql's
# get_autocommit(), the mariadb CLI with the transaction
# statements and session probes; and Qserv's restrictor forms
# (`qserv_areaspec_*(...) = 1`, `1 = ...`, the area condition on both
# instances of a near-neighbour self-join).
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
PY=/usr/bin/python3
JAR=/usr/share/java/mariadb-java-client.jar
T=$(mktemp -d /tmp/czar-drivers.XXXXXX)
cleanup() {
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

for b in qserv-gen qserv-partition qserv-worker qserv-controller qservctl qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
[ -f "$top/build/lib/qserv_scisql.so" ] || { echo "Bail out! build/lib/qserv_scisql.so is not built"; exit 1; }
command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"
tap_plan 26

# 3000 objects in 2 x 2 degrees: close pairs for the near-neighbour join
"$top/tools/sample-catalog.sh" "$T" drv --objects 3000 --sources-per-object 1 --ra 0,2 --dec -1,1 || exit 1
if "$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1 &&
	set -a && . "$T/cluster/cluster.env" && set +a &&
	"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up, catalog ingested"
else
	tap_fail "dev cluster up, catalog ingested" "$(tail -n 5 "$T/up.log" "$T/ingest.log" 2>/dev/null)"
	exit 1
fi

# The reference: the same rows, unpartitioned, in the czar node's MariaDB
# (as e2e.sh), readable by a password account for the Python drivers.
REF="mariadb --no-defaults -S $QSERV_CZAR_DB_SOCKET -uroot --local-infile=1"
REF_PW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
cols() { $PY -c 'import json,sys; print(", ".join("`%s` %s" % (c["name"], c["type"]) for c in json.load(open(sys.argv[1]))["schema"]))' "$1"; }
$REF -e "CREATE DATABASE ref;
	CREATE TABLE ref.Object ($(cols "$T/gen/Object.schema.json"));
	CREATE TABLE ref.Source ($(cols "$T/gen/Source.schema.json"));
	LOAD DATA LOCAL INFILE '$T/gen/Object.tsv' INTO TABLE ref.Object;
	LOAD DATA LOCAL INFILE '$T/gen/Source.tsv' INTO TABLE ref.Source;
	CREATE USER drvref@localhost IDENTIFIED BY '$REF_PW'; GRANT SELECT ON ref.* TO drvref@localhost;"
tap_is "$($REF -N -e 'SELECT COUNT(*) FROM ref.Object')" "$(wc -l < "$T/gen/Object.tsv")" "reference MariaDB holds every row"
ref() { $REF -D ref -N -B -e "$1" 2>&1; }
CZ="mariadb --no-defaults -h$QSERV_CZAR_HOST -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD -D drv"

# run_checks OUTPUT NAME...: one TAP line per expected check name, from the
# "PASS name" / "FAIL name: why" lines of a driver program.
run_checks() {
	_out=$1
	shift
	for _name in "$@"; do
		if grep -qxF "PASS $_name" "$_out"; then
			tap_pass "$_name"
		else
			tap_fail "$_name" "$(grep -F "FAIL $_name" "$_out" || tail -n 3 "$_out")"
		fi
	done
}

# SQLAlchemy and pandas
if $PY -c 'import sqlalchemy, pandas, pymysql' 2>/dev/null; then
	$PY "$top/qserv/czar/tests/drivers_sqlalchemy.py" drv "$QSERV_CZAR_DB_SOCKET" drvref "$REF_PW" \
		> "$T/sa.out" 2> "$T/sa.err"
	[ -s "$T/sa.err" ] && sed 's/^/# /' "$T/sa.err" | tail -n 20
	run_checks "$T/sa.out" \
		"SQLAlchemy create_engine + inspector: tables and columns" \
		"SQLAlchemy: a pooled connection used twice (ROLLBACK on return)" \
		"SQLAlchemy: engine.begin() transaction around a query" \
		"pandas.read_sql of a qserv_areaspec_circle query equals the reference" \
		"pandas.read_sql with 1 = qserv_areaspec_circle(...) equals the reference"
else
	for _ in 1 2 3 4 5; do tap_skip "SQLAlchemy and pandas" "python3-sqlalchemy, python3-pandas (make deps)"; done
fi

# MariaDB Connector/J, run in java's single-file source mode
if command -v java > /dev/null && [ -f "$JAR" ]; then
	want=$(ref "SELECT COUNT(*) FROM Object WHERE scisql_s2PtInBox(ra, decl, 0.5, -0.5, 1.5, 0.5) = 1")
	timeout 120 java -cp "$JAR" "$top/qserv/czar/tests/DriversJdbc.java" drv "$want" 3 > "$T/jdbc.out" 2> "$T/jdbc.err"
	[ -s "$T/jdbc.err" ] && sed 's/^/# /' "$T/jdbc.err" | tail -n 20
	run_checks "$T/jdbc.out" \
		"Connector/J connects" \
		"Connector/J: read-only, READ COMMITTED, autocommit off, COUNT in a box, commit, rollback" \
		"Connector/J getAutoCommit() follows setAutoCommit" \
		"Connector/J DatabaseMetaData.getTables" \
		"Connector/J: a write inside a transaction is refused (1235)"
else
	for _ in 1 2 3 4 5; do tap_skip "Connector/J" "java and libmariadb-java (make deps)"; done
fi

# pymysql's get_autocommit() reads the server status of the last OK/EOF;
# pymysql.connect sends SET AUTOCOMMIT = 0 itself (its default autocommit=False)
out=$($PY - "$QSERV_CZAR_PORT" "$QSERV_USER" "$QSERV_PASSWORD" <<'PYEOF' 2>&1
import sys, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3], database="drv")
seen = [c.get_autocommit()]
c.autocommit(False)
seen.append(c.get_autocommit())
cur = c.cursor()
cur.execute("SELECT COUNT(*) FROM Object")
seen.append(c.get_autocommit())
c.autocommit(True)
seen.append(c.get_autocommit())
print(seen)
PYEOF
)
tap_is "$out" "[False, False, False, True]" "pymysql get_autocommit() follows autocommit(False/True)"

# The mariadb CLI: the transaction statements and session settings of
# drivers, then a query, in one session.
BOX="scisql_s2PtInBox(ra, decl, 0.5, -0.5, 1.5, 0.5) = 1"
got=$($CZ -N -B -e "BEGIN; ROLLBACK; START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT; COMMIT WORK;
	START TRANSACTION READ WRITE; ROLLBACK AND NO CHAIN; SET autocommit = 0; SET SESSION TRANSACTION ISOLATION LEVEL
	REPEATABLE READ; SET SESSION TRANSACTION READ ONLY; SET NAMES utf8mb4; SELECT @@version_comment IS NOT NULL;
	SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(0.5, -0.5, 1.5, 0.5); COMMIT; SET autocommit = 1" 2>&1)
tap_is "$got" "1
$(ref "SELECT COUNT(*) FROM Object WHERE $BOX")" "mariadb CLI: BEGIN/COMMIT/ROLLBACK/START TRANSACTION/SET ... then a query"
out=$($CZ -e "START TRANSACTION READ WRITE;
INSERT INTO Filter VALUES (9, 'x')" 2>&1)
case "$out" in *"ERROR 1235 (42000) at line 2"*"INSERT"*) tap_pass "START TRANSACTION READ WRITE is accepted, the INSERT after it refused" ;;
	*) tap_fail "START TRANSACTION READ WRITE is accepted, the INSERT after it refused" "$out" ;; esac
out=$($CZ -e "BEGIN; SAVEPOINT s1" 2>&1)
case "$out" in *"ERROR 1235 (42000) at line 1"*"SAVEPOINT"*) tap_pass "savepoints stay refused" ;;
	*) tap_fail "savepoints stay refused" "$out" ;; esac

# Restrictors as Qserv applies them: `= 1` / `1 =` as the bare call, and the
# area condition on every partitioned table of FROM.
same() { # name czar-sql ref-sql
	$CZ -N -B -e "$2" 2> "$T/c.err" | sort > "$T/c.out"
	ref "$3" | sort > "$T/r.out"
	if [ -s "$T/c.err" ]; then
		tap_fail "$1" "$(cat "$T/c.err")"
	elif [ ! -s "$T/r.out" ] || [ "$(cat "$T/r.out")" = 0 ]; then
		tap_fail "$1" "the reference answers nothing: the check would prove nothing"
	elif cmp -s "$T/c.out" "$T/r.out"; then
		tap_pass "$1 ($(wc -l < "$T/r.out") rows)"
	else
		tap_fail "$1" "$(diff "$T/c.out" "$T/r.out" | head -n 6)"
	fi
}
same "qserv_areaspec_box(...) = 1" "SELECT objectId, decl FROM Object WHERE qserv_areaspec_box(0.5, -0.5, 1.5, 0.5) = 1" \
	"SELECT objectId, decl FROM Object WHERE $BOX"
same "1 = qserv_areaspec_circle(...) with another AND term" \
	"SELECT objectId FROM Object WHERE ra > 0.8 AND 1 = qserv_areaspec_circle(1, 0, 0.3)" \
	"SELECT objectId FROM Object WHERE ra > 0.8 AND scisql_s2PtInCircle(ra, decl, 1, 0, 0.3) = 1"
same "qserv_areaspec_ellipse(...) = 1, COUNT" \
	"SELECT COUNT(*) FROM Object WHERE qserv_areaspec_ellipse(1, 0, 1800, 900, 30) = 1" \
	"SELECT COUNT(*) FROM Object WHERE scisql_s2PtInEllipse(ra, decl, 1, 0, 1800, 900, 30) = 1"
same "1 = qserv_areaspec_poly(...) in a director-child join" \
	"SELECT s.sourceId FROM Object o JOIN Source s USING (objectId) WHERE 1 = qserv_areaspec_poly(0.2, -0.2, 1, -0.2, 1, 0.6)" \
	"SELECT s.sourceId FROM Object o JOIN Source s USING (objectId) WHERE scisql_s2PtInCPoly(o.ra, o.decl, 0.2, -0.2, 1, -0.2, 1, 0.6) = 1"
NN="scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.0166 AND o1.objectId <> o2.objectId"
B1="scisql_s2PtInBox(o1.ra, o1.decl, 0.5, -0.5, 1.5, 0.5) = 1"
B2="scisql_s2PtInBox(o2.ra, o2.decl, 0.5, -0.5, 1.5, 0.5) = 1"
same "near-neighbour self-join in a box: both instances restricted, as Qserv" \
	"SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE qserv_areaspec_box(0.5, -0.5, 1.5, 0.5) AND $NN" \
	"SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE $B1 AND $B2 AND $NN"
# the check above means something only if restricting o1 alone differs
tap_ok "the catalog has pairs across the box's edge (o1 inside, o2 outside)" \
	test "$(ref "SELECT COUNT(*) FROM Object o1, Object o2 WHERE $B1 AND NOT $B2 AND $NN")" -gt 0
same "near-neighbour self-join, 1 = qserv_areaspec_box(...), COUNT" \
	"SELECT COUNT(*) FROM Object o1 JOIN Object o2 ON scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.0166 WHERE 1 = qserv_areaspec_box(0.5, -0.5, 1.5, 0.5)" \
	"SELECT COUNT(*) FROM Object o1 JOIN Object o2 ON scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.0166 WHERE $B1 AND $B2"
for q in "qserv_areaspec_box(0.5, -0.5, 1.5, 0.5) = 0" "ra > 1 OR 1 = qserv_areaspec_box(0.5, -0.5, 1.5, 0.5)" \
	"qserv_areaspec_box(0.5, -0.5, 1.5, 0.5) = decl"; do
	out=$($CZ -e "SELECT COUNT(*) FROM Object WHERE $q" 2>&1)
	case "$out" in *"ERROR 1235 (42000)"*"AND term of WHERE"*) tap_pass "refused: $q" ;;
		*) tap_fail "refused: $q" "$out" ;; esac
done
tap_done
