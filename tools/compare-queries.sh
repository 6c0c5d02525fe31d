# compare-queries.sh: the end-to-end tests' "same answer as one MariaDB"
# loop; sourced after tools/tap.sh.
#
#   compare_queries CZAR REF DIR < SPEC
#
# SPEC: one query a line, "name|czar SQL|reference SQL" (an empty
# reference: the same text); blank lines and '#' lines skipped.  CZAR and
# REF are commands (word-split; a shell function may come first) that take
# `-N -B -e SQL`.  Both answers are sorted; one TAP line a query: a pass
# with the row count, a failure with either side's error or the first
# lines of the diff.  With COMPARE_NONEMPTY=1 an empty reference answer
# fails too (the query would prove nothing).  Files go to DIR.
compare_queries() {
	_cz=$1 _rf=$2 _d=$3
	while IFS='|' read -r _name _q _r; do
		case "$_name" in ''|'#'*) continue ;; esac
		[ -n "$_r" ] || _r=$_q
		$_cz -N -B -e "$_q" > "$_d/c.out" 2> "$_d/c.err" < /dev/null
		$_rf -N -B -e "$_r" > "$_d/r.out" 2> "$_d/r.err" < /dev/null
		sort "$_d/c.out" > "$_d/c.sorted"; sort "$_d/r.out" > "$_d/r.sorted"
		if [ -s "$_d/c.err" ] || [ -s "$_d/r.err" ]; then
			tap_fail "$_name" "czar: $(cat "$_d/c.err") / ref: $(cat "$_d/r.err")"
		elif [ "${COMPARE_NONEMPTY:-0}" = 1 ] && [ ! -s "$_d/r.out" ]; then
			tap_fail "$_name" "the reference answer is empty"
		elif cmp -s "$_d/c.sorted" "$_d/r.sorted"; then
			tap_pass "$_name ($(wc -l < "$_d/r.out") rows)"
		else
			tap_fail "$_name" "$(diff "$_d/c.sorted" "$_d/r.sorted" | head -6 | tr '\n' '|')"
		fi
	done
}
