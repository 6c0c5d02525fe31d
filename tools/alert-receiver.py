#!/usr/bin/python3
"""alert-receiver.py: a local stand-in for the alert sinks (a JSON webhook,
Slack's incoming webhook, Sentry's envelope API) for tests: listens on
ADDR:PORT (ADDR 127.0.0.1 unless given; PORT 0: a free port, printed on
stdout as its first line) and appends every POST as one JSON line
{path, headers, body} to LOG.

  alert-receiver.py PORT LOG [ADDR]"""
import http.server, json, sys


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


s = http.server.ThreadingHTTPServer((sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1", int(sys.argv[1])), H)
print(s.server_address[1], flush=True)
s.serve_forever()
