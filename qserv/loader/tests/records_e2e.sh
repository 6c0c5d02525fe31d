#!/bin/sh
# records_e2e.sh: validation counts records, not lines, on a 2-worker dev
# cluster: a sample catalog whose Object table gets a string column `note`
# holding, in some rows, an escaped newline (backslash + newline, MySQL's
# default dialect) or a value ending in an escaped backslash is ingested;
# qservctl's validation reports no mismatch, the czar counts every object,
# and the value comes back with its newline.
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tools/tap.sh"
BIN=${QSERV_BIN:-$top/build/bin}
DC=$top/tools/dev-cluster
T=$(mktemp -d /tmp/qloader_records_e2e.XXXXXX)
cleanup() { "$DC" down --dir "$T/cluster" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

for b in qservctl qserv-gen qserv-partition qserv-worker qserv-controller qserv-czar qserv-certs; do
	[ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built"; exit 1; }
done
command -v mariadbd > /dev/null || tap_skip_all "needs mariadbd"
tap_plan 7

DB=recs NOBJ=2000
"$top/tools/sample-catalog.sh" "$T" $DB --objects $NOBJ --sources-per-object 1 --ra 0,30 --dec -15,15 \
	--stripes 12 --sub-stripes 4 --no-filter || exit 1
# Object gets `note` before chunkId, subChunkId: every 7th row "two\<nl>lines",
# every 11th "ends in \\" (an escaped backslash right before the terminator)
python3 - "$T/ds" <<'PY' || exit 1
import glob, json, os, sys
ds = sys.argv[1]
j = json.load(open(os.path.join(ds, "Object.json")))
j["schema"].insert(len(j["schema"]) - 2, {"name": "note", "type": "VARCHAR(64)"})
json.dump(j, open(os.path.join(ds, "Object.json"), "w"))
for f in glob.glob(os.path.join(ds, "**", "Object", "chunk_*.txt"), recursive=True):
    out = []
    for line in open(f, newline=""):
        v = line.rstrip("\n").split("\t")
        oid = int(v[0])
        note = "two\\\nlines" if oid % 7 == 0 else "ends in \\\\" if oid % 11 == 0 else "plain"
        out.append("\t".join(v[:-2] + [note] + v[-2:]) + "\n")
    open(f, "w", newline="").write("".join(out))
PY
files=$(find "$T/ds" -path '*Object/chunk_*' | wc -l)
lines=$(find "$T/ds" -path '*Object/chunk_*' ! -name '*overlap*' -exec cat {} + | wc -l)
tap_ok "the dataset's Object files have more lines than objects ($lines > $NOBJ in $files files)" [ "$lines" -gt $NOBJ ]

if "$DC" up --workers 2 --dir "$T/cluster" > "$T/up.log" 2>&1 && set -a && . "$T/cluster/cluster.env" && set +a; then
	tap_pass "dev cluster with 2 workers up"
else
	tap_fail "dev cluster with 2 workers up" "$(tail -n 5 "$T/up.log")"
	exit 1
fi
"$BIN/qservctl" ingest -q "$T/ds" > "$T/out" 2>&1
rc=$?
tap_is "$rc" 0 "qservctl ingest validates with no false alarm"
[ $rc = 0 ] || sed 's/^/# /' "$T/out"
tap_ok "Object: the input's record count, not its lines" grep -q "^$DB.Object: $NOBJ rows, input $NOBJ (+overlap): ok" "$T/out"

sql() { mariadb --no-defaults -h "$QSERV_CZAR_HOST" -P "$QSERV_CZAR_PORT" -u "$QSERV_USER" -p"$QSERV_PASSWORD" -N -B "$@" 2>&1; }
czar_is() { # the czar's answer, retried while its metadata catches up (bounded)
	_i=0
	while :; do
		_got=$(sql -e "$1")
		[ "$_got" = "$2" ] || [ $_i -ge 20 ] && break
		_i=$((_i + 1)); sleep 0.5
	done
	echo "$_got"
}
tap_is "$(czar_is "SELECT COUNT(*) FROM $DB.Object" $NOBJ)" $NOBJ "the czar counts every object"
oid=$(sql -e "SELECT MIN(objectId) FROM $DB.Object WHERE note LIKE 'two%'")
tap_is "$(sql -r -e "SELECT note FROM $DB.Object WHERE objectId = $oid" | od -c | head -1 | tr -s ' ')" \
	"$(printf 'two\nlines\n' | od -c | head -1 | tr -s ' ')" "the escaped newline is a newline in the value"
ends=$(sql -e "SELECT COUNT(*) FROM $DB.Object WHERE note LIKE 'ends in%'")
tap_is "$(sql -e "SELECT COUNT(*) FROM $DB.Object WHERE note = 'ends in \\\\'")/$([ "${ends:-0}" -gt 0 ] && echo some)" \
	"$ends/some" "values ending in an escaped backslash loaded as one backslash"
tap_done
