#!/bin/sh
# quota.sh: the czar's per-user quotas (qserv/czar/quota.h) on a 2-worker
# dev cluster with a small catalog, through the real mariadb CLI on the SQL
# port and curl on the HTTPS frontend:
#   queries: the (limit+1)th statement is ERROR 1226 naming the quota, the
#     limit and the reset on 4040, and 429 with Retry-After on 4041;
#     `qservctl quota set` raises the limit and the next query runs (no
#     restart);
#   scans: a second query over every chunk is refused, a query with a
#     spatial restrictor is not;
#   concurrent: a second statement while one runs is refused; the slot
#     comes back when it ends, when it is KILLed and when its client hangs up;
#     a SUBMIT's job holds it until it ends (here: CANCEL);
#   result_bytes: once used up, the next query is refused;
#   blocked (0): ERROR 4151 on 4040, 403 on 4041, and a quota_block alert
#     reaches tools/alert-receiver.py (the czar's --alert-webhook);
#   SHOW QUOTA (own, FOR another only for admins); a non-admin cannot read
#   or change quotas (403, qservctl fails); a restart keeps the config;
#   groups are the SQL roles granted to a user (CREATE ROLE, GRANT role TO):
#   a group's grant is added to the default, and raising it lets the
#   user's queries run again.
# Every wait is bounded (wait_until); nothing asserts a timing.
top=$(cd "$(dirname "$0")/../../.." && pwd)
REPO=$top
. "$top/tools/tap.sh"
. "$top/tools/dc-test.sh"
dc_init quota
command -v curl > /dev/null || tap_skip_all "needs curl"
tap_plan 41
done_line() { echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"; }

/usr/bin/python3 "$REPO/tools/alert-receiver.py" 0 "$T/alerts.log" > "$T/receiver.port" &
DC_PIDS="$DC_PIDS $!"
wait_until 10 test -s "$T/receiver.port"
RP=$(head -1 "$T/receiver.port")
"$top/tools/sample-catalog.sh" "$T" qq --objects 1000 --sources-per-object 1 --ra 0,2 --dec -1,1 > "$T/gen.log" 2>&1
if QSERV_CZAR_ARGS="--alert-webhook http://127.0.0.1:$RP/hook --alert-cluster dev" dc_up 2 &&
	"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q "$T/ds" > "$T/ingest.log" 2>&1; then
	tap_pass "dev cluster up, catalog ingested"
else
	tap_fail "dev cluster up, catalog ingested" "$(tail -n 5 "$T/up.log" "$T/ingest.log" 2>/dev/null)"
	done_line
	exit 1
fi
URL=$QSERV_HTTP_URL
hc() { curl -sS --max-time 60 --cacert "$QSERV_CA_FILE" "$@"; }
# as USER SQL: the statement on the SQL port as USER (password USER-pw), errors on stdout
as() { mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$1" -p"$1-pw" -D qq -N -B -e "$2" 2>&1; }
# hq USER SQL [CURL ARGS]: POST /query as USER; the status line and headers to $T/h, the body on stdout
hq() { _u=$1 _q=$2; shift 2; hc -D "$T/h" -u "$_u:$_u-pw" -H 'Content-Type: application/json' \
	-d "{\"query\": \"$_q\", \"database\": \"qq\"}" "$@" "$URL/query"; }
ctl() { "$BIN/qservctl" --ca "$QSERV_CA_FILE" quota --czar "$URL" "$@"; }
SCAN="SELECT MAX(ra) FROM Object"
BOX="SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(0.9, -0.1, 1.1, 0.1)"

# ---- users (non-admins) and a czar that knows them
czar_args "$T/czar.args"
USERS=$(awk 'p { print; exit } $0 == "--users" { p = 1 }' "$T/czar.args")
for u in bob carol dave erin frank; do
	printf '%s:%s\n' "$u" "$(echo "$u-pw" | "$BIN/qserv-czar" --hash-password)" >> "$USERS"
done
tap_ok "the czar restarted with five more users" czar_restart
export QSERV_USER QSERV_PASSWORD

# ---- queries on 4040 and 4041, a change at run time
tap_ok "qservctl quota set user bob queries=3" ctl set user bob queries=3
for i in 1 2 3; do as bob "$SCAN" > "$T/bob.$i"; done
tap_is "$(cat "$T/bob.1" "$T/bob.2" "$T/bob.3" | grep -c ERROR)" 0 "bob's three queries run"
out=$(as bob "$SCAN")
case $out in
*"ERROR 1226"*"User 'bob' has exceeded the 'queries' quota (limit 3 per 900 s); the window resets in "*" s"*)
	tap_pass "the fourth: ERROR 1226 naming the quota, its limit and the reset" ;;
*) tap_fail "the fourth: ERROR 1226 naming the quota, its limit and the reset" "$out" ;;
esac
body=$(hq bob "$SCAN")
tap_is "$(head -1 "$T/h" | awk '{ print $2 }')" 429 "4041: over the quota is HTTP 429"
ra=$(awk -F': ' 'tolower($1) == "retry-after" { print $2 }' "$T/h" | tr -d '\r')
case $ra in [1-9]*) tap_pass "with Retry-After ($ra s)" ;; *) tap_fail "with Retry-After" "$(cat "$T/h")" ;; esac
tap_is "$(echo "$body" | jq -c '[.success, .error_ext.code, (.error | test("queries"))]')" '[0,1226,true]' \
	"and Qserv's JSON error shape naming the quota"
tap_ok "qservctl quota set user bob queries=10" ctl set user bob queries=10
out=$(as bob "$SCAN")
case $out in *ERROR*) tap_fail "the raised limit holds at once, no restart" "$out" ;;
*) tap_pass "the raised limit holds at once, no restart" ;; esac
tap_is "$(hq bob "$SCAN" | jq -c '.success')" 1 "and on 4041"

# ---- SHOW QUOTA
out=$(as bob "SHOW QUOTA" | awk '$1 == "queries" { print $2, $3, $4 }')
tap_is "$out" "10 5 900" "SHOW QUOTA: bob's queries limit, used, window"
out=$(as bob "SHOW QUOTA" | awk '$1 == "scans" { print $2 }')
tap_is "$out" NULL "SHOW QUOTA: an unset quota is NULL (unlimited)"
out=$(as bob "SHOW QUOTA FOR 'carol'")
case $out in *"ERROR 1227"*) tap_pass "SHOW QUOTA FOR another user: admins only" ;;
*) tap_fail "SHOW QUOTA FOR another user: admins only" "$out" ;; esac
out=$(mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -N -B \
	-e "SHOW QUOTA FOR 'bob'" 2>&1 | awk '$1 == "queries" { print $2, $3 }')
tap_is "$out" "10 5" "an admin's SHOW QUOTA FOR 'bob'"

# ---- scans
ctl set user carol scans=1 > /dev/null
as carol "$SCAN" > "$T/carol.1"
out=$(as carol "$SCAN")
case $out in *"ERROR 1226"*"'scans' quota (limit 1 per 900 s)"*) tap_pass "a second full scan: 1226 'scans'" ;;
*) tap_fail "a second full scan: 1226 'scans'" "$(cat "$T/carol.1"; echo "$out")" ;; esac
out=$(as carol "$BOX")
case $out in *ERROR*) tap_fail "a query with a spatial restrictor is no scan" "$out" ;;
*) tap_pass "a query with a spatial restrictor is no scan" ;; esac

# ---- concurrent: released at the end, on KILL, on a hang-up
ctl set user dave concurrent=1 > /dev/null
SLOW="SELECT SLEEP(4) FROM information_schema.TABLES LIMIT 1"
running() { [ "$(mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -N -B \
	-e "SHOW FULL SESSIONS" 2>/dev/null | awk -F'\t' '$2 == "dave" && $8 ~ /SLEEP/' | wc -l)" -ge 1 ]; }
as dave "$SLOW" > "$T/dave.slow" &
bg=$!
wait_until 20 running
out=$(as dave "$SCAN")
case $out in *"ERROR 1226"*"'concurrent' quota"*) tap_pass "a second statement at once: 1226 'concurrent'" ;;
*) tap_fail "a second statement at once: 1226 'concurrent'" "$out" ;; esac
wait $bg
out=$(as dave "$SCAN")
case $out in *ERROR*) tap_fail "the slot comes back when the statement ends" "$out" ;;
*) tap_pass "the slot comes back when the statement ends" ;; esac
as dave "$SLOW" > /dev/null &
bg=$!
wait_until 20 running
sid=$(mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -N -B \
	-e "SHOW FULL SESSIONS" | awk -F'\t' '$2 == "dave" && $8 ~ /SLEEP/ { print $1 }')
mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -e "KILL QUERY $sid" \
	> /dev/null 2>&1
wait $bg
free_slot() { ! as dave "$SCAN" | grep -q ERROR; }
tap_ok "the slot comes back after KILL QUERY" wait_until 20 free_slot
as dave "$SLOW" > /dev/null &
bg=$!
wait_until 20 running
kill "$bg"
wait "$bg" 2> /dev/null
tap_ok "the slot comes back after the client hangs up" wait_until 30 free_slot
jid=$(as dave "SUBMIT SELECT SLEEP(20) FROM information_schema.TABLES LIMIT 1" | awk '{ print $1 }')
out=$(as dave "$SCAN")
case $out in *"ERROR 1226"*"'concurrent' quota"*) tap_pass "a SUBMIT's job holds the slot while it runs" ;;
*) tap_fail "a SUBMIT's job holds the slot while it runs" "job '$jid': $out" ;; esac
as dave "CANCEL $jid" > /dev/null
tap_ok "and gives it back when cancelled" wait_until 40 free_slot

# ---- result bytes
ctl set user erin result_bytes=10 > /dev/null
as erin "SELECT objectId FROM Object" > "$T/erin.1"
out=$(as erin "$SCAN")
case $out in *"ERROR 1226"*"'result_bytes' quota (limit 10 per 900 s)"*) tap_pass "result bytes used up: 1226 'result_bytes'" ;;
*) tap_fail "result bytes used up: 1226 'result_bytes'" "$(head -2 "$T/erin.1"); $out" ;; esac
used=$(as erin "SHOW QUOTA" | awk '$1 == "result_bytes" { print $3 }')
[ "${used:-0}" -gt 10 ] && tap_pass "SHOW QUOTA counts erin's result bytes ($used)" ||
	tap_fail "SHOW QUOTA counts erin's result bytes" "used '$used'"

# ---- blocked
ctl set user frank queries=0 > /dev/null
out=$(as frank "$SCAN")
case $out in *"ERROR 4151"*"Access denied, user 'frank' is blocked by quota 'queries'"*)
	tap_pass "quota 0: ERROR 4151 on 4040" ;;
*) tap_fail "quota 0: ERROR 4151 on 4040" "$out" ;; esac
hq frank "$SCAN" > /dev/null
tap_is "$(head -1 "$T/h" | awk '{ print $2 }')" 403 "quota 0: HTTP 403 on 4041"
blocked_alert() { grep 'quota_block' "$T/alerts.log" | grep -q "frank"; }
tap_ok "a quota_block alert for frank reached the webhook" wait_until 20 blocked_alert

# ---- admins only
code=$(hc -o /dev/null -w '%{http_code}' -u bob:bob-pw -X PUT -d '{"queries":1000}' "$URL/quota/user/bob")
tap_is "$code" 403 "bob cannot change his quota (403)"
code=$(hc -o /dev/null -w '%{http_code}' -u bob:bob-pw "$URL/quota")
tap_is "$code" 403 "nor read GET /quota (403)"
tap_ok "nor through qservctl" sh -c "! QSERV_PASSWORD=bob-pw $BIN/qservctl --ca $QSERV_CA_FILE quota --czar $URL --user bob set user bob queries=1000 2>/dev/null"
code=$(hc -o "$T/r" -w '%{http_code}' -u "$QSERV_USER:$QSERV_PASSWORD" -X PUT -d '{"queries":-1}' "$URL/quota/user/bob")
tap_is "$code" 400 "a bad value is 400"
code="$(hc -o /dev/null -w '%{http_code}' "$URL/quota") $(hc -o /dev/null -w '%{http_code}' -X PUT -d '{"queries":1000}' "$URL/quota/user/bob")"
tap_is "$code" "401 401" "without credentials GET /quota and PUT /quota/user/bob are 401"

# ---- a restart keeps the configuration
tap_ok "the czar restarted" czar_restart
out=$(ctl show --json | jq -c '[.users.bob.queries, .users.carol.scans, .users.frank.queries]')
tap_is "$out" '[10,1,0]' "GET /quota after the restart: the entries kept"
tap_ok "quota.json sits next to the users file" test -s "$(dirname "$USERS")/quota.json"
ctl delete user frank > /dev/null
out=$(as frank "$SCAN")
case $out in *ERROR*) tap_fail "frank's entry deleted: his queries run again" "$out" ;;
*) tap_pass "frank's entry deleted: his queries run again" ;; esac

# ---- groups: the SQL roles granted to a user, Gafaelfawr's grants per group
adm() { mariadb --no-defaults -h127.0.0.1 -P"$QSERV_CZAR_PORT" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -N -B -e "$1" 2>&1; }
out=$(adm "CREATE ROLE astro; CREATE USER gina IDENTIFIED BY 'gina-pw'; GRANT SELECT ON qq.* TO astro;
	GRANT astro TO gina")
tap_is "$out" "" "role astro (SELECT on qq) granted to a new user gina"
ctl set group astro queries=2 > /dev/null
for i in 1 2; do as gina "$SCAN" > "$T/gina.$i"; done
out=$(as gina "$SCAN")
case "$(cat "$T/gina.1" "$T/gina.2")|$out" in
*ERROR*"|"*) tap_fail "gina's group grant (queries=2): two run, the third is 1226" "$(cat "$T/gina.1" "$T/gina.2") | $out" ;;
*"|"*"ERROR 1226"*"'queries' quota (limit 2 per 900 s)"*) tap_pass "gina's group grant (queries=2): two run, the third is 1226" ;;
*) tap_fail "gina's group grant (queries=2): two run, the third is 1226" "$out" ;; esac
tap_is "$(ctl show --json | jq -c '[.usage[] | select(.user == "gina") | .groups[]]')" \
	'["astro"]' "GET /quota names gina's group"
ctl set group astro queries=5 > /dev/null
out=$(as gina "$SCAN")
case $out in *ERROR*) tap_fail "the group's grant raised at run time: gina's next query runs" "$out" ;;
*) tap_pass "the group's grant raised at run time: gina's next query runs" ;; esac

done_line
tap_done
