#!/bin/sh
# director_map.sh: the czar's director indexes in memory (director_map.h)
# on a dev cluster of 2 workers.
#
# Checks: after a catalog is published the czar holds every object's key
# (qserv_czar_director_map_keys); point lookups by objectId and IN lists
# are answered from memory (hits counted, no miss) with the rows the
# workers' chunk tables hold; an id that is in no chunk gives no row; a
# quoted key is not taken from memory (the SQL lookup answers, same row);
# a child table's foreign key (Source.objectId) is looked up the same way;
# replicas trimmed and copied again by the controller (its notices say
# `reload chunks`) and a bare `reload chunks` datagram: the czar keeps the
# keys it holds (no new load, lookups from memory, the same rows);
# the index changed under the czar + a metadata notice: the next lookup
# follows the changed index, never the old memory (the row is gone while
# the index names another chunk, back after the restore); the czar
# restarted with --director-map-mb 1 (too small for the index) leaves it
# on SQL without reading it and says so in its log, with 0 holds nothing;
# both answer the same rows from SQL.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
. "$REPO/tools/tap.sh"
. "$REPO/tools/dc-test.sh"
dc_init dmap
command -v python3 > /dev/null || tap_skip_all "needs python3"
tap_plan 15

DB=dmap
dc_catalog $DB 2 --objects 70000 --sources-per-object 1 --ra 0,40 --dec -20,20 --stripes 12 --sub-stripes 4
NOBJ=$(wc -l < "$T/gen/Object.tsv")
metric() { curl -s "$QSERV_CZAR_METRICS_URL" | awk -v k="$1" '$1 == k { print $2 }'; }
hits() { metric 'qserv_czar_director_map_keys_total{result="hit"}'; }
misses() { metric 'qserv_czar_director_map_keys_total{result="miss"}'; }
notice() { # [DATAGRAM]: the controller's notice, `reload` unless told
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(sys.argv[2].encode(), sys.argv[1])' \
		"$T/cluster/czar/meta.sock" "${1:-reload}"
}
loaded() { sql "SELECT COUNT(*) FROM $DB.Filter" > /dev/null; [ "$(metric qserv_czar_director_map_keys)" = "$NOBJ" ]; }
if wait_until 30 loaded; then
	tap_pass "the czar holds the $NOBJ object keys in memory"
else
	tap_fail "the czar holds the $NOBJ object keys in memory" "$(curl -s "$QSERV_CZAR_METRICS_URL" | grep director_map)"
fi

# ten ids over the chunks; what the workers' chunk tables hold for each
meta "SELECT objectId, chunkId FROM qservMeta.${DB}__Object ORDER BY objectId" > "$T/index.tsv"
awk -v n="$NOBJ" 'NR % int(n / 10) == 1' "$T/index.tsv" | head -n 10 > "$T/ids.tsv"
: > "$T/want"
: > "$T/got"
while read -r id chunk; do
	for s in "$QSERV_WORKER_0_SOCKET" "$QSERV_WORKER_1_SOCKET"; do
		my "$s" -e "SELECT objectId, ra, decl FROM $DB.Object_$chunk WHERE objectId = $id" 2> /dev/null
	done | sort -u | grep -v ERROR >> "$T/want"
done < "$T/ids.tsv"
h0=$(hits) m0=$(misses)
while read -r id chunk; do
	sql "SELECT objectId, ra, decl FROM $DB.Object WHERE objectId = $id" >> "$T/got"
done < "$T/ids.tsv"
h1=$(hits) m1=$(misses)
tap_is "$(wc -l < "$T/want")|$(cmp -s "$T/want" "$T/got" && echo same)|$((h1 - h0))|$((m1 - m0))" "10|same|10|0" \
	"10 point lookups answered from memory: the chunk tables' rows, 10 hits, no miss"

ids=$(cut -f1 "$T/ids.tsv" | head -n 3 | paste -sd,)
got=$(sql "SELECT objectId FROM $DB.Object WHERE objectId IN ($ids) ORDER BY objectId" | paste -sd,)
h2=$(hits)
tap_is "$got|$((h2 - h1))" "$ids|3" "IN ($ids): three rows, three keys from memory"

last=$(tail -n 1 "$T/index.tsv" | cut -f1)
h3=$(hits)
got=$(sql "SELECT COUNT(*) FROM $DB.Object WHERE objectId = $((last + 1000))")
tap_is "$got|$(($(hits) - h3))" "0|1" "an id in no chunk ($((last + 1000))): no row, known from memory"

id1=$(head -n 1 "$T/ids.tsv" | cut -f1)
h4=$(hits)
got=$(sql "SELECT objectId, ra, decl FROM $DB.Object WHERE objectId = '$id1'")
tap_is "$got|$(($(hits) - h4))" "$(head -n 1 "$T/want")|0" "a quoted key goes to the SQL lookup (no hit), same row"

want=$(sql "SELECT COUNT(*) FROM $DB.Source WHERE objectId + 0 = $id1")
h5=$(hits)
got=$(sql "SELECT COUNT(*) FROM $DB.Source WHERE objectId = $id1")
tap_is "$got|$(($(hits) - h5))" "$want|1" "a child's foreign key (Source.objectId = $id1): $want sources, from memory"

# replicas change, the published catalog does not: the controller's trim
# to one copy and its copies back to two each send `reload chunks`; the
# czar reloads its snapshot (the trimmed replicas are no longer asked) but
# keeps the keys it holds: every lookup meanwhile from memory, no new load
loads0=$(metric qserv_czar_director_map_loads_total)
h6=$(hits) m6=$(misses)
c1=$(api PUT /replication/level '{"level":1}' -H "$(key)")
: > "$T/got_trim"
while read -r id chunk; do
	sql "SELECT objectId, ra, decl FROM $DB.Object WHERE objectId = $id" >> "$T/got_trim"
done < "$T/ids.tsv"
c2=$(api PUT /replication/level '{"level":2}' -H "$(key)")
sql "SELECT objectId, ra, decl FROM $DB.Object WHERE objectId = $id1" >> "$T/got_trim"
head -n 1 "$T/want" > "$T/want1"
cat "$T/want" "$T/want1" > "$T/want_trim"
tap_is "$c1 $c2|$(cmp -s "$T/want_trim" "$T/got_trim" && echo same)|$(($(hits) - h6))|$(($(misses) - m6))|$(metric qserv_czar_director_map_loads_total)|$(metric qserv_czar_director_map_keys)" \
	"200 200|same|11|0|$loads0|$NOBJ" \
	"replication level 1 then 2 (notices 'reload chunks'): the same rows, 11 keys from memory, no miss, no new load"
# the index changed under the czar (its object named in another chunk):
# with `reload chunks` the czar keeps what it holds, with `reload` it
# follows the index
ch1=$(head -n 1 "$T/ids.tsv" | cut -f2)
other=$(cut -f2 "$T/index.tsv" | sort -un | grep -vx "$ch1" | head -n 1)
meta "UPDATE qservMeta.${DB}__Object SET chunkId = $other WHERE objectId = $id1" > /dev/null
notice "reload chunks"
sleep 0.2
h7=$(hits)
got=$(sql "SELECT COUNT(*) FROM $DB.Object WHERE objectId = $id1")
tap_is "$got|$(($(hits) - h7))|$(metric qserv_czar_director_map_loads_total)" "1|1|$loads0" \
	"a 'reload chunks' notice: the keys in memory kept (chunk $ch1 still named for $id1 from memory, no new load)"
meta "UPDATE qservMeta.${DB}__Object SET chunkId = $other WHERE objectId = $id1" > /dev/null
notice
got=$(czar_is "SELECT COUNT(*) FROM $DB.Object WHERE objectId = $id1" 0)
tap_is "$got" 0 "index names chunk $other for $id1 + notice: no row (the old memory does not answer)"
meta "UPDATE qservMeta.${DB}__Object SET chunkId = $ch1 WHERE objectId = $id1" > /dev/null
notice
got=$(czar_is "SELECT COUNT(*) FROM $DB.Object WHERE objectId = $id1" 1)
tap_is "$got" 1 "restored + notice: the row is back"
if wait_until 30 loaded; then
	tap_pass "reloaded after the notices ($(metric qserv_czar_director_map_loads_total) loads)"
else
	tap_fail "reloaded after the notices" "$(curl -s "$QSERV_CZAR_METRICS_URL" | grep director_map)"
fi

# 70,000 keys take 1.1 MB: with 1 MB the index stays on SQL, unread
czar_args "$T/czar.args.orig"
cp "$T/czar.args.orig" "$T/czar.args"
echo --director-map-mb=1 >> "$T/czar.args"
czar_restart
sql "SELECT COUNT(*) FROM $DB.Filter" > /dev/null
wait_until 10 sh -c "curl -s '$QSERV_CZAR_METRICS_URL' | grep -q '^qserv_czar_director_map_loads_total [1-9]'"
: > "$T/got1"
while read -r id chunk; do
	sql "SELECT objectId, ra, decl FROM $DB.Object WHERE objectId = $id" >> "$T/got1"
done < "$T/ids.tsv"
tap_is "$(cmp -s "$T/want" "$T/got1" && echo same)|$(hits)|$(misses)|$(metric qserv_czar_director_map_keys)|$(metric qserv_czar_director_map_skipped)" \
	"same|0|10|0|1" "--director-map-mb 1 (the index needs 1.1 MB): left on SQL (skipped 1), the same rows, 10 misses"
grep -q "stays on SQL lookups: $NOBJ keys, more than --director-map-mb holds" "$T/czar.log" &&
	tap_pass "the czar's log says why" || tap_fail "the czar's log says why" "$(grep 'director map' "$T/czar.log" | tail -3)"

cp "$T/czar.args.orig" "$T/czar.args"
echo --director-map-mb=0 >> "$T/czar.args"
czar_restart
: > "$T/got0"
while read -r id chunk; do
	sql "SELECT objectId, ra, decl FROM $DB.Object WHERE objectId = $id" >> "$T/got0"
done < "$T/ids.tsv"
tap_is "$(cmp -s "$T/want" "$T/got0" && echo same)|$(hits)|$(metric qserv_czar_director_map_keys)" "same|0|0" \
	"--director-map-mb 0: the same rows from the SQL lookup, nothing held"
tap_done
