#!/usr/bin/env python3
"""The relay side of tests/pam/pam_relay.c.

Usage: relay_helper.py RELAY_BINARY WORKDIR [SESSION_TTL]
Environment (tests/run.sh's pamenv): PK_MOCK_PORT, PK_MOCK_CA, and the mock's
certificate directory next to the CA (server.pem, server.key).

Starts a front on 127.0.0.1 (HTTPS with the mock's server certificate, so the
module's ca_file is the mock CA) and behind it a real kakao-pam-relay
(plain HTTP on loopback; its Kakao is the mock, its public_url the front's
URL, so the assertions' iss is the URL the module is configured with). The
front passes requests through (GET and POST, the relay's status, headers and
body, so a browser can walk the phone's pages through it), or, by mode, answers 500, answers only after
a delay, or answers every redeem with the assertion of an earlier session.
Prints "ready FRONT_PORT RELAY_KEY_PATH" once the relay logs that it listens
(never a sleep), then reads commands on stdin, one answer line each:
  approve URL        -> "code NNNNNN" (the phone: button, mock Kakao, code page)
  phone URL          -> "code NNNNNN": the same through headless Chromium
                        (tests/phone.py) opening URL at the front; the text
                        of the approval page goes to WORKDIR/phone-first.txt
  mode pass|500|slow -> "ok"
  replay HOST USER   -> "ok": a session approved and redeemed now; from then
                        on every redeem is answered with its assertion
EOF stops the relay and exits."""

import http.client
import http.server
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

RELAY, WORK = sys.argv[1], sys.argv[2]
SESSION_TTL = sys.argv[3] if len(sys.argv) > 3 else None
PHONE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "phone.py")
CODE_TEXT = "Type this code only at the terminal where you started this login"
# Not passed back by the front: it frames its answers itself.
HOP = ("connection", "content-length", "transfer-encoding", "date", "server", "keep-alive")
CA = os.environ["PK_MOCK_CA"]
CERTS = os.path.dirname(CA)
AUTH = "https://127.0.0.1:%s" % os.environ["PK_MOCK_PORT"]
CLIENT = "mockRelayKey_alice_0101"
state = {"mode": "pass", "assertion": None, "relay_port": None}


def relay_call(method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", state["relay_port"], timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hdrs = dict((k.lower(), v) for k, v in r.getheaders())
    c.close()
    return r.status, hdrs, data


class Front(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or {"content-type": "application/json"}).items():
            if k not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st, hdrs, data = relay_call("GET", self.path)
        self.answer(st, data, hdrs)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        mode = state["mode"]
        if mode == "500":
            return self.answer(500, b'{"error":"internal"}')
        if mode == "slow":
            time.sleep(8)
            return self.answer(500, b'{"error":"late"}')
        if mode == "replay" and self.path.endswith("/redeem"):
            return self.answer(200, json.dumps({"assertion": state["assertion"]}).encode())
        st, hdrs, data = relay_call("POST", self.path, body, {
            "Content-Type": self.headers.get("Content-Type", "application/json")})
        self.answer(st, data, hdrs)


def approve(url):
    short = url.rsplit("/", 1)[1]
    st, h, _ = relay_call("POST", "/a/" + short, body=b"")
    if st != 303:
        return "error button %d" % st
    u = urllib.parse.urlsplit(h["location"])
    ctx = ssl.create_default_context(cafile=CA)
    c = http.client.HTTPSConnection(u.hostname, u.port, timeout=30, context=ctx)
    c.request("GET", u.path + "?" + u.query)
    r = c.getresponse()
    r.read()
    back = r.getheader("Location", "")
    c.close()
    q = urllib.parse.urlencode(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query)))
    st, _, page = relay_call("GET", "/callback?" + q)
    m = re.search(r">\s*(\d{3}) ?(\d{3})\s*<", page.decode())
    if st != 200 or m is None:
        return "error callback %d" % st
    return "code " + m.group(1) + m.group(2)


def phone(url):
    """headless Chromium opens url (the front, or the mock Kakao it is sent
    to: both carry the mock CA's certificates), presses the button, and the
    code is read from the page it ends on."""
    scratch = os.path.join(WORK, "phone.tmp")
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    p = subprocess.run([sys.executable, PHONE, "open", url, "--ignore-certificate-errors",
                        "--first-screenshot", os.path.join(WORK, "phone-first.png"),
                        "--click", "form[method=post] button[type=submit]",
                        "--wait-text", CODE_TEXT, "--timeout", "90"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=150,
                       env=dict(os.environ, TMPDIR=scratch))
    if p.returncode != 0:
        return "error phone %d %s" % (p.returncode, p.stderr.strip().replace("\n", " "))
    o = json.loads(p.stdout)
    with open(os.path.join(WORK, "phone-first.txt"), "w") as f:
        f.write(o.get("first", {}).get("text", ""))
    m = re.search(r"\n(\d{3}) ?(\d{3})\n", o.get("text", ""))
    if m is None:
        return "error phone no code on the page"
    return "code " + m.group(1) + m.group(2)


def replay(host, user):
    st, _, data = relay_call("POST", "/v1/sessions", json.dumps(
        {"user": user, "service": "pk_relay", "host": host, "rhost": ""}).encode(),
        {"Content-Type": "application/json"})
    b = json.loads(data)
    code = approve(b["url"]).split()[-1]
    st, _, data = relay_call("POST", "/v1/sessions/%s/redeem" % b["session"],
                             json.dumps({"code": code}).encode(),
                             {"Content-Type": "application/json"})
    if st != 200:
        return "error redeem %d" % st
    state["assertion"] = json.loads(data)["assertion"]
    state["mode"] = "replay"
    return "ok"


def main():
    os.makedirs(WORK, mode=0o700, exist_ok=True)
    key, pub = os.path.join(WORK, "signing.pem"), os.path.join(WORK, "relay.pub.pem")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                    key], check=True, capture_output=True)
    os.chmod(key, 0o600)
    subprocess.run(["openssl", "ec", "-in", key, "-pubout", "-out", pub], check=True,
                   capture_output=True)
    os.chmod(pub, 0o644)
    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    front.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
    front.socket = ctx.wrap_socket(front.socket, server_side=True)
    port = front.server_address[1]
    conf = os.path.join(WORK, "relay.conf")
    with open(conf, "w") as f:
        f.write("listen = 127.0.0.1:0\npublic_url = https://127.0.0.1:%d\n"
                "kakao_rest_api_key = %s\nkakao_auth_url = %s\nca_file = %s\n"
                "signing_key = %s\n" % (port, CLIENT, AUTH, CA, key))
        if SESSION_TTL is not None:
            f.write("session_ttl = %s\n" % SESSION_TTL)
    os.chmod(conf, 0o600)
    proc = subprocess.Popen([RELAY, "--config", conf], stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            state["relay_port"] = int(m.group(1))
            break
    if state["relay_port"] is None:
        print("error relay did not start", flush=True)
        sys.exit(1)
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    threading.Thread(target=front.serve_forever, daemon=True).start()
    print("ready %d %s" % (port, pub), flush=True)
    for line in sys.stdin:
        words = line.split()
        try:
            if words[0] == "approve":
                out = approve(words[1])
            elif words[0] == "phone":
                out = phone(words[1])
            elif words[0] == "mode":
                state["mode"] = words[1]
                out = "ok"
            elif words[0] == "replay":
                out = replay(words[1], words[2])
            else:
                out = "error unknown command"
        except Exception as e:  # the test reads the reason
            out = "error %s" % str(e).replace("\n", " ")
        print(out, flush=True)
    proc.terminate()
    proc.wait(30)


main()
