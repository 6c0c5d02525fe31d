#!/bin/sh
# attack.sh: port 4040 under attack and as a hostile SQL user: 1,000 idle
# and 200 half-login connections while a legitimate client logs in and
# queries (the idle ones closed after the login timeout), the per-user
# connection limit (1226), wait_timeout, KILL of a statement whose client
# stopped reading, the restricted MariaDB account of users' local
# statements (LOAD_FILE, mysql.user, qservMeta refused), SHOW SESSIONS
# filtered per user, MySQL protocol SSL with the mariadb CLI and pymysql,
# and a REQUIRE SSL user refused in plain text.  Private mariadbd.
cd "$(dirname "$0")/../../.." || exit 1
. tools/tap.sh
. qserv/czar/tests/lib.sh
T=$(mktemp -d /tmp/czar-attack.XXXXXX)
trap 'czar_cleanup "$T"' EXIT INT TERM
PY=/usr/bin/python3
LOGIN_TIMEOUT=5

tap_plan 28
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
czar_mariadb_start "$T" || { tap_fail "private mariadbd starts" "$(tail -5 "$T/my.err")"; exit 1; }
direct() { mariadb --no-defaults -S "$T/my.sock" -uroot "$@"; }
direct -e "CREATE DATABASE LSST; CREATE TABLE LSST.Big (id INT PRIMARY KEY, pad VARCHAR(1000));
	INSERT INTO LSST.Big SELECT seq, REPEAT('x', 1000) FROM LSST.seq_1_to_30000;
	CREATE DATABASE qservMeta; CREATE TABLE qservMeta.secret (v INT); INSERT INTO qservMeta.secret VALUES (42);"

# The czar's certificate from the cluster CA (qserv-certs, as dev-cluster's
# pki()), named "localhost": clients that check the name (pymysql with a CA,
# --ssl-verify-server-cert) dial localhost over TCP.
"$BUILD/bin/qserv-certs" --dir "$T/pki" --cluster attack --name localhost --role czar >/dev/null 2>&1
[ -s "$T/pki/localhost.pem" ] || { tap_fail "test PKI" "qserv-certs failed"; exit 1; }

hash() { echo "$1" | "$BUILD/bin/qserv-czar" --hash-password; }
{
	printf 'qsmaster:%s\n' "$(hash "$CZAR_PW")"
	printf 'alice:%s:max_user_connections=2\n' "$(hash alice-pw)"
	printf 'bob:%s:require_ssl\n' "$(hash bob-pw)"
	printf 'ops:%s:admin\n' "$(hash ops-pw)"
} >"$T/users.in"
PORT=$(czar_free_port)
"$BUILD/bin/qserv-czar" --bind 127.0.0.1 --port "$PORT" --users "$T/users.in" --mariadb-socket "$T/my.sock" \
	--login-timeout $LOGIN_TIMEOUT --net-write-timeout 30 --max-pending-logins 4096 \
	--ssl-cert "$T/pki/localhost.pem" --ssl-key "$T/pki/localhost.key" >>"$T/czar.log" 2>&1 &
echo $! >"$T/czar.pid"
as() { _u=$1 _p=$2; shift 2; mariadb --no-defaults -h127.0.0.1 -P"$PORT" -u"$_u" -p"$_p" "$@"; }
i=0
until as qsmaster "$CZAR_PW" -e 'SELECT 1' >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$(cat "$T/czar.pid")" 2>/dev/null; then
		tap_fail "qserv-czar starts" "$(cat "$T/czar.log")"
		exit 1
	fi
	sleep 0.1
done
tap_pass "qserv-czar starts with SSL, a $LOGIN_TIMEOUT s login timeout and four users"

# ---- 1,000 idle and 200 half-login sockets, a legitimate client meanwhile
$PY - "$PORT" "$CZAR_PW" "$LOGIN_TIMEOUT" >"$T/flood.out" 2>&1 <<'PYEOF'
import socket, subprocess, sys, time
port, pw, login_timeout = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
idle, slow = [], []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port)); idle.append(s)
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.recv(4096)                                   # the handshake
    s.sendall(b"\x40\x00\x00\x01\x85\xa6\x0f\x00")  # 64-byte login announced, 4 bytes sent
    slow.append(s)
out = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", "-P%d" % port, "-uqsmaster", "-p" + pw,
                      "-N", "-e", "SELECT 6*7"], capture_output=True, text=True, timeout=60)
print("legit:", out.stdout.strip(), out.stderr.strip())
# the last half-login socket is still open: the client got in while the
# whole flood was pending, not after it timed out
slow[-1].setblocking(False)
try:
    print("legit_before_timeout:", slow[-1].recv(1) != b"")
except BlockingIOError:
    print("legit_before_timeout: True")
except OSError:
    print("legit_before_timeout: False")

# every idle and slow socket must be closed by the czar: EOF or reset
closed = 0
deadline = time.monotonic() + login_timeout + 30
for s in idle + slow:
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        while True:
            d = s.recv(4096)
            if not d:
                closed += 1
                break
    except ConnectionResetError:
        closed += 1
    except socket.timeout:
        pass
print("closed:", closed)
PYEOF
grep -q '^legit: 42 *$' "$T/flood.out" && tap_pass "a client logs in and queries while 1,200 sockets wait for login" ||
	tap_fail "a client logs in and queries while 1,200 sockets wait for login" "$(cat "$T/flood.out")"
tap_is "$(sed -n 's/^closed: //p' "$T/flood.out")" 1200 "the 1,000 idle and 200 half-login sockets are closed after the login timeout"
grep -q '^legit_before_timeout: True' "$T/flood.out" && tap_pass "the legitimate login did not wait for the flood to time out" ||
	tap_fail "the legitimate login did not wait for the flood to time out" "$(cat "$T/flood.out")"
tap_is "$(as qsmaster "$CZAR_PW" -N -e 'SELECT 1')" 1 "the czar answers after the flood"

# A second czar with room for 50 pending logins: 100 idle sockets evict
# the oldest, and a client still gets in.
P2=$(czar_free_port)
M2=$(czar_free_port)
"$BUILD/bin/qserv-czar" --bind 127.0.0.1 --port "$P2" --users "$T/users.in" --mariadb-socket "$T/my.sock" \
	--max-pending-logins 50 --login-timeout 60 --metrics-port "$M2" --local-statement-timeout 1 >>"$T/czar2.log" 2>&1 &
Z2=$!
out=$($PY - "$P2" "$CZAR_PW" "$M2" <<'PYEOF' 2>&1
import socket, subprocess, sys, time, urllib.request
port, pw, mport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(100):                       # bounded wait for the czar
    try:
        socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError:
        time.sleep(0.1)
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
out = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", "-P%d" % port, "-uqsmaster", "-p" + pw,
                      "-N", "-e", "SELECT 5"], capture_output=True, text=True, timeout=60)
first = idle[0]; first.settimeout(20)
try:
    first.recv(4096)                        # its handshake
    evicted = first.recv(4096) == b""
except (ConnectionResetError, socket.timeout) as e:
    evicted = isinstance(e, ConnectionResetError)
print(out.stdout.strip(), out.stderr.strip(), "evicted" if evicted else "oldest still open")
# the evicted ones' threads end in their own time: wait (bounded) for the
# gauge to settle at 49 (the cap of 50, one place taken by the client's
# connection while it logged in, then left), shown with the sessions gauge
for i in range(100):
    m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10).read().decode()
    g = dict(l.split() for l in m.splitlines() if l.startswith(("qserv_czar_pending_logins ", "qserv_czar_connections ")))
    if g["qserv_czar_pending_logins"] == "49" and g["qserv_czar_connections"] == "0":
        break
    time.sleep(0.1)
print("pending", g["qserv_czar_pending_logins"], "sessions", g["qserv_czar_connections"])
PYEOF
)
out2=$(as qsmaster "$CZAR_PW" -P"$P2" -N -e 'SELECT SLEEP(30)' 2>&1)
kill $Z2; wait $Z2 2>/dev/null
case "$out2" in *"ERROR 1969 (70100)"*"max_statement_time exceeded"*) tap_pass "--local-statement-timeout 1: SELECT SLEEP(30) is stopped (1969)" ;;
	*) tap_fail "--local-statement-timeout 1: SELECT SLEEP(30) is stopped (1969)" "$out2" ;; esac
case "$out" in "5  evicted"*) tap_pass "--max-pending-logins 50: 100 idle sockets evict the oldest, a client still logs in" ;;
	*) tap_fail "--max-pending-logins 50: 100 idle sockets evict the oldest, a client still logs in" "$out" ;; esac
case "$out" in *"pending 49 sessions 0") tap_pass "/metrics: the pending logins within the cap, counted apart from sessions" ;;
	*) tap_fail "/metrics: the pending logins within the cap, counted apart from sessions" "$out" ;; esac

# A third czar allowed 400 open files: the pending logins get what the 50
# sessions and the three MariaDB pools leave (400 - 50 - 5 x 16 - 64 = 206),
# so 600 idle sockets never starve it of descriptors and a client still
# logs in and queries.
P3=$(czar_free_port)
(ulimit -n 400 && exec "$BUILD/bin/qserv-czar" --bind 127.0.0.1 --port "$P3" --users "$T/users.in" \
	--mariadb-socket "$T/my.sock" --max-connections 50 --login-timeout 60 >>"$T/czar3.log" 2>&1) &
Z3=$!
out=$($PY - "$P3" "$CZAR_PW" <<'PYEOF' 2>&1
import socket, subprocess, sys, time
port, pw = int(sys.argv[1]), sys.argv[2]
for i in range(100):                       # bounded wait for the czar
    try:
        socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError:
        time.sleep(0.1)
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(600)]
out = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", "-P%d" % port, "-uqsmaster", "-p" + pw,
                      "-N", "-e", "SELECT 6"], capture_output=True, text=True, timeout=60)
print(out.stdout.strip(), out.stderr.strip())
PYEOF
)
kill $Z3; wait $Z3 2>/dev/null
if [ "$out" = "6 " ] && grep -q "pending logins capped at 206" "$T/czar3.log" && ! grep -q "Too many open files" "$T/czar3.log"; then
	tap_pass "400 open files: pending logins capped at what sessions leave, 600 idle sockets, a client still gets in"
else
	tap_fail "400 open files: pending logins capped at what sessions leave, 600 idle sockets, a client still gets in" \
		"$out / $(tail -3 "$T/czar3.log")"
fi

# ---- per-user connection limit, wait_timeout
out=$($PY - "$PORT" <<'PYEOF' 2>&1
import sys, pymysql
port = int(sys.argv[1])
held = [pymysql.connect(host="127.0.0.1", port=port, user="alice", password="alice-pw") for _ in range(2)]
try:
    pymysql.connect(host="127.0.0.1", port=port, user="alice", password="alice-pw")
    print("third connection accepted")
except pymysql.err.OperationalError as e:
    print(e.args[0], e.args[1])
c = pymysql.connect(host="127.0.0.1", port=port, user="qsmaster", password="czar-test-pw")
print("other user:", c.cursor().execute("SELECT 1"))
PYEOF
)
case "$out" in "1226 User 'alice' has exceeded the 'max_user_connections' resource (current value: 2)
other user: 1") tap_pass "third session of alice (limit 2): 1226, other users unaffected" ;;
	*) tap_fail "third session of alice (limit 2): 1226, other users unaffected" "$out" ;; esac
out=$($PY - "$PORT" <<'PYEOF' 2>&1
import sys, time, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="qsmaster", password="czar-test-pw")
cur = c.cursor()
cur.execute("SET SESSION wait_timeout = 1")
cur.execute("SELECT 1")
# no command is sent while waiting (each would reset the idle clock): the
# czar's close shows as end of stream, within a bounded wait
c._sock.settimeout(20)
try:
    print("closed" if c._sock.recv(1) == b"" else "data before close")
except ConnectionResetError:
    print("closed")
except OSError as e:
    print("still open:", e)
PYEOF
)
case "$out" in closed) tap_pass "SET SESSION wait_timeout = 1: the idle session is closed" ;;
	*) tap_fail "SET SESSION wait_timeout = 1: the idle session is closed" "$out" ;; esac

# ---- KILL of statements whose client stopped reading
# pid_of PATTERN: the processlist id of a session whose statement matches
pid_of() { as qsmaster "$CZAR_PW" -N -e 'SHOW FULL SESSIONS' | awk -F'\t' -v p="$1" 'index($8, p) { print $1; exit }'; }
stall_client() {   # $1: marker; a client that sends a big SELECT and never reads
	$PY - "$PORT" "$1" <<'PYEOF' &
import socket, struct, sys, time, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="qsmaster", password="czar-test-pw")
c._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
q = ("SELECT id, pad, '%s' FROM LSST.Big" % sys.argv[2]).encode()
c._sock.sendall(struct.pack("<I", len(q) + 1)[:3] + b"\0" + b"\x03" + q)
time.sleep(60)
PYEOF
	echo $! >"$T/stall.pid"
}
for kind in QUERY CONNECTION; do
	stall_client "stall-$kind"
	id=
	i=0
	while [ -z "$id" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); id=$(pid_of "stall-$kind"); done
	out=$(timeout 20 mariadb --no-defaults -h127.0.0.1 -P"$PORT" -uqsmaster -p"$CZAR_PW" -e "KILL $kind $id" 2>&1; echo "rc=$?")
	i=0
	while [ -n "$(pid_of "stall-$kind")" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -n "$id" ] && [ "$out" = "rc=0" ] && [ -z "$(pid_of "stall-$kind")" ]; then
		tap_pass "KILL $kind of a statement whose client stopped reading ends it"
	else
		tap_fail "KILL $kind of a statement whose client stopped reading ends it" "id=$id $out"
	fi
	kill "$(cat "$T/stall.pid")" 2>/dev/null
	wait "$(cat "$T/stall.pid")" 2>/dev/null
done

# ---- the SQL user against the czar's MariaDB
out=$(as qsmaster "$CZAR_PW" -N -e "SELECT LOAD_FILE('/etc/passwd')" 2>&1)
case "$out" in *root:*) tap_fail "LOAD_FILE('/etc/passwd') refused" "it answered" ;;
	*"ERROR 1235 (42000)"*"LOAD_FILE()"*) tap_pass "LOAD_FILE('/etc/passwd') refused: 1235" ;;
	*) tap_fail "LOAD_FILE('/etc/passwd') refused" "$out" ;; esac
out=$(direct -N -e "SHOW GRANTS FOR 'qserv_sql_$PORT'@'localhost'" | tr '\n' ' ')
case "$out" in *FILE* | *PROCESS* | *"ALL PRIVILEGES"* | *\`mysql\`* | *qservMeta* | *qservResult*) tap_fail "the account of users' statements: SELECT on catalogs only" "$out" ;;
	*"GRANT SELECT, SHOW VIEW ON \`LSST\`.*"*) tap_pass "the account of users' statements: SELECT on catalogs only" ;;
	*) tap_fail "the account of users' statements: SELECT on catalogs only" "$out" ;; esac
out=$(as qsmaster "$CZAR_PW" -N -e "SELECT COUNT(*) FROM mysql.user" 2>&1)
case "$out" in *"ERROR 1142"*"denied"*) tap_pass "SELECT COUNT(*) FROM mysql.user: 1142" ;;
	*) tap_fail "SELECT COUNT(*) FROM mysql.user: 1142" "$out" ;; esac
out=$(as qsmaster "$CZAR_PW" -N -e "SELECT v FROM qservMeta.secret" 2>&1)
case "$out" in *"ERROR 1142"*"denied"* | *"ERROR 1044"*) tap_pass "qservMeta is not readable" ;;
	*) tap_fail "qservMeta is not readable" "$out" ;; esac
tap_is "$(as qsmaster "$CZAR_PW" -N -e "SELECT COUNT(*) FROM LSST.Big" 2>&1)" 30000 "catalog tables stay readable"
out=$(as qsmaster "$CZAR_PW" -N -e "SHOW DATABASES" 2>&1 | tr '\n' ' ')
case "$out" in *mysql* | *qservMeta*) tap_fail "SHOW DATABASES lists no internal database" "$out" ;;
	*LSST*) tap_pass "SHOW DATABASES lists no internal database" ;;
	*) tap_fail "SHOW DATABASES lists no internal database" "$out" ;; esac

# ---- SHOW SESSIONS per user
$PY - "$PORT" >/dev/null 2>&1 <<'PYEOF' &
import sys, time, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="alice", password="alice-pw")
c.cursor().execute("SELECT SLEEP(8), 'alice-secret-marker'")
PYEOF
sleepy=$!
i=0
until as ops ops-pw -N -e 'SHOW FULL SESSIONS' | grep -q alice-secret-marker || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
out=$(as qsmaster "$CZAR_PW" -N -e 'SHOW FULL SESSIONS')
case "$out" in *alice*) tap_fail "SHOW SESSIONS hides other users' sessions" "$out" ;;
	*qsmaster*) tap_pass "SHOW SESSIONS hides other users' sessions" ;;
	*) tap_fail "SHOW SESSIONS hides other users' sessions" "$out" ;; esac
out=$(as ops ops-pw -N -e 'SHOW FULL SESSIONS')
case "$out" in *alice-secret-marker*) tap_pass "an admin user sees every session" ;;
	*) tap_fail "an admin user sees every session" "$out" ;; esac
id=$(as ops ops-pw -N -e 'SHOW FULL SESSIONS' | awk -F'\t' 'index($8, "alice-secret-marker") { print $1 }')
out=$(as qsmaster "$CZAR_PW" -e "KILL QUERY $id" 2>&1)
case "$out" in *"ERROR 1095"*) tap_pass "KILL of another user's session: 1095" ;;
	*) tap_fail "KILL of another user's session: 1095" "$out" ;; esac
# Qserv's information_schema.PROCESSLIST (the czar's query list, async.h),
# not MariaDB's, which would show the shared account's statements
out=$(as qsmaster "$CZAR_PW" -N -e 'SELECT * FROM information_schema.PROCESSLIST; SELECT * FROM information_schema.QUERIES' 2>&1)
case "$out" in *alice-secret-marker* | *ERROR*) tap_fail "information_schema.PROCESSLIST does not show other users' statements" "$out" ;;
	*) tap_pass "information_schema.PROCESSLIST does not show other users' statements" ;; esac
out=$(as qsmaster "$CZAR_PW" -N -e 'SELECT USER, INFO FROM information_schema.PROCESSLIST' 2>&1)
case "$out" in *"ERROR 1054"*"Unknown column"*) tap_pass "information_schema.PROCESSLIST has Qserv's columns (no USER, INFO)" ;;
	*) tap_fail "information_schema.PROCESSLIST has Qserv's columns (no USER, INFO)" "$out" ;; esac
kill $sleepy 2>/dev/null
wait $sleepy 2>/dev/null

# ---- SSL
out=$(mariadb --no-defaults --protocol=TCP -hlocalhost -P"$PORT" -uqsmaster -p"$CZAR_PW" \
	--ssl --ssl-verify-server-cert --ssl-ca="$T/pki/ca.pem" -N -e 'SELECT 2+3' 2>&1)
tap_is "$out" 5 "mariadb --ssl --ssl-verify-server-cert --ssl-ca: logs in and queries"
out=$($PY - "$PORT" "$T/pki/ca.pem" <<'PYEOF' 2>&1
import sys, pymysql
c = pymysql.connect(host="localhost", port=int(sys.argv[1]), user="bob", password="bob-pw", ssl={"ca": sys.argv[2]})
cur = c.cursor(); cur.execute("SELECT 7")
print(cur.fetchall()[0][0], c._sock.version())
PYEOF
)
tap_is "$out" "7 TLSv1.2" "pymysql ssl={'ca': CA}: a REQUIRE SSL user logs in over TLS 1.2"
out=$(as bob bob-pw --skip-ssl -e 'SELECT 1' 2>&1)
case "$out" in *"ERROR 1045 (28000)"*"Access denied for user 'bob'"*) tap_pass "REQUIRE SSL user in plain text: 1045" ;;
	*) tap_fail "REQUIRE SSL user in plain text: 1045" "$out" ;; esac
out=$(as qsmaster "$CZAR_PW" --ssl --ssl-ca="$T/pki/ca.pem" -N -e 'SELECT id, pad FROM LSST.Big' 2>&1 | awk '{ n++; b += length($0) } END { print n, b }')
tap_is "$out" "30000 30168894" "a 30 MB result over SSL arrives whole"
