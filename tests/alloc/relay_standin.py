#!/usr/bin/env python3
"""A relay stand-in for tests/alloc/alloc_relay.c: the same answers every time.

Usage: relay_standin.py CERT KEY SESSION ASSERTION_FILE
Serves HTTPS on 127.0.0.1 (an ephemeral port, printed as "port N" once
listening). POST /v1/sessions answers 201 with SESSION, a URL and 120 s;
POST /v1/sessions/SESSION/redeem answers 200 with the assertion read from
ASSERTION_FILE at that moment (the test re-signs it before it grows old);
anything else 404. A login under test makes thousands of exchanges, each with
another failed allocation, so no approval step is played here.
Stops when stdin reaches EOF (the test closes it or is gone), or after 1800 s."""

import http.server
import json
import ssl
import sys
import threading

CERT, KEY, SESSION, ASSERTION_FILE = sys.argv[1:5]


class Standin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: without this, the body waits
    # for the client's delayed ACK (40 ms) at every one of thousands of runs.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/v1/sessions":
            return self.answer(201, {"session": SESSION, "expires_in": 120,
                                     "url": "https://relay.example/a/ALLOCTEST"})
        if self.path == "/v1/sessions/%s/redeem" % SESSION:
            with open(ASSERTION_FILE) as f:
                return self.answer(200, {"assertion": f.read().strip()})
        return self.answer(404, {"error": "unknown"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client whose allocation failed hangs up mid-exchange: expected


def main():
    server = Server(("127.0.0.1", 0), Standin)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("port %d" % server.server_address[1], flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(1800)


main()
