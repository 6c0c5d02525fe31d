#!/usr/bin/env python3
"""fake_api.py: a controller and a worker in one plain-HTTP process, just
enough of the ingest API for `qservctl ingest` of a dataset (regular
tables; partitioned ones too: every chunk is placed on the one worker),
whose worker fails the first contributions as told:

  fake_api.py PORTFILE MODE N
    MODE 503:   the first N contributions get HTTP 503 with a non-JSON body
    MODE reset: the first N contributions get the connection closed unanswered
    MODE 400:   every contribution gets 400 {"success":0,"error":"..."}
    MODE ok:    no failure
Writes its port to PORTFILE; GET /fake/attempts answers the number of
contributions received, GET /fake/tables the tables registered, in order,
one per line.  Rows loaded = the records the worker was sent,
counted as lines (the test data has no escapes)."""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

MODE, FAILS = sys.argv[2], int(sys.argv[3])
state = {"attempts": 0, "rows": {}, "overlap": {}, "tables": []}


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, obj=None, text=None):
        body = (text if text is not None else json.dumps(obj)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if text is not None else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}") if n else {}

    def do_GET(self):
        p = urlparse(self.path).path
        if p == "/fake/attempts":
            return self.reply(200, text=str(state["attempts"]))
        if p == "/fake/tables":
            return self.reply(200, text="".join(t + "\n" for t in state["tables"]))
        if p == "/ingest/database":
            return self.reply(200, {"success": 1, "databases": []})
        if p == "/ingest/regular":
            return self.reply(200, {"success": 1, "locations": [
                {"worker": "fake-worker", "http_host": "127.0.0.1", "http_port": self.server.server_port}]})
        if p.startswith("/ingest/rows/"):
            t = p.split("/")[-1]
            n = state["rows"].get(t, 0)
            o = state["overlap"].get(t, 0)
            return self.reply(200, {"success": 1, "rows": n, "overlap_rows": o, "workers": {"fake-worker": n}})
        self.reply(404, {"success": 0, "error": "no route " + p})

    def do_POST(self):
        p = urlparse(self.path).path
        b = self.body()
        if p == "/ingest/table":
            state["tables"].append(b.get("table", "?"))
        if p in ("/ingest/database", "/ingest/table"):
            return self.reply(200, {"success": 1})
        if p == "/ingest/chunk":
            return self.reply(200, {"success": 1, "location": {
                "worker": "fake-worker", "http_host": "127.0.0.1", "http_port": self.server.server_port}})
        if p == "/ingest/trans":
            return self.reply(200, {"success": 1, "transaction": {"id": 7, "state": "STARTED"}})
        if p == "/ingest/file":
            state["attempts"] += 1
            if MODE == "400":
                return self.reply(400, {"success": 0, "error": "line 2: 2 fields, expected 3 (fake worker)"})
            if state["attempts"] <= FAILS and MODE == "503":
                return self.reply(503, text="Service Unavailable")
            if state["attempts"] <= FAILS and MODE == "reset":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            rows = sum(1 for _ in open(b["url"][len("file://"):], "rb"))
            key = "overlap" if b.get("overlap") else "rows"
            state[key][b["table"]] = state[key].get(b["table"], 0) + rows
            return self.reply(200, {"success": 1, "contrib": {"num_rows": rows, "num_bytes": 1}})
        self.reply(404, {"success": 0, "error": "no route " + p})

    def do_PUT(self):
        self.body()
        p = urlparse(self.path).path
        if p.startswith("/ingest/trans/"):
            return self.reply(200, {"success": 1, "transaction": {"id": 7, "state": "FINISHED"}})
        if p.startswith("/ingest/database/"):
            return self.reply(200, {"success": 1})
        self.reply(404, {"success": 0, "error": "no route " + p})


s = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_port))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
