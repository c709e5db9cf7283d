#!/usr/bin/env python3
"""kakao-pam enroll through the relay (kakao-pam(1)).

Usage: test_enroll_relay.py KAKAO_PAM RELAY_BINARY WORKDIR
Environment (tests/run.sh): RELAY_KAKAO_AUTH_URL (https://127.0.0.1:PORT) and
RELAY_KAKAO_CA, the mock Kakao API, as for tests/relay/test_phone.py.

A real kakao-pam-relay behind tests/pam/relay_helper.py's HTTPS front: the
approval is done by headless Chromium (tests/phone.py: the page's button,
the mock Kakao, the code page) where the phone is the point, and by the
helper's plain HTTP walk of the same pages elsewhere. kakao-pam enroll runs
with its stdin a pipe; the test reads its prompt (the URL) on stderr, has
the login approved, types the code, and checks the exit status, stdout and
stderr exactly. A second relay with session_ttl = 30 gives an expired
session. Prints PASS:/FAIL: lines like tests/relay/test_api.py; SKIPPED
lines for what cannot run here (no Chromium)."""

import os
import re
import select
import subprocess
import sys
import time

KP, RELAY, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "pam"))
from relay_helper_client import Helper  # noqa: E402
AUTH_URL, CA = os.environ.get("RELAY_KAKAO_AUTH_URL", ""), os.environ.get("RELAY_KAKAO_CA", "")
ALICE = "3095134389"
STAMP = r"20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\dZ"
PROMPT = r"Approve this login at (https://127\.0\.0\.1:\d+/a/[0-9A-Z]+) with Kakao, then enter " \
         r"the code: "
failed = 0


def result(name, good, why=""):
    global failed
    if good:
        print("PASS: enroll relay: %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL: enroll relay: %s %s" % (name, why), flush=True)


def conf(h, extra=""):
    path = os.path.join(WORK, "enroll.conf")
    with open(path, "w") as f:
        f.write("accept = relay\nuser_map = %s/no-such-users\nrelay_url = https://127.0.0.1:%d\n"
                "relay_key = %s\nca_file = %s\ntimeout = 20\n%s" % (WORK, h.port, h.pub, CA,
                                                                     extra))
    os.chmod(path, 0o644)
    return path


class Enroll:
    """kakao-pam enroll ARGS, stdin a pipe, stderr read as it comes;
    vg: under valgrind (exit status 99 on a memory error or a leak)."""

    def __init__(self, *args, vg=False):
        pre = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
               "--show-leak-kinds=definite,indirect",
               "--errors-for-leak-kinds=definite,indirect"] if vg else []
        self.p = subprocess.Popen(pre + [KP, "enroll"] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = b""

    def wait_err(self, pattern, seconds=60):
        """Reads stderr until it matches pattern (a regex on the text so far)
        or seconds pass or the program ends: the match or None."""
        deadline = time.monotonic() + seconds
        while True:
            m = re.search(pattern, self.err.decode(errors="replace"))
            left = deadline - time.monotonic()
            if m is not None or left <= 0:
                return m
            r, _, _ = select.select([self.p.stderr], [], [], left)
            if not r:
                continue
            chunk = os.read(self.p.stderr.fileno(), 4096)
            if not chunk:
                return re.search(pattern, self.err.decode(errors="replace"))
            self.err += chunk

    def type(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def finish(self):
        """Closes stdin; (exit status, stdout, whole stderr)."""
        try:
            out, rest = self.p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, rest = self.p.communicate()
        return self.p.returncode, out.decode(errors="replace"), (self.err + rest).decode(
            errors="replace")


def enrolled(out, user):
    return re.fullmatch(r"# kakao-pam enroll: relay approval checked %s\n%s %s\n" % (
        STAMP, ALICE, user), out) is not None


def approved_case(h, path, how, vg=False):
    e = Enroll("--config", path, "--user", "alice", vg=vg)
    m = e.wait_err("^" + PROMPT + "$", 120 if vg else 60)
    code = h.cmd("%s %s" % (how, m.group(1))) if m else "error no prompt"
    if code.startswith("code "):
        e.type(code[5:8] + " " + code[8:] + "\n")
    rc, out, err = e.finish()
    result("approved by %s%s: exit 0, the map line on stdout, only the prompt on stderr" % (
        how, " under valgrind" if vg else ""),
        rc == 0 and enrolled(out, "alice") and re.fullmatch(PROMPT, err) is not None,
        repr((code, rc, out, err)))


def main():
    if not AUTH_URL or not CA:
        print("SKIPPED: enroll relay: no mock Kakao (RELAY_KAKAO_AUTH_URL, RELAY_KAKAO_CA)")
        return
    # relay_helper.py's names for the same mock.
    os.environ.update(PK_MOCK_PORT=AUTH_URL.rsplit(":", 1)[1], PK_MOCK_CA=CA)
    os.makedirs(WORK, mode=0o700, exist_ok=True)
    h = Helper(RELAY, os.path.join(WORK, "relay"))
    try:
        path = conf(h)
        if os.access("/usr/bin/chromium", os.X_OK):
            approved_case(h, path, "phone")
            try:
                with open(os.path.join(WORK, "relay", "phone-first.txt")) as f:
                    first = f.read()
            except OSError:
                first = ""
            host = os.uname().nodename
            result("the phone's page: alice on this host, service kakao-pam-enroll, no 'from'",
                   re.match(r"Log in as alice on %s\?\n\n\(kakao-pam-enroll\)\n\nTime left: "
                            % re.escape(host), first) is not None, repr(first))
        else:
            print("SKIPPED: enroll relay: /usr/bin/chromium not installed (approval by the "
                  "helper only)", flush=True)
        approved_case(h, path, "approve")
        if os.environ.get("VALGRIND", "1") == "1" and os.environ.get("SANITIZE") != "1":
            approved_case(h, path, "approve", vg=True)

        # --relay --qr, NAME the login name: the QR (half blocks) before the prompt.
        me = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        e = Enroll("--relay", "--qr", "--config", path)
        m = e.wait_err(PROMPT + "$")
        code = h.cmd("approve %s" % m.group(1)) if m else "error no prompt"
        e.type(code[5:] + "\n")
        rc, out, err = e.finish()
        lines = err.split("\n")
        qr = lines[:-1]
        result("--relay --qr: the QR code in half blocks, then the prompt; exit 0",
               rc == 0 and enrolled(out, me) and len(qr) >= 15 and
               all(re.fullmatch("[ \u2580\u2584\u2588]+", q) for q in qr) and
               len(set(map(len, qr))) == 1 and re.fullmatch(PROMPT, lines[-1]) is not None,
               repr((rc, out, err)))

        # A wrong code, asked again (attempts left), then the right one.
        e = Enroll("--config", path, "--user", "bob")
        m = e.wait_err("^" + PROMPT + "$")
        code = h.cmd("approve %s" % m.group(1)) if m else "error no prompt"
        wrong = "%06d" % ((int(code[5:]) + 1) % 1000000) if code.startswith("code ") else "0"
        e.type(wrong + "\n")
        again = e.wait_err(PROMPT + "kakao-pam enroll: wrong code \\(2 attempts left\\); try "
                           "again\n" + PROMPT + "$")
        e.type(code[5:] + "\n")
        rc, out, err = e.finish()
        result("wrong code, asked again (2 attempts left), then the right one: exit 0",
               again is not None and rc == 0 and re.fullmatch(
                   r"# kakao-pam enroll: relay approval checked %s\n%s bob\n" % (STAMP, ALICE),
                   out) is not None, repr((code, rc, out, err)))

        # Three wrong codes: the session is dead, a refusal (exit 1).
        e = Enroll("--config", path, "--user", "alice")
        m = e.wait_err("^" + PROMPT + "$")
        code = h.cmd("approve %s" % m.group(1)) if m else "error no prompt"
        wrong = "%06d" % ((int(code[5:]) + 1) % 1000000) if code.startswith("code ") else "0"
        e.type((wrong + "\n") * 3)
        rc, out, err = e.finish()
        result("three wrong codes: exit 1, the module's wording", rc == 1 and out == "" and
               err.endswith("kakao-pam enroll: wrong code (1 attempt left); try again\n" +
                            re.search(PROMPT, err).group(0) +
                            "kakao-pam enroll: rejected relay for user=alice: wrong code "
                            "(attempts_left=0)\n"), repr((rc, out, err)))

        # Not approved yet, and not a code at all.
        e = Enroll("--config", path, "--user", "alice")
        e.wait_err("^" + PROMPT + "$")
        e.type("123456\n")
        rc, out, err = e.finish()
        result("a code before the phone approved: exit 1, not approved",
               rc == 1 and out == "" and re.fullmatch(
                   PROMPT + "kakao-pam enroll: rejected relay for user=alice: not approved\n",
                   err) is not None, repr((rc, out, err)))
        e = Enroll("--config", path, "--user", "alice")
        e.wait_err("^" + PROMPT + "$")
        e.type("hello\n")
        rc, out, err = e.finish()
        result("an answer that is not a code: exit 1", rc == 1 and out == "" and re.fullmatch(
            PROMPT + "kakao-pam enroll: rejected relay for user=alice: malformed token \\(not a "
            "6-digit code\\)\n", err) is not None, repr((rc, out, err)))

        # A token source named: the token path, as before, even with relay accepted.
        p = subprocess.run([KP, "enroll", "--config", path, "--user", "alice", "-"],
                           input=b"abc\n", capture_output=True)
        result("'-' with relay accepted still reads a token (exit 1, not a relay session)",
               p.returncode == 1 and p.stdout == b"" and p.stderr.decode() ==
               "kakao-pam enroll: rejected token for user=alice: malformed token (3 bytes, "
               "neither a JWT nor a Kakao access token)\n",
               repr((p.returncode, p.stdout, p.stderr)))

        # The relay down: exit 2, said plainly, before any prompt.
        h.cmd("mode 500")
        p = subprocess.run([KP, "enroll", "--config", path, "--user", "alice"],
                           stdin=subprocess.DEVNULL, capture_output=True)
        result("relay answers 500: exit 2, relay unavailable, no prompt",
               p.returncode == 2 and p.stdout == b"" and re.fullmatch(
                   "kakao-pam enroll: relay unavailable for user=alice: session request "
                   "answered HTTP 500\n",
                   p.stderr.decode()) is not None, repr((p.returncode, p.stdout, p.stderr)))
        h.cmd("mode pass")
    finally:
        h.close()
    p = subprocess.run([KP, "enroll", "--config", path, "--user", "alice"],
                       stdin=subprocess.DEVNULL, capture_output=True)
    result("relay stopped (connection refused): exit 2, relay unavailable",
           p.returncode == 2 and p.stdout == b"" and re.fullmatch(
               "kakao-pam enroll: relay unavailable for user=alice: connect: \"Failed to "
               "connect to 127\\.0\\.0\\.1 port \\d+ after \\d+ ms: Couldn't connect to "
               "server\"\n",
               p.stderr.decode()) is not None, repr((p.returncode, p.stdout, p.stderr)))

    # Expired: approved, but the code typed after the 30-s session is gone.
    h = Helper(RELAY, os.path.join(WORK, "relay_ttl"), ttl=30)
    try:
        path = conf(h)
        e = Enroll("--config", path, "--user", "alice")
        m = e.wait_err("^" + PROMPT + "$")
        t0 = time.monotonic()
        code = h.cmd("approve %s" % m.group(1)) if m else "error no prompt"
        # The session was made before t0: past 31 s from t0 it has expired.
        while time.monotonic() - t0 < 31:
            time.sleep(0.5)
        e.type(code[5:] + "\n")
        rc, out, err = e.finish()
        result("code typed after the session expired: exit 1, session expired",
               rc == 1 and out == "" and re.fullmatch(
                   PROMPT + "kakao-pam enroll: rejected relay for user=alice: session expired\n",
                   err) is not None, repr((code, rc, out, err)))
    finally:
        h.close()
    sys.exit(1 if failed else 0)


main()
