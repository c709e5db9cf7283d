#!/usr/bin/env python3
"""make soak: mixed relay logins through the real module, two relays, one Redis.

Usage: soak.py RELAY_BINARY WORKDIR MODULE [SECONDS]   (SECONDS: SOAK_SECONDS, 600)

Everything on loopback and started here, stopped here: the mock Kakao (TLS),
a redis-server on a unix socket (tests/relay/redis_fixture.py), relays A and
B (store = unix:…, 127.0.0.1:0, ports read from their logs), and a TLS front
that sends each module request to A or B in turn (the load balancer; its
certificate is the mock's, so the module's ca_file is the mock CA). The
module (pam_kakao.so, accept = relay) runs in pamtester under pam_wrapper,
on a pseudo-terminal: the soak reads the URL from the prompt, plays the
phone against A or B (the other one, every second login), and types the
code. Kinds of login, in turn: approved (PAM 0), a wrong code then the right
one (0), denied at Kakao (the code typed anyway: pamtester exits 1, the
module logs "not approved").
Prints the RSS and open fds of each relay and of redis at the start and the
end, the logins done and the unexpected results; exits 1 if any."""

import http.client
import http.server
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

RELAY, WORK, MODULE = sys.argv[1], sys.argv[2], sys.argv[3]
SECONDS = int(sys.argv[4] if len(sys.argv) > 4 else os.environ.get("SOAK_SECONDS", "600"))
WORKERS = 3
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "relay"))
os.makedirs(WORK, mode=0o700, exist_ok=True)


def start_mock():
    certs = os.path.join(WORK, "certs")
    subprocess.run(["bash", os.path.join(TOP, "tests/mock/make_certs.sh"), certs], check=True,
                   capture_output=True)
    port_file = os.path.join(WORK, "mock.port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    args = ["python3", os.path.join(TOP, "tests/mock/mock_kakao.py"), "--cert",
            os.path.join(certs, "server.pem"), "--key", os.path.join(certs, "server.key"),
            "--port-file", port_file, "--log", os.path.join(WORK, "mock_requests.jsonl"),
            "--lifetime", str(SECONDS + 300),
            "--parent-pid", str(os.getpid())]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(WORK, "mock.err"), "wb"))
    end = time.monotonic() + 60
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError("the mock Kakao did not start")
        time.sleep(0.05)
    return proc, int(open(port_file).read()), certs


MOCK, MOCK_PORT, CERTS = start_mock()
CA = os.path.join(CERTS, "ca.pem")
os.environ["RELAY_KAKAO_AUTH_URL"] = "https://127.0.0.1:%d" % MOCK_PORT
os.environ["RELAY_KAKAO_CA"] = CA
sys.argv = [sys.argv[0], RELAY, WORK]
import test_api as api  # noqa: E402  (the relay harness, reads sys.argv)
from redis_fixture import RedisServer  # noqa: E402


class Front(http.server.BaseHTTPRequestHandler):
    """The load balancer: request k goes to backend k mod 2."""
    protocol_version = "HTTP/1.1"
    backends = []
    turn = [0]
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with self.lock:
            port = self.backends[self.turn[0] % len(self.backends)]
            self.turn[0] += 1
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", self.path, body=body,
                      headers={"Content-Type": self.headers.get("Content-Type", "")})
            r = c.getresponse()
            data, status = r.read(), r.status
            c.close()
        except OSError:
            data, status = b'{"error":"bad_gateway"}', 502
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start_front(backends):
    Front.backends = backends
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def usage(pid):
    """(RSS KiB, open fds) of a process."""
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid))


PROMPT = re.compile(rb"Approve this login at (https://\S+/a/[0-9A-Z]+) with Kakao, then enter the code: ")


class Pam:
    def __init__(self, front_port, pub):
        d = os.path.join(WORK, "pam")
        os.makedirs(os.path.join(d, "services"), exist_ok=True)
        users = os.path.join(d, "users")
        api.write(users, "3095134389 alice\n", 0o644)
        self.conf = os.path.join(d, "pam_kakao.conf")
        api.write(self.conf, "accept = relay\nuser_map = %s\nrelay_url = https://127.0.0.1:%d\n"
                  "relay_key = %s\nca_file = %s\ntimeout = 5\n" % (users, front_port, pub, CA),
                  0o644)
        api.write(os.path.join(d, "services", "soak"),
                  "auth required %s nodelay config=%s\naccount required %s config=%s\n" %
                  (MODULE, self.conf, MODULE, self.conf), 0o644)
        api.write(os.path.join(d, "services", "other"),
                  "auth required pam_deny.so\naccount required pam_deny.so\n", 0o644)
        self.env = dict(os.environ, LD_PRELOAD="libpam_wrapper.so", PAM_WRAPPER="1",
                        PAM_WRAPPER_SERVICE_DIR=os.path.join(d, "services"),
                        PAM_WRAPPER_DEBUGLEVEL="2")

    def login(self, answer):
        """pamtester on a pty; answer(url, attempt) gives each code to type.
        Returns (exit status, the module's log lines, the end of the output)."""
        attempt = [0]

        def on_output(out, fd):
            prompts = PROMPT.findall(out)
            if len(prompts) > attempt[0]:
                code = answer(prompts[-1].decode(), attempt[0])
                attempt[0] += 1
                os.write(fd, code.encode() + b"\n")
        rc, out = api.run_on_pty(["pamtester", "-v", "soak", "alice", "authenticate",
                                  "acct_mgmt"], 120, self.env, on_output)
        logs = [m.decode() for m in re.findall(rb"SYSLOG\(\d+\): ([^\r\n]*)", out)]
        return rc, logs, out[-300:]


def phone(relay, url, deny=False):
    """Button, mock Kakao, callback on relay: the code, or None."""
    st, code, _ = api.approve(relay, api.short_of(url), "access_denied" if deny else "ok")
    if deny:
        return None
    return code


def main():
    api.make_signing_key()
    redis = RedisServer(os.path.join(WORK, "redis"))
    extra = "store = %s\ntimeout = 5\nrate_limit = 100000\nmax_sessions = 100000\n" % redis.url()
    # public_url is the front's: the assertion's iss must be the module's relay_url.
    srv = start_front([])
    front = srv.server_address[1]
    api.PUBLIC = "https://127.0.0.1:%d" % front
    a = api.Relay("soak_a", extra)
    b = api.Relay("soak_b", extra)
    Front.backends = [a.port, b.port]
    pam = Pam(front, api.PUB)
    procs = {"relay A": a.proc.pid, "relay B": b.proc.pid, "redis": redis.pid()}
    start = {k: usage(p) for k, p in procs.items()}
    counts = {"approved": 0, "wrong_then_right": 0, "denied": 0}
    unexpected = []
    harness = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS
    seq = [0]

    def worker():
        while time.monotonic() < deadline:
            with lock:
                k = seq[0]
                seq[0] += 1
            kind = ("approved", "approved", "wrong_then_right", "approved", "denied")[k % 5]
            relay = (a, b)[k % 2]
            got = {}

            def answer(url, attempt):
                if attempt == 0:
                    got["code"] = phone(relay, url, deny=(kind == "denied"))
                code = got.get("code") or "000000"
                if kind == "wrong_then_right" and attempt == 0:
                    return "%06d" % ((int(code) + 1) % 1000000)
                return code
            rc, logs, out = pam.login(answer)
            if "pam_start: failed to initialize handlers" in logs and "code" not in got:
                # pam_wrapper could not set PAM up (its per-process copy of
                # the service directory); the module never ran: once more.
                with lock:
                    harness[0] += 1
                rc, logs, out = pam.login(answer)
            last = logs[-1] if logs else ""
            if kind == "denied":
                ok = rc == 1 and last == "rejected relay for user=alice: not approved"
            else:
                ok = rc == 0 and last == "accepted relay kakao_id=3095134389 user=alice"
            with lock:
                if ok:
                    counts[kind] += 1
                else:
                    unexpected.append((kind, rc, logs[-3:], out))
    ts = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    end = {k: usage(p) for k, p in procs.items()}
    rcs = (a.stop(), b.stop())
    redis.stop()
    srv.shutdown()
    MOCK.terminate()
    MOCK.wait()
    done = sum(counts.values())
    print("soak: %d s, %d workers, two relays on one Redis, module through a TLS front" %
          (SECONDS, WORKERS))
    for k in procs:
        print("soak: %-8s RSS %6d -> %6d KiB, fds %3d -> %3d" %
              (k, start[k][0], end[k][0], start[k][1], end[k][1]))
    print("soak: logins done %d (approved %d, wrong code then right %d, denied %d), "
          "unexpected %d, relays' SIGTERM exit %s" % (done, counts["approved"],
                                                      counts["wrong_then_right"],
                                                      counts["denied"], len(unexpected), rcs))
    print("soak: pam_wrapper set-up failures retried (the module never ran): %d" % harness[0])
    for u in unexpected[:10]:
        print("soak: unexpected: %r" % (u,))
    sys.exit(1 if unexpected or done == 0 or rcs != (0, 0) else 0)


if __name__ == "__main__":
    main()
