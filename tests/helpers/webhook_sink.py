#!/usr/bin/env python3
"""A webhook receiver for Alertmanager tests, on 127.0.0.1 unless told.

usage: webhook_sink.py PORT_FILE LOG [ADDRESS]

ADDRESS: where to listen (127.0.0.1); the fleet test gives its bridge's
address, where its hosts' Alertmanager reaches it.

Listens on a free port (written to PORT_FILE atomically once listening)
and appends every POSTed JSON body to LOG as one line
{"received": <unix time>, "body": <the body>}, flushed at once. Answers
200 to every POST. Runs until killed.
"""
import http.server
import json
import os
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        line = json.dumps({"received": time.time(), "path": self.path,
                           "body": body})
        with open(self.server.log, "a") as f:
            f.write(line + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    port_file, log = sys.argv[1], sys.argv[2]
    addr = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    srv = http.server.HTTPServer((addr, 0), Handler)
    srv.log = log
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
