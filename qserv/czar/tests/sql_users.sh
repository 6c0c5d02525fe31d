#!/bin/sh
# sql_users.sh: users, roles, grants and MySQL's resource limits through
# the czar's SQL port (users.h) with the real mariadb CLI, on a 1-worker
# dev cluster with two small catalogs (ua, ub) and an extra users-file
# user dave (no grants: reads every catalog, as before grants existed).
# qsmaster (the users file's admin) runs CREATE USER / ROLE, GRANT, REVOKE,
# ALTER USER, DROP; each refusal is checked by its MySQL error number:
# 1396 (user exists / missing), 1064 (syntax), 1221 (bad name), 1142
# (SELECT on an ungranted database), 1044 (USE), 1227 (a non-admin managing
# users), 4151 (locked), 1226 for each of max_questions,
# max_connections_per_hour and max_user_connections, 1045 (old password).
# SHOW DATABASES and information_schema list only what a restricted user
# reads; SHOW GRANTS; the
# HTTP frontend's /query refuses the same SELECT; a czar restart keeps
# users, roles and grants.  Waits bounded.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init users
command -v python3 > /dev/null || tap_skip_all "needs python3"
command -v curl > /dev/null || tap_skip_all "needs curl"
tap_plan 50

for db in ua ub; do
	"$REPO/tools/sample-catalog.sh" "$T/$db" $db --objects 300 --sources-per-object 1 --ra 0,10 --dec -5,5 \
		--stripes 12 --sub-stripes 4 --no-filter > /dev/null || exit 1
done
if dc_up 1; then
	tap_pass "dev cluster with 1 worker up"
else
	tap_fail "dev cluster with 1 worker up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
ok=1
for db in ua ub; do
	"$BIN/qservctl" ingest -q "$T/$db/ds" >> "$T/ingest.log" 2>&1 || ok=0
done
tap_is "$ok" 1 "catalogs ua and ub ingested and published"

# as NAME PASSWORD SQL: through the SQL port (errors on stdout too)
# (the CLI's echo of a failed statement between dashes left out)
as() {
	mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$1" -p"$2" -N -B -e "$3" 2>&1 |
		sed '/^--------------$/,/^--------------$/d; /^$/d'
}
adm() { as "$QSERV_USER" "$QSERV_PASSWORD" "$1"; }
code() { sed -n 's/^ERROR \([0-9]*\).*/\1/p' | head -n 1; }   # the MySQL error number of an answer
N=$(adm "SELECT COUNT(*) FROM ua.Object")

pid=$(awk '$1 == "czar" { print $2 }' "$T/cluster/pids")
tr '\0' '\n' < "/proc/$pid/cmdline" > "$T/czar.args"
USERS=$(awk 'p { print; exit } $0 == "--users" { p = 1 }' "$T/czar.args")
printf 'dave:%s\n' "$(echo dave-pw | "$BIN/qserv-czar" --hash-password)" >> "$USERS"
restart() {   # the czar again with the same options, until its port answers
	kill "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	set --
	while IFS= read -r a; do set -- "$@" "$a"; done < "$T/czar.args"
	"$@" >> "$T/czar.log" 2>&1 &
	pid=$!
	echo "czar $pid" >> "$T/cluster/pids"
	wait_until 30 mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" \
		-p"$QSERV_PASSWORD" -e "SELECT 1"
}
tap_ok "czar restarted with dave in its users file" restart

# ---- create, refuse
tap_is "$(adm "CREATE USER 'alice'@'%' IDENTIFIED BY 'a-pw'")" "" "CREATE USER 'alice'@'%' IDENTIFIED BY"
tap_is "$(adm "CREATE USER alice IDENTIFIED BY 'x'" | code)" 1396 "CREATE USER of an existing user: 1396"
tap_is "$(adm "CREATE USER IF NOT EXISTS alice@localhost IDENTIFIED BY 'x'")" "" "CREATE USER IF NOT EXISTS: OK"
tap_is "$(adm "CREATE USER 'bad-name' IDENTIFIED BY 'x'" | code)" 1221 "CREATE USER of a bad name: 1221"
tap_is "$(adm "CREATE USER alice IDENTIFIED 'x'" | code)" 1064 "CREATE USER syntax error: 1064"
tap_is "$(adm "ALTER USER nobody IDENTIFIED BY 'x'" | code)" 1396 "ALTER USER of a missing user: 1396"
tap_is "$(adm "CREATE USER nopw" | code):$(adm "ALTER USER alice IDENTIFIED BY ''" | code)" 1819:1819 \
	"an account without a password, or an empty one: 1819"
tap_is "$(as alice a-pw "SELECT COUNT(*) FROM ua.Object")" \
	"ERROR 1142 (42000) at line 1: SELECT command denied to user 'alice'@'%' for table 'ua.Object'" \
	"a new user reads nothing: 1142 with MySQL's message"
tap_is "$(as alice a-pw "USE ua" | code)" 1044 "USE of an ungranted database: 1044"
tap_is "$(as alice a-pw "SHOW DATABASES")" "information_schema" "SHOW DATABASES of a user without grants"
tap_is "$(as dave dave-pw "SELECT COUNT(*) FROM ua.Object; SELECT COUNT(*) FROM ub.Object" | tr '\n' ' ')" "$N $N " \
	"a users-file user without grants reads every catalog"

# ---- roles and grants
tap_is "$(adm "CREATE ROLE reader; GRANT SELECT ON ua.* TO reader; GRANT reader TO 'alice'@'%'")" "" \
	"CREATE ROLE, GRANT SELECT ON ua.* TO the role, GRANT the role TO alice"
tap_is "$(as alice a-pw "SELECT COUNT(*) FROM ua.Object")" "$N" "alice reads ua through her role (distributed)"
tap_is "$(as alice a-pw "USE ua; SHOW TABLES LIKE 'Obj%'")" "Object" "alice: USE ua, SHOW TABLES (local)"
IS="SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = 'Object' ORDER BY 1"
tap_is "$(as alice a-pw "$IS" | tr '\n' ' ')|$(as dave dave-pw "$IS" | tr '\n' ' ')" "ua |ua ub " \
	"information_schema.TABLES: alice sees ua's tables only, dave (unrestricted) every catalog's"
tap_is "$(as alice a-pw "SELECT t.TABLE_SCHEMA FROM information_schema.TABLES t WHERE t.TABLE_NAME = 'Object' OR t.TABLE_NAME = 'Source'" | sort -u)" \
	"ua" "information_schema with an alias and an OR: still ua only"
tap_is "$(as alice a-pw "SELECT COUNT(*) > 0 FROM information_schema.COLLATIONS")" 1 "information_schema.COLLATIONS: read as it is"
tap_is "$(as alice a-pw "SELECT COUNT(*) FROM information_schema.INNODB_BUFFER_PAGE" | code)" 1142 \
	"an information_schema table not known to be safe: 1142"
tap_is "$(as alice a-pw "SELECT COUNT(*) FROM ub.Object" | code)" 1142 "alice still refused on ub"
tap_is "$(as alice a-pw "SHOW TABLES FROM ub" | code)" 1044 "SHOW TABLES FROM ub: 1044"
tap_is "$(as alice a-pw "SHOW DATABASES" | tr '\n' ' ')" "information_schema ua " "SHOW DATABASES lists ua only"
tap_is "$(adm "GRANT SELECT ON ub.* TO alice"; as alice a-pw "SELECT COUNT(*) FROM ub.Object")" "$N" \
	"GRANT SELECT ON ub.* TO alice: she reads ub"
tap_is "$(adm "SHOW GRANTS FOR alice" | sed 's/PASSWORD .*/PASSWORD x/' | tr '\n' '|')" \
	"GRANT USAGE ON *.* TO \`alice\`@\`%\` IDENTIFIED BY PASSWORD x|GRANT \`reader\` TO \`alice\`@\`%\`|GRANT SELECT ON \`ub\`.* TO \`alice\`@\`%\`|" \
	"SHOW GRANTS FOR alice"
tap_is "$(as alice a-pw "SHOW GRANTS" | wc -l)" 3 "SHOW GRANTS of oneself"
tap_is "$(as alice a-pw "SHOW GRANTS FOR dave" | code)" 1044 "SHOW GRANTS FOR another user by a non-admin: 1044"
tap_is "$(adm "REVOKE SELECT ON ub.* FROM alice"; as alice a-pw "SELECT COUNT(*) FROM ub.Object" | code)" 1142 \
	"REVOKE SELECT ON ub.*: refused again"
tap_is "$(adm "REVOKE SELECT ON ub.* FROM alice" | code)" 1141 "REVOKE of what was not granted: 1141"
tap_is "$(adm "GRANT nosuchrole TO alice" | code)" 1959 "GRANT of a role that does not exist: 1959"
tap_is "$(adm "GRANT INSERT ON ua.* TO alice" | code)" 1235 "GRANT INSERT: refused (read-only czar)"
r=$(curl -sS --max-time 60 --cacert "$QSERV_CA_FILE" -u alice:a-pw -H 'Content-Type: application/json' \
	-d '{"query": "SELECT COUNT(*) FROM ub.Object"}' "$QSERV_HTTP_URL/query")
tap_is "$(echo "$r" | jq -c '[.success, (.error | test("SELECT command denied"))]')" '[0,true]' \
	"HTTP /query as alice on ub: the same refusal"

# ---- a non-admin manages nothing
tap_is "$(as alice a-pw "CREATE USER eve IDENTIFIED BY 'x'" | code)" 1227 "CREATE USER by a non-admin: 1227"
tap_is "$(as alice a-pw "GRANT SELECT ON ub.* TO alice" | code)" 1227 "GRANT by a non-admin: 1227"

# ---- passwords and locks
tap_is "$(as alice a-pw "SET PASSWORD = PASSWORD('a-pw2')")" "" "SET PASSWORD of oneself"
tap_is "$(as alice a-pw "SELECT 1" | code):$(as alice a-pw2 "SELECT 1")" "1045:1" "the old password refused, the new one in"
tap_is "$(adm "ALTER USER alice ACCOUNT LOCK"; as alice a-pw2 "SELECT 1")" \
	"ERROR 4151 (HY000): Access denied, this account is locked" "ACCOUNT LOCK: login refused with 4151"
tap_is "$(adm "ALTER USER alice ACCOUNT UNLOCK"; as alice a-pw2 "SELECT 1")" 1 "ACCOUNT UNLOCK: login again"

# ---- resource limits
adm "CREATE USER bob IDENTIFIED BY 'b' WITH MAX_QUERIES_PER_HOUR 3" > /dev/null
tap_is "$(as bob b "SELECT 1; SELECT 2; SELECT 3; SELECT 4")" \
	"$(printf '1\n2\n3\nERROR 1226 (42000) at line 1: User '"'"'bob'"'"' has exceeded the '"'"'max_questions'"'"' resource (current value: 3)')" \
	"MAX_QUERIES_PER_HOUR 3: the 4th statement gets 1226 max_questions"
adm "CREATE USER carol IDENTIFIED BY 'c' WITH MAX_CONNECTIONS_PER_HOUR 2" > /dev/null
tap_is "$(as carol c "SELECT 1"; as carol c "SELECT 1"; as carol c "SELECT 1" | sed 's/ (42000).*resource/ resource/')" \
	"$(printf '1\n1\nERROR 1226 resource (current value: 2)')" "MAX_CONNECTIONS_PER_HOUR 2: the 3rd login gets 1226"
tap_ok "the 3rd login names max_connections_per_hour" sh -c "$(command -v mariadb) --no-defaults -h $QSERV_CZAR_HOST -P $QSERV_CZAR_PORT -ucarol -pc -e 'SELECT 1' 2>&1 | grep -q \"'max_connections_per_hour'\""
adm "CREATE USER dan IDENTIFIED BY 'd' WITH MAX_USER_CONNECTIONS 1" > /dev/null
(sleep 15) | mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -udan -pd > /dev/null 2>&1 &
hold=$!
DC_PIDS="$DC_PIDS $hold"
wait_until 10 sh -c "mariadb --no-defaults -h $QSERV_CZAR_HOST -P $QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD -N -e 'SHOW SESSIONS' | grep -q dan"
tap_is "$(as dan d "SELECT 1" | sed 's/ (42000).*exceeded/ exceeded/')" \
	"ERROR 1226 exceeded the 'max_user_connections' resource (current value: 1)" \
	"MAX_USER_CONNECTIONS 1: a second session gets 1226"
kill "$hold" 2>/dev/null

# ---- a restart keeps everything (the users file and FILE.grants, owner-only)
tap_is "$(stat -c %a "$USERS" "$USERS.grants" | tr '\n' ' ')$(grep -c '^member alice reader$' "$USERS.grants")" "600 600 1" \
	"users file and grants file written 0600, alice's role on disk"
before=$(adm "SHOW GRANTS FOR alice; SHOW GRANTS FOR reader")
tap_ok "czar restarted" restart
tap_is "$(adm "SHOW GRANTS FOR alice; SHOW GRANTS FOR reader")" "$before" "after the restart: the same grants"
tap_is "$(as alice a-pw2 "SELECT COUNT(*) FROM ua.Object")" "$N" "after the restart: alice logs in and reads ua"
tap_is "$(as dave dave-pw "SELECT COUNT(*) FROM ub.Object")" "$N" "after the restart: dave (users file) still reads all"

# ---- drop
tap_is "$(adm "DROP USER alice; DROP ROLE reader"; as alice a-pw2 "SELECT 1" | code)" 1045 "DROP USER: alice cannot log in"
tap_is "$(adm "DROP USER alice" | code):$(adm "DROP USER IF EXISTS alice")" "1396:" "DROP USER of a missing user: 1396; IF EXISTS: OK"
echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"
tap_done
