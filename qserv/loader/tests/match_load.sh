#!/bin/sh
# match_load.sh: a match table from qserv-partition-matches through
# `qservctl ingest` against fake_api.py (a controller and worker in one
# process that records what it is sent): the two directors (partitioned by
# qserv-partition, with overlaps) and the match table listed match table
# first are registered directors first, match table last, with the match
# fields in its table JSON as given; every chunk file is loaded; the row
# check passes with the match table's rows = the records of its chunk
# files (a straddling pair counts in both chunks, as on the workers); an
# overlap file listed for the match table is refused before any request.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
T=$(mktemp -d /tmp/qloader_match.XXXXXX)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
command -v python3 >/dev/null || tap_skip_all "no python3"
tap_plan 8
N=3000 S=30 SS=6 R=0.05
D=$T/ds

python3 "$top/qserv/partition/tests/check_matches.py" gen "$T/m.tsv" $N 5 $S $SS $R
# the directors: one object per non-NULL position of the good rows
awk -F'\t' -v n=$N '$1 <= n && $4 != "NULL" {print $2 "\t" $4 "\t" $5}' "$T/m.tsv" > "$T/ref.tsv"
awk -F'\t' -v n=$N '$1 <= n && $6 != "NULL" && $7 != "NULL" {print $3 "\t" $6 "\t" $7}' "$T/m.tsv" > "$T/src.tsv"
LAYOUT="--part.num-stripes=$S --part.num-sub-stripes=$SS --part.overlap=$R"
$BIN/qserv-partition $LAYOUT --in.path="$T/ref.tsv" --in.csv.field=refObjectId,ra,decl \
	--part.pos=ra,decl --out.dir="$D/RefObject" > /dev/null 2>&1 &&
$BIN/qserv-partition $LAYOUT --in.path="$T/src.tsv" --in.csv.field=sourceId,ra,decl \
	--part.pos=ra,decl --out.dir="$D/RunDeepSource" > /dev/null 2>&1 &&
$BIN/qserv-partition-matches $LAYOUT --in.path="$T/m.tsv" --max-errors=2 \
	--in.csv.field=matchId,refObjectId,sourceId,ra1,decl1,ra2,decl2 --part.pos1=ra1,decl1 \
	--part.pos2=ra2,decl2 --part.flags=flags --out.dir="$D/RefDeepSrcMatch" > "$T/pm.json" 2>/dev/null
tap_is "$?" 0 "directors and match table partitioned"
CHUNK_ROWS=$(sed 's/.*"chunk_rows": \([0-9]*\).*/\1/' "$T/pm.json")

python3 - "$D" $S $SS $R <<'PY'
import json, os, re, sys
d, S, SS, R = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
def data(t, overlaps):
    names = os.listdir(os.path.join(d, t))
    ids = lambda pat: sorted(int(m.group(1)) for m in map(re.compile(pat).fullmatch, names) if m)
    e = {"directory": t, "chunks": ids(r"chunk_(\d+)\.txt")}
    if overlaps:
        e["overlaps"] = ids(r"chunk_(\d+)_overlap\.txt")
    return [e]
col = lambda n, ty: {"name": n, "type": ty}
pos = [col("ra", "DOUBLE"), col("decl", "DOUBLE"), col("chunkId", "INT"), col("subChunkId", "INT")]
tables = {
    "RunDeepSource": {"table": "RunDeepSource", "is_partitioned": 1, "is_director": 1,
                      "director_key": "sourceId", "latitude_key": "decl", "longitude_key": "ra",
                      "schema": [col("sourceId", "BIGINT")] + pos},
    "RefObject": {"table": "RefObject", "is_partitioned": 1, "is_director": 1,
                  "director_key": "refObjectId", "latitude_key": "decl", "longitude_key": "ra",
                  "schema": [col("refObjectId", "BIGINT")] + pos},
    "RefDeepSrcMatch": {"table": "RefDeepSrcMatch", "is_partitioned": 1, "is_director": 0,
                        "director_table": "RefObject", "director_key": "refObjectId",
                        "director_table2": "RunDeepSource", "director_key2": "sourceId",
                        "flag": "flags", "ang_sep": R,
                        "schema": [col("matchId", "BIGINT"), col("refObjectId", "BIGINT"),
                                   col("sourceId", "BIGINT"), col("ra1", "DOUBLE"),
                                   col("decl1", "DOUBLE"), col("ra2", "DOUBLE"),
                                   col("decl2", "DOUBLE"), col("chunkId", "INT"),
                                   col("subChunkId", "INT"), col("flags", "INT")]}}
for t, j in tables.items():
    json.dump(j, open(os.path.join(d, t + ".json"), "w"))
json.dump({"database": "mt", "num_stripes": S, "num_sub_stripes": SS, "overlap": R},
          open(os.path.join(d, "mt.json"), "w"))
order = ["RefDeepSrcMatch", "RunDeepSource", "RefObject"]
meta = {"version": 12, "database": "mt.json",
        "tables": [{"schema": t + ".json", "data": data(t, t != "RefDeepSrcMatch")} for t in order]}
json.dump(meta, open(os.path.join(d, "metadata.json"), "w"))
meta["tables"][0]["data"][0]["overlaps"] = meta["tables"][0]["data"][0]["chunks"][:1]
json.dump(meta, open(os.path.join(d, "metadata-ov.json"), "w"))
PY

rm -f "$T/port"
python3 "$top/qserv/loader/tests/fake_api.py" "$T/port" ok 0 & SPID=$!
i=0; until [ -s "$T/port" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
URL=http://127.0.0.1:$(cat "$T/port")
env -u QSERV_CA_FILE -u QSERV_AUTH_KEY timeout 120 "$BIN/qservctl" --url "$URL" ingest -j 2 "$D" > "$T/out" 2>&1
rc=$?
tap_is "$rc" 0 "qservctl ingest of the dataset with a match table succeeds"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/out" | tail -20
tap_is "$(curl -s --max-time 5 "$URL/fake/tables" | tr '\n' ' ')" \
	"RunDeepSource RefObject RefDeepSrcMatch " "directors registered first, the match table last"
NFILES=$(ls "$D/RefDeepSrcMatch" | wc -l)
tap_ok "every chunk file loaded: $((NFILES + $(ls "$D/RefObject" "$D/RunDeepSource" | grep -c chunk_))) contributions" \
	[ "$(curl -s --max-time 5 "$URL/fake/attempts")" -eq "$((NFILES + $(ls "$D/RefObject" "$D/RunDeepSource" | grep -c chunk_)))" ]
tap_ok "the match table's rows checked against its chunk files' $CHUNK_ROWS records: ok" \
	grep -q "^mt.RefDeepSrcMatch: $CHUNK_ROWS rows, input $CHUNK_ROWS: ok" "$T/out"
tap_ok "straddling pairs count in both chunks ($CHUNK_ROWS rows from $N matches)" [ "$CHUNK_ROWS" -gt "$N" ]
tap_ok "the directors' rows and overlap rows checked: ok" sh -c \
	"grep -q '^mt.RefObject: .*(+overlap): ok' '$T/out' && grep -q '^mt.RunDeepSource: .*(+overlap): ok' '$T/out'"

# an overlap file listed for the match table: refused, the table named
mv "$D/metadata-ov.json" "$D/metadata.json"
rm -f "$D/.qservctl-ingest.state"
env -u QSERV_CA_FILE -u QSERV_AUTH_KEY timeout 60 "$BIN/qservctl" --url "$URL" ingest "$D" > "$T/out2" 2>&1
rc=$?
tap_ok "an overlap file listed for a match table is refused, naming it" sh -c \
	"[ $rc -ne 0 ] && grep -q 'RefDeepSrcMatch: a match table has no overlap files' '$T/out2'"
tap_done
RC=$?
echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"
exit $RC
