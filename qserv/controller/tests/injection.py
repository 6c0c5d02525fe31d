#!/usr/bin/env python3
"""injection.py: the table of injection.sh (which starts the daemons).

Every case is (method, path or body template, field): the payload goes
into that one field of an otherwise valid request.  Prints TAP: one line
per case (all payloads), then the checks that nothing changed."""
import argparse
import ssl
import copy
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

# Invalid anywhere a name or a type is expected.
INJECT = [
    "x' AND EXTRACTVALUE(1,CONCAT(0x7e,@@version)) AND '",
    "x'; DROP TABLE qservMeta.dbs; -- ",
    "x` ; DROP DATABASE qservMeta; -- ",
    "x\" OR \"1\"=\"1",
    "x/**/OR/**/1=1",
    "x/*!50000 OR 1=1*/",
    "x#comment",
    "x-- comment",
    "x\\' OR 1=1 -- ",
    "1 OR 1=1",
    "x) UNION SELECT @@version, user() -- ",
    "x\n; DROP TABLE t",
    "x;SELECT SLEEP(5)",
    "a" * 65,
    "ob\u0458ect",          # Cyrillic je
    "\uff4fbject",          # fullwidth o
    "x\u00a0y",             # no-break space
    "9abc",
    "x$y",
    "../../etc/passwd",
]
# Valid names that are refused for what they name.
RESERVED_DB = ["mysql", "information_schema", "performance_schema", "sys", "qservMeta", "QSERVWORKER",
               "Subchunks_inj_5"]
RESERVED_TC = ["qserv_trans_id", "qservX"]
# Column types.
TYPES = [
    "INT); DROP TABLE x; --",
    "INT DEFAULT 'x' AND EXTRACTVALUE(1,CONCAT(0x7e,@@version))",
    "INT /*!50000 , evil INT*/",
    "INT, `evil` TEXT",
    "INT COMMENT 'x\\' OR 1",
    "DOUBLE DEFAULT @@version",
    "INT DEFAULT (SELECT 1)",
    "VARCHAR(99999999999999999999)",
    "INT\uff09",
    "INT # x",
    "INT AUTO_INCREMENT PRIMARY KEY",
    "x' AND EXTRACTVALUE(1,CONCAT(0x7e,@@version)) AND '",
]
URLS = INJECT + ["file:///x' OR 1=1", "http://h/x y", "ftp://h/x", "file:///a\\b", "javascript:alert(1)"]

FORBIDDEN = ["MariaDB", "SQL syntax", "@@", "mysql_", "EXTRACTVALUE", "DROP TABLE"]


def set_field(body, field, value):
    """field: "a" or "schema[0].name"."""
    b = copy.deepcopy(body)
    o = b
    parts = field.replace("]", "").split(".")
    for i, p in enumerate(parts):
        key, _, idx = p.partition("[")
        last = i == len(parts) - 1
        if idx:
            o = o[key][int(idx)]
            if last:
                raise ValueError(field)
        elif last:
            o[key] = value
        else:
            o = o[key]
    return b


# HTTPS with the cluster CA (the node certificates name no host: the CA is
# checked, not the name) and the admin key; set by main().
CRED = {"ctx": None, "key": None}


def request(method, url, body=None, data=None):
    if body is not None:
        data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if CRED["key"]:
        headers["Authorization"] = "Bearer " + CRED["key"]
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30, context=CRED["ctx"]) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class Sql:
    def __init__(self, sock):
        self.sock = sock

    def __call__(self, q):
        return subprocess.run(["mariadb", "--no-defaults", "-S", self.sock, "-uroot", "-N", "-B", "-e", q],
                              capture_output=True, text=True, check=True).stdout

    def state(self):
        """Checksums of qservMeta's and qservWorker's tables, the databases, mysql.user.
        qservWorker.contribs is left out: it records every contribution tried,
        the refused ones too (their status and error), by design."""
        tabs = self("SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES"
                    " WHERE TABLE_SCHEMA IN ('qservMeta', 'qservWorker', 'inj')"
                    " AND NOT (TABLE_SCHEMA = 'qservWorker' AND TABLE_NAME = 'contribs') ORDER BY 1").split()
        sums = self("CHECKSUM TABLE " + ", ".join(tabs) + " EXTENDED") if tabs else ""
        return (sums + self("SHOW DATABASES") + self("SELECT COUNT(*), GROUP_CONCAT(User) FROM mysql.user")
                + "tables:" + " ".join(tabs))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, diag=()):
        self.n += 1
        print(("ok %d - %s" if ok else "not ok %d - %s") % (self.n, name))
        if not ok:
            self.failed += 1
            for d in list(diag)[:6]:
                print("# " + d.replace("\n", "\\n")[:400])
        sys.stdout.flush()


def check_reply(status, text, payload, fields, version):
    """Why this reply is not a clean refusal naming one of fields, or None."""
    if not 400 <= status < 500:
        return "status %d" % status
    try:
        err = json.loads(text).get("error", "")
    except ValueError:
        return "reply is not JSON: %r" % text[:200]
    for f in FORBIDDEN + [version]:
        if f and f in text:
            return "reply contains %r: %s" % (f, err)
    if len(payload) >= 4 and (payload in text or json.dumps(payload)[1:-1] in text):
        return "reply echoes the payload: %s" % err
    if not any(f in err for f in fields):
        return "error does not name %s: %s" % (" or ".join(fields), err)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--controller", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--key-file")
    ap.add_argument("--ca")
    a = ap.parse_args()
    if a.ca:
        CRED["ctx"] = ssl.create_default_context(cafile=a.ca)
        CRED["ctx"].check_hostname = False
    if a.key_file:
        with open(a.key_file) as f:
            CRED["key"] = f.readline().strip()
    C, W, sql, tap = a.controller, a.worker, Sql(a.socket), Tap()
    version = sql("SELECT VERSION()").strip()

    # a valid catalog: database inj, director table Object, an open transaction, chunk 5
    schema = [{"name": "objectId", "type": "BIGINT NOT NULL"}, {"name": "ra", "type": "DOUBLE"},
              {"name": "decl", "type": "DOUBLE"}, {"name": "chunkId", "type": "INT"},
              {"name": "subChunkId", "type": "INT"}]
    setup = [
        request("POST", C + "/ingest/database", {"database": "inj", "num_stripes": 85, "num_sub_stripes": 12,
                                                 "overlap": 0.01667}),
        request("POST", C + "/ingest/table", {"database": "inj", "table": "Object", "is_partitioned": 1,
                                              "director_key": "objectId", "latitude_key": "decl",
                                              "longitude_key": "ra", "schema": schema}),
    ]
    st, t = request("POST", C + "/ingest/trans", {"database": "inj"})
    setup.append((st, t))
    tid = json.loads(t).get("transaction", {}).get("id", 0) if st == 200 else 0
    setup.append(request("POST", C + "/ingest/chunk", {"transaction_id": tid, "chunk": 5}))
    bad = [s for s in setup if s[0] != 200]
    tap.result(not bad and tid > 0, "setup: database, director table, transaction and chunk 5 registered",
               ["%d %s" % s for s in bad])
    before = sql.state()

    names = INJECT
    db_payloads = INJECT + RESERVED_DB
    tc_payloads = INJECT + RESERVED_TC
    table_body = {"database": "inj", "table": "Inj", "is_partitioned": 1, "director_key": "objectId",
                  "latitude_key": "decl", "longitude_key": "ra", "chunk_id_key": "chunkId",
                  "sub_chunk_id_key": "subChunkId", "schema": schema}
    wtable_body = {"database": "inj", "table": "WInj", "is_partitioned": 1, "is_director": 1,
                   "director_key": "objectId", "chunk_id_key": "chunkId", "sub_chunk_id_key": "subChunkId",
                   "schema": schema}
    index_body = {"database": "inj", "table": "Object", "index": "idx_ra", "spec": "DEFAULT", "comment": "c",
                  "columns": [{"column": "ra", "length": 0, "ascending": 1}]}
    file_body = {"transaction_id": tid, "table": "Object", "chunk": 5, "overlap": 0,
                 "url": "file:///nonexistent.txt"}

    # (name, method, base URL, body template or None, field, payloads, the field names the error may give)
    cases = []

    def body_case(base, path, body, field, payloads, names_=None, method="POST"):
        cases.append(("%s %s %s" % (method, path, field), method, base + path, body, field, payloads,
                      names_ or [field.split(" ")[0]]))

    def path_case(base, method, template, field, payloads, names_):
        cases.append(("%s %s" % (method, template), method, base + template, None, field,
                      [p for p in payloads if "/" not in p], names_))

    def query_case(base, method, template, field, payloads, names_, data=None):
        cases.append(("%s %s %s" % (method, template, field), method, base + template, data, "?" + field,
                      payloads, names_))

    # the controller
    body_case(C, "/ingest/database", {"database": "x", "num_stripes": 85, "num_sub_stripes": 12, "overlap": 0.01},
              "database", db_payloads)
    body_case(C, "/ingest/table", table_body, "database", db_payloads)
    body_case(C, "/ingest/table", table_body, "table", tc_payloads)
    for f in ("director_key", "latitude_key", "longitude_key", "chunk_id_key", "sub_chunk_id_key"):
        body_case(C, "/ingest/table", table_body, f, tc_payloads)
    body_case(C, "/ingest/table", dict(table_body, table="Child", director_table="Object"), "director_table",
              tc_payloads)
    body_case(C, "/ingest/table", dict(table_body, is_partitioned=0), "director_table", tc_payloads)
    body_case(C, "/ingest/table", dict(table_body, is_partitioned=0), "longitude_key", tc_payloads)
    body_case(C, "/ingest/table", table_body, "schema[0].name", tc_payloads)
    body_case(C, "/ingest/table", table_body, "schema[1].type", TYPES)
    path_case(C, "PUT", "/ingest/database/{}", "path", db_payloads, ["database"])
    path_case(C, "DELETE", "/ingest/database/{}", "path", db_payloads, ["database"])
    path_case(C, "DELETE", "/ingest/table/inj/{}", "path", tc_payloads, ["table"])
    path_case(C, "DELETE", "/ingest/table/{}/Object", "path", db_payloads, ["database"])
    body_case(C, "/ingest/trans", {"database": "inj"}, "database", db_payloads)
    query_case(C, "GET", "/ingest/trans?database={}", "database", db_payloads, ["database"])
    body_case(C, "/ingest/chunk", {"database": "inj", "chunk": 5}, "database", db_payloads)
    body_case(C, "/ingest/chunks", {"database": "inj", "chunks": [5]}, "database", db_payloads)
    body_case(C, "/ingest/index/secondary", {"database": "inj"}, "database", db_payloads)
    body_case(C, "/ingest/index/secondary", {"database": "inj", "director_table": "Object"}, "director_table",
              tc_payloads)
    for f in ("database", "table", "index", "columns[0].column"):
        body_case(C, "/replication/sql/index", index_body, f,
                  db_payloads if f == "database" else tc_payloads if f != "index" else names)
    path_case(C, "GET", "/ingest/rows/{}/Object", "path", db_payloads, ["database"])
    path_case(C, "GET", "/ingest/rows/inj/{}", "path", tc_payloads, ["table"])
    # worker ids may be worker-1 or 9abc, hosts any host name: only the payloads that are neither
    ids = [p for p in INJECT if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", p)]
    hosts = [p for p in INJECT if not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}", p)]
    body_case(C, "/meta/worker", {"id": "w9", "host": "127.0.0.1", "ingest_port": 1}, "id", ids)
    body_case(C, "/meta/worker", {"id": "w9", "host": "127.0.0.1", "ingest_port": 1}, "host", hosts)
    path_case(C, "DELETE", "/meta/worker/{}", "path", ids, ["id"])
    body_case(C, "/replication/level", {"level": 2, "database": "inj"}, "database", db_payloads, method="PUT")

    # the worker
    body_case(W, "/worker/database", {"database": "x"}, "database", db_payloads)
    path_case(W, "DELETE", "/worker/database/{}", "path", db_payloads, ["database"])
    for f in ("database", "table", "director_key", "chunk_id_key", "sub_chunk_id_key", "schema[0].name",
              "schema[1].type"):
        body_case(W, "/worker/table", wtable_body, f,
                  db_payloads if f == "database" else TYPES if f.endswith("type") else tc_payloads)
    path_case(W, "DELETE", "/worker/table/inj/{}", "path", tc_payloads, ["table"])
    path_case(W, "DELETE", "/worker/table/{}/Object", "path", db_payloads, ["database"])
    body_case(W, "/worker/chunk", {"database": "inj", "chunk": 6}, "database", db_payloads)
    body_case(W, "/worker/trans", {"database": "inj", "transaction_id": 990, "action": "begin"}, "database",
              db_payloads)
    body_case(W, "/worker/trans", {"database": "inj", "transaction_id": 990, "action": "begin"}, "action",
              INJECT)
    body_case(W, "/worker/publish", {"database": "inj"}, "database", db_payloads)
    for f in ("database", "table", "index", "columns[0].column"):
        body_case(W, "/worker/sqlindex", index_body, f,
                  db_payloads if f == "database" else tc_payloads if f != "index" else names)
    body_case(W, "/worker/subchunks", {"database": "inj", "table": "Object", "chunk": 5, "sub_chunks": [1]},
              "database", db_payloads)
    body_case(W, "/worker/subchunks", {"database": "inj", "table": "Object", "chunk": 5, "sub_chunks": [1]},
              "table", tc_payloads)
    path_case(W, "DELETE", "/worker/subchunks/{}/5", "path", db_payloads, ["database"])
    replica_body = {"database": "inj", "chunk": 5, "source_id": "worker-1", "source_url": "https://127.0.0.1:1"}
    body_case(W, "/worker/replica", replica_body, "database", db_payloads)
    body_case(W, "/worker/replica", replica_body, "source_id", ids)
    body_case(W, "/worker/replica", replica_body, "source_url", URLS + ["https://h/x", "https://u@h", "http://h:0"])
    query_case(W, "GET", "/replica/chunk?database={}&chunk=5", "database", db_payloads, ["database"])
    query_case(W, "GET", "/worker/index?database={}&table=Object", "database", db_payloads, ["database"])
    query_case(W, "GET", "/worker/index?database=inj&table={}", "table", tc_payloads, ["table"])
    query_case(W, "GET", "/worker/count?database={}&table=Object", "database", db_payloads, ["database"])
    query_case(W, "GET", "/worker/count?database=inj&table={}", "table", tc_payloads, ["table"])
    for f, p in (("table", tc_payloads), ("database", db_payloads), ("charset_name", INJECT), ("url", URLS)):
        body_case(W, "/ingest/file", file_body, f, p)
        body_case(W, "/ingest/file-async", file_body, f, p)
    for f in ("fields_terminated_by", "fields_enclosed_by", "fields_escaped_by", "lines_terminated_by"):
        body_case(W, "/ingest/file", file_body, f, INJECT + ["@@", "'\\", "\\x", "--"])
    csv = "/ingest/csv?transaction_id=%d&table=Object&chunk=5" % tid
    query_case(W, "POST", "/ingest/csv?transaction_id=%d&table={}&chunk=5" % tid, "table", tc_payloads,
               ["table"], data=b"1\t2\t3\t5\t1\n")
    query_case(W, "POST", csv + "&database={}", "database", db_payloads, ["database"], data=b"1\t2\t3\t5\t1\n")
    query_case(W, "POST", csv + "&charset_name={}", "charset_name", INJECT, ["charset_name"],
               data=b"1\t2\t3\t5\t1\n")

    for name, method, url, body, field, payloads, fields in cases:
        problems = []
        for p in payloads:
            if field == "path":
                u, b, d = url.format(urllib.parse.quote(p, safe="")), None, None
            elif field.startswith("?"):
                u, b, d = url.format(urllib.parse.quote(p, safe="")), None, body
            else:
                u, b, d = url, set_field(body, field.split(" ")[0], p), None
            st, text = request(method, u, b, d)
            why = check_reply(st, text, p, fields, version)
            if why:
                problems.append("%r: %s" % (p, why))
        tap.result(not problems, "%s: %d payloads refused naming %s, nothing leaked" %
                   (name, len(payloads), "/".join(fields)), problems)

    # the whole point: nothing changed, and both daemons still work
    after = sql.state()
    tap.result(before == after, "qservMeta, qservWorker and inj checksums, the databases and mysql.user"
               " are unchanged", [before, after] if before != after else [])
    st, t = request("GET", C + "/ingest/database")
    tap.result(st == 200 and '"inj"' in t, "the controller still serves GET /ingest/database", [t[:200]])
    st, t = request("POST", W + "/ingest/csv?transaction_id=%d&table=Object&chunk=5" % tid,
                    data=b"1\t10.0\t1.0\t5\t1\n")
    tap.result(st == 200 and json.loads(t).get("contrib", {}).get("num_rows") == 1,
               "the worker still loads a legitimate contribution", [t[:300]])
    st, t = request("PUT", C + "/ingest/trans/%d?abort=1" % tid)
    tap.result(st == 200, "and the transaction aborts cleanly", [t[:300]])
    # every family the grammar accepts, MariaDB accepts as the worker re-writes it
    good = ["TINYINT(1) UNSIGNED ZEROFILL", "SMALLINT SIGNED", "MEDIUMINT", "INT(11) NOT NULL DEFAULT 0",
            "INTEGER", "BIGINT UNSIGNED", "INT8", "BOOL DEFAULT TRUE", "BIT(64)", "DECIMAL(65,30)",
            "NUMERIC(5)", "FLOAT", "FLOAT(24)", "FLOAT(7,4)", "DOUBLE PRECISION", "REAL(10,2)",
            "DOUBLE DEFAULT -1.5e3", "DATE", "TIME(6)", "DATETIME(6)",
            "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)", "YEAR(4)", "CHAR(1) NOT NULL",
            "NATIONAL CHAR(3)", "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT ''",
            "CHARACTER VARYING(20)", "VARCHAR(10) BINARY", "BINARY(16)", "VARBINARY(255)", "TINYBLOB", "BLOB",
            "MEDIUMBLOB", "LONGBLOB", "TINYTEXT", "TEXT(1000)", "MEDIUMTEXT", "LONGTEXT CHARSET latin1",
            "ENUM('a','b','it''s') DEFAULT 'a'", "SET('x','y')", "JSON", "GEOMETRY", "POINT", "LINESTRING",
            "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "INET6",
            "INET4", "UUID", "INT NULL COMMENT 'the id'"]
    refused = []
    for i, ty in enumerate(good):
        st, t = request("POST", W + "/worker/table", {"database": "inj", "table": "Types%d" % i,
                                                      "is_partitioned": 0,
                                                      "schema": [{"name": "c", "type": ty}]})
        if st != 200:
            refused.append("%r: %d %s" % (ty, st, t[:200]))
    tap.result(not refused, "MariaDB creates a column of each of %d accepted types" % len(good), refused)
    # a statement MariaDB refuses (a row too large for MyISAM): a plain sentence for the client,
    # MariaDB's message in the worker's log
    st, t = request("POST", W + "/worker/table", {"database": "inj", "table": "TooWide", "is_partitioned": 0,
                                                  "schema": [{"name": "a", "type": "VARCHAR(65535)"},
                                                             {"name": "b", "type": "VARCHAR(65535)"}]})
    err = json.loads(t).get("error", "") if t.startswith("{") else t
    tap.result(st >= 500 and "cannot create table inj.TooWide: the database refused the statement" in err
               and not any(f in t for f in FORBIDDEN), "a refused statement: the reply says so plainly",
               ["%d %s" % (st, t[:300])])
    with open(a.tmp + "/worker.log", errors="replace") as f:
        log = f.read()
    tap.result("MariaDB error" in log and "TooWide" in log, "and the worker's log has MariaDB's message",
               [log[-300:]])
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
