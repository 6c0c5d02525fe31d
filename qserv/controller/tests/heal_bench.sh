#!/bin/sh
# heal_bench.sh: what a worker failure costs (issue 13), on dev clusters.
#
# Per catalog size (OBJECTS, default "20000 80000": the chunks grow with
# it), a dev cluster of 3 workers at the default level (2) with
# --evict-after 10: a query storm (COUNT(*) and a GROUP BY, each compared
# with the input) runs while worker-1 is killed; printed: detection time
# (kill -> evicted), healing time (kill -> every chunk at level again),
# the heal's copy MB/s of plain rows, and availability (answered right /
# issued from the kill until the level is restored).  The baseline, in the
# same run: --evict-after itself (detection can not be shorter; the ratio
# says what the probes add) and the copy of the same chunks' bytes inside
# one MariaDB (INSERT ... SELECT), the cheapest copy there is.  Then
# scale-out: a cluster of 2 workers with the largest catalog gets a third
# (tools/dev-cluster add); printed: the time until every worker holds
# within 10% of the mean chunk count (rebalancing), and the storm's
# availability meanwhile.  Asserts nothing.
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${BUILD:-$REPO/build}/bin
T=$(mktemp -d /tmp/qserv-healbench.XXXXXX)
DC="$REPO/tools/dev-cluster"
STORM=
cleanup() {
	[ -n "$STORM" ] && kill "$STORM" 2> /dev/null
	"$DC" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
command -v mariadbd > /dev/null && command -v jq > /dev/null || { echo "heal_bench: needs mariadbd and jq"; exit 0; }

now() { date +%s.%N | cut -c1-14; }
since() { echo "$1" | awk -v t="$(now)" '{ printf "%.1f", t - $1 }'; }
status() { curl -s --cacert "$QSERV_CA_FILE" "$QSERV_INGEST_URL/replication/status"; }
sql() { mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -N -B -e "$1" 2>&1; }

# storm FILE WANT_COUNT WANT_GRP: queries until killed; a line per query
# in FILE: "ok" or "bad <answer>"
storm() {
	while :; do
		a=$(sql "SELECT COUNT(*) FROM hb.Object")
		[ "$a" = "$2" ] && echo ok >> "$1" || printf 'bad %.100s\n' "$a" >> "$1"
		a=$(sql "SELECT filterName, COUNT(*) FROM hb.Source GROUP BY filterName ORDER BY filterName" | md5sum)
		[ "$a" = "$3" ] && echo ok >> "$1" || echo "bad groups" >> "$1"
	done
}

# cluster N OBJECTS [up args]: a dev cluster of N workers with the catalog
cluster() {
	"$DC" down --dir "$T/cluster" > /dev/null 2>&1
	rm -rf "$T/cluster" "$T/cat"   # a catalog of its own: partitions of an earlier run are not loaded again
	"$REPO/tools/sample-catalog.sh" "$T/cat" hb --objects "$2" --sources-per-object 2 --ra 0,40 --dec -20,20 \
		--stripes 12 --sub-stripes 4 > "$T/gen.log" 2>&1 || { tail -3 "$T/gen.log"; return 1; }
	_n=$1; shift 2
	"$DC" up --workers "$_n" "$@" --dir "$T/cluster" > "$T/up.log" 2>&1 || { tail -3 "$T/up.log"; return 1; }
	set -a; . "$T/cluster/cluster.env"; set +a
	"$BIN/qservctl" ingest -q "$T/cat/ds" > "$T/ingest.log" 2>&1 || { tail -3 "$T/ingest.log"; return 1; }
	WANT=$(wc -l < "$T/cat/gen/Object.tsv")
	# the reference GROUP BY once the czar sees the whole catalog
	_i=0
	until [ "$(sql "SELECT COUNT(*) FROM hb.Object")" = "$WANT" ] || [ $_i -ge 60 ]; do sleep 0.5; _i=$((_i + 1)); done
	GRP=$(sql "SELECT filterName, COUNT(*) FROM hb.Source GROUP BY filterName ORDER BY filterName" | md5sum)
}

start_storm() { : > "$T/storm"; storm "$T/storm" "$WANT" "$GRP" & STORM=$!; }
stop_storm() {
	kill "$STORM" 2> /dev/null; wait "$STORM" 2> /dev/null; STORM=
	echo "$(grep -c '^ok' "$T/storm") right of $(wc -l < "$T/storm") issued$(grep -m 2 '^bad' "$T/storm" | sed 's/^/; /' | tr -d '\n')"
}

# the baseline copy: every chunk table of the catalog copied inside
# worker-2's MariaDB; prints MB/s of the tables' data
baseline_copy() {
	W="mariadb --no-defaults -S $QSERV_WORKER_2_SOCKET -uroot -N -B"
	tabs=$($W -e "SELECT table_name FROM information_schema.tables WHERE table_schema='hb'
		AND table_name REGEXP '_[0-9]+\$' AND table_name NOT LIKE '%_1234567890'")
	bytes=$($W -e "SELECT SUM(data_length) FROM information_schema.tables WHERE table_schema='hb'
		AND table_name REGEXP '_[0-9]+\$' AND table_name NOT LIKE '%_1234567890'")
	t0=$(now)
	for t in $tabs; do
		$W -e "CREATE TABLE hb.\`${t}__b\` LIKE hb.\`$t\`; INSERT INTO hb.\`${t}__b\` SELECT * FROM hb.\`$t\`;
			DROP TABLE hb.\`${t}__b\`"
	done
	echo "$bytes $(since "$t0")" | awk '{ printf "%.1f", $1 / 1e6 / ($2 > 0 ? $2 : 1e-3) }'
}

heal_run() {
	cluster 3 "$1" --evict-after 10 || return
	chunks=$(status | jq '[.databases[] | select(.database == "hb") | .chunks] | add')
	base=$(baseline_copy)
	start_storm
	sleep 2
	t0=$(now)
	"$DC" kill worker-1 --dir "$T/cluster" > /dev/null
	det= heal=
	while [ -z "$heal" ] && [ "$(since "$t0" | cut -d. -f1)" -lt 300 ]; do
		s=$(status)
		[ -z "$det" ] && [ "$(echo "$s" | jq -r '.workers[] | select(.id == "worker-1") | .state')" = evicted ] &&
			det=$(since "$t0")
		[ -n "$det" ] && [ "$(echo "$s" | jq '[.databases[].under_replicated] | add')" = 0 ] && heal=$(since "$t0")
		sleep 0.5
	done
	avail=$(stop_storm)
	s=$(status)
	mbps=$(echo "$s" | jq -r '.health.copies | if .last_heal_seconds > 0 then (.last_heal_plain_bytes / 1e6 / .last_heal_seconds * 10 | floor / 10) else "?" end')
	echo "objects $1 ($chunks chunks, 2 replicas each):"
	echo "  detection ${det:-none in 300} s (evict-after 10 s: x$(echo "${det:-0}" | awk '{ printf "%.2f", $1 / 10 }'))"
	echo "  level restored ${heal:-not in 300} s after the kill; heal copies $(echo "$s" | jq -r .health.copies.last_heal_copies)," \
		"$(echo "$s" | jq -r '.health.copies.last_heal_plain_bytes / 1e6 | floor') MB plain at $mbps MB/s" \
		"(baseline INSERT ... SELECT in one MariaDB: $base MB/s)"
	echo "  availability from the kill to the end: $avail"
}

rebalance_run() {
	cluster 2 "$1" || return
	start_storm
	t0=$(now)
	"$DC" add --dir "$T/cluster" > "$T/add.log" 2>&1 || { tail -3 "$T/add.log"; stop_storm; return; }
	done_at=
	while [ -z "$done_at" ] && [ "$(since "$t0" | cut -d. -f1)" -lt 600 ]; do
		ok=$(status | jq '[.workers[] | select(.state == "up") | .chunks] | (add / length) as $m |
			length == 3 and all(.[]; . >= $m * 0.9 and . <= $m * 1.1)')
		[ "$ok" = true ] && done_at=$(since "$t0")
		sleep 1
	done
	echo "scale-out 2 -> 3 workers, objects $1: balanced (every worker within 10% of the mean)" \
		"${done_at:-not within 600} s after the add; $(status | jq -c '[.workers[] | {(.id): .chunks}] | add');" \
		"storm: $(stop_storm)"
}

for n in ${OBJECTS:-20000 80000}; do
	heal_run "$n"
	last=$n
done
rebalance_run "$last"
