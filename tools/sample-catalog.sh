#!/bin/sh
# sample-catalog.sh: a generated catalog ready for `qservctl ingest`, the
# recipe make cluster, the tests and the benches share:
#   qserv-gen (DIR/gen) -> qserv-partition of Object and Source (DIR/part)
#   -> mkdataset.py (DIR/ds, database DB) with the regular table Filter
#   (DIR/Filter.tsv: the six LSST bands).
#
#   tools/sample-catalog.sh DIR DB [--objects N] [--sources-per-object K]
#       [--ra A,B] [--dec C,D] [--stripes S] [--sub-stripes SS]
#       [--no-filter] [--no-auto-index]
#
# Defaults: 3000 objects with 2 sources each over the whole sky, 85 stripes
# and 12 sub-stripes (Qserv's), overlap 0.01667 deg.  Step logs go to
# DIR/*.log; a failing step exits non-zero with its log's tail on stderr.
set -eu
[ $# -ge 2 ] || { echo "usage: tools/sample-catalog.sh DIR DB [options]" >&2; exit 100; }
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${QSERV_BIN:-${BUILD:-$top/build}/bin}
dir=$1 db=$2
shift 2
objects=3000 per=2 ra=0,360 dec=-90,90 stripes=85 sub=12 filter=1 mkopts=
while [ $# -gt 0 ]; do
	case $1 in
	--objects) objects=$2; shift 2 ;;
	--sources-per-object) per=$2; shift 2 ;;
	--ra) ra=$2; shift 2 ;;
	--dec) dec=$2; shift 2 ;;
	--stripes) stripes=$2; shift 2 ;;
	--sub-stripes) sub=$2; shift 2 ;;
	--no-filter) filter=0; shift ;;
	--no-auto-index) mkopts=--no-auto-index; shift ;;
	*) echo "sample-catalog: unknown option $1" >&2; exit 100 ;;
	esac
done

# step NAME COMMAND...: runs COMMAND with its output in DIR/NAME.log
step() {
	_log=$dir/$1.log
	shift
	"$@" > "$_log" 2>&1 || { echo "sample-catalog: $* failed:" >&2; tail -5 "$_log" >&2; exit 1; }
}

mkdir -p "$dir"
step gen "$BIN/qserv-gen" --objects "$objects" --sources-per-object "$per" --out-dir "$dir/gen" \
	--ra "$ra" --dec "$dec" --num-stripes "$stripes" --num-sub-stripes "$sub" --overlap 0.01667
for t in Object Source; do
	step "part-$t" "$BIN/qserv-partition" --config-file="$dir/gen/$t.json" --in.path="$dir/gen/$t.tsv" \
		--out.dir="$dir/part/$t"
done
regular=
if [ $filter = 1 ]; then
	printf '1\tu\n2\tg\n3\tr\n4\ti\n5\tz\n6\ty\n' > "$dir/Filter.tsv"
	regular="--regular $dir/Filter.tsv"
fi
# shellcheck disable=SC2086
step mkds /usr/bin/python3 "$top/qserv/controller/tests/mkdataset.py" --db "$db" --gen "$dir/gen" \
	--part "$dir/part" --out "$dir/ds" --stripes "$stripes" --sub-stripes "$sub" $regular $mkopts
