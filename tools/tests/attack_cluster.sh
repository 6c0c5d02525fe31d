#!/bin/sh
# attack_cluster.sh: one attacker on the same host (loopback) against every
# listener of a 2-worker dev cluster holding a small catalog (docs/security.md
# "Every listener"), the per-component attack tests' techniques applied to
# the whole cluster at once (their depth stays with them: controller
# auth.sh/injection.sh, czar attack.sh, worker query_port.sh):
#   - the controller's and both workers' ingest APIs: every write route of
#     the route tables without credentials (401), with a wrong key (401),
#     with a worker's certificate (403), with a certificate of another CA
#     (403), and plain HTTP to the HTTPS port (no HTTP answer);
#   - both workers' query ports: no client certificate, a certificate of
#     another CA and a worker's certificate are refused; the czar's works;
#   - port 4040: a wrong password (1045); a non-admin SQL user reading
#     mysql.user, LOAD_FILE, qservMeta, and another user's processlist;
#   - the open status of an async contribution read without credentials:
#     the source URL's password and signature must not show;
#   - a few injection payloads per listener (REST fields with the key, SQL
#     through 4040): refused, no SQL error leaks;
#   - 1,000 idle and 200 slow connections spread over the six listeners
#     (tools/tests/attack_flood.py) while a legitimate client of each
#     (qservctl and curl with the key and the CA, qserv-wquery with the
#     czar's certificate, mariadb with the password) still gets in;
# and afterwards CHECKSUM TABLE of every catalog table on every worker's
# MariaDB and of every qservMeta table on the czar's, and the answers of
# queries through 4040, are what they were before the attack.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/attack-cluster.XXXXXX)
FPID=
cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

for b in qserv-gen qserv-partition qserv-worker qserv-controller qservctl qserv-czar qserv-certs qserv-wquery; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
tap_plan 41

"$top/tools/sample-catalog.sh" "$T" atk --objects 1500 --stripes 18 --sub-stripes 4 || exit 1
"$top/tools/sample-catalog.sh" "$T/legit" legit --objects 50 --stripes 18 --sub-stripes 4 || exit 1
if ! "$top/tools/dev-cluster" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1; then
	tap_fail "dev cluster with 2 workers and the czar comes up" "$(cat "$T/up.log")"; exit 1
fi
set -a; . "$T/cluster/cluster.env"; set +a
tap_ok "dev cluster with 2 workers and the czar comes up" test -n "$QSERV_CZAR_PORT"
tap_ok "qservctl ingest loads the catalog" "$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 2 "$T/ds"

. "$top/qserv/controller/tests/qcurl.sh"
QCURL_CERT_DIR=$QSERV_DEV_DIR/pki
KEY=$QSERV_AUTH_KEY
C=$QSERV_INGEST_URL
W1=https://127.0.0.1:$QSERV_WORKER_1_INGEST_PORT
W2=https://127.0.0.1:$QSERV_WORKER_2_INGEST_PORT
ZP=$QSERV_CZAR_PORT
sql() { mariadb --no-defaults -S "$1" -uroot -N -B -e "$2"; }
as() { _u=$1 _p=$2; shift 2; mariadb --no-defaults -h127.0.0.1 -P"$ZP" -u"$_u" -p"$_p" "$@"; }
CZ() { as "$QSERV_USER" "$QSERV_PASSWORD" -D atk -N -B "$@"; }

# Two non-admin SQL users (the dev cluster's qsmaster is an admin): the
# czar is restarted with the same command line and the longer users file.
zpid=$(awk '$1 == "czar" { print $2 }' "$QSERV_DEV_DIR/pids")
tr '\0' '\n' < "/proc/$zpid/cmdline" > "$T/czar.args"
hash() { echo "$1" | "$BIN/qserv-czar" --hash-password; }
printf 'mallory:%s\nalice:%s\n' "$(hash mallory-pw)" "$(hash alice-pw)" >> "$QSERV_DEV_DIR/czar/users"
kill "$zpid"
i=0; while kill -0 "$zpid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
set -f; IFS='
'; set -- $(cat "$T/czar.args"); unset IFS; set +f
"$@" >> "$QSERV_DEV_DIR/czar/czar.log" 2>&1 &
sed -i "s/^czar .*/czar $!/" "$QSERV_DEV_DIR/pids"
i=0; until as mallory mallory-pw -N -e 'SELECT 1' >/dev/null 2>&1 || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
tap_is "$(as mallory mallory-pw -N -e 'SELECT 1' 2>&1)" 1 "the czar runs again with two more (non-admin) SQL users"

# ---- the open contribution status must not give away a source URL's
# credentials: an operator's async contribution from a URL with a password
# and a signature, then its status read without credentials (the ids are
# not secret: they follow the clock)
post() { QSERV_AUTH_KEY=$KEY qcurl -s -m 30 -X "$1" "$2" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
post POST "$C/ingest/database" '{"database":"leak","num_stripes":10,"num_sub_stripes":3,"overlap":0.01}' > /dev/null
post POST "$C/ingest/table" '{"database":"leak","table":"R","is_partitioned":0,"schema":[{"name":"id","type":"INT"}]}' > /dev/null
tid=$(post POST "$C/ingest/trans" '{"database":"leak"}' | jq -r '.transaction.id')
cid=$(post POST "$W1/ingest/file-async" "{\"transaction_id\":$tid,\"table\":\"R\",\"url\":\"http://loader:s3cret-pw@127.0.0.1:9/r.tsv?X-Amz-Signature=c0ffee5ig\"}" | jq -r '.contrib.id')
out=$(QSERV_AUTH_KEY= qcurl -s -m 30 "$W1/ingest/file-async/$cid")
case "$out" in
	*s3cret-pw*|*c0ffee5ig*) tap_fail "the open status of a contribution hides its URL's password and signature" "$out" ;;
	*'"contrib"'*) tap_pass "the open status of a contribution hides its URL's password and signature" ;;
	*) tap_fail "the open status of a contribution hides its URL's password and signature" "cid=$cid: $out" ;;
esac
post PUT "$C/ingest/trans/$tid?abort=1" > /dev/null
post DELETE "$C/ingest/database/leak" > /dev/null

# ---- what must not change: checksums and answers
state() {
	for s in $(seq 1 "$QSERV_WORKERS"); do
		eval sock=\$QSERV_WORKER_${s}_SOCKET
		tabs=$(sql "$sock" "SELECT GROUP_CONCAT(CONCAT('\`',TABLE_SCHEMA,'\`.\`',TABLE_NAME,'\`') ORDER BY 1) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'atk'")
		echo "worker $s: $(echo "$tabs" | tr ',' '\n' | wc -l) tables"
		sql "$sock" "CHECKSUM TABLE $tabs EXTENDED"
		sql "$sock" "SHOW DATABASES"
	done
	# qservMeta whole, except the transaction history of the legitimate
	# second catalog (its rows stay after its owner drops it)
	tabs=$(sql "$QSERV_CZAR_DB_SOCKET" "SELECT GROUP_CONCAT(CONCAT('qservMeta.\`',TABLE_NAME,'\`') ORDER BY 1) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'qservMeta' AND TABLE_NAME <> 'trans'")
	sql "$QSERV_CZAR_DB_SOCKET" "CHECKSUM TABLE $tabs EXTENDED"
	sql "$QSERV_CZAR_DB_SOCKET" "SELECT * FROM qservMeta.trans WHERE db <> 'legit' ORDER BY id"
	# (the czar drops its empty schema mirror of the deleted second
	# catalog at its next metadata reload, which may come after this)
	sql "$QSERV_CZAR_DB_SOCKET" "SHOW DATABASES" | grep -vx legit
	sql "$QSERV_CZAR_DB_SOCKET" "SELECT User, Host FROM mysql.user ORDER BY 1, 2"
}
answers() {
	CZ -e "SELECT COUNT(*), SUM(nSources), MIN(decl), MAX(ra) FROM Object" 2>&1
	CZ -e "SELECT objectId, ra, decl FROM Object WHERE objectId IN (1, 42, 777, 1499)" 2>&1 | sort
	CZ -e "SELECT filterName, COUNT(*) FROM Source GROUP BY filterName" 2>&1 | sort
	CZ -e "SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(10, -20, 40, 10)" 2>&1
	CZ -e "SELECT * FROM Filter" 2>&1 | sort
}
state > "$T/state.before"
answers > "$T/answers.before"
tap_ok "checksums of $(grep -c '^worker' "$T/state.before") workers' catalog tables and of qservMeta taken" \
	grep -q "^worker 2: [1-9]" "$T/state.before"
tap_ok "answers through 4040 taken ($(head -1 "$T/answers.before"))" grep -q '^1500	' "$T/answers.before"

# ---- the ingest APIs: every write route
routes_of() { # FILE TABLE-NAME PREFIX: "METHOD PATH POLICY" lines (as auth.sh)
	awk -v t="$2" -v p="$3" '
		$0 ~ "^} " t "\\[\\] = \\{" { on = 1; next }
		on && /^};/ { on = 0 }
		on && /^\t\{ / {
			gsub(/[{},"]/, " "); n = split($0, f, " ")
			pol = (n >= 4 && f[4] ~ /^(QHTTP_|KEY|OPEN)/) ? f[4] : "-"
			sub(/^QHTTP_/, "", pol)
			path = f[2]; sub(/\*$/, "x/y", path)
			print f[1], p path, pol
		}' "$1"
}
routes_of "$top/qserv/controller/capi.c" routes "" | grep -v ' OPEN$' > "$T/ctl.routes"
{ routes_of "$top/qserv/worker/wapi.c" routes "" | grep -v '^NULL ' | grep -v ' OPEN$'
  routes_of "$top/qserv/worker/wapi.c" mroutes /worker/; } > "$T/wrk.routes"
# a worker's certificate may read a chunk for a copy (KEY_OR_WORKER), nothing else
grep -v ' KEY_OR_WORKER$' "$T/ctl.routes" > "$T/ctl.noworker.routes"
grep -v ' KEY_OR_WORKER$' "$T/wrk.routes" > "$T/wrk.noworker.routes"
# try BASE ROUTES WANT [HEADER]: the routes whose status is not WANT or
# whose body is not a JSON error naming why
try() {
	while read -r m p pol; do
		code=$(qcurl -s -o "$T/body" -w '%{http_code}' -X "$m" "$1$p" -H 'Content-Type: application/json' \
			${4:+-H "$4"} -d '{"database":"atk","table":"Object","transaction_id":1,"chunk":1}')
		err=$(jq -r '.error // empty' "$T/body" 2>/dev/null)
		[ "$code" = "$3" ] && [ -n "$err" ] || echo "$m $p got $code ($(head -c 80 "$T/body"))"
	done < "$2"
}
export QSERV_AUTH_KEY=
# the key with its first character changed: never the key itself (a fixed
# '0' in its place equalled the key whenever the key began with '0')
case $KEY in 0*) WRONG_KEY=1${KEY#?} ;; *) WRONG_KEY=0${KEY#?} ;; esac
for L in "controller $C ctl" "worker-1 $W1 wrk" "worker-2 $W2 wrk"; do
	set -- $L
	n=$(wc -l < "$T/$3.routes")
	qcurl_cert ""
	tap_is "$(try "$2" "$T/$3.routes" 401)" "" "$1: all $n write routes without credentials: 401 with an error"
	tap_is "$(try "$2" "$T/$3.routes" 401 "Authorization: Bearer $WRONG_KEY")" "" "$1: a wrong key: 401"
	qcurl_cert worker-2
	tap_is "$(try "$2" "$T/$3.noworker.routes" 403)" "" "$1: worker-2's certificate: 403"
done
# a certificate of another CA, with the cluster's name on it
"$BIN/qserv-certs" --dir "$T/evil" --cluster dev --name czar --role czar > /dev/null
cp "$T/evil/czar.pem" "$T/evil/czar-evil.pem"; cp "$T/evil/czar.key" "$T/evil/czar-evil.key"
QCURL_CERT_DIR=$T/evil
qcurl_cert czar-evil
bad=$(for b in "$W1" "$W2"; do try "$b" "$T/wrk.routes" 403 | head -2; done)
bad=$(try "$C" "$T/ctl.routes" 403 | head -2)$bad
tap_is "$bad" "" "a 'czar' certificate of another CA is refused on every write route (403)"
QCURL_CERT_DIR=$QSERV_DEV_DIR/pki
qcurl_cert ""
got=
for p in "${C##*:}" "$QSERV_WORKER_1_INGEST_PORT" "$QSERV_WORKER_2_INGEST_PORT"; do
	got="$got$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$p/ingest/database" -d '{}')"
done
tap_is "$got" 000000000 "plain HTTP to the three HTTPS ports gets no HTTP answer"

# ---- the query ports
q() { "$BIN/qserv-wquery" --tls-dir "$1" --name "$2" --port "$3" "$4" 2>&1; echo "rc=$?"; }
for i in 1 2; do
	eval qp=\$QSERV_WORKER_${i}_QUERY_PORT
	out=$(python3 - "$qp" "$QSERV_CA_FILE" <<'PY' 2>&1
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2]); ctx.check_hostname = False
try:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15))
    s.sendall(b"\0" * 64)
    print("answered" if s.recv(4096) else "closed after the handshake")
except (ssl.SSLError, ConnectionError, socket.timeout) as e:
    print("refused:", type(e).__name__)
PY
)
	case $out in refused:*|"closed after the handshake") tap_pass "worker-$i query port: no client certificate ($out)" ;;
		*) tap_fail "worker-$i query port: no client certificate" "$out" ;; esac
	r1=$(q "$T/evil" czar "$qp" "SELECT COUNT(*) FROM atk.Filter")
	r2=$(q "$QSERV_DEV_DIR/pki" worker-2 "$qp" "SELECT COUNT(*) FROM atk.Filter")
	r3=$(q "$QSERV_DEV_DIR/pki" czar "$qp" "SELECT 6*7")
	case "$r1 / $r2 / $r3" in *"rc=2 / "*"rc=2 / 42"*"rc=0") tap_pass "worker-$i query port: another CA's and a worker's certificates refused, the czar's answers" ;;
		*) tap_fail "worker-$i query port: another CA's and a worker's certificates refused, the czar's answers" "$r1 / $r2 / $r3" ;; esac
done

# ---- 4040
out=$(as "$QSERV_USER" "wrong-$QSERV_PASSWORD" -e 'SELECT 1' 2>&1)
case "$out" in *"ERROR 1045 (28000)"*) tap_pass "4040: a wrong password: 1045" ;; *) tap_fail "4040: a wrong password: 1045" "$out" ;; esac
out=$(as nobody "$QSERV_PASSWORD" -e 'SELECT 1' 2>&1)
case "$out" in *"ERROR 1045 (28000)"*) tap_pass "4040: an unknown user: 1045" ;; *) tap_fail "4040: an unknown user: 1045" "$out" ;; esac
M() { as mallory mallory-pw -N -B -e "$1" 2>&1; }
out=$(M "SELECT COUNT(*) FROM mysql.user")
case "$out" in *"ERROR 1142"*) tap_pass "4040 mallory: mysql.user: 1142" ;; *) tap_fail "4040 mallory: mysql.user: 1142" "$out" ;; esac
out=$(M "SELECT LOAD_FILE('/etc/passwd')")
case "$out" in *root:*) tap_fail "4040 mallory: LOAD_FILE refused" "it answered" ;;
	*"ERROR 1235"*) tap_pass "4040 mallory: LOAD_FILE: 1235" ;; *) tap_fail "4040 mallory: LOAD_FILE: 1235" "$out" ;; esac
out=$(M "SELECT COUNT(*) FROM qservMeta.chunks")
case "$out" in *"ERROR 1142"*|*"ERROR 1044"*) tap_pass "4040 mallory: qservMeta is not readable" ;;
	*) tap_fail "4040 mallory: qservMeta is not readable" "$out" ;; esac
as alice alice-pw -N -e "SELECT SLEEP(10), 'alice-secret-marker'" >/dev/null 2>&1 &
apid=$!
i=0; until CZ -e 'SHOW FULL SESSIONS' | grep -q alice-secret-marker || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
aid=$(CZ -e 'SHOW FULL SESSIONS' | awk -F'\t' 'index($8, "alice-secret-marker") { print $1 }')
# (information_schema.PROCESSLIST is Qserv's query list, the caller's rows only)
out="$(M 'SHOW FULL SESSIONS') / $(M 'SELECT QUERY FROM information_schema.PROCESSLIST') / $(M "KILL QUERY $aid")"
case "$out" in *alice-secret-marker*|*"/ ") tap_fail "4040 mallory: alice's session is not shown nor killable" "$out" ;;
	*mallory*" / "*"ERROR 1095"*) tap_ok "4040 mallory: alice's session is not shown nor killable" test -n "$aid" ;;
	*) tap_fail "4040 mallory: alice's session is not shown nor killable" "$out" ;; esac
kill $apid 2>/dev/null; wait $apid 2>/dev/null

# ---- injection payloads, a few per listener
export QSERV_AUTH_KEY=$KEY
bad=
for pl in "x'; DROP DATABASE qservMeta; -- " 'x` ; DROP TABLE atk.Object; -- ' "atk' OR '1'='1" 'x) UNION SELECT @@version -- '; do
	j=$(jq -cn --arg p "$pl" '{database: $p, num_stripes: 10, num_sub_stripes: 3, overlap: 0.01}')
	for req in "$C/ingest/database|$j" "$C/ingest/table|$(jq -cn --arg p "$pl" '{database: "atk", table: $p, is_partitioned: 0, schema: [{name: "id", type: "INT"}]}')" \
		"$W1/worker/database|$(jq -cn --arg p "$pl" '{database: $p}')" \
		"$W2/ingest/file|$(jq -cn --arg p "$pl" '{transaction_id: 1, table: $p, url: "file:///etc/passwd"}')"; do
		code=$(qcurl -s -o "$T/body" -w '%{http_code}' -X POST "${req%%|*}" -H 'Content-Type: application/json' -d "${req#*|}")
		case "$code:$(cat "$T/body")" in 4??:*MariaDB*|4??:*"SQL syntax"*|4??:*root:x:*) bad="$bad ${req%%|*}:leak" ;;
			4??:*'"error"'*) ;; *) bad="$bad ${req%%|*}:$code" ;; esac
	done
done
# 4040: the user writes SQL; what must fail is every way out of a read-only
# SELECT on the catalog (as mallory, a non-admin user)
while IFS= read -r q; do
	out=$(M "$q")
	case "$out" in *"ERROR "*) ;; *) bad="$bad 4040:[$q]->[$(echo "$out" | head -2)]" ;; esac
	case "$out" in *root:x:*|*"*"[0-9A-F][0-9A-F][0-9A-F][0-9A-F]*) bad="$bad 4040-leak:[$q]" ;; esac
done <<'SQL'
SELECT objectId FROM Object WHERE objectId = 1; DROP TABLE Object
SELECT objectId FROM Object WHERE objectId = 1 /*!50000 UNION SELECT User FROM mysql.user */
SELECT 1 /*!50000 , (SELECT authentication_string FROM mysql.user LIMIT 1) */
SELECT name FROM Filter WHERE name = 'u' UNION SELECT CONCAT(User, ':', authentication_string) FROM mysql.user
SELECT objectId FROM Object WHERE objectId = 1 AND (SELECT COUNT(*) FROM qservMeta.chunks) > 0
SELECT * FROM Filter INTO OUTFILE '/tmp/attack-cluster-outfile'
SELECT * FROM `Filter``; DROP TABLE Filter; --`
SELECT objectId, sys_exec('id') FROM Object WHERE objectId = 1
SET @x = (SELECT authentication_string FROM mysql.user LIMIT 1)
SELECT objectId FROM Object WHERE objectId = 1 FOR UPDATE
SQL
tap_ok "no /tmp/attack-cluster-outfile was written" test ! -e /tmp/attack-cluster-outfile
tap_is "$bad" "" "injection payloads in REST fields (controller, worker-1, worker-2) and escapes from SELECT through 4040 refused, nothing leaks"

# ---- the flood: 1,000 idle + 200 slow sockets over the six listeners
rm -f "$T/flood.done"
# evenly: 170 + 5 x 166 idle, 35 + 5 x 33 slow; from 127.0.0.2, an address
# of its own as another host would have
python3 "$top/tools/tests/attack_flood.py" "$T/flood.state" "$T/flood.done" 127.0.0.1/127.0.0.2 \
	"4040:$ZP:mysql:170:35" "controller:${C##*:}:tls:166:33" \
	"worker-1-ingest:$QSERV_WORKER_1_INGEST_PORT:tls:166:33" "worker-2-ingest:$QSERV_WORKER_2_INGEST_PORT:tls:166:33" \
	"worker-1-query:$QSERV_WORKER_1_QUERY_PORT:tls:166:33" "worker-2-query:$QSERV_WORKER_2_QUERY_PORT:tls:166:33" \
	> "$T/flood.out" 2>&1 &
FPID=$!
i=0; until grep -q '^ready' "$T/flood.state" 2>/dev/null || ! kill -0 $FPID 2>/dev/null || [ $i -gt 1200 ]; do sleep 0.1; i=$((i + 1)); done
tap_is "$(awk '$1 == "open" { i += $3; s += $4 } END { print i, s }' "$T/flood.state" 2>/dev/null)" "1000 200" \
	"1,000 idle and 200 slow connections are open over the six listeners"
r=$(QSERV_AUTH_KEY=$KEY qcurl -s -m 30 -X POST "$C/ingest/database" -H 'Content-Type: application/json' \
	-d '{"database":"legit","num_stripes":10,"num_sub_stripes":3,"overlap":0.01}' | jq -r .success)
r=$r$(QSERV_AUTH_KEY=$KEY qcurl -s -m 30 -X DELETE "$C/ingest/database/legit" | jq -r .success)
tap_is "$r" 11 "during the flood: the key creates and drops a database on the controller"
r=$(for w in "$W1" "$W2"; do QSERV_AUTH_KEY=$KEY qcurl -s -m 30 -o /dev/null -w '%{http_code} ' "$w/worker/count?database=atk&table=Filter"; done)
tap_is "$r" "200 200 " "during the flood: the key reads both workers' management API"
QSERV_AUTH_KEY=$KEY timeout 120 "$BIN/qservctl" --url "$C" ingest -q "$T/legit/ds" > "$T/legit.log" 2>&1
r="$?:$(CZ -e 'SELECT COUNT(*) FROM legit.Object' 2>&1)"
if [ "$r" = 0:50 ]; then tap_pass "during the flood: qservctl ingests and publishes a second catalog, queried through 4040"
else tap_fail "during the flood: qservctl ingests and publishes a second catalog, queried through 4040" "$r $(tail -3 "$T/legit.log")"; fi
r=$(for i in 1 2; do eval qp=\$QSERV_WORKER_${i}_QUERY_PORT; timeout 60 "$BIN/qserv-wquery" --tls-dir "$QSERV_DEV_DIR/pki" --name czar --port "$qp" 'SELECT COUNT(*) FROM atk.Filter' 2>&1; done | tr '\n' ' ')
tap_is "$r" "6 6 " "during the flood: the czar's certificate queries both workers' query ports"
r=$(timeout 60 mariadb --no-defaults -h127.0.0.1 -P"$ZP" -u"$QSERV_USER" -p"$QSERV_PASSWORD" -D atk -N -e 'SELECT COUNT(*) FROM Object' 2>&1)
tap_is "$r" 1500 "during the flood: mariadb with the password runs a distributed query through 4040"
tap_ok "the flood was still holding its sockets meanwhile" kill -0 $FPID
touch "$T/flood.done"
i=0; while kill -0 $FPID 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
FPID=
tap_diag "sockets the servers had not closed by the end: $(grep '^held' "$T/flood.out" | tr '\n' ' ')"

# ---- afterwards (the legitimate catalog removed again by its owner)
if grep -q '^legit$' "$T/legit.log" 2>/dev/null || CZ -e 'SHOW DATABASES' 2>/dev/null | grep -q '^legit$'; then
	r=$(QSERV_AUTH_KEY=$KEY qcurl -s -m 30 -X PUT "$C/ingest/database/legit" -d '{"publish":false}' | jq -r .success)
	r=$r$(QSERV_AUTH_KEY=$KEY qcurl -s -m 30 -X DELETE "$C/ingest/database/legit" | jq -r .success)
	tap_is "$r" 11 "the key un-publishes and drops the second catalog"
else
	tap_skip "the key un-publishes and drops the second catalog" "its ingest failed"
fi
state > "$T/state.after"
answers > "$T/answers.after"
if cmp -s "$T/state.before" "$T/state.after"; then
	tap_pass "the checksums of every catalog table on both workers and of qservMeta are unchanged"
else
	tap_fail "the checksums of every catalog table on both workers and of qservMeta are unchanged" \
		"$(diff "$T/state.before" "$T/state.after" | head -20)"
fi
tap_ok "the answers through 4040 are unchanged" cmp -s "$T/answers.before" "$T/answers.after"
r=$(for b in "$C" "$W1" "$W2"; do qcurl -s -m 30 -o /dev/null -w '%{http_code} ' "$b/status"; done)
tap_is "$r$(CZ -e 'SELECT 1' 2>&1)" "200 200 200 1" "every daemon still answers"
alive=0
while read -r n p; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done < "$QSERV_DEV_DIR/pids"
tap_is "$alive" "$(wc -l < "$QSERV_DEV_DIR/pids")" "no daemon of the cluster died"
tap_done
