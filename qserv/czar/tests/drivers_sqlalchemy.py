# drivers_sqlalchemy.py: SQLAlchemy (pymysql dialect) and pandas against
# the czar, each answer compared with a reference MariaDB holding the same
# rows unpartitioned (drivers.sh sets it up).  Run with Debian's
# /usr/bin/python3 (python3-sqlalchemy, python3-pandas, python3-pymysql).
#
#   drivers_sqlalchemy.py DB REF_SOCKET REF_USER REF_PASSWORD
# with QSERV_CZAR_HOST/PORT, QSERV_USER/PASSWORD in the environment.
# Prints one line per check, "PASS name" or "FAIL name: why"; drivers.sh
# turns them into TAP (a check missing from the output fails there).
import os
import sys
import traceback

import pandas as pd
import sqlalchemy as sa

db, ref_sock, ref_user, ref_pw = sys.argv[1:5]
e = os.environ
czar = sa.create_engine("mysql+pymysql://%s:%s@%s:%s/%s" % (e["QSERV_USER"], e["QSERV_PASSWORD"], e["QSERV_CZAR_HOST"],
                                                            e["QSERV_CZAR_PORT"], db),
                        pool_size=1, max_overflow=0, pool_timeout=30, connect_args={"read_timeout": 60})
ref = sa.create_engine("mysql+pymysql://%s:%s@localhost/ref?unix_socket=%s" % (ref_user, ref_pw, ref_sock))


def check(name, fn):
    try:
        why = fn()
    except Exception as ex:   # a driver error is the failure being tested for
        why = "%s: %s" % (type(ex).__name__, str(ex).splitlines()[0] if str(ex) else "")
        traceback.print_exc(file=sys.stderr)
    print("PASS %s" % name if not why else "FAIL %s: %s" % (name, why), flush=True)


def scalar(eng, sql):
    with eng.connect() as c:
        return c.execute(sa.text(sql)).scalar()


def inspector():
    insp = sa.inspect(czar)
    tables = insp.get_table_names()
    if tables != ["Filter", "Object", "Source"]:
        return "tables %r" % (tables,)
    got = [c["name"] for c in insp.get_columns("Object")]
    want = [c["name"] for c in sa.inspect(ref).get_columns("Object")] + ["chunkId", "subChunkId"]
    return None if got == want else "Object columns %r, want %r" % (got, want)


def pooled_twice():
    # pool_size=1: the second checkout gets the connection the first one
    # returned (SQLAlchemy sends ROLLBACK on return; an error there would
    # invalidate it and the second use would get a new one).
    want = scalar(ref, "SELECT COUNT(*) FROM Object")
    seen = []
    for _ in range(2):
        with czar.connect() as c:
            n = c.execute(sa.text("SELECT COUNT(*) FROM Object")).scalar()
            seen.append((n, id(c.connection.dbapi_connection)))
    if [s[0] for s in seen] != [want, want]:
        return "counts %r, want %d" % ([s[0] for s in seen], want)
    return None if seen[0][1] == seen[1][1] else "the pooled connection was not reused"


def explicit_transaction():
    # engine.begin(): BEGIN ... COMMIT around the statement, as ORMs do
    with czar.begin() as c:
        n = c.execute(sa.text("SELECT COUNT(*) FROM Source")).scalar()
    want = scalar(ref, "SELECT COUNT(*) FROM Source")
    return None if n == want else "count %r, want %r" % (n, want)


def same_frame(czar_sql, ref_sql):
    got = pd.read_sql(czar_sql, czar).sort_values("objectId").reset_index(drop=True)
    want = pd.read_sql(ref_sql, ref).sort_values("objectId").reset_index(drop=True)
    if len(want) == 0:
        return "the reference has no row: the check would prove nothing"
    if list(got.columns) != list(want.columns) or not got.equals(want):
        return "%d rows, reference %d; columns %r" % (len(got), len(want), list(got.columns))
    return None


CIRCLE = "scisql_s2PtInCircle(ra, decl, 1, 0, 0.6) = 1"
check("SQLAlchemy create_engine + inspector: tables and columns", inspector)
check("SQLAlchemy: a pooled connection used twice (ROLLBACK on return)", pooled_twice)
check("SQLAlchemy: engine.begin() transaction around a query", explicit_transaction)
check("pandas.read_sql of a qserv_areaspec_circle query equals the reference",
      lambda: same_frame("SELECT objectId, ra, decl, nSources FROM Object WHERE qserv_areaspec_circle(1, 0, 0.6)",
                         "SELECT objectId, ra, decl, nSources FROM Object WHERE " + CIRCLE))
check("pandas.read_sql with 1 = qserv_areaspec_circle(...) equals the reference",
      lambda: same_frame("SELECT objectId, ra FROM Object WHERE 1 = qserv_areaspec_circle(1, 0, 0.6) AND decl > -0.2",
                         "SELECT objectId, ra FROM Object WHERE " + CIRCLE + " AND decl > -0.2"))
