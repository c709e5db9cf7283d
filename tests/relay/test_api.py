#!/usr/bin/env python3
"""kakao-pam-relay's HTTP API, end to end against the real binary.

Usage: test_api.py RELAY_BINARY WORKDIR [valgrind]
With RELAY_STORE_REDIS=1 every relay keeps its sessions in a real
redis-server (tests/relay/redis_fixture.py: a unix socket in WORKDIR,
flushed before each relay starts) and every check name says "(redis store)".
Starts the relay on 127.0.0.1 with an ephemeral port (listen = 127.0.0.1:0;
the port is read from its start-up log line, never guessed or slept for).
Prints one PASS:/FAIL: line per check and exits 1 if any failed. Every check
asserts the exact status and JSON, and where the relay logs an event, its
exact log line.

The Kakao side: RELAY_KAKAO_AUTH_URL and RELAY_KAKAO_CA (tests/run.sh passes
the mock Kakao's) become kakao_auth_url and ca_file. A relay built with the
stand-in leg (relay/stub_leg.c: its authorize URL says code_challenge=stub)
takes the code "ok" as RELAY_KAKAO_ID; with the real leg the authorize URL
is opened at the mock, whose redirect back carries the code and state."""

import atexit
import base64
import http.client
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

RELAY = sys.argv[1]
WORK = sys.argv[2]
VALGRIND = len(sys.argv) > 3 and sys.argv[3] == "valgrind"
PUBLIC = "https://login.example.com"
AUTH = os.environ.get("RELAY_KAKAO_AUTH_URL") or "https://kauth.test.invalid"
AUTH_CA = os.environ.get("RELAY_KAKAO_CA", "")
KAKAO_ID = os.environ.get("RELAY_KAKAO_ID", "3095134389")
# The mock Kakao's relay client that approves as alice (tests/mock/README.md).
CLIENT = os.environ.get("RELAY_KAKAO_CLIENT_ID", "mockRelayKey_alice_0101")
# The Redis store (RELAY_STORE_REDIS=1): the server, started by main().
REDIS = None
TAG = "(redis store) " if os.environ.get("RELAY_STORE_REDIS") == "1" else ""
failures = 0
RELAYS = []  # every relay started, so none outlives the test (or holds its pipes)


@atexit.register
def kill_leftovers():
    for proc in RELAYS:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def result(name, ok, detail=""):
    global failures
    if ok:
        print("PASS: relay " + TAG + name, flush=True)
    else:
        failures += 1
        print("FAIL: relay %s%s%s" % (TAG, name, (": " + detail) if detail else ""), flush=True)


def write(path, text, mode):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Relay:
    """One relay process; its stderr lines are collected as they come."""

    def __init__(self, name, extra="", expect_start=True, conf_mode=0o600, scheme="http"):
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.conf = os.path.join(self.dir, "relay.conf")
        text = ("listen = 127.0.0.1:0\npublic_url = %s\nkakao_rest_api_key = %s\n"
                "kakao_auth_url = %s\nsigning_key = %s\n" % (PUBLIC, CLIENT, AUTH, KEY))
        if AUTH_CA:
            text += "ca_file = %s\n" % AUTH_CA
        if REDIS is not None and "store =" not in extra:
            REDIS.command("FLUSHALL")
            text += "store = %s\n" % REDIS.url()
        write(self.conf, text + extra, conf_mode)
        cmd = [RELAY, "--config", self.conf]
        if VALGRIND:
            cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                   "--show-leak-kinds=definite,indirect",
                   "--errors-for-leak-kinds=definite,indirect"] + cmd
        self.lines = []
        self.cond = threading.Condition()
        # An ssl.SSLContext for request() when the relay speaks HTTPS.
        self.tls_context = None
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        RELAYS.append(self.proc)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.port = None
        if expect_start:
            line = self.wait_line(r"listening on 127\.0\.0\.1:(\d+) \(%s\)" % scheme, 60)
            if line is None:
                raise RuntimeError("relay did not start: " + "\n".join(self.lines))
            self.port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)
            self.cond.notify_all()

    def wait_line(self, pattern, timeout=10, start=0):
        """The first log line from index start matching pattern, waiting for it."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if line is not None and rx.search(line):
                        return line
                if None in self.lines or time.monotonic() >= end:
                    return None
                self.cond.wait(end - time.monotonic())

    def wait_index(self, pattern, timeout=30, start=0):
        """(index after the line, line) for the first line from start
        matching pattern, waiting for it; (start, None) if none came."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    line = self.lines[i]
                    if line is not None and rx.search(line):
                        return i + 1, line
                if None in self.lines or time.monotonic() >= end:
                    return start, None
                self.cond.wait(end - time.monotonic())

    def mark(self):
        with self.cond:
            return len(self.lines)

    def log(self):
        with self.cond:
            return [l for l in self.lines if l is not None]

    def request(self, method, path, body=None, headers=None):
        if self.tls_context is not None:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                            context=self.tls_context)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def json(self, method, path, body=None, headers=None):
        st, h, data = self.request(method, path, body, headers)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, data

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(5)
        return rc


def create(r, user="alice", service="sshd", host="bastion", rhost="203.0.113.5", headers=None):
    return r.json("POST", "/v1/sessions",
                  {"user": user, "service": service, "host": host, "rhost": rhost}, headers)


# The 6 digits as the whole text of one element ("481 205" or "481205"):
# not a number inside a style sheet or a time-left line.
CODE_RE = re.compile(r">\s*(\d{3}) ?(\d{3})\s*<")


def code_of(page):
    m = CODE_RE.search(page.decode())
    return m.group(1) + m.group(2) if m else None


def short_of(url):
    return url.rsplit("/", 1)[1]


def kakao_answer(loc, code):
    """The query Kakao sends back to /callback for the authorize URL loc:
    with the stand-in leg, code ("ok" approves) and the state; with the real
    leg, what the mock's authorize endpoint redirects to (code is then only
    used when it is not "ok": a code Kakao never issued)."""
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["state"][0]
    if "code_challenge=stub" in loc or code != "ok":
        return {"code": code, "state": state}
    import ssl
    u = urllib.parse.urlsplit(loc)
    ctx = ssl.create_default_context(cafile=AUTH_CA or None)
    c = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=30, context=ctx)
    c.request("GET", u.path + "?" + u.query)
    resp = c.getresponse()
    resp.read()
    back = resp.getheader("Location", "")
    c.close()
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))


def approve(r, short, code="ok"):
    """Presses the button and completes the (stub or mock) Kakao login:
    returns (status of the callback, the 6-digit code or None, Location)."""
    st, h, _ = r.request("POST", "/a/" + short, body="")
    if st != 303:
        return st, None, None
    loc = h.get("location", "")
    st, _, page = r.request("GET", "/callback?" + urllib.parse.urlencode(
        kakao_answer(loc, code)))
    return st, code_of(page) if st == 200 else None, loc


def redeem(r, s, code):
    return r.json("POST", "/v1/sessions/%s/redeem" % s, {"code": code})


def b64d(seg):
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def verify_with_openssl(token, name):
    """Verifies the ES256 signature with openssl only: r||s -> DER."""
    h, p, s = token.split(".")
    raw = b64d(s)
    if len(raw) != 64:
        return False
    seq = der_int(raw[:32]) + der_int(raw[32:])
    der = b"\x30" + bytes([len(seq)]) + seq
    d = os.path.join(WORK, "verify-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input"), "wb") as f:
        f.write((h + "." + p).encode())
    with open(os.path.join(d, "sig"), "wb") as f:
        f.write(der)
    out = subprocess.run(["openssl", "dgst", "-sha256", "-verify", PUB, "-signature",
                          os.path.join(d, "sig"), os.path.join(d, "input")],
                         capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.strip() == "Verified OK"


def test_create_and_validation(r):
    m = r.mark()
    st, b = create(r)
    ok = (st == 201 and set(b) == {"session", "url", "expires_in"} and
          re.fullmatch(r"[A-Za-z0-9_-]{43}", b["session"]) is not None and
          len(b64d(b["session"])) == 32 and
          re.fullmatch(re.escape(PUBLIC) + r"/a/[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{11}",
                       b["url"]) is not None and b["expires_in"] == 120)
    result("create: 201 {session (256 bits base64url), url, expires_in}", ok, repr((st, b)))
    line = r.wait_line(r"session created", 30, m)
    result("create: log line", line is not None and re.fullmatch(
        r"kakao-pam-relay: session created tag=[0-9a-f]{8} user=alice host=bastion "
        r"service=sshd rhost=203\.0\.113\.5 client=127\.0\.0\.1", line) is not None, repr(line))
    result("create: session id not in the url", b["session"] not in b["url"])
    st, b2 = create(r, rhost="")
    result("create: empty rhost accepted", st == 201, repr((st, b2)))
    bad = [
        ("not JSON", "{", "body is not JSON"),
        ("JSON array", "[]", "body is not a JSON object"),
        ("duplicate key", '{"user":"a","user":"b","service":"s","host":"h"}',
         "body is not JSON"),
        ("unknown field", {"user": "a", "service": "s", "host": "h", "x": 1}, "unknown field"),
        ("missing user", {"service": "s", "host": "h"}, "missing field"),
        ("missing host", {"user": "a", "service": "s"}, "missing field"),
        ("user not a string", {"user": 5, "service": "s", "host": "h"},
         "a field is not a string"),
        ("empty user", {"user": "", "service": "s", "host": "h"},
         "a field is empty or too long"),
        ("user 33 bytes", {"user": "a" * 33, "service": "s", "host": "h"},
         "a field is empty or too long"),
        ("service 65 bytes", {"user": "a", "service": "s" * 65, "host": "h"},
         "a field is empty or too long"),
        ("host 256 bytes", {"user": "a", "service": "s", "host": "h" * 256},
         "a field is empty or too long"),
        ("rhost 256 bytes", {"user": "a", "service": "s", "host": "h", "rhost": "r" * 256},
         "a field is empty or too long"),
        ("user with a control byte", {"user": "a\nb", "service": "s", "host": "h"},
         "a field has bytes outside printable ASCII"),
        ("host not ASCII", {"user": "a", "service": "s", "host": "h\u00e9"},
         "a field has bytes outside printable ASCII"),
        ("user with NUL (jansson refuses \\u0000)",
         {"user": "a\u0000b", "service": "s", "host": "h"}, "body is not JSON"),
    ]
    # Each case's line is looked for after the previous case's line (not
    # after a mark taken when the request was sent: the reader thread may
    # see a line after its answer came back).
    m = r.mark()
    for name, body, reason in bad:
        st, b = r.json("POST", "/v1/sessions", body)
        want = {"error": "bad_request", "reason": reason}
        m, line = r.wait_index(r"bad request", 30, m)
        result("create 400: " + name, st == 400 and b == want and line ==
               "kakao-pam-relay: bad request from client=127.0.0.1: " + reason,
               repr((st, b, line)))
    ok = all(l.find(b2["session"]) < 0 for l in r.log())
    result("create: maximal fields accepted",
           create(r, user="u" * 32, service="s" * 64, host="h" * 255, rhost="r" * 255)[0] == 201)
    result("log: no session id in any line", ok)


def test_flow(r):
    st, b = create(r, service="sudo")
    s, short = b["session"], short_of(b["url"])
    st, h, page = r.request("GET", "/a/" + short)
    hdr_ok = (h.get("content-security-policy") ==
              "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' " + AUTH and
              h.get("x-frame-options") == "DENY" and h.get("cache-control") == "no-store" and
              h.get("referrer-policy") == "no-referrer")
    result("GET /a/{short}: 200 approval page with the security headers",
           st == 200 and hdr_ok and b"alice" in page and b"bastion" in page, repr((st, h)))
    st2, b2 = redeem(r, s, "000000")
    result("redeem before approval: 409 not_approved", (st2, b2) == (409, {"error":
                                                                          "not_approved"}))
    m = r.mark()
    st, h, _ = r.request("POST", "/a/" + short, body="")
    loc = h.get("location", "")
    u = urllib.parse.urlsplit(loc)
    q = urllib.parse.parse_qs(u.query)
    ok = (st == 303 and loc.startswith(AUTH + "/oauth/authorize?") and
          q.get("response_type") == ["code"] and q.get("client_id") == [CLIENT] and
          q.get("redirect_uri") == [PUBLIC + "/callback"] and q.get("scope") == ["openid"] and
          q.get("prompt") == ["login"] and s not in loc)
    result("POST /a/{short}: 303 to Kakao's authorize URL (prompt=login for sudo, no S)",
           ok, repr((st, loc)))
    line = r.wait_line(r"kakao login started", 30, m)
    result("POST /a/{short}: log line", line is not None and re.fullmatch(
        r"kakao-pam-relay: kakao login started tag=[0-9a-f]{8} prompt_login=yes "
        r"client=127\.0\.0\.1", line) is not None, repr(line))
    state = q["state"][0]
    answer = kakao_answer(loc, "ok")
    m = r.mark()
    st, h, page = r.request("GET", "/callback?" + urllib.parse.urlencode(answer))
    code = code_of(page)
    result("GET /callback: 200 code page with the security headers",
           st == 200 and code is not None and h.get("x-frame-options") == "DENY" and
           h.get("cache-control") == "no-store", repr(st))
    line = r.wait_line(r"approved tag", 30, m)
    result("GET /callback: log line", line is not None and re.fullmatch(
        r"kakao-pam-relay: approved tag=[0-9a-f]{8} kakao_id=%s client=127\.0\.0\.1" % KAKAO_ID,
        line) is not None, repr(line))
    st, h, page = r.request("GET", "/a/" + short)
    result("GET /a/{short} after approval: 410, code not shown again",
           st == 410 and code.encode() not in page and
           (code[:3] + " " + code[3:]).encode() not in page, repr(st))
    st, h, page = r.request("GET", "/callback?" + urllib.parse.urlencode(answer))
    result("replayed callback (state single-use): 400, no code", st == 400 and
           code_of(page) is None, repr(st))
    m = r.mark()
    t0 = int(time.time())
    st, b = redeem(r, s, code)
    t1 = int(time.time())
    ok = st == 200 and set(b) == {"assertion"}
    result("redeem right code: 200 {assertion}", ok, repr((st, b)))
    line = r.wait_line(r"redeemed tag", 30, m)
    result("redeem: log line", line is not None and re.fullmatch(
        r"kakao-pam-relay: redeemed tag=[0-9a-f]{8} kakao_id=%s user=alice host=bastion "
        r"client=127\.0\.0\.1" % KAKAO_ID, line) is not None, repr(line))
    if ok:
        a = b["assertion"]
        hdr = json.loads(b64d(a.split(".")[0]))
        cl = json.loads(b64d(a.split(".")[1]))
        result("assertion: header exactly {alg ES256, typ kakao-pam-login+jwt}",
               hdr == {"alg": "ES256", "typ": "kakao-pam-login+jwt"}, repr(hdr))
        result("assertion: claims iss aud nonce kakao_id iat exp auth_time jti",
               set(cl) == {"iss", "aud", "nonce", "kakao_id", "iat", "exp", "auth_time", "jti"}
               and cl["iss"] == PUBLIC and cl["aud"] == "bastion" and cl["nonce"] == s and
               cl["kakao_id"] == int(KAKAO_ID) and t0 <= cl["iat"] <= t1 and
               cl["exp"] == cl["iat"] + 60 and cl["auth_time"] <= cl["iat"] and
               isinstance(cl["jti"], str) and len(cl["jti"]) >= 16, repr(cl))
        result("assertion: ES256 signature verified by openssl with the public key",
               verify_with_openssl(a, "flow"))
        result("assertion: a flipped signature bit fails openssl",
               not verify_with_openssl(a[:-2] + ("A" if a[-2] != "A" else "B") + a[-1], "bad"))
    st, b = redeem(r, s, code)
    result("redeem twice: 410 used", (st, b) == (410, {"error": "used"}), repr((st, b)))
    ok = all(code not in l and s not in l and state not in l for l in r.log())
    result("log: no code, session id or state in any line", ok)


def test_wrong_codes(r):
    st, b = create(r)
    s = b["session"]
    for _ in range(2):
        st2, b2 = redeem(r, s, "123456")
    result("not_approved twice: 409 each", (st2, b2) == (409, {"error": "not_approved"}))
    st, code, _ = approve(r, short_of(b["url"]))
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    got = []
    m = r.mark()
    for _ in range(3):
        got.append(redeem(r, s, wrong))
    want = [(403, {"error": "wrong_code", "attempts_left": n}) for n in (2, 1, 0)]
    result("wrong code: 403 attempts_left 2, 1, 0 (not_approved used none)", got == want,
           repr(got))
    line = r.wait_line(r"attempts_left=0", 30, m)
    result("wrong code: log line", line is not None and re.fullmatch(
        r"kakao-pam-relay: redeem refused tag=[0-9a-f]{8}: wrong_code \(attempts_left=0\)",
        line) is not None, repr(line))
    result("after the last wrong code the right one: 410 used",
           redeem(r, s, code) == (410, {"error": "used"}))
    st, b = create(r)
    st, code, _ = approve(r, short_of(b["url"]))
    st, body = r.json("POST", "/v1/sessions/%s/redeem" % b["session"], {"code": "12345"})
    result("redeem 400: 5 digits", (st, body) == (400, {"error": "bad_request", "reason":
                                                        "code must be a string of 6 digits"}))
    st, body = r.json("POST", "/v1/sessions/%s/redeem" % b["session"], {"code": 123456})
    result("redeem 400: code a number", st == 400 and body["reason"] ==
           "code must be a string of 6 digits")
    st, body = r.json("POST", "/v1/sessions/%s/redeem" % b["session"], "{")
    result("redeem 400: malformed JSON", (st, body) == (400, {"error": "bad_request",
                                                              "reason": "body is not JSON"}))
    result("bad requests used no attempt", redeem(r, b["session"], code)[0] == 200)


def test_unknown(r):
    fake = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    m = r.mark()
    st, b = redeem(r, fake, "123456")
    result("redeem unknown session: 404 unknown", (st, b) == (404, {"error": "unknown"}))
    line = r.wait_line(r"redeem refused tag=[0-9a-f]{8}: unknown", 30, m)
    result("redeem unknown: log line (tag only)", line is not None and re.fullmatch(
        r"kakao-pam-relay: redeem refused tag=[0-9a-f]{8}: unknown", line) is not None and
        fake not in line, repr(line))
    result("redeem malformed session id: 404 unknown",
           redeem(r, "short", "123456") == (404, {"error": "unknown"}))
    st, h, _ = r.request("GET", "/a/ZZZZZZZZZZZ")
    result("GET /a/{unknown}: 404 page", st == 404 and h.get("x-frame-options") == "DENY")
    st, h, _ = r.request("GET", "/callback?code=ok&state=nosuchstate")
    result("callback with unknown state: 400 page", st == 400)
    st, h, _ = r.request("GET", "/callback?code=ok")
    result("callback without state: 400 page", st == 400)
    st, h, _ = r.request("GET", "/callback?code=ok&state=a&state=b")
    result("callback with state twice: 400 page", st == 400)
    st, b = r.json("GET", "/nowhere")
    result("unknown path: 404 not_found", (st, b) == (404, {"error": "not_found"}))
    st, b = r.json("GET", "/v1/sessions")
    result("GET /v1/sessions: 405", (st, b) == (405, {"error": "method_not_allowed"}))


def test_denied(r):
    st, b = create(r)
    short = short_of(b["url"])
    st, h, _ = r.request("POST", "/a/" + short, body="")
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(h["location"]).query)["state"][0]
    m = r.mark()
    st, h, page = r.request("GET", "/callback?" + urllib.parse.urlencode(
        {"error": "access_denied", "state": state}))
    line = r.wait_line(r"denied at kakao", 30, m)
    result("callback error=access_denied: 403 page, log line",
           st == 403 and line is not None and re.fullmatch(
               r"kakao-pam-relay: login denied at kakao tag=[0-9a-f]{8}: error=access_denied",
               line) is not None, repr((st, line)))
    result("denied: nothing approved (redeem 409)",
           redeem(r, b["session"], "123456") == (409, {"error": "not_approved"}))
    st, code, _ = approve(r, short, code="deny")
    result("kakao refuses the code: 403 page, nothing approved", st == 403 and
           redeem(r, b["session"], "123456") == (409, {"error": "not_approved"}))
    st, code, _ = approve(r, short)
    result("approve after a refusal works", st == 200 and
           redeem(r, b["session"], code)[0] == 200)


def test_race(r):
    wins = []
    for i in range(10):
        st, b = create(r)
        st, code, _ = approve(r, short_of(b["url"]))
        res = [None, None]
        go = threading.Barrier(2)

        def one(k):
            go.wait()
            res[k] = redeem(r, b["session"], code)
        ts = [threading.Thread(target=one, args=(k,)) for k in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wins.append(sorted(x[0] for x in res))
    result("two redeems racing, 10 times: exactly one 200, the other 410 used",
           all(w == [200, 410] for w in wins), repr(wins))


def test_bodies(r):
    st, b = r.json("POST", "/v1/sessions", "x" * 5000)
    result("body of 5000 bytes: 413 too_large", (st, b) == (413, {"error": "too_large"}))
    c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=30)
    c.putrequest("POST", "/v1/sessions")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for _ in range(5):
        c.send(b"400\r\n" + b"y" * 1024 + b"\r\n")
    c.send(b"0\r\n\r\n")
    resp = c.getresponse()
    body = resp.read()
    c.close()
    result("chunked body over 4 KiB: 413 too_large",
           (resp.status, body) == (413, b'{"error":"too_large"}'), repr((resp.status, body)))
    st, b = create(r)
    result("a 4 KiB-capped body is still served after that", st == 201)


def test_health_metrics(r):
    st, h, body = r.request("GET", "/healthz")
    result("GET /healthz: 200 ok", (st, body) == (200, b"ok\n"))
    st, h, body = r.request("GET", "/metrics")
    text = body.decode()
    names = ["kakao_pam_relay_sessions_created_total", "kakao_pam_relay_approvals_total",
             'kakao_pam_relay_redeems_total{result="ok"}',
             'kakao_pam_relay_redeems_total{result="wrong_code"}',
             'kakao_pam_relay_redeems_total{result="not_approved"}',
             'kakao_pam_relay_redeems_total{result="expired"}',
             'kakao_pam_relay_redeems_total{result="used"}',
             'kakao_pam_relay_redeems_total{result="unknown"}',
             "kakao_pam_relay_store_errors_total",
             'kakao_pam_relay_request_duration_seconds_bucket{le="+Inf"}',
             "kakao_pam_relay_request_duration_seconds_sum",
             "kakao_pam_relay_request_duration_seconds_count"]
    vals = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    missing = [n for n in names if n not in vals]
    result("GET /metrics: every name", st == 200 and not missing and
           "# TYPE kakao_pam_relay_request_duration_seconds histogram" in text, repr(missing))
    result("GET /metrics: counts add up", vals.get("kakao_pam_relay_sessions_created_total", 0)
           > 0 and vals.get('kakao_pam_relay_redeems_total{result="ok"}', 0) > 0 and
           vals.get('kakao_pam_relay_request_duration_seconds_bucket{le="+Inf"}') ==
           vals.get("kakao_pam_relay_request_duration_seconds_count"), repr(vals))


def test_slowloris(r):
    m = r.mark()
    s = socket.create_connection(("127.0.0.1", r.port))
    msg = b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
    t0 = time.monotonic()
    dropped_at = None
    lat = []
    i = 0
    s.settimeout(1.0)
    while time.monotonic() - t0 < 20:
        try:
            s.send(msg[i % len(msg):i % len(msg) + 1])
        except OSError:
            dropped_at = time.monotonic() - t0
            break
        i += 1
        try:
            if s.recv(1) == b"":
                dropped_at = time.monotonic() - t0
                break
        except socket.timeout:
            pass
        except OSError:
            dropped_at = time.monotonic() - t0
            break
        if i in (3, 6):
            a = time.monotonic()
            st, _, _ = r.request("GET", "/healthz")
            lat.append((st, time.monotonic() - a))
    s.close()
    result("slowloris: a client sending 1 byte/s is dropped at about 10 s",
           dropped_at is not None and 9 <= dropped_at <= 13, repr(dropped_at))
    result("slowloris: another client is served meanwhile, quickly",
           len(lat) == 2 and all(x[0] == 200 and x[1] < 2 for x in lat), repr(lat))
    line = r.wait_line(r"slow client dropped", 30, m)
    result("slowloris: log line", line == "kakao-pam-relay: slow client dropped: "
           "client=127.0.0.1 (no whole request within 10 s)", repr(line))


def same_minute(f):
    """Runs f until it ran within one wall-clock minute (the rate window)."""
    for _ in range(3):
        before = int(time.time()) // 60
        out = f()
        if int(time.time()) // 60 == before:
            return out
    return out


def test_limits():
    r = Relay("max", "max_sessions = 3\n")
    m = r.mark()
    got = [create(r)[0] for _ in range(4)]
    st, b = create(r)
    line = r.wait_line(r"max_sessions", 30, m)
    result("max_sessions = 3: the 4th is 503 busy", got == [201, 201, 201, 503] and
           (st, b) == (503, {"error": "busy"}) and line ==
           "kakao-pam-relay: warning: session refused for client=127.0.0.1: max_sessions (3) "
           "held", repr((got, line)))
    result("max_sessions relay exits 0 on SIGTERM", r.stop() == 0)

    r = Relay("rate", "rate_limit = 2\n")
    m = r.mark()
    got = same_minute(lambda: [create(r, headers={"X-Forwarded-For": "198.51.100.%d" % i})
                               for i in range(3)])
    line = r.wait_line(r"rate_limit", 30, m)
    result("rate_limit = 2: the 3rd is 429 (X-Forwarded-For ignored from an untrusted peer)",
           [g[0] for g in got] == [201, 201, 429] and got[2][1] == {"error": "rate_limited"}
           and line == "kakao-pam-relay: warning: session refused for client=127.0.0.1: "
           "rate_limit (2 a minute)", repr((got, line)))
    r.stop()

    r = Relay("proxy", "rate_limit = 2\ntrusted_proxies = 127.0.0.1, ::1\n")
    m = r.mark()

    def run():
        a = [create(r, headers={"X-Forwarded-For": "198.51.100.7, 192.0.2.%d" % i})[0]
             for i in range(1, 4)]
        b = [create(r, headers={"X-Forwarded-For": "192.0.2.99"})[0] for _ in range(3)]
        return a, b
    a, b = same_minute(run)
    line = r.wait_line(r"client=192\.0\.2\.99: rate_limit", 30, m)
    result("trusted proxy: each X-Forwarded-For client has its own limit", a == [201] * 3 and
           b == [201, 201, 429] and line is not None, repr((a, b)))

    # A proxy that adds its own X-Forwarded-For line (HAProxy's forwardfor)
    # after the one the client sent: the lines are one list, read from the
    # right, so the client cannot name its own address.
    def two_lines(i):
        c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=30)
        body = json.dumps({"user": "alice", "service": "sshd", "host": "bastion",
                           "rhost": ""}).encode()
        c.putrequest("POST", "/v1/sessions")
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", str(len(body)))
        c.putheader("X-Forwarded-For", "203.0.113.%d" % i)
        c.putheader("X-Forwarded-For", "192.0.2.50")
        c.endheaders(body)
        st = c.getresponse().status
        c.close()
        return st
    m = r.mark()
    got = same_minute(lambda: [two_lines(i) for i in range(1, 4)])
    line = r.wait_line(r"client=192\.0\.2\.50: rate_limit", 30, m)
    result("trusted proxy: two X-Forwarded-For lines are one list (the client's own line "
           "names no one)", got == [201, 201, 429] and line is not None, repr(got))
    r.stop()


def test_sigterm():
    r = Relay("term")
    c = socket.create_connection(("127.0.0.1", r.port))
    body = json.dumps({"user": "alice", "service": "sshd", "host": "h", "rhost": ""}).encode()
    # With Expect: 100-continue the relay answers "100 Continue" only once its
    # handler has taken the request: from then on the request is in flight.
    c.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
    c.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    result("SIGTERM: the request is in flight (100 Continue)",
           data.startswith(b"HTTP/1.1 100"), repr(data))
    c.sendall(body[:5])
    m = r.mark()
    r.proc.send_signal(signal.SIGTERM)
    stopping = r.wait_line(r"stopping on SIGTERM", 30, m)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", r.port), timeout=2).close()
    except OSError:
        refused = True
    c.sendall(body[5:])
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.close()
    rc = r.stop()
    result("SIGTERM: log line names the request in flight", stopping ==
           "kakao-pam-relay: stopping on SIGTERM: no new connections, finishing 1 requests",
           repr(stopping))
    result("SIGTERM: new connections refused while draining", refused)
    result("SIGTERM: the request in flight is finished (201)",
           data.startswith(b"HTTP/1.1 201"), repr(data[:40]))
    result("SIGTERM: exit status 0 and a last log line",
           rc == 0 and r.log()[-1] == "kakao-pam-relay: stopped", repr((rc, r.log()[-2:])))


def make_tls_cert(d, name="127.0.0.1", san="IP:127.0.0.1"):
    """A self-signed P-256 certificate and its key (0600) in d: (cert, key)."""
    os.makedirs(d, mode=0o700, exist_ok=True)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=" + name, "-addext", "subjectAltName=" + san, "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def test_tls():
    import ssl
    cert, key = make_tls_cert(os.path.join(WORK, "tls"))
    r = Relay("tlsrelay", "tls_cert = %s\ntls_key = %s\n" % (cert, key), scheme="https")
    ctx = ssl.create_default_context(cafile=cert)
    c = http.client.HTTPSConnection("127.0.0.1", r.port, timeout=30, context=ctx)
    c.request("POST", "/v1/sessions", body=json.dumps(
        {"user": "alice", "service": "sshd", "host": "h", "rhost": ""}))
    resp = c.getresponse()
    body = json.loads(resp.read())
    c.close()
    result("tls_cert/tls_key: HTTPS directly, 201", resp.status == 201 and "session" in body,
           repr((resp.status, body)))
    # kakao-pam check --connect asks the relay as the module would reach it:
    # GET /healthz over verified TLS (kakao-pam(1)).
    users = os.path.join(WORK, "tls", "users")
    write(users, "3095134389 alice\n", 0o644)
    url = "https://127.0.0.1:%d" % r.port
    out = subprocess.run(
        [os.path.join(os.path.dirname(RELAY), "kakao-pam"), "check", "--connect",
         "user_map=" + users, "relay_url=" + url, "relay_key=" + PUB, "ca_file=" + cert],
        capture_output=True, text=True, timeout=60)
    result("kakao-pam check --connect: the relay answers",
           out.returncode == 0 and ("ok relay %s answers\n" % url) in out.stdout,
           repr((out.returncode, out.stdout, out.stderr)))
    result("tls relay exits 0 on SIGTERM", r.stop() == 0)
    os.chmod(key, 0o644)
    r = Relay("tlsbad", "tls_cert = %s\ntls_key = %s\n" % (cert, key), expect_start=False)
    rc = r.proc.wait(30)
    r.reader.join(5)
    result("tls_key readable by others: refused", rc == 1 and any(
        "tls_key" in l and "readable" in l for l in r.log()), repr((rc, r.log())))


def test_kakao_failures():
    """What Kakao (the mock) says wrong ends on a page and a log line, and
    approves nothing. Only with the real Kakao leg: the stand-in has no
    Kakao to be wrong."""
    if not os.environ.get("RELAY_KAKAO_AUTH_URL"):
        print("SKIPPED: relay Kakao failures (no mock Kakao: RELAY_KAKAO_AUTH_URL unset)")
        return
    probe = Relay("probe")
    st, b = create(probe)
    st, h, _ = probe.request("POST", "/a/" + short_of(b["url"]), body="")
    probe.stop()
    if "code_challenge=stub" in h.get("location", ""):
        print("SKIPPED: relay Kakao failures (built with the stand-in Kakao leg)")
        return
    secret = os.path.join(WORK, "client_secret")
    write(secret, "mockRelaySecret_0103\n", 0o600)
    cases = [
        ("denied at Kakao", "mockRelayKey_deny_00104", "", 403,
         r"login denied at kakao tag=[0-9a-f]{8}: error=access_denied"),
        ("ID token nonce", "mockRelayKey_nonce_0105", "", 403, r"login refused by kakao tag="),
        ("ID token aud", "mockRelayKey_aud_000106", "", 403, r"login refused by kakao tag="),
        ("ID token iss", "mockRelayKey_iss_000107", "", 403, r"login refused by kakao tag="),
        ("ID token expired", "mockRelayKey_exp_000108", "", 403, r"login refused by kakao tag="),
        ("ID token signature", "mockRelayKey_sig_000109", "", 403,
         r"login refused by kakao tag="),
        ("ID token kid unknown", "mockRelayKey_kid_000110", "", 403,
         r"login refused by kakao tag="),
        ("KOE320 invalid_grant", "mockRelayKey_koe_000113", "", 403,
         r"login refused by kakao tag="),
        ("client secret missing", "mockRelayKey_secret_103", "", 403,
         r"login refused by kakao tag="),
        ("token endpoint 500", "mockRelayKey_5xx_000111", "", 502, r"kakao unavailable tag="),
        ("token endpoint slow (timeout = 2)", "mockRelayKey_slow_00112", "timeout = 2\n", 502,
         r"kakao unavailable tag="),
        ("client secret given", "mockRelayKey_secret_103",
         "kakao_client_secret_file = %s\n" % secret, 200, r"approved tag=[0-9a-f]{8} kakao_id="),
    ]
    global CLIENT
    saved = CLIENT
    try:
        for name, client, extra, want, logrx in cases:
            CLIENT = client
            r = Relay("kf", extra)
            try:
                st, b = create(r)
                m = r.mark()
                t0 = time.monotonic()
                st, code, _ = approve(r, short_of(b["url"]))
                took = time.monotonic() - t0
                line = r.wait_line(logrx, 30, m)
                after = redeem(r, b["session"], code or "123456")
                ok = (st == want and line is not None and
                      (after[0] == 200 if want == 200 else
                       after == (409, {"error": "not_approved"})) and
                      all("mockSecretInDescription" not in l for l in r.log()) and took < 8)
                result("kakao leg: %s -> %d page, log line, %s" % (
                    name, want, "redeem 200" if want == 200 else "nothing approved"), ok,
                    repr((st, line, after, round(took, 1))))
            finally:
                r.stop()
    finally:
        CLIENT = saved


def run_on_pty(argv, timeout, env=None, on_output=None):
    """argv (looked up in PATH) with a pty as its controlling terminal;
    on_output(everything so far, pty fd) after each read may answer prompts.
    Returns (exit status, or None if killed at the timeout; the bytes it
    wrote)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env if env is not None else os.environ)
        finally:
            os._exit(127)
    out = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.5)
            if not r:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if on_output is not None:
                on_output(out, fd)
    finally:
        killed = time.monotonic() >= end
        if killed:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return (None if killed else os.waitstatus_to_exitcode(status)), out


def test_config_errors():
    cases = [
        ("public_url http", "public_url = http://x.example\n",
         r'bad value for "public_url": must be an https:// URL'),
        ("public_url trailing slash", "public_url = https://x.example/\n",
         r'bad value for "public_url": must not end in a slash'),
        ("plain HTTP off loopback", "listen = 0.0.0.0:8470\n",
         r"plain HTTP only on a loopback listen address: set tls_cert and tls_key"),
        ("store of another kind", "store = mongodb://127.0.0.1\n",
         r'bad value for "store": must be memory, redis://HOST:PORT[/DB] or unix:PATH'),
        ("redis store without a port", "store = redis://127.0.0.1\n",
         r'bad value for "store": redis:// needs HOST:PORT'),
        ("redis_password_file with the memory store",
         "store = memory\nredis_password_file = /etc/hostname\n",
         r"redis_password_file needs a Redis store"),
        ("session_ttl 29", "session_ttl = 29\n",
         r'bad value for "session_ttl": not a whole number in range'),
        ("session_ttl 601", "session_ttl = 601\n",
         r'bad value for "session_ttl": not a whole number in range'),
        ("max_sessions 0", "max_sessions = 0\n",
         r'bad value for "max_sessions": not a whole number in range'),
        ("rate_limit 100001", "rate_limit = 100001\n",
         r'bad value for "rate_limit": not a whole number in range'),
        ("unknown key", "frobnicate = 1\n", r'unknown key "frobnicate"'),
        ("tls_cert alone", "tls_cert = /etc/hostname\n",
         r"tls_cert and tls_key must be given together"),
        ("bad trusted_proxies", "trusted_proxies = 10.0.0.300\n",
         r'bad value for "trusted_proxies": a comma list of at most 16 IP addresses'),
    ]
    for name, extra, want in cases:
        # A key given twice is an error too: the file is rewritten with the
        # case's line replacing the default one where both exist.
        r = Relay("cfg", "", expect_start=False)
        r.stop(signal.SIGKILL)
        base = open(r.conf).read().splitlines(True)
        key = extra.split("=")[0].strip()
        text = "".join(l for l in base if l.split("=")[0].strip() != key) + extra
        write(r.conf, text, 0o600)
        out = subprocess.run([RELAY, "--config", r.conf], capture_output=True, text=True,
                             timeout=30)
        result("config refused: " + name, out.returncode == 1 and re.search(
            r"kakao-pam-relay: error: config: (/[^ ]*:\d+: )?" + re.escape(want) + "\n",
            out.stderr)
            is not None and out.stderr.rstrip().endswith("configuration refused, not started"),
            repr((out.returncode, out.stderr)))
    d = os.path.join(WORK, "cfgmode")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "relay.conf")
    write(conf, "public_url = %s\nkakao_rest_api_key = k\nsigning_key = %s\n" % (PUBLIC, KEY),
          0o620)
    out = subprocess.run([RELAY, "--config", conf], capture_output=True, text=True, timeout=30)
    result("config refused: group-writable relay.conf", out.returncode == 1 and
           "writable" in out.stderr, repr(out.stderr))
    key2 = os.path.join(d, "key.pem")
    shutil.copy(KEY, key2)
    os.chmod(key2, 0o644)
    write(conf, "public_url = %s\nkakao_rest_api_key = k\nsigning_key = %s\n" % (PUBLIC, key2),
          0o600)
    out = subprocess.run([RELAY, "--config", conf], capture_output=True, text=True, timeout=30)
    result("config refused: world-readable signing_key", out.returncode == 1 and
           "signing_key" in out.stderr and "readable" in out.stderr, repr(out.stderr))
    os.chmod(key2, 0o600)
    with open(key2, "w") as f:
        f.write(open(PUB).read())
    out = subprocess.run([RELAY, "--config", conf], capture_output=True, text=True, timeout=30)
    result("config refused: signing_key not a P-256 private key", out.returncode == 1 and
           "not a PEM EC P-256 private key" in out.stderr, repr(out.stderr))
    # An encrypted key is refused, never prompted for: the relay runs on a
    # terminal (a pty is its controlling terminal), where OpenSSL's default
    # passphrase callback would ask and wait.
    subprocess.run(["openssl", "pkey", "-in", KEY, "-out", key2, "-aes256", "-passout",
                    "pass:secret-pass"], check=True, capture_output=True)
    os.chmod(key2, 0o600)
    rc, text = run_on_pty([RELAY, "--config", conf], 30)
    text = text.decode(errors="replace")
    result("config refused: an encrypted signing_key, without asking on the terminal",
           rc == 1 and text.startswith("kakao-pam-relay: error: config: signing_key: %s: not a "
                                       "PEM EC P-256 private key\r\n" % key2) and
           "pass phrase" not in text, repr((rc, text[-300:])))
    write(conf, "kakao_rest_api_key = k\nsigning_key = %s\n" % KEY, 0o600)
    out = subprocess.run([RELAY, "--config", conf], capture_output=True, text=True, timeout=30)
    result("config refused: public_url missing", out.returncode == 1 and
           "public_url is required" in out.stderr, repr(out.stderr))
    write(conf, "public_url = %s\nkakao_rest_api_key = k\nsigning_key = %s\n" % (PUBLIC, KEY),
          0o600)
    out = subprocess.run([RELAY, "--config", conf, "--check"], capture_output=True, text=True,
                         timeout=30)
    result("--check: a good configuration", out.returncode == 0 and
           out.stderr == "kakao-pam-relay: %s: configuration ok\n" % conf, repr(out.stderr))


def make_signing_key():
    """The relay's signing key (KEY, 0600) and its public half (PUB) in WORK."""
    global KEY, PUB
    os.makedirs(WORK, mode=0o700, exist_ok=True)
    KEY = os.path.join(WORK, "signing.pem")
    PUB = os.path.join(WORK, "signing.pub.pem")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                    KEY], check=True, capture_output=True)
    os.chmod(KEY, 0o600)
    subprocess.run(["openssl", "ec", "-in", KEY, "-pubout", "-out", PUB], check=True,
                   capture_output=True)


def main():
    global REDIS
    make_signing_key()
    if TAG:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from redis_fixture import RedisServer
        REDIS = RedisServer(os.path.join(WORK, "redis"))
        atexit.register(REDIS.stop)
    only = os.environ.get("RELAY_TESTS", "")
    r = Relay("main")
    groups = [test_create_and_validation, test_flow, test_wrong_codes, test_unknown,
              test_denied, test_race, test_bodies, test_health_metrics]
    if not VALGRIND:
        groups.append(test_slowloris)
    for g in groups:
        if not only or g.__name__ in only.split(","):
            try:
                g(r)
            except Exception as e:  # a crash of the test is a failure, not an abort
                result(g.__name__, False, "exception: %r" % e)
    rc = r.stop()
    result("main relay: SIGTERM exit 0" + (" (valgrind clean)" if VALGRIND else ""), rc == 0,
           "exit %s; log tail: %s" % (rc, r.log()[-5:]))
    if not VALGRIND:
        for g in (test_limits, test_sigterm, test_tls, test_kakao_failures,
                  test_config_errors):
            if not only or g.__name__ in only.split(","):
                try:
                    g()
                except Exception as e:
                    result(g.__name__, False, "exception: %r" % e)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
