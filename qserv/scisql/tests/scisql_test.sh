#!/bin/sh
# scisql_test.sh: loads qserv_scisql.so into a private mariadbd (temp
# datadir, unix socket only, --plugin-dir=build/lib), registers the UDFs
# with qserv/scisql/install.sql (twice: it must be idempotent) and checks
# results against hand-computed values:
#  - separations along the equator or a meridian are coordinate differences;
#    (0,89)-(180,89) crosses the pole: 2 deg;
#  - the square (0,0)-(10,10) has great-circle edges: the top edge peaks at
#    atan(tan 10 / cos 5) = 10.0381 deg at lon 5;
#  - HTM level 0 is the octant: (45,45) N3=15, (315,-45) S3=11, (135,10)
#    N2=14, (0,0) N3=15; deeper ids from a Python transcription of Qserv's
#    Geometry.cc htmId(); each level appends 2 bits;
#  - an AB flux of 10^(-48.6/2.5) erg/cm2/s/Hz is magnitude 0, each factor
#    100 is 5 magnitudes; 1 nJy is 31.4 mag; 2.5/ln 10 = 1.0857362.
cd "$(dirname "$0")/../../.." || exit 1
. tools/tap.sh
. tools/test-mariadb.sh
T=$(mktemp -d /tmp/qscisql.XXXXXX)
SOCK=$T/my.sock
cleanup() {
	test_mariadb_stop "$T"
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
tap_plan 15

q() { mariadb --no-defaults -S "$SOCK" -u root -N -B -e "$1" 2>&1; }
if ! test_mariadb_start "$T" --plugin-dir="$PWD/build/lib" --innodb-buffer-pool-size=16M; then
	tap_diag "mariadbd did not start:"; sed 's/^/# /' "$T/install.log" "$T/my.err"; exit 1
fi

mariadb --no-defaults -S "$SOCK" -u root < qserv/scisql/install.sql > "$T/i1" 2>&1 &&
	mariadb --no-defaults -S "$SOCK" -u root < qserv/scisql/install.sql > "$T/i2" 2>&1
tap_is "$?" 0 "install.sql registers the functions (and again: idempotent)"
tap_is "$(q "SELECT COUNT(*) FROM mysql.func WHERE dl = 'qserv_scisql.so'")" 25 "25 functions registered"

# near GOT WANT [TOL]: numeric comparison
near() { awk -v g="$1" -v w="$2" -v t="${3:-1e-9}" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t) }'; }
# check NAME SQL EXPECTED...: each tab-separated column against its value
# (NULL compared as text, numbers with near)
check() {
	name=$1 sql=$2; shift 2
	got=$(q "SELECT $sql")
	ok=1 i=1
	for want in "$@"; do
		g=$(printf '%s\n' "$got" | cut -f$i)
		if [ "$want" = NULL ] || [ "$g" = NULL ]; then [ "$g" = "$want" ] || ok=0
		else near "$g" "$want" || ok=0; fi
		i=$((i + 1))
	done
	if [ $ok = 1 ]; then tap_pass "$name"; else tap_fail "$name" "got '$got', want '$*'"; fi
}

check "angSep: equator, meridian, over the pole, zero" \
	"scisql_angSep(0,0,1,0), scisql_angSep(0,0,0,90), scisql_angSep(0,89,180,89), scisql_angSep(10,20,10,20), scisql_angSep(359.5,0,0.5,0)" \
	1 90 2 0 1
check "angSep: vectors; NULL and bad latitude give NULL" \
	"scisql_angSep(1,0,0,0,1,0), scisql_angSep(NULL,0,1,0), scisql_angSep(0,91,0,0)" \
	90 NULL NULL
check "s2PtInBox: inside, outside, wrap through RA 0, boundary" \
	"scisql_s2PtInBox(5,5,0,0,10,10), scisql_s2PtInBox(15,5,0,0,10,10), scisql_s2PtInBox(355,0,350,-5,10,5), scisql_s2PtInBox(5,0,350,-5,10,5), scisql_s2PtInBox(180,0,350,-5,10,5), scisql_s2PtInBox(10,10,0,0,10,10)" \
	1 0 1 1 0 1
check "s2PtInBox: NULL arg is 0, bad latitude / lonMin > 360 wrap NULL, empty lat range 0" \
	"scisql_s2PtInBox(NULL,5,0,0,10,10), scisql_s2PtInBox(5,95,0,0,10,10), scisql_s2PtInBox(5,5,370,0,10,10), scisql_s2PtInBox(5,5,0,10,10,0)" \
	0 NULL NULL 0
check "s2PtInCircle across RA 0 (0.1999 in, 0.2001 out), bad radius NULL" \
	"scisql_s2PtInCircle(0.0999,0,359.9,0,0.2), scisql_s2PtInCircle(0.1001,0,359.9,0,0.2), scisql_s2PtInCircle(0,0,0,0,-1), scisql_s2PtInCircle(NULL,0,0,0,1)" \
	1 0 NULL 0
check "s2PtInEllipse 36\"x18\": major axis north at PA 0, east at PA 90" \
	"scisql_s2PtInEllipse(0,35.5/3600,0,0,36,18,0), scisql_s2PtInEllipse(0,36.5/3600,0,0,36,18,0), scisql_s2PtInEllipse(17.5/3600,0,0,0,36,18,0), scisql_s2PtInEllipse(18.5/3600,0,0,0,36,18,0), scisql_s2PtInEllipse(35.5/3600,0,0,0,36,18,90), scisql_s2PtInEllipse(0,0,0,0,18,36,0)" \
	1 0 1 0 1 NULL
check "s2PtInCPoly: square with great-circle edges (peak 10.0381 at lon 5)" \
	"scisql_s2PtInCPoly(5,5,0,0,10,0,10,10,0,10), scisql_s2PtInCPoly(11,5,0,0,10,0,10,10,0,10), scisql_s2PtInCPoly(5,10.035,0,0,10,0,10,10,0,10), scisql_s2PtInCPoly(5,10.041,0,0,10,0,10,10,0,10), scisql_s2PtInCPoly(5,95,0,0,10,0,10,10,0,10)" \
	1 0 1 0 NULL
check "s2CPolyToBin: 3 doubles per edge, usable by s2PtInCPoly" \
	"LENGTH(scisql_s2CPolyToBin(0,0,10,0,10,10,0,10)), scisql_s2PtInCPoly(5,5,scisql_s2CPolyToBin(0,0,10,0,10,10,0,10)), scisql_s2PtInCPoly(15,5,scisql_s2CPolyToBin(0,0,10,0,10,10,0,10))" \
	96 1 0
check "flux <-> AB magnitude (zero point, factor 100 = 5 mag), zero/negative/NULL flux NULL" \
	"scisql_fluxToAbMag(3.630780547701013425e-20), scisql_fluxToAbMag(3.630780547701013425e-22), scisql_abMagToFlux(5)/3.630780547701013425e-22, scisql_fluxToAbMag(0), scisql_fluxToAbMag(-1), scisql_fluxToAbMag(NULL)" \
	0 5 1 NULL NULL NULL
check "sigmas, nanojansky and DN forms" \
	"scisql_fluxToAbMagSigma(1, 0.1), scisql_nanojanskyToAbMag(1), scisql_nanojanskyToAbMag(100), scisql_abMagToNanojansky(26.4), scisql_nanojanskyToAbMagSigma(100, 10), scisql_dnToAbMag(1, 100), scisql_abMagToFluxSigma(0, 1)/3.630780547701013425e-20, scisql_dnToFlux(2, 1)/3.630780547701013425e-20" \
	0.10857362047581296 31.4 26.4 100 0.10857362047581296 5 0.9210340371976183 2

check "s2HtmId: octants at level 0, deeper levels, bad level NULL" \
	"scisql_s2HtmId(45,45,0), scisql_s2HtmId(315,-45,0), scisql_s2HtmId(135,10,0), scisql_s2HtmId(0,0,0), scisql_s2HtmId(45,45,1), scisql_s2HtmId(45,45,5), scisql_s2HtmId(10,-20,10), scisql_s2HtmId(271.2,12.7,20), scisql_s2HtmId(123.456,-33.3,24), scisql_s2HtmId(0,0,25)" \
	15 11 14 15 63 16351 8630809 13783231109140 2798984131092847 NULL
check "s2HtmLevel: level of valid ids, NULL for invalid ones" \
	"scisql_s2HtmLevel(15), scisql_s2HtmLevel(63), scisql_s2HtmLevel(2798984131092847), scisql_s2HtmLevel(7), scisql_s2HtmLevel(31)" \
	0 1 24 NULL NULL

# the UDFs work inside a query over a table, as the czar's chunk queries use them
q "CREATE DATABASE t; CREATE TABLE t.o (id INT, ra DOUBLE, decl DOUBLE);
   INSERT INTO t.o VALUES (1, 359.95, 0), (2, 0.05, 0.05), (3, 0.5, 0), (4, 180, -30), (5, NULL, 0)" >/dev/null
tap_is "$(q "SELECT GROUP_CONCAT(id ORDER BY id) FROM t.o WHERE scisql_s2PtInCircle(ra, decl, 0, 0, 0.1) = 1 AND scisql_s2PtInBox(ra, decl, 359, -1, 1, 1) = 1")" "1,2" \
	"a WHERE clause selects the rows inside the region"
tap_done
