#!/usr/bin/env python3
"""Pages for tests/cli/test_phone.sh (tests/phone.py's test): two HTTP
listeners on 127.0.0.1, Python standard library only.

  A GET /          a page with no working script (strict CSP) and a form
                   that POSTs to /approve
  A POST /approve  303 to B /hop
  B GET /hop       303 to A /done
  A GET /done      the final page
  A GET /never     never answers (the connection stays open)
  A POST /gone     303 to a port nobody listens on

Every page is sent with Content-Security-Policy: default-src 'none'; the
first one carries an inline script that the policy must block. Each request
is one JSON line in --log (method, port role, path, body). The ports go to
--port-file ("A B GONE") once both listen. The server ends on SIGTERM, when
--parent-pid is gone, or after --lifetime seconds.
"""

import argparse
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time

CSP = "default-src 'none'"

FORM = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Approve</title></head>
<body><h1>Approve the login?</h1>
<p>alice on host1, service sudo</p>
<form method="post" action="/approve">
<input type="hidden" name="session" value="s123">
<button type="submit" id="approve" name="answer" value="yes">Approve</button>
<button type="submit" id="gone" formaction="/gone">Elsewhere</button>
</form>
<script>document.body.append("SCRIPT RAN")</script>
</body></html>
"""

DONE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Code</title></head>
<body><h1>Your code</h1><p id="code">482913</p>
<p>Type this code only at the terminal where you started this login.</p></body></html>
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--parent-pid", type=int, default=0)
    p.add_argument("--lifetime", type=float, default=300)
    a = p.parse_args()
    lock = threading.Lock()
    ports = {}
    hang = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        role = "?"

        def log_message(self, fmt, *args):
            pass

        def record(self, body=""):
            with lock, open(a.log, "a") as f:
                f.write(json.dumps({"method": self.command, "on": self.role,
                                    "path": self.path, "body": body}) + "\n")

        def send(self, status, body=b"", location=None):
            self.send_response(status)
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Cache-Control", "no-store")
            if location:
                self.send_header("Location", location)
            if body:
                self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.record()
            if self.role == "A" and self.path == "/":
                self.send(200, FORM.encode())
            elif self.role == "B" and self.path == "/hop":
                self.send(303, location="http://127.0.0.1:%d/done" % ports["A"])
            elif self.role == "A" and self.path == "/done":
                self.send(200, DONE.encode())
            elif self.role == "A" and self.path == "/never":
                hang.wait()
            else:
                self.send(404, b"<!DOCTYPE html><p>not found</p>")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(n, 4096)).decode("utf-8", "replace")
            self.record(body)
            if self.role == "A" and self.path == "/approve":
                self.send(303, location="http://127.0.0.1:%d/hop" % ports["B"])
            elif self.role == "A" and self.path == "/gone":
                self.send(303, location="http://127.0.0.1:%d/nobody" % ports["gone"])
            else:
                self.send(404, b"<!DOCTYPE html><p>not found</p>")

    # A port that was free a moment ago: connections to it are refused.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    ports["gone"] = probe.getsockname()[1]
    probe.close()
    servers = []
    for role in ("A", "B"):
        cls = type("Handler" + role, (Handler,), {"role": role})
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), cls)
        s.daemon_threads = True
        ports[role] = s.server_address[1]
        threading.Thread(target=s.serve_forever, daemon=True).start()
        servers.append(s)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d %d\n" % (ports["A"], ports["B"], ports["gone"]))
    os.rename(tmp, a.port_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    end = time.monotonic() + a.lifetime
    while not stop.wait(0.5):
        if time.monotonic() > end:
            break
        if a.parent_pid:
            try:
                os.kill(a.parent_pid, 0)
            except ProcessLookupError:
                break
    hang.set()
    for s in servers:
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
