#!/bin/sh
# peer_bench.sh: the czar beside its two peers, on the same data, in one run
# on this machine (issue 15's table): one MariaDB holding every row (the
# single-node limit), MariaDB Spider over 2 backend MariaDB servers
# (PARTITION BY HASH(objectId), what a MariaDB user would shard with), and
# the czar on a dev cluster of BENCH_WORKERS (2) workers (issue 15 asks
# what 3 show: BENCH_WORKERS=3; all of them share this machine's cores
# with the czar and the peers).  BENCH_ROWS (1,000,000) Object rows of
# objectId, ra, decl and 20 doubles over the whole sky, MyISAM everywhere
# with a primary key on objectId, loopback / unix sockets; the czar's
# database has num-stripes 8, num-sub-stripes 4.
#
# Measured, each as a ratio to one MariaDB:
#   point lookup by objectId, 1 client, pymysql (mean of 300)
#   point lookups, 16 clients (processes), BENCH_SECONDS (5) s: throughput
#   both again against one MariaDB behind two byte relays (byte_relay.c):
#   the hops of the czar's chain alone, its floor on this machine; and the
#   CPU each of the cluster's processes spends per lookup
#   SELECT COUNT(*) (mariadb CLI, best of 5)
#   a box count (qserv_areaspec_box vs BETWEEN), best of 5
#   AVG/MAX with a filter, best of 5
#   the last three again on an open connection (pymysql, best of 20): the
#   statement's own time without the CLI's start and connection
#   a near-neighbour count (pairs < 1 arcmin) in a 2-degree box, best of 5
#   (the czar only: Spider would pull both sides to its front end)
#   load: qserv-partition + qservctl ingest at replication level 1 (one
#   copy of each row, as one MariaDB holds it) vs one LOAD DATA (Spider:
#   LOAD DATA through the Spider table); the second copy (level 2, the
#   cluster's default) is made afterwards and timed on its own line
# Every answer of the czar and of Spider is compared with one MariaDB's;
# a difference is printed (and the bench exits 1).  Asserts no timing.
top=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${QSERV_BIN:-$top/build/bin}
TD=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_ROWS:-1000000}
SECS=${BENCH_SECONDS:-5}
WORKERS=${BENCH_WORKERS:-2}
CLIENTS=16
T=$(mktemp -d /tmp/peer_bench.XXXXXX)
. "$top/tools/test-mariadb.sh"
cleanup() {
	[ -f "$T/relay.pids" ] && kill $(cat "$T/relay.pids") 2> /dev/null
	"$top/tools/dev-cluster" down --dir "$T/cluster" >/dev/null 2>&1
	for d in one b0 b1 spider; do test_mariadb_stop "$T/$d"; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
calc() { echo "scale=4; $*" | bc; }
f2() { printf "%.2f" "$1"; }
bad=0

# the data
cols="objectId BIGINT NOT NULL, ra DOUBLE NOT NULL, decl DOUBLE NOT NULL"
fields='"objectId", "ra", "decl"'
schema='{"name": "objectId", "type": "BIGINT NOT NULL"}, {"name": "ra", "type": "DOUBLE NOT NULL"}, {"name": "decl", "type": "DOUBLE NOT NULL"}'
for k in $(seq -w 1 20); do
	cols="$cols, c$k DOUBLE"; fields="$fields, \"c$k\""; schema="$schema, {\"name\": \"c$k\", \"type\": \"DOUBLE\"}"
done
awk -v n="$N" 'BEGIN { srand(15); pi = 3.141592653589793
	for (i = 1; i <= n; i++) {
		z = 2 * rand() - 1
		printf "%d\t%.8f\t%.8f", i, rand() * 360, atan2(z, sqrt(1 - z * z)) * 180 / pi
		for (k = 0; k < 20; k++) printf "\t%.6f", rand() * 1000
		printf "\n"
	} }' > "$T/Object.tsv"
echo "data: $N Object rows (objectId, ra, decl, 20 doubles), $(du -m "$T/Object.tsv" | cut -f1) MB of TSV"

# one MariaDB, the two Spider backends and the Spider front end
LIBDIR=${QSERV_LIB:-$top/build/lib}
for d in one b0 b1 spider; do
	pd=; [ $d = one ] && pd="--plugin-dir=$LIBDIR"   # scisql for the near-neighbour join (Spider keeps its own)
	test_mariadb_start "$T/$d" --local-infile=1 $pd || { echo "mariadbd $d does not start: $(tail -3 "$T/$d/my.err")"; exit 1; }
done
my() { d=$1; shift; mariadb --no-defaults -S "$T/$d/my.sock" -uroot --local-infile=1 -N -B "$@"; }
for d in one b0 b1; do
	my $d -e "CREATE DATABASE peer; CREATE TABLE peer.Object ($cols, PRIMARY KEY (objectId)) ENGINE=MyISAM" || exit 1
done
my spider -e "INSTALL SONAME 'ha_spider';
	CREATE SERVER b0 FOREIGN DATA WRAPPER mysql OPTIONS (SOCKET '$T/b0/my.sock', DATABASE 'peer', USER 'root');
	CREATE SERVER b1 FOREIGN DATA WRAPPER mysql OPTIONS (SOCKET '$T/b1/my.sock', DATABASE 'peer', USER 'root');
	CREATE DATABASE peer;
	CREATE TABLE peer.Object ($cols, PRIMARY KEY (objectId)) ENGINE=SPIDER COMMENT='wrapper \"mysql\", table \"Object\"'
		PARTITION BY HASH (objectId) (PARTITION p0 COMMENT = 'srv \"b0\"', PARTITION p1 COMMENT = 'srv \"b1\"')" || exit 1

# each load starts with nothing of the one before it still being written
# back to the disk (sync): Spider's load leaves ~150 MB of dirty pages,
# whose writeback slowed the czar's fsyncs and CREATE TABLEs that follow
sync
t0=$(now); my one -e "LOAD DATA LOCAL INFILE '$T/Object.tsv' INTO TABLE peer.Object" || exit 1; t1=$(now)
load_one=$(calc "$t1 - $t0")
sync
t0=$(now); my spider -e "LOAD DATA LOCAL INFILE '$T/Object.tsv' INTO TABLE peer.Object" || exit 1; t1=$(now)
load_spider=$(calc "$t1 - $t0")

# the czar: partition, ingest
cat > "$T/Object.cfg" <<EOF
{"part": {"num-stripes": 8, "num-sub-stripes": 4, "overlap": 0.01667, "pos": "ra,decl", "id": "objectId",
          "chunk": "chunkId", "sub-chunk": "subChunkId"},
 "in": {"csv": {"delimiter": "\t", "null": "\\\\N", "escape": "\\\\", "no-quote": true, "field": [$fields]}},
 "out": {"csv": {"delimiter": "\t", "null": "\\\\N", "escape": "\\\\", "no-quote": true}}}
EOF
"$top/tools/dev-cluster" up --workers "$WORKERS" --dir "$T/cluster" > "$T/up.log" 2>&1 || { echo "dev cluster: $(tail -5 "$T/up.log")"; exit 1; }
set -a; . "$T/cluster/cluster.env"; set +a
# the load like for like: one copy of each row, as one MariaDB holds it
# (the cluster's default, 2 copies on 2 workers, is made afterwards and
# timed on its own line)
api_put() { curl -s -o "$T/put.json" -w '%{http_code}' --cacert "$QSERV_CA_FILE" -X PUT \
	-H "Authorization: Bearer $QSERV_AUTH_KEY" -H 'Content-Type: application/json' -d "$2" "$QSERV_INGEST_URL$1"; }
[ "$(api_put /replication/level '{"level": 1}')" = 200 ] || { echo "level 1: $(cat "$T/put.json")"; exit 1; }
sync
t0=$(now)
"$BIN/qserv-partition" --config-file="$T/Object.cfg" --in.path="$T/Object.tsv" --out.dir="$T/ds/chunks/Object" \
	> "$T/part.log" 2>&1 || { echo "qserv-partition: $(tail -3 "$T/part.log")"; exit 1; }
tp=$(now)
/usr/bin/python3 "$top/tools/director-dataset.py" "$T/ds" peer Object 8 4 "[$schema]"
td=$(now)
"$BIN/qservctl" --url "$QSERV_INGEST_URL" ingest -q -j 4 "$T/ds" > "$T/ingest.log" 2>&1 ||
	{ echo "qservctl ingest: $(tail -5 "$T/ingest.log")"; exit 1; }
t1=$(now)
load_czar=$(calc "$t1 - $t0")
echo "czar load: partition $(calc "$tp - $t0") s, dataset files $(calc "$td - $tp") s, ingest $(calc "$t1 - $td") s"
t0=$(now)
[ "$(api_put /replication/level '{"level": 2}')" = 200 ] || { echo "level 2: $(cat "$T/put.json")"; exit 1; }
t1=$(now)
level2=$(calc "$t1 - $t0")
# Qserv's row counters, scanned and deployed after the load (as its ingest
# workflows do): SELECT COUNT(*) is then answered without a scan
curl -s -o "$T/stats.json" --cacert "$QSERV_CA_FILE" -H "Authorization: Bearer $QSERV_AUTH_KEY" \
	-H 'Content-Type: application/json' -d '{"database": "peer", "table": "Object",
	"overlap_selector": "CHUNK", "force_rescan": 1, "row_counters_deploy_at_qserv": 1}' \
	"$QSERV_INGEST_URL/ingest/table-stats" || echo "row counters: the request failed"
nchunks=$(mariadb --no-defaults -S "$QSERV_CZAR_DB_SOCKET" -uroot -N -e "SELECT COUNT(DISTINCT chunk) FROM qservMeta.chunks WHERE db = 'peer'")
echo "czar: $nchunks chunks on $WORKERS workers"
# --skip-ssl: the peers offer no TLS, so their CLIs connect without it; the
# czar offers it, and a CLI that takes it spends ~35 ms per connection
# (most of it the client reading the system's CA store, measured with
# strace), which would swamp every CLI measure below
CZ="mariadb --no-defaults --skip-ssl -h127.0.0.1 -P$QSERV_CZAR_PORT -u$QSERV_USER -p$QSERV_PASSWORD -D peer -N -B"

# best of 5 of one statement on one system; the answer kept in $T/<sys>.out
best() { # SYS SQL
	b=
	for _ in 1 2 3 4 5; do
		t0=$(now)
		if [ "$1" = czar ]; then $CZ -e "$2" > "$T/$1.out" 2>&1; else my "$1" -D peer -e "$2" > "$T/$1.out" 2>&1; fi
		t1=$(now)
		d=$(calc "$t1 - $t0")
		if [ -z "$b" ] || [ "$(echo "$d < $b" | bc)" = 1 ]; then b=$d; fi
	done
	echo "$b"
}
same() { # NAME: the czar's and Spider's answers against one MariaDB's
	for s in czar spider; do
		if ! cmp -s "$T/one.out" "$T/$s.out"; then
			echo "ANSWER DIFFERS ($1, $s): $(head -c 200 "$T/$s.out") vs one MariaDB: $(head -c 200 "$T/one.out")"
			bad=1
		fi
	done
}
row() { # MEASURE CZAR_RATIO SPIDER_RATIO TARGET
	printf '| %-52s | %8s | %8s | %-20s |\n' "$1" "$2" "$3" "$4"
}

# point lookups
pc() { /usr/bin/python3 "$TD/peer_client.py" "$@"; }
# They start once the czar holds the director index in memory
# (director_map.h): it loads it in the background after the published
# catalog changed (here: the level-2 copies), and a lookup meanwhile asks
# the director-index table on the czar's MariaDB.  Measured is the steady
# state, not the seconds after a change; at most 60 s are waited.
map_keys() { curl -s "$QSERV_CZAR_METRICS_URL" | awk '/^qserv_czar_director_map_keys / { print $2 }'; }
$CZ -e "SELECT objectId FROM Object WHERE objectId = 1" > /dev/null 2>&1   # the reload that starts the load
tm=$(now) i=0
while [ "$(map_keys)" != "$N" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo "czar: director index in memory ($(map_keys) keys) $(calc "$(now) - $tm") s after the first query"
S1="unix:$T/one/my.sock:root::peer" SS="unix:$T/spider/my.sock:root::peer"
SC="127.0.0.1:$QSERV_CZAR_PORT:$QSERV_USER:$QSERV_PASSWORD:peer"
l_one=$(pc latency "$S1" "$N" 300) || bad=1
l_sp=$(pc latency "$SS" "$N" 300) || bad=1
l_cz=$(pc latency "$SC" "$N" 300) || bad=1
# the CPU each process of the cluster spends per lookup, over 2,000 more
# (/proc/PID/stat, user + system; the client's own is not counted)
ticks() { while read -r name pid; do
	echo "$name $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2> /dev/null || echo 0)"; done < "$T/cluster/pids" | sort; }
ticks > "$T/cpu0"
pc latency "$SC" "$N" 2000 > /dev/null || bad=1
ticks > "$T/cpu1"
cpu=$(join "$T/cpu0" "$T/cpu1" | awk -v hz="$(getconf CLK_TCK)" '
	{ d = ($3 - $2) * 1e6 / hz / 2000; t += d; if (d > 0) printf "%s %.0f us, ", $1, d } END { printf "in all %.0f us", t }')
# where the czar's lookup time goes: the mean of each stage (stages.h) over those lookups
stages=$(curl -s "$QSERV_CZAR_METRICS_URL" | awk '
	/^qserv_czar_stage_seconds_sum/ { match($0, /stage="[a-z_]+"/); s = substr($0, RSTART + 7, RLENGTH - 8); sum[s] = $2 }
	/^qserv_czar_stage_seconds_count/ { match($0, /stage="[a-z_]+"/); s = substr($0, RSTART + 7, RLENGTH - 8); n[s] = $2 }
	/^qserv_czar_index_cache_total/ { hits = hits " " $0 }
	END { for (s in sum) if (n[s] > 0) printf "%s %.3f ms, ", s, 1000 * sum[s] / n[s] }')
t_one=$(pc throughput "$S1" "$N" $CLIENTS "$SECS") || bad=1
t_sp=$(pc throughput "$SS" "$N" $CLIENTS "$SECS") || bad=1
t_cz=$(pc throughput "$SC" "$N" $CLIENTS "$SECS") || bad=1
# the floor of the czar's topology on this machine: one MariaDB behind two
# relays that only copy bytes (byte_relay.c), the hops client -> czar ->
# worker -> MariaDB with none of their work (no parsing, planning, TLS,
# history); the czar's lookups cannot be faster than these
relay() { # NAME TARGET: a relay in the background, its port in $T/NAME.port once listening
	"$top/build/tests/byte-relay" "$2" > "$T/$1.port" 2> "$T/$1.err" &
	echo $! >> "$T/relay.pids"
	_i=0
	while [ ! -s "$T/$1.port" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	cat "$T/$1.port"
}
r1=$(relay relay1 "$T/one/my.sock") && r2=$(relay relay2 "$r1") && [ -n "$r2" ] ||
	{ echo "byte-relay: $(cat "$T/relay1.err" "$T/relay2.err")"; bad=1; }
SR="127.0.0.1:$r2:root::peer"
l_re=$(pc latency "$SR" "$N" 300) || bad=1
t_re=$(pc throughput "$SR" "$N" $CLIENTS "$SECS") || bad=1
kill $(cat "$T/relay.pids") 2> /dev/null
# the czar writes the query history of those lookups after them: the
# measures below start once its queue is empty (at most 30 s), as one
# MariaDB's start with nothing left to do
i=0
while [ "$(curl -s "$QSERV_CZAR_METRICS_URL" | awk '/^qserv_czar_history_queue_depth/ { print $2 }')" != 0 ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
sleep 1

q_count="SELECT COUNT(*) FROM Object"
q_box_cz="SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(10, -10, 50, 20)"
q_box="SELECT COUNT(*) FROM Object WHERE ra BETWEEN 10 AND 50 AND decl BETWEEN -10 AND 20"
q_agg="SELECT ROUND(AVG(c01), 4), MAX(c02) FROM Object WHERE c03 > 500"
c_one=$(best one "$q_count"); c_sp=$(best spider "$q_count"); c_cz=$(best czar "$q_count"); same "COUNT(*)"
b_one=$(best one "$q_box"); b_sp=$(best spider "$q_box"); b_cz=$(best czar "$q_box_cz"); same "box"
a_one=$(best one "$q_agg"); a_sp=$(best spider "$q_agg"); a_cz=$(best czar "$q_agg"); same "AVG/MAX"
# the same statements on an open connection (pymysql, best of 20): their own
# time, without the mariadb CLI's process start and connection (~20 ms on
# this machine) that every figure above includes on each side
ob() { # VAR CONN SYS SQL: VAR = the best time; a failed run sets bad
	_t=$(pc best "$2" 20 "$T/$3.out" "$4") || { bad=1; echo "open-connection run failed ($3): $4"; }
	eval "$1=\$_t"
}
ob oc_one "$S1" one "$q_count"; ob oc_sp "$SS" spider "$q_count"; ob oc_cz "$SC" czar "$q_count"; same "COUNT(*), open connection"
ob ob_one "$S1" one "$q_box"; ob ob_sp "$SS" spider "$q_box"; ob ob_cz "$SC" czar "$q_box_cz"; same "box, open connection"
ob oa_one "$S1" one "$q_agg"; ob oa_sp "$SS" spider "$q_agg"; ob oa_cz "$SC" czar "$q_agg"; same "AVG/MAX, open connection"

# near-neighbour: pairs closer than 1 arcmin in a 2-degree box, the czar's
# self-join (chunk x chunk + overlap) vs one MariaDB's with scisql_angSep
# (the box on both sides, as the czar applies a restrictor to both)
my one < "$top/qserv/scisql/install.sql" > "$T/scisql.out" 2>&1 || echo "scisql on one MariaDB: $(tail -1 "$T/scisql.out")"
nn_pair="scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < 0.0166 AND o1.objectId <> o2.objectId"
q_nn_cz="SELECT COUNT(*) FROM Object o1, Object o2 WHERE qserv_areaspec_box(20, -1, 22, 1) AND $nn_pair"
q_nn="SELECT COUNT(*) FROM Object o1, Object o2 WHERE o1.ra BETWEEN 20 AND 22 AND o1.decl BETWEEN -1 AND 1 AND
	o2.ra BETWEEN 20 AND 22 AND o2.decl BETWEEN -1 AND 1 AND $nn_pair"
n_one=$(best one "$q_nn"); n_cz=$(best czar "$q_nn_cz")
if ! cmp -s "$T/one.out" "$T/czar.out"; then
	echo "ANSWER DIFFERS (near-neighbour, czar): $(head -c 200 "$T/czar.out") vs one MariaDB: $(head -c 200 "$T/one.out")"
	bad=1
fi

echo
echo "one MariaDB: lookup $l_one ms, $t_one lookups/s with $CLIENTS clients, COUNT(*) $c_one s, box $b_one s, AVG/MAX $a_one s, LOAD DATA $load_one s"
echo "Spider:      lookup $l_sp ms, $t_sp lookups/s, COUNT(*) $c_sp s, box $b_sp s, AVG/MAX $a_sp s, LOAD DATA $load_spider s"
[ -n "$stages" ] && echo "czar lookup stages (mean): $stages"
echo "czar lookup CPU per lookup (2,000 lookups): $cpu"
echo "one MariaDB behind 2 byte relays: lookup $l_re ms, $t_re lookups/s with $CLIENTS clients"
echo "czar: the second copy of every chunk (PUT /replication/level 2, worker to worker) $level2 s"
echo "czar:        lookup $l_cz ms, $t_cz lookups/s, COUNT(*) $c_cz s, box $b_cz s, AVG/MAX $a_cz s, partition + ingest $load_czar s"
echo "near-neighbour pairs in the box: $(cat "$T/one.out"); one MariaDB $n_one s, czar $n_cz s"
echo "open connection: COUNT(*) one $oc_one s, Spider $oc_sp s, czar $oc_cz s; box one $ob_one s, Spider $ob_sp s, czar $ob_cz s; AVG/MAX one $oa_one s, Spider $oa_sp s, czar $oa_cz s"
echo
row "measure (ratio to one MariaDB)" "czar" "Spider" "target (czar)"
row "---" "---" "---" "---"
row "point lookup by objectId, 1 client" "$(f2 "$(calc "$l_cz / $l_one")")x" "$(f2 "$(calc "$l_sp / $l_one")")x" "<= 2x and <= Spider"
row "point lookups, $CLIENTS clients: throughput (higher is better)" "$(f2 "$(calc "$t_cz / $t_one")")x" "$(f2 "$(calc "$t_sp / $t_one")")x" ">= 0.7x"
row "the same behind 2 byte relays (the hops alone): 1 client" "$(f2 "$(calc "$l_re / $l_one")")x" "-" "-"
row "the same behind 2 byte relays: $CLIENTS clients" "$(f2 "$(calc "$t_re / $t_one")")x" "-" "-"
row "SELECT COUNT(*)" "$(f2 "$(calc "$c_cz / $c_one")")x" "$(f2 "$(calc "$c_sp / $c_one")")x" "<= 1.2x"
row "box count" "$(f2 "$(calc "$b_cz / $b_one")")x" "$(f2 "$(calc "$b_sp / $b_one")")x" "<= 0.5x"
row "AVG/MAX with a filter" "$(f2 "$(calc "$a_cz / $a_one")")x" "$(f2 "$(calc "$a_sp / $a_one")")x" "<= 1.0x"
row "SELECT COUNT(*), open connection" "$(f2 "$(calc "$oc_cz / $oc_one")")x" "$(f2 "$(calc "$oc_sp / $oc_one")")x" "-"
row "box count, open connection" "$(f2 "$(calc "$ob_cz / $ob_one")")x" "$(f2 "$(calc "$ob_sp / $ob_one")")x" "<= 0.5x"
row "AVG/MAX with a filter, open connection" "$(f2 "$(calc "$oa_cz / $oa_one")")x" "$(f2 "$(calc "$oa_sp / $oa_one")")x" "<= 1.0x"
row "near-neighbour count, 2-degree box (1 arcmin)" "$(f2 "$(calc "$n_cz / $n_one")")x" "-" "< 1x"
row "load (partition + ingest, level 1, vs LOAD DATA)" "$(f2 "$(calc "$load_czar / $load_one")")x" "$(f2 "$(calc "$load_spider / $load_one")")x" "<= 1.25x"
[ "$bad" = 0 ] && echo "answers: the czar's and Spider's equal one MariaDB's"
exit $bad
