#!/bin/sh
# clients.sh: real MySQL clients against qserv-czar (mariadb CLI, Connector/C,
# pymysql, mysql2): authentication, result types, NULLs, binary columns,
# errors with codes and SQLSTATE, COM_INIT_DB/PING/FIELD_LIST, refusals and
# 250 concurrent sessions.  Private mariadbd as the czar's MariaDB.
cd "$(dirname "$0")/../../.." || exit 1
. tools/tap.sh
. qserv/czar/tests/lib.sh
T=$(mktemp -d /tmp/czar-clients.XXXXXX)
trap 'czar_cleanup "$T"' EXIT INT TERM
CLIENT=$BUILD/tests/czar-client
PY=/usr/bin/python3

tap_plan 26
czar_mariadb_start "$T" || { tap_fail "private mariadbd starts" "$(tail -5 "$T/my.err")"; exit 1; }
PORT=$(czar_free_port)
MPORT=$(czar_free_port)
czar_start "$T" "$PORT" "$T/my.sock" --max-connections 300 --metrics-port "$MPORT" || { tap_fail "qserv-czar starts" "$(cat "$T/czar.log")"; exit 1; }
tap_pass "qserv-czar starts on a private MariaDB"

direct() { mariadb --no-defaults -S "$T/my.sock" -uroot "$@"; }
viacz() { mariadb --no-defaults -h127.0.0.1 -P"$PORT" -uqsmaster -p"$CZAR_PW" "$@"; }

direct -e "CREATE DATABASE LSST; CREATE TABLE LSST.T (
	id BIGINT UNSIGNED NOT NULL PRIMARY KEY, i INT, d DOUBLE, dec_ DECIMAL(12,4),
	s VARCHAR(20) CHARACTER SET utf8mb4, b VARBINARY(16), bl BLOB, dt DATETIME(3), f FLOAT);
	INSERT INTO LSST.T VALUES
	 (1, -7, 1.5e300, 12345678.1234, 'Ångström', 0x00FF0A5C, 0x000102, '2024-02-29 23:59:59.123', 0.1),
	 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	 (18446744073709551615, 2147483647, -0.0, -1.0001, '', '', '', '1970-01-01 00:00:00', -3.25);"

tap_is "$(viacz -N -e 'SELECT 1+1')" 2 "mariadb CLI: SELECT 1+1"
out=$(mariadb --no-defaults -h127.0.0.1 -P"$PORT" -uqsmaster -pwrong -e 'SELECT 1' 2>&1)
case "$out" in *"ERROR 1045 (28000)"*"Access denied for user 'qsmaster'"*) tap_pass "wrong password: 1045 (28000)" ;;
	*) tap_fail "wrong password: 1045 (28000)" "$out" ;; esac
out=$(mariadb --no-defaults -h127.0.0.1 -P"$PORT" -unobody -p"$CZAR_PW" -e 'SELECT 1' 2>&1)
case "$out" in *"ERROR 1045"*) tap_pass "unknown user refused" ;; *) tap_fail "unknown user refused" "$out" ;; esac

Q='SELECT id, i, d, dec_, s, b, bl, dt, f, NULL AS z, 1.5 AS lit, _binary 0x00 AS bin0 FROM LSST.T ORDER BY id'
"$CLIENT" -S "$T/my.sock" -u root query "$Q" >"$T/direct.out" 2>&1
"$CLIENT" -h 127.0.0.1 -P "$PORT" -u qsmaster -p "$CZAR_PW" query "$Q" >"$T/czar.out" 2>&1
if cmp -s "$T/direct.out" "$T/czar.out" && grep -q '^col b type=253 charset=63 flags=128' "$T/czar.out"; then
	tap_pass "Connector/C: column types, charsets, flags, NULLs and binary identical to MariaDB"
else
	tap_fail "Connector/C: column types, charsets, flags, NULLs and binary identical to MariaDB" \
		"$(diff "$T/direct.out" "$T/czar.out" | head -20)"
fi

out=$("$CLIENT" -h 127.0.0.1 -P "$PORT" -u qsmaster -p "$CZAR_PW" query 'SELECT * FROM LSST.Nope')
tap_is "$out" "ERROR 1146 (42S02): Table 'LSST.Nope' doesn't exist" "missing table: 1146 (42S02)"
out=$("$CLIENT" -h 127.0.0.1 -P "$PORT" -u qsmaster -p "$CZAR_PW" query 'SELEC 1')
case "$out" in "ERROR 1064 (42000): "*) tap_pass "syntax error: 1064 (42000)" ;; *) tap_fail "syntax error: 1064 (42000)" "$out" ;; esac
for stmt in "DROP DATABASE LSST" "INSERT INTO LSST.T (id) VALUES (9)" "DELETE FROM LSST.T"; do
	out=$("$CLIENT" -h 127.0.0.1 -P "$PORT" -u qsmaster -p "$CZAR_PW" query "$stmt")
	case "$out" in "ERROR 1235 (42000): "*) tap_pass "refused: $stmt" ;; *) tap_fail "refused: $stmt" "$out" ;; esac
done
tap_is "$(direct -N -e 'SELECT COUNT(*) FROM LSST.T')" 3 "refused statements changed nothing"

tap_is "$(viacz -N -D LSST -e 'SELECT DATABASE(); SELECT COUNT(*) FROM T')" "LSST
3" "COM_INIT_DB at connect: DATABASE() and unqualified tables"
out=$(viacz -D NoSuchDb -e 'SELECT 1' 2>&1)
case "$out" in *"ERROR 1049 (42000)"*"Unknown database 'NoSuchDb'"*) tap_pass "unknown database: 1049" ;;
	*) tap_fail "unknown database: 1049" "$out" ;; esac
out=$(mariadb-admin --no-defaults -h127.0.0.1 -P"$PORT" -uqsmaster -p"$CZAR_PW" ping 2>&1)
tap_is "$out" "mysqld is alive" "COM_PING (mariadb-admin ping)"
# Interactive CLI with auto-rehash: USE runs COM_INIT_DB then COM_FIELD_LIST per table.
out=$(printf 'USE LSST\nSELECT s FROM T WHERE id=1;\n' | viacz --auto-rehash -N 2>&1)
tap_is "$out" "Ångström" "interactive CLI: USE + field lists + utf8mb4 text"

out=$($PY - "$PORT" "$CZAR_PW" <<'PYEOF' 2>&1
import sys, decimal, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="qsmaster", password=sys.argv[2], database="LSST")
cur = c.cursor()
cur.execute("SELECT id, i, dec_, s, b, dt FROM T ORDER BY id")
rows = cur.fetchall()
assert rows[0][0] == 1 and rows[0][1] == -7, rows[0]
assert rows[0][2] == decimal.Decimal("12345678.1234"), rows[0][2]
assert rows[0][3] == "Ångström" and rows[0][4] == b"\x00\xff\n\\", rows[0]
assert rows[1][1:] == (None, None, None, None, None), rows[1]
assert rows[2][0] == 18446744073709551615 and rows[2][4] == b"", rows[2]
assert [d[0] for d in cur.description] == ["id", "i", "dec_", "s", "b", "dt"]
c.ping()
try:
    cur.execute("UPDATE T SET i = 1")
    print("no error")
except pymysql.err.MySQLError as e:
    assert e.args[0] == 1235, e.args
print("pymysql ok")
PYEOF
)
tap_is "$out" "pymysql ok" "pymysql: types, NULLs, binary, ping, refusal"

if command -v node >/dev/null && [ -d "$BUILD/npm/node_modules/mysql2" ]; then
	out=$(NODE_PATH="$BUILD/npm/node_modules" node - "$PORT" "$CZAR_PW" <<'JSEOF' 2>&1
const mysql = require('mysql2/promise');
(async () => {
  const c = await mysql.createConnection({host: '127.0.0.1', port: +process.argv[2], user: 'qsmaster',
                                          password: process.argv[3], database: 'LSST'});
  const [rows, fields] = await c.query('SELECT id, i, d, s, b FROM T ORDER BY id');
  const ok = rows.length === 3 && rows[0].i === -7 && rows[0].d === 1.5e300 && rows[0].s === 'Ångström'
    && Buffer.isBuffer(rows[0].b) && rows[0].b.equals(Buffer.from([0, 255, 10, 92]))
    && rows[1].i === null && rows[1].b === null && fields[4].characterSet === 63;
  let refused = false;
  try { await c.query('CREATE TABLE x (a INT)'); } catch (e) { refused = e.errno === 1235 && e.sqlState === '42000'; }
  await c.end();
  console.log(ok && refused ? 'mysql2 ok' : 'mysql2 bad ' + JSON.stringify(rows));
})().catch(e => console.log('mysql2 error ' + e));
JSEOF
)
	tap_is "$out" "mysql2 ok" "mysql2: types, NULLs, binary, refusal"
else
	tap_skip "mysql2: types, NULLs, binary, refusal" "npm mysql2 not installed (make deps)"
fi

# The czar sends SELECTs as its printer writes them: every expression must
# mean, to MariaDB, what the client wrote (values and result types).
cat >"$T/exprs" <<'XEOF'
1 + 2 * 3 - 4 / 5
7 DIV 2 + 7 MOD 3 - 7 % 4
-2 * -3 - - 4
1 | 2 & 3 << 4 >> 1 ^ 5
~0 >> 60
!0 + !1
NOT 1 = 2
1 = 1 = 1
2 BETWEEN 1 AND 3 = 1
1 AND 0 OR 1 XOR 1
1 && 0 || 1
NULL <=> NULL
NULL = NULL
3 IN (1, 2, 3) AND 4 NOT IN (1, NULL)
'abc' LIKE 'a%' AND 'a_c' LIKE 'a!_c' ESCAPE '!'
'abc' NOT REGEXP '^b'
NULL IS NULL AND 0 IS NOT TRUE AND 1 IS TRUE
CASE WHEN 1 > 2 THEN 'x' WHEN 2 > 1 THEN 'y' ELSE 'z' END
CASE 3 WHEN 1 THEN 'a' WHEN 3 THEN 'c' END
CAST(2.567 AS DECIMAL(5,2)) + CAST('7' AS SIGNED)
BINARY 'a' = 'A'
'it''s' = "it's"
X'41' = _binary 0x41
COALESCE(NULL, 1.5e0) + ABS(-3) + ROUND(2.5) + FLOOR(-1.5) + POW(2, 10)
CONCAT('a', NULL) IS NULL
IF(1 > 2, 'yes', 'no')
LEFT('abcdef', 3) = 'abc'
1 - 2 - 3
2 * 3 % 4
-(1 + 2) * 3
XEOF
bad=0 n=0
while IFS= read -r e; do
	n=$((n + 1))
	"$CLIENT" -S "$T/my.sock" -u root query "SELECT $e AS v" >"$T/e.direct" 2>&1
	"$CLIENT" -h 127.0.0.1 -P "$PORT" -u qsmaster -p "$CZAR_PW" query "SELECT $e AS v" >"$T/e.czar" 2>&1
	if ! cmp -s "$T/e.direct" "$T/e.czar"; then
		bad=$((bad + 1)); tap_diag "differs: $e"; tap_diag "$(cat "$T/e.direct" "$T/e.czar")"
	fi
done <"$T/exprs"
tap_is "$bad" 0 "$n expressions: printed SQL gives MariaDB's own values and types"

# SHOW SESSIONS and KILL QUERY of a running statement.
"$CLIENT" -h 127.0.0.1 -P "$PORT" -u qsmaster -p "$CZAR_PW" query 'SELECT SLEEP(60) AS s' >"$T/sleep.out" 2>&1 &
SLEEPER=$!
id=
for _ in $(seq 100); do
	id=$(viacz -N -e 'SHOW SESSIONS' | awk -F'\t' '$5 == "Query" && $8 ~ /SLEEP/ { print $1 }')
	[ -n "$id" ] && break
	sleep 0.1
done
tap_ok "SHOW SESSIONS shows the running statement" test -n "$id"
viacz -e "KILL QUERY $id" >/dev/null 2>&1
wait $SLEEPER
out=$(cat "$T/sleep.out")
case "$out" in *"ERROR 1317 (70100)"*|"col s"*"1") tap_pass "KILL QUERY interrupts it" ;; *) tap_fail "KILL QUERY interrupts it" "$out" ;; esac
out=$(viacz -e 'KILL QUERY 999999' 2>&1)
case "$out" in *"ERROR 1094"*) tap_pass "KILL of an unknown id: 1094" ;; *) tap_fail "KILL of an unknown id: 1094" "$out" ;; esac

out=$("$CLIENT" -h 127.0.0.1 -P "$PORT" -u qsmaster -p "$CZAR_PW" concurrent 250 5 2>&1)
tap_is "$out" "ok 250" "250 concurrent Connector/C sessions, 5 checked queries each"
tap_is "$(viacz -N -e 'SELECT 42')" 42 "czar still answers after the burst"

m=$(curl -sf "http://127.0.0.1:$MPORT/metrics")
tap_ok "/metrics counts statements and errors" sh -c "echo '$m' | grep -q '^qserv_czar_statements_total [1-9]' && echo '$m' | grep -q '^qserv_czar_statement_errors_total [1-9]'"
tap_ok "/metrics shows the open connections" sh -c "echo '$m' | grep -q '^qserv_czar_connections [0-9]'"
printf 'a:\nbad line\n' >"$T/bad-users"
out=$("$BUILD/bin/qserv-czar" --users "$T/bad-users" --check 2>&1)
case "$out" in *"bad-users:2: expected 'user:*HASH'"*) tap_pass "--check names file:line of a bad users file" ;;
	*) tap_fail "--check names file:line of a bad users file" "$out" ;; esac
tap_done
