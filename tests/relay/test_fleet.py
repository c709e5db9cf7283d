#!/usr/bin/env python3
"""Several kakao-pam-relay instances on one Redis store (store = unix:…).

Usage: test_fleet.py RELAY_BINARY WORKDIR
Uses test_api.py's harness (its Relay class, the stand-in or mock Kakao
through RELAY_KAKAO_AUTH_URL) and a real redis-server on a unix socket in
WORKDIR (tests/relay/redis_fixture.py), started and stopped here. Every
relay binds 127.0.0.1:0 and its port is read from its start-up line. Prints
one PASS:/FAIL: line per check; exits 1 if any failed."""

import hashlib
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402  (reads RELAY_BINARY WORKDIR from sys.argv)
from redis_fixture import RedisServer, RedisError  # noqa: E402

WORK = api.WORK
TIMEOUT = 2  # the relays' timeout: every store step is bounded by it


def result(name, ok, detail=""):
    api.result("fleet: " + name, ok, detail)


def relay(name, redis, extra=""):
    return api.Relay(name, "store = %s\ntimeout = %d\n%s" % (redis.url(), TIMEOUT, extra))


def login(a, b=None):
    """A session created on a and approved through b (default a): (S, code)."""
    st, body = api.create(a)
    if st != 201:
        return None, None
    st, code, _ = api.approve(b or a, api.short_of(body["url"]))
    return body["session"], code


def test_cross_instance(redis, a, b):
    st, body = api.create(a)
    short = api.short_of(body["url"])
    st_page, _, page = b.request("GET", "/a/" + short)
    st_cb, code, _ = api.approve(b, short)
    st2, got = api.redeem(a, body["session"], code or "000000")
    claims = {}
    if st2 == 200:
        claims = api.json.loads(api.b64d(got["assertion"].split(".")[1]))
    result("created on A, page and Kakao callback on B, redeemed on A: 200 with the "
           "approved kakao_id", st == 201 and st_page == 200 and b"alice" in page and
           st_cb == 200 and st2 == 200 and str(claims.get("kakao_id")) == api.KAKAO_ID and
           claims.get("nonce") == body["session"], repr((st, st_page, st_cb, st2, claims)))
    st3, again = api.redeem(b, body["session"], code)
    result("the same code again on B: 410 used", (st3, again) == (410, {"error": "used"}),
           repr((st3, again)))
    # What Redis holds: every key with a TTL, S nowhere (only its SHA-256).
    s2, code2 = login(a, b)
    keys = redis.command("KEYS", "pk:relay:*")
    ttls = {k: redis.command("PTTL", k) for k in keys}
    dump = []
    for k in keys:
        kind = redis.command("TYPE", k)
        if kind == "hash":
            dump += redis.command("HGETALL", k)
        elif kind == "string":
            dump.append(redis.command("GET", k))
        elif kind == "zset":
            dump += redis.command("ZRANGE", k, 0, -1)
    leaked = [x for x in keys + dump if x and (s2 in x or (code2 and x == code2))]
    result("every pk:relay:* key has a TTL; neither S nor the code is stored in clear",
           keys and all(0 < t <= (120 + 60) * 1000 for t in ttls.values()) and not leaked,
           repr((ttls, leaked)))
    h2 = hashlib.sha256(s2.encode()).hexdigest()
    stored = redis.command("HGET", "pk:relay:s:" + h2, "code")
    unkeyed = hashlib.sha1(("%s:%s" % (h2, code2)).encode()).hexdigest()
    result("the code is kept as a keyed MAC (64 hex digits, not SHA-1(SHA-256(S):code), which "
           "a reader of Redis could undo with a million tries)",
           stored is not None and re.fullmatch(r"[0-9a-f]{64}", stored) is not None and
           stored != unkeyed, repr((stored, unkeyed)))
    api.redeem(a, s2, code2)


def test_race(redis, a, b):
    wins = []
    for _ in range(25):
        s, code = login(a)
        res = [None, None]
        go = threading.Barrier(2)

        def one(k, r):
            go.wait()
            res[k] = api.redeem(r, s, code)
        ts = [threading.Thread(target=one, args=(k, r)) for k, r in ((0, a), (1, b))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wins.append(sorted((x[0], x[1].get("error", "ok")) for x in res))
    result("the same code on A and B at once, 25 times: exactly one 200, the other 410 used",
           all(w == [(200, "ok"), (410, "used")] for w in wins), repr(wins))


def test_wrong_codes_shared(redis, a, b):
    s, code = login(a)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    got = [api.redeem(r, s, wrong) for r in (a, b, a)]
    last = api.redeem(b, s, code)
    result("wrong codes counted across instances: 2, 1, 0 left, then the right code 410 used",
           [g[1].get("attempts_left") for g in got] == [2, 1, 0] and
           last == (410, {"error": "used"}), repr((got, last)))


def test_sigkill(redis, b):
    a = relay("fleet_victim", redis, "rate_limit = 100000\n")
    st, body = api.create(a)
    st_btn, h, _ = a.request("POST", "/a/" + api.short_of(body["url"]), body="")
    a.stop(signal.SIGKILL)
    loc = h.get("location", "")
    st_cb, _, page = b.request("GET", "/callback?" + api.urllib.parse.urlencode(
        api.kakao_answer(loc, "ok")))
    code = api.code_of(page) if st_cb == 200 else None
    st2, got = api.redeem(b, body["session"], code or "000000")
    result("A killed (SIGKILL) after the button: the callback on B approves, redeem on B 200",
           st == 201 and st_btn == 303 and st_cb == 200 and st2 == 200 and
           "assertion" in got, repr((st, st_btn, st_cb, st2)))


def timed(f):
    t0 = time.monotonic()
    out = f()
    return out, time.monotonic() - t0


def test_paused(redis, a, b):
    st = a.request("GET", "/healthz")[:1] + b.request("GET", "/healthz")[:1]
    result("GET /healthz on A and B with Redis up: 200", st == (200, 200), repr(st))
    s, code = login(a)
    m = a.mark()
    redis.pause()
    try:
        (hz, t_hz) = timed(lambda: a.request("GET", "/healthz"))
        ((st_c, b_c), t_c) = timed(lambda: api.create(a))
        ((st_r, b_r), t_r) = timed(lambda: api.redeem(a, s, code))
        (pg, t_p) = timed(lambda: b.request("GET", "/a/ABCDEFGHJKM"))
    finally:
        redis.resume()
    line = a.wait_line(r"store unavailable", 30, m)
    limit = TIMEOUT + 1
    result("Redis paused (SIGSTOP): /healthz 503 within timeout + 1 s",
           hz[0] == 503 and hz[2] == b"unavailable\n" and t_hz <= limit, repr((hz, t_hz)))
    result("Redis paused: create 503 unavailable, redeem 503 unavailable, page 503, each "
           "within timeout + 1 s", (st_c, b_c) == (503, {"error": "unavailable"}) and
           (st_r, b_r) == (503, {"error": "unavailable"}) and pg[0] == 503 and
           max(t_c, t_r, t_p) <= limit, repr((st_c, b_c, st_r, b_r, pg[0], t_c, t_r, t_p)))
    result("Redis paused: one log line per failed step, without a body or a secret",
           line == "kakao-pam-relay: error: store unavailable (ping): redis unix:%s: no answer "
           "before the deadline" % redis.sock and s not in "\n".join(a.log()) and
           code not in "\n".join(a.log()), repr(line))
    # Back: Redis runs what was queued while it was stopped, so the redeem
    # that timed out may have used the session (the host was told 503 and
    # fails closed); either way never a second 200. Then a new login works.
    end = time.monotonic() + 10
    while a.request("GET", "/healthz")[0] != 200 and time.monotonic() < end:
        time.sleep(0.1)
    st2, got = api.redeem(a, s, code)
    s3, c3 = login(b, a)
    st3, got3 = api.redeem(b, s3, c3 or "000000")
    result("Redis resumed: /healthz 200 again; the login whose redeem timed out answers 200 "
           "or 410 used; a new login across A and B 200", (st2, got.get("error")) in
           ((200, None), (410, "used")) and st3 == 200, repr((st2, got, st3)))
    metrics = a.request("GET", "/metrics")[2].decode()
    m2 = re.search(r"^kakao_pam_relay_store_errors_total (\d+)$", metrics, re.M)
    result("kakao_pam_relay_store_errors_total counts A's failures (/healthz, create, redeem)",
           m2 is not None and int(m2.group(1)) == 3, repr(m2 and m2.group(0)))


def test_restart(redis, a, b):
    s1, c1 = login(a)
    st_p, p1 = api.create(a)
    redis.stop(signal.SIGKILL)
    down = [api.redeem(a, s1, c1)[0], api.create(b)[0], b.request("GET", "/healthz")[0]]
    redis.start()
    st1, g1 = api.redeem(b, s1, c1)
    st_b, h, _ = a.request("POST", "/a/" + api.short_of(p1["url"]), body="")
    s3, c3 = login(b, a)
    st3, g3 = api.redeem(a, s3, c3 or "000000")
    result("Redis killed: 503 while it is down (redeem, create, /healthz)",
           down == [503, 503, 503], repr(down))
    result("Redis restarted empty: logins in flight fail cleanly (404 unknown, 404 page), "
           "never 200", (st1, g1) == (404, {"error": "unknown"}) and st_b == 404, repr(
               (st1, g1, st_b)))
    result("Redis restarted: a new login works without restarting the relays (200)",
           st3 == 200 and "assertion" in g3, repr((st3, g3)))


class DroppingProxy:
    """A unix socket between relays and Redis that forwards both ways; once
    armed, the next command holding marker goes to Redis, Redis's reply is
    read and thrown away, and the relay's connection is closed: Redis ran
    the command, the relay never hears of it."""

    def __init__(self, redis_sock, path, marker=b"HINCRBY"):
        self.redis_sock = redis_sock
        self.path = path
        self.marker = marker
        self.lock = threading.Lock()
        self.armed = False
        self.fired = threading.Event()
        self.closing = False
        self.conns = []
        if os.path.exists(path):
            os.unlink(path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(16)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self):
        return "unix:" + self.path

    def arm(self):
        with self.lock:
            self.armed = True
            self.fired.clear()

    def _accept(self):
        while True:
            try:
                client, _ = self.srv.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.redis_sock)
            except OSError:
                client.close()
                upstream.close()
                continue
            state = {"drop": False}
            with self.lock:
                self.conns += [client, upstream]
            threading.Thread(target=self._up, args=(client, upstream, state),
                             daemon=True).start()
            threading.Thread(target=self._down, args=(client, upstream, state),
                             daemon=True).start()

    @staticmethod
    def _recv(sock):
        try:
            return sock.recv(65536)
        except OSError:
            return b""

    def _up(self, client, upstream, state):
        tail = b""
        while True:
            data = self._recv(client)
            if not data:
                break
            seen = tail + data
            tail = seen[-len(self.marker):]
            with self.lock:
                if self.armed and self.marker in seen:
                    self.armed = False
                    state["drop"] = True
            try:
                upstream.sendall(data)
            except OSError:
                break
        self._close(client, upstream)

    def _down(self, client, upstream, state):
        while True:
            data = self._recv(upstream)
            if not data:
                break
            if state["drop"]:
                # Redis has answered the armed command: it ran. Its reply
                # never reaches the relay.
                self._close(client, upstream)
                self.fired.set()
                return
            try:
                client.sendall(data)
            except OSError:
                break
        self._close(client, upstream)

    @staticmethod
    def _close(client, upstream):
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def stop(self):
        self.srv.close()
        with self.lock:
            conns = list(self.conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        os.unlink(self.path)


def test_dropped_reply(redis):
    """A redeem whose command reached Redis but whose reply was lost: 503, and
    never run a second time (a wrong code costs exactly one attempt)."""
    proxy = DroppingProxy(redis.sock, os.path.join(WORK, "redis", "proxy.sock"))
    p = None
    try:
        p = api.Relay("fleet_dropped", "store = %s\ntimeout = %d\nrate_limit = 100000\n" %
                      (proxy.url(), TIMEOUT))
        s, code = login(p)
        wrong = "%06d" % ((int(code or "0") + 1) % 1000000)
        m = p.mark()
        proxy.arm()
        first = api.redeem(p, s, wrong)
        fired = proxy.fired.wait(30)
        line = p.wait_line(r"store unavailable \(redeem\)", 30, m)
        second = api.redeem(p, s, wrong)
        third = api.redeem(p, s, code or "000000")
        # The last answer's own line: every line of the three redeems is in.
        p.wait_line(r"^kakao-pam-relay: redeemed tag=", 30, m)
        unavailable = [x for x in p.log()[m:] if x and "store unavailable" in x]
        result("the redeem's reply lost after Redis ran it: 503 unavailable with one log line, "
               "never retried (a wrong code again: attempts_left=1), then the right code 200",
               fired and first == (503, {"error": "unavailable"}) and
               line == "kakao-pam-relay: error: store unavailable (redeem): redis %s: "
               "connection closed by the server" % proxy.url() and len(unavailable) == 1 and
               second == (403, {"error": "wrong_code", "attempts_left": 1}) and
               third[0] == 200 and "assertion" in third[1],
               repr((fired, first, line, unavailable, second, third)))
    finally:
        if p is not None:
            p.stop()
        proxy.stop()


def resp_end(buf, at=0):
    """Where the RESP value at buf[at:] ends, or None while it is incomplete."""
    nl = buf.find(b"\r\n", at)
    if nl < 0:
        return None
    kind, n = buf[at:at + 1], buf[at + 1:nl]
    if kind in (b"+", b"-", b":"):
        return nl + 2
    n = int(n)
    if kind == b"$":
        end = nl + 2 + (n + 2 if n >= 0 else 0)
        return end if len(buf) >= end else None
    at = nl + 2
    for _ in range(max(n, 0)):
        at = resp_end(buf, at)
        if at is None:
            return None
    return at


def resp(value):
    """value (None, a str, or a list of them) as Redis sends it."""
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, list):
        return b"*%d\r\n" % len(value) + b"".join(resp(v) for v in value)
    v = value.encode()
    return b"$%d\r\n%s\r\n" % (len(v), v)


class RewritingProxy(DroppingProxy):
    """A DroppingProxy that, once armed with (markers, action), lets the next
    command holding every marker go to Redis after action() ran (a change
    made between the relay's two scripts); when action returns bytes, the
    relay gets them instead of Redis's reply (which is read and dropped)."""

    def arm(self, markers, action):
        with self.lock:
            self.armed = (markers, action)
            self.fired.clear()

    def disarm(self):
        with self.lock:
            self.armed = False

    def _messages(self, sock):
        """The RESP messages that come from sock, one at a time, until it
        closes."""
        buf = b""
        while True:
            end = resp_end(buf)
            if end is not None:
                yield buf[:end]
                buf = buf[end:]
                continue
            data = self._recv(sock)
            if not data:
                return
            buf += data

    def _up(self, client, upstream, state):
        for cmd in self._messages(client):
            with self.lock:
                hit = self.armed and all(x in cmd for x in self.armed[0])
                action = self.armed[1] if hit else None
                if hit:
                    self.armed = False
            swap = action() if action is not None else None
            with self.lock:
                state["swap"] = swap
            try:
                upstream.sendall(cmd)
            except OSError:
                break
            if action is not None:
                self.fired.set()
        self._close(client, upstream)

    def _down(self, client, upstream, state):
        for reply in self._messages(upstream):
            with self.lock:
                swap, state["swap"] = state.get("swap"), None
            try:
                client.sendall(swap if swap is not None else reply)
            except OSError:
                break
        self._close(client, upstream)


# The session's fields in the order the relay's scripts read them.
FIELDS = ("u", "sv", "h", "rh", "short", "att", "exp", "kid", "at", "n", "v", "m", "ma", "code",
          "stk", "bm")
# The script that uses a session (a right code), and not the one that takes
# an attempt.
USE_SCRIPT = b"HSET', k, 'st', 'u')"


def test_rewritten_replies(redis):
    """What a forged reply (a man in the middle on the Redis link) and a
    change between a step's two scripts come to."""
    proxy = RewritingProxy(redis.sock, os.path.join(WORK, "redis", "rewrite.sock"))
    p = None
    try:
        p = api.Relay("fleet_rewritten", "store = %s\ntimeout = %d\nrate_limit = 100000\n" %
                      (proxy.url(), TIMEOUT))
        for case in (substituted_reply_case, changed_case, expired_case):
            try:
                case(redis, proxy, p)
            except Exception as e:
                result(case.__name__, False, "exception: %r" % e)
    finally:
        if p is not None:
            p.stop()
        proxy.stop()


def expired_case(redis, proxy, p):
    """Past its exp, a session Redis still calls approved (both of the
    redeem's replies say "ok", with the record's own valid fields): 410
    expired, judged from the checked exp."""
    r = api.Relay("fleet_rewritten_30", "store = %s\ntimeout = %d\nsession_ttl = 30\n" %
                  (proxy.url(), TIMEOUT))
    try:
        s, code = login(r)
        h = hashlib.sha256(s.encode()).hexdigest()
        fields = redis.command("HMGET", session_key(s), *FIELDS)
        forged = resp(["ok", h, fields])
        end = time.monotonic() + 90
        while time.time() < int(fields[6]) + 1 and time.monotonic() < end:
            time.sleep(0.5)

        delivered = []

        def read():
            delivered.append("read")
            proxy.arm((USE_SCRIPT, h.encode()), lambda: forged)
            return forged
        m = r.mark()
        proxy.arm((b"not_approved", h.encode()), read)
        st, body = api.redeem(r, s, code or "000000")
        proxy.disarm()  # the use script's arm: the first reply ends the redeem
        line = r.wait_line(r"^kakao-pam-relay: redeem", 30, m)
        signed = [x for x in r.log()[m:] if x and x.startswith("kakao-pam-relay: redeemed ")]
        result("past its exp, a session both of the redeem's replies call approved: 410 "
               "expired, nothing signed", code is not None and delivered == ["read"] and
               (st, body) == (410, {"error": "expired"}) and
               line == "kakao-pam-relay: redeem refused tag=%s: expired" % h[:8] and
               not signed, repr((delivered, st, body, line, signed)))
    finally:
        r.stop()


def substituted_reply_case(redis, proxy, p):
    # V: root's login, approved; A: alice's, approved. The reply to A's
    # right redeem replaced by the one V's record gives (MACs all valid).
    st_v, body_v = api.create(p, user="root")
    s_v = body_v["session"]
    st_ok, code_v, _ = api.approve(p, api.short_of(body_v["url"]))
    s_a, code_a = login(p)
    h_v = hashlib.sha256(s_v.encode()).hexdigest()
    h_a = hashlib.sha256(s_a.encode()).hexdigest()
    forged = resp(["ok", h_v, redis.command("HMGET", session_key(s_v), *FIELDS)])
    m = p.mark()
    proxy.arm((USE_SCRIPT, h_a.encode()), lambda: forged)
    st, body = api.redeem(p, s_a, code_a or "000000")
    fired = proxy.fired.wait(30)
    line = p.wait_line(r"store record fails its MAC", 30, m)
    macs = [x for x in p.log()[m:] if x and "fails its MAC" in x]
    signed = [x for x in p.log()[m:] if x and x.startswith("kakao-pam-relay: redeemed ")]
    again = api.redeem(p, s_a, code_a or "000000")
    st_v2, got_v = api.redeem(p, s_v, code_v or "000000")
    result("the reply to A's right redeem replaced by another approved session's (root's, "
           "MACs valid): 503, one 'fails its MAC' line, nothing signed; A used, V still 200",
           st_v == 201 and st_ok == 200 and code_a is not None and fired and
           (st, body) == (503, {"error": "unavailable"}) and
           line == "kakao-pam-relay: error: store record fails its MAC (tag=%s): refused" %
           h_v[:8] and macs == [line] and not signed and
           again == (410, {"error": "used"}) and st_v2 == 200 and "assertion" in got_v,
           repr((fired, st, body, macs, signed, again, st_v2)))


def changed_case(redis, proxy, p):
    # The session set back to pending between the redeem's read and its use.
    s, code = login(p)
    h = hashlib.sha256(s.encode()).hexdigest()

    def pending():
        redis.command("HSET", session_key(s), "st", "p")
    m = p.mark()
    proxy.arm((USE_SCRIPT, h.encode()), pending)
    st, body = api.redeem(p, s, code or "000000")
    fired = proxy.fired.wait(30)
    line = p.wait_line(r"store record changed", 30, m)
    errors = [x for x in p.log()[m:] if x and "error:" in x]
    result("a session set back to pending between the redeem's read and its use: 503, one "
           "'changed during the step' line (not a MAC failure)",
           code is not None and fired and (st, body) == (503, {"error": "unavailable"}) and
           line == "kakao-pam-relay: error: store record changed during the step (tag=%s): "
           "refused" % h[:8] and errors == [line], repr((fired, st, body, errors)))


def session_key(s):
    return "pk:relay:s:" + hashlib.sha256(s.encode()).hexdigest()


def forged_redeem(a, s, code):
    """Redeems s with code: (503 with exactly one MAC line and nothing signed,
    what came)."""
    m = a.mark()
    st, body = api.redeem(a, s, code)
    line = a.wait_line(r"store record fails its MAC", 30, m)
    macs = [x for x in a.log()[m:] if x and "fails its MAC" in x]
    signed = [x for x in a.log()[m:] if x and x.startswith("kakao-pam-relay: redeemed ")]
    tag = hashlib.sha256(s.encode()).hexdigest()[:8]
    return ((st, body) == (503, {"error": "unavailable"}) and len(macs) == 1 and
            line == "kakao-pam-relay: error: store record fails its MAC (tag=%s): refused" % tag
            and not signed and "assertion" not in body, (st, body, macs, signed))


def test_forged_records(redis):
    """What a Redis writer can no longer do: approve a session, change the
    approved kakao_id, change where a session logs in, point a short id or a
    Kakao state at another session, or put back a code MAC it knows."""
    a = relay("fleet_forged", redis, "rate_limit = 100000\n")
    try:
        for case in (forged_cases, pointer_cases, code_rebinding_case):
            try:
                case(redis, a)
            except Exception as e:
                result(case.__name__, False, "exception: %r" % e)
    finally:
        a.stop()


def forged_cases(redis, a):
    # A pending session marked approved by hand, with a code the writer knows
    # (kept as SHA-1(SHA-256(S) ":" code) before the code had its MAC).
    st, body = api.create(a, user="root")
    s = body["session"]
    key = session_key(s)
    h = key.rsplit(":", 1)[1]
    redis.command("HSET", key, "st", "a", "kid", "1122334455", "at", str(int(time.time())),
                  "code", hashlib.sha1((h + ":123456").encode()).hexdigest())
    ok, detail = forged_redeem(a, s, "123456")
    result("a session approved by a Redis writer (HSET st a kid ... code ...): redeem 503, "
           "one 'fails its MAC' line, nothing signed", st == 201 and ok, repr(detail))
    # A session approved for alice, its kakao_id changed afterwards.
    s2, code2 = login(a)
    redis.command("HSET", session_key(s2), "kid", "1122334455")
    ok, detail = forged_redeem(a, s2, code2 or "000000")
    result("an approved session whose kakao_id a Redis writer changed: redeem 503, one "
           "'fails its MAC' line, nothing signed", code2 is not None and ok, repr(detail))
    # A pending session sent to another host.
    st3, body3 = api.create(a)
    s3 = body3["session"]
    redis.command("HSET", session_key(s3), "h", "other-host")
    m = a.mark()
    st_page, _, page = a.request("GET", "/a/" + api.short_of(body3["url"]))
    page_ok, page_macs, _ = mac_refusals(a, m, hashlib.sha256(s3.encode()).hexdigest()[:8])
    ok, detail = forged_redeem(a, s3, "123456")
    result("a pending session whose host a Redis writer changed: the page 503 (without the "
           "host), redeem 503, one 'fails its MAC' line each",
           st3 == 201 and st_page == 503 and b"other-host" not in page and page_ok and ok,
           repr((st_page, page_macs, detail)))
    # An approved session whose expiry a Redis writer moved (exp is under
    # the create MAC).
    s4, code4 = login(a)
    exp = redis.command("HGET", session_key(s4), "exp")
    redis.command("HSET", session_key(s4), "exp", str(int(exp or "0") + 3600))
    ok, detail = forged_redeem(a, s4, code4 or "000000")
    result("an approved session whose exp a Redis writer changed: redeem 503, one 'fails its "
           "MAC' line, nothing signed", code4 is not None and exp is not None and ok,
           repr(detail))


def mac_refusals(a, m, tag, n=1):
    """After mark m: (n 'fails its MAC' lines for tag came, each waited for,
    and no other; the MAC lines; the 'approved' lines)."""
    want = "kakao-pam-relay: error: store record fails its MAC (tag=%s): refused" % tag
    at, came = m, []
    for _ in range(n):
        at, line = a.wait_index(r"store record fails its MAC", 30, at)
        came.append(line)
    macs = [x for x in a.log()[m:] if x and "fails its MAC" in x]
    approved = [x for x in a.log()[m:] if x and x.startswith("kakao-pam-relay: approved ")]
    return came == [want] * n and macs == came, macs, approved


def pointer_cases(redis, a):
    """A Redis writer who points a victim's short id or Kakao state at
    another session (their own): refused, nothing approved."""
    # Short id: B's short id leads to A's record.
    st_a, body_a = api.create(a, user="root")
    st_b, body_b = api.create(a)
    s_a, short_b = body_a["session"], api.short_of(body_b["url"])
    h_a = hashlib.sha256(s_a.encode()).hexdigest()
    redis.command("SET", "pk:relay:a:" + short_b, h_a, "PX", "60000")
    m = a.mark()
    st_page, _, page = a.request("GET", "/a/" + short_b)
    st_btn, code, _ = api.approve(a, short_b)
    ok, macs, approved = mac_refusals(a, m, h_a[:8], 2)
    got_a = api.redeem(a, s_a, "123456")
    result("B's short id pointed at A's record by a Redis writer: the page 503 (without A's "
           "user), the button 503, one 'fails its MAC' line each, A still 409 not_approved",
           st_a == st_b == 201 and st_page == 503 and b"root" not in page and st_btn == 503
           and code is None and ok and not approved and
           got_a == (409, {"error": "not_approved"}),
           repr((st_page, st_btn, macs, approved, got_a)))
    # A short id leading to a key that is not a SHA-256 (a record copied
    # there): refused before its name is used or logged.
    st_c, body_c = api.create(a)
    short_c = api.short_of(body_c["url"])
    junk = "\nforged " + "z" * 56
    fields = redis.command("HGETALL", session_key(body_c["session"]))
    redis.command("HSET", "pk:relay:s:" + junk, *fields)
    redis.command("PEXPIRE", "pk:relay:s:" + junk, "60000")
    redis.command("SET", "pk:relay:a:" + short_c, junk, "PX", "60000")
    m = a.mark()
    st_page, _, page = a.request("GET", "/a/" + short_c)
    line = a.wait_line(r"store unavailable \(view\)", 30, m)
    others = [x for x in a.log()[m:] if x and ("fails its MAC" in x or "forged" in x)]
    result("a short id leading to a key that is not 64 hex digits (a record copied there): "
           "the page 503, one 'unexpected reply' line, the key never logged",
           st_c == 201 and st_page == 503 and line == "kakao-pam-relay: error: store "
           "unavailable (view): redis %s: unexpected reply" % redis.url() and not others,
           repr((st_page, line, others)))
    # State: the victim's Kakao state pointed at the attacker's session A,
    # with the victim's nonce and verifier (and what else begin wrote) copied.
    st_v, body_v = api.create(a)
    st_x, body_x = api.create(a, user="root")
    s_v, s_x = body_v["session"], body_x["session"]
    st_btn, h, _ = a.request("POST", "/a/" + api.short_of(body_v["url"]), body="")
    loc = h.get("location", "")
    state = api.urllib.parse.parse_qs(api.urllib.parse.urlsplit(loc).query)["state"][0]
    h_x = hashlib.sha256(s_x.encode()).hexdigest()
    redis.command("SET", "pk:relay:k:" + hashlib.sha256(state.encode()).hexdigest(), h_x, "PX",
                  "60000")
    for field in ("n", "v", "stk", "bm"):
        value = redis.command("HGET", session_key(s_v), field)
        if value is not None:
            redis.command("HSET", session_key(s_x), field, value)
    m = a.mark()
    st_cb, _, page = a.request("GET", "/callback?" + api.urllib.parse.urlencode(
        api.kakao_answer(loc, "ok")))
    ok, macs, approved = mac_refusals(a, m, h_x[:8])
    got_x = api.redeem(a, s_x, "123456")
    result("the victim's Kakao state pointed at A by a Redis writer (the victim's nonce and "
           "verifier copied into A): the callback 503, one 'fails its MAC' line, nothing "
           "approved, A still 409 not_approved",
           st_v == st_x == 201 and st_btn == 303 and st_cb == 503 and ok and not approved and got_x == (409, {"error": "not_approved"}),
           repr((st_btn, st_cb, macs, approved, got_x)))


def code_rebinding_case(redis, a):
    """A Redis writer who approved A with their own account (code c1), lets
    another approval land on A, then writes back c1's MAC: c1 is refused."""
    st, body = api.create(a)
    s, short = body["session"], api.short_of(body["url"])
    st1, c1, _ = api.approve(a, short)
    saved = redis.command("HGET", session_key(s), "code")
    redis.command("HSET", session_key(s), "st", "p")
    st2, c2, _ = api.approve(a, short)
    redis.command("HSET", session_key(s), "code", saved)
    ok, detail = forged_redeem(a, s, c1 or "000000")
    result("a Redis writer puts an earlier approval's code MAC back after a second approval: "
           "redeem with the earlier code 503, one 'fails its MAC' line, nothing signed",
           st == 201 and st1 == st2 == 200 and c1 is not None and c2 is not None and
           saved is not None and ok, repr((st1, st2, detail)))


def test_rate_shared(redis):
    redis.command("FLUSHALL")
    a = relay("fleet_rate_a", redis, "rate_limit = 3\n")
    b = relay("fleet_rate_b", redis, "rate_limit = 3\n")
    got = api.same_minute(lambda: [api.create(r)[0] for r in (a, b, a, b)])
    result("rate_limit = 3 shared: A, B, A are 201, the 4th (on B) 429", got ==
           [201, 201, 201, 429], repr(got))
    a.stop()
    b.stop()


def test_trusted_proxies(redis):
    redis.command("FLUSHALL")
    a = relay("fleet_proxy_a", redis, "rate_limit = 1\ntrusted_proxies = 127.0.0.1\n")
    b = relay("fleet_proxy_b", redis, "rate_limit = 1\n")

    def run():
        m = a.mark()
        x = [api.create(a, headers={"X-Forwarded-For": "192.0.2.%d" % i})[0] for i in (1, 2)]
        line = a.wait_line(r"session created", 30, m)
        y = [api.create(b, headers={"X-Forwarded-For": "192.0.2.%d" % i})[0] for i in (3, 4)]
        return x, y, line
    x, y, line = api.same_minute(run)
    result("trusted_proxies: X-Forwarded-For honoured from a listed peer (A: two clients, "
           "201 201), ignored from another (B: one client 127.0.0.1, 201 429)",
           x == [201, 201] and y == [201, 429] and line is not None and
           line.endswith("client=192.0.2.1"), repr((x, y, line)))
    a.stop()
    b.stop()


def test_password(redis_dir):
    pw = os.path.join(redis_dir, "pw")
    good = RedisServer(os.path.join(redis_dir, "auth"), password="s3cret-pass word")
    try:
        api.write(pw, "wrong-password\n", 0o600)
        r = api.Relay("fleet_badpw", "store = %s\ntimeout = %d\nredis_password_file = %s\n" %
                      (good.url(), TIMEOUT, pw))
        warn = r.wait_line(r"store not usable yet", 30)
        m = r.mark()
        hz = r.request("GET", "/healthz")[0]
        # The reader thread may see /healthz's own line after the answer
        # came back: wait for it, so the mark below is after it.
        ping = r.wait_line(r"store unavailable \(ping\)", 30, m)
        m = r.mark()
        st, body = api.create(r)
        err = r.wait_line(r"store unavailable \(", 30, m)
        refused = ('redis unix:%s refused AUTH: "WRONGPASS invalid username-password pair or '
                   'user is disabled."' % good.sock)
        result("wrong redis password: the relay starts, says why once, /healthz 503, and each "
               "request 503 with one clear line (no password in the log)",
               warn == "kakao-pam-relay: warning: store not usable yet: %s; answering 503 until "
               "it is" % refused and hz == 503 and (st, body) == (503, {"error": "unavailable"})
               and ping is not None and
               err == "kakao-pam-relay: error: store unavailable (rate): " + refused and
               "wrong-password" not in "\n".join(r.log()), repr((warn, hz, ping, st, err)))
        r.stop()
        api.write(pw, "s3cret-pass word\n", 0o600)
        r = api.Relay("fleet_goodpw", "store = %s\nredis_password_file = %s\n" %
                      (good.url(), pw))
        s, code = login(r)
        st, got = api.redeem(r, s, code or "000000")
        result("right redis password (one trailing newline stripped): a login works",
               st == 200, repr((st, got)))
        r.stop()
        api.write(pw, "s3cret-pass word\n", 0o644)
        out = api.subprocess.run([api.RELAY, "--config", r.conf], capture_output=True,
                                 text=True, timeout=30)
        result("world-readable redis_password_file: refused (key-file trust rules)",
               out.returncode == 1 and "redis_password_file" in out.stderr,
               repr(out.stderr[-300:]))
    finally:
        good.stop()


def test_unreachable_at_start(redis_dir):
    d = os.path.join(redis_dir, "late")
    os.makedirs(d, exist_ok=True)
    sock = os.path.join(d, "redis.sock")
    r = api.Relay("fleet_late", "store = unix:%s\ntimeout = %d\n" % (sock, TIMEOUT))
    warn = r.wait_line(r"store not usable yet", 30)
    hz = r.request("GET", "/healthz")[0]
    late = RedisServer(d)
    try:
        s, code = login(r)
        st, _ = api.redeem(r, s, code or "000000")
        result("Redis not there at start: the relay starts (warning), /healthz 503, and serves "
               "logins once Redis is up", warn is not None and hz == 503 and st == 200,
               repr((warn, hz, st)))
    finally:
        r.stop()
        late.stop()


def main():
    api.make_signing_key()
    redis_dir = os.path.join(WORK, "redis")
    redis = RedisServer(redis_dir)
    try:
        a = relay("fleet_a", redis, "rate_limit = 100000\n")
        b = relay("fleet_b", redis, "rate_limit = 100000\n")
        for t in (test_cross_instance, test_race, test_wrong_codes_shared):
            try:
                t(redis, a, b)
            except Exception as e:
                result(t.__name__, False, "exception: %r" % e)
        for t in (test_sigkill,):
            try:
                t(redis, b)
            except Exception as e:
                result(t.__name__, False, "exception: %r" % e)
        for t in (test_paused, test_restart):
            try:
                t(redis, a, b)
            except Exception as e:
                result(t.__name__, False, "exception: %r" % e)
        rcs = (a.stop(), b.stop())
        result("A and B exit 0 on SIGTERM", rcs == (0, 0), repr(rcs))
        for t in (test_rate_shared, test_trusted_proxies, test_dropped_reply,
                  test_rewritten_replies, test_forged_records):
            try:
                t(redis)
            except Exception as e:
                result(t.__name__, False, "exception: %r" % e)
        for t in (test_password, test_unreachable_at_start):
            try:
                t(redis_dir)
            except Exception as e:
                result(t.__name__, False, "exception: %r" % e)
    finally:
        redis.stop()
    sys.exit(1 if api.failures else 0)


if __name__ == "__main__":
    main()
