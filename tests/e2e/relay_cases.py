#!/usr/bin/env python3
"""The relay kind through the real ssh client and sshd, and the real sudo.

Run by tests/e2e/relay_cases.sh inside the e2e namespaces, which has started
the relays, sshd and the mock Kakao; everything else comes in RELAY_E2E_*
variables (see there). Prints PASS:/FAIL: lines; exit status 0 all passed,
1 some failed.

The person at the terminal is a pseudo-terminal (80x24) this script reads
and types into: the real ssh client (keyboard-interactive) or sudo (run as
alice through setpriv) on it, no sshpass, no -S. The phone is one headless
Chromium (tests/phone.py's Browser) for all cases: it opens the URL the
prompt shows, presses Continue with Kakao, goes through the mock Kakao's
authorize endpoint (which approves as its client's user at once) and reads
the 6-digit code from the relay's page. Each case asserts the exit status,
the output, the exact pam_kakao lines in the syslog sink, and sshd's own
line where it has one. The ssh transcripts of the first relay login and of
the QR login are kept in RELAY_E2E_OUT (relay-ssh.txt, relay-ssh-qr.txt)."""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import phone  # noqa: E402  (tests/phone.py)

E = os.environ
SERVICE_DIR = E["RELAY_E2E_SERVICE_DIR"]
MOD = E["RELAY_E2E_MOD"]
CONF = E["RELAY_E2E_CONF"]
SSHD_PORT = E["RELAY_E2E_SSHD_PORT"]
SSHD_LOG = E["RELAY_E2E_SSHD_LOG"]
SYSLOG = E["RELAY_E2E_SYSLOG"]
SOCKET = E["RELAY_E2E_SOCKET"]
MOCK_LOG = E["RELAY_E2E_MOCK_LOG"]
RELAY_LOG = E["RELAY_E2E_RELAY_LOG"]  # the stderr of the relay that approves as alice
QR_BIN = E["RELAY_E2E_QR"]
KP = E["RELAY_E2E_KP"]
JWT_KEY = E["RELAY_E2E_KEY"]
ALICE_ID = E["RELAY_E2E_ALICE_ID"]
BOB_ID = E["RELAY_E2E_BOB_ID"]
NAME = E["RELAY_E2E_NAME"]
EXAMPLES = E["RELAY_E2E_EXAMPLES"]
OUT = E["RELAY_E2E_OUT"]

PROMPT_RE = re.compile(r"Approve this login at (https://%s:\d+/a/[0-9A-Z]{11}) with Kakao, "
                       r"then enter the code: " % re.escape(NAME))
BUTTON = "form[method=post] button[type=submit]"
CODE_RE = re.compile(r"Your login code\n\n(\d{3}) (\d{3})\n")
CODE_TEXT = "never give it to anyone."
STEP = 60  # seconds any one step may take on a loaded machine
failed = False


class CaseError(Exception):
    """A step of a case that could not be done (the case fails)."""


# ------------------------------------------------------------------ the logs

def count_lines(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def lines_since(path, mark):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace").split("\n")[mark:-1]


class Marks:
    """Where the syslog sink's file, sshd's log, the mock's request log and
    the alice relay's log end before a case."""

    def __init__(self):
        self.syslog = count_lines(SYSLOG)
        self.sshd = count_lines(SSHD_LOG)
        self.mock = count_lines(MOCK_LOG)
        self.relay = count_lines(RELAY_LOG)


PK_LINE = re.compile(r"^<\d+>[A-Z][a-z][a-z] [ 0-9]\d [0-9:]+ [^ ]*: (pam_kakao\(.*)$")


def pk_lines(marks):
    """The pam_kakao lines logged since marks, once the sink has written
    everything sent before a marker of ours (as ns.sh's log_is)."""
    flush = "pk-e2e-relay-flush-%d-%d" % (os.getpid(), time.monotonic_ns())
    subprocess.run(["logger", "-u", SOCKET, "--", flush], check=False, timeout=30)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        lines = lines_since(SYSLOG, marks.syslog)
        if any(flush in line for line in lines):
            break
        time.sleep(0.1)
    else:
        raise CaseError("syslog sink: marker not written within 30 s")
    return [m.group(1) for m in map(PK_LINE.match, lines) if m]


def sshd_lines(marks):
    return [line.rstrip("\r") for line in lines_since(SSHD_LOG, marks.sshd)]


def authorize_requests(marks):
    out = []
    for line in lines_since(MOCK_LOG, marks.mock):
        rec = json.loads(line)
        if rec.get("path") == "/oauth/authorize":
            out.append(rec.get("query", ""))
    return out


# ------------------------------------------------------------------ the terminal

TERMINALS = []  # every one started, so that a failed case leaves nothing running


class Terminal:
    """A program on a pseudo-terminal of 80x24; what it writes is kept."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.data = b""
        self.status = None
        TERMINALS.append(self)

    def _read(self, deadline):
        """Reads what is there (waiting up to the deadline); False at EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise CaseError("timed out; the terminal shows %r" % self.text()[-400:])
        ready, _, _ = select.select([self.fd], [], [], left)
        if not ready:
            raise CaseError("timed out; the terminal shows %r" % self.text()[-400:])
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the slave side is closed
            chunk = b""
        self.data += chunk
        return bool(chunk)

    def text(self):
        return self.data.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, regex, start=0, timeout=STEP):
        """The first match of regex in the output from character start on."""
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.text(), start)
            if m:
                return m
            if not self._read(deadline):
                raise CaseError("the program ended before %s; it showed %r"
                                % (regex.pattern, self.text()[-400:]))

    def type(self, text):
        os.write(self.fd, text.encode() + b"\r")

    def finish(self, timeout=STEP):
        """Reads to the end and reaps the program: its exit status."""
        deadline = time.monotonic() + timeout
        try:
            while self._read(deadline):
                pass
        finally:
            self.close()
        return self.status

    def close(self, grace=5):
        """Reaps the program, killed if it has not ended within grace s."""
        if self.status is None:
            end = time.monotonic() + grace
            while True:
                pid, st = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.status = os.waitstatus_to_exitcode(st)
                    break
                if time.monotonic() >= end:
                    os.kill(self.pid, signal.SIGKILL)
                    _, st = os.waitpid(self.pid, 0)
                    self.status = os.waitstatus_to_exitcode(st)
                    break
                time.sleep(0.05)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def ssh(user="alice", lang="C"):
    env = dict(PATH=E.get("PATH", "/usr/bin:/bin"), HOME="/root", TERM="xterm", LC_ALL=lang)
    # $KAKAO_ID is for the remote shell.
    return Terminal(["ssh", "-F", "/dev/null", "-p", SSHD_PORT, "-o", "StrictHostKeyChecking=no",
                     "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
                     "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
                     "-o", "NumberOfPasswordPrompts=1",
                     "-o", "PreferredAuthentications=keyboard-interactive",
                     "%s@127.0.0.1" % user, "echo OK; echo KAKAO_ID=$KAKAO_ID"], env)


def sudo_as_alice():
    env = dict(PATH="/usr/sbin:/usr/bin:/sbin:/bin", TERM="xterm", LC_ALL="C")
    return Terminal(["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups",
                     "sudo", "id", "-u"], env)


# ------------------------------------------------------------------ the phone

class Phone:
    """One Chromium for every case, started on first use."""

    def __init__(self):
        self.b = None

    def approve(self, url):
        """Opens url, continues with Kakao, returns the code on the page."""
        try:
            if self.b is None:
                self.b = phone.Browser(phone.CHROMIUM, 390, 844, True,
                                       time.monotonic() + STEP, "MAP %s 127.0.0.1" % NAME)
                self.b.open_page()
            self.b.deadline = time.monotonic() + STEP
            status = self.b.navigate(url)
            if status != 200:
                raise CaseError("the approval page answered %r" % status)
            self.b.click(BUTTON)
            self.b.wait_text(CODE_TEXT)
            text = self.b.text()
        except phone.PhoneError as e:
            raise CaseError("phone: %s" % e) from None
        m = CODE_RE.search(text)
        if not m:
            raise CaseError("phone: no code on the page %r" % text)
        return m.group(1) + m.group(2)

    def close(self):
        if self.b is not None:
            self.b.close()
            self.b = None


PHONE = Phone()


# ------------------------------------------------------------------ the cases

def service(name, conf):
    """Writes the pam.d-example file of service name (paths substituted) to
    the test's pam.d, with config= naming conf. For sshd that is the strict
    variant (sshd-token-only: the relay and nothing else, prompt_unmapped),
    so a refused login ends there instead of falling through to a password."""
    example = "sshd-token-only" if name == "sshd" else name
    with open(os.path.join(EXAMPLES, example)) as f:
        text = f.read()
    text = text.replace("/etc/security/pam_kakao.conf", os.path.join(CONF, conf + ".conf"))
    text = text.replace("pam_kakao.so", MOD)
    path = os.path.join(SERVICE_DIR, name)
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def case(name):
    def wrap(fn):
        def run():
            global failed
            problems = []
            t0 = time.monotonic()
            try:
                fn(problems)
            except CaseError as e:
                problems.append(str(e))
            except Exception as e:  # a crash of the test is a failure, not an abort
                problems.append("exception: %r" % e)
            while TERMINALS:
                TERMINALS.pop().close(grace=0)
            took = time.monotonic() - t0
            if problems:
                failed = True
                print("FAIL: relay %s (%.1f s)" % (name, took))
                for p in problems:
                    print("    " + p)
            else:
                print("PASS: relay %s (%.1f s)" % (name, took))
            sys.stdout.flush()
        return run
    return wrap


def want_log(problems, marks, *patterns):
    """Exactly these pam_kakao lines since marks (regular expressions)."""
    got = pk_lines(marks)
    if len(got) != len(patterns) or not all(
            re.fullmatch(p, g) for p, g in zip(patterns, got)):
        problems.append("pam_kakao log: want %r, got %r" % (list(patterns), got))
    return got


def want_sshd(problems, marks, pattern):
    end = time.monotonic() + 20
    while True:
        if any(re.fullmatch(pattern, line) for line in sshd_lines(marks)):
            return
        if time.monotonic() >= end:
            problems.append("sshd log: no line like %r" % pattern)
            return
        time.sleep(0.1)


def want(problems, what, ok, detail):
    if not ok:
        problems.append("%s: %s" % (what, detail))


ACCEPTED_SSH = r"Accepted keyboard-interactive/pam for alice from 127\.0\.0\.1 port \d+ ssh2"
REMOTE_OK = "OK\nKAKAO_ID=%s\n" % ALICE_ID


def accepted(service_name, kind="relay"):
    return r"pam_kakao\(%s:auth\): accepted %s kakao_id=%s user=alice" % (
        service_name, kind, ALICE_ID)


def begin(service_name, conf, start):
    """Writes the service file and starts the program (ssh or sudo) once
    the logs are marked: (marks, terminal)."""
    service(service_name, conf)
    marks = Marks()
    return marks, start()


def relay_login(problems, term, wrong_first=False):
    """Waits for the prompt, has the phone approve, types the code (a wrong
    one first if asked): (url, code)."""
    m = term.wait_for(PROMPT_RE)
    url = m.group(1)
    code = PHONE.approve(url)
    if wrong_first:
        term.type("%06d" % ((int(code) + 1) % 1000000))
        again = term.wait_for(PROMPT_RE, m.end())
        want(problems, "the prompt again", again.group(1) == url, "another URL %r" % again.group(1))
    term.type(code)
    return url, code


def logged_in(problems, term, marks, *log):
    """The ssh login ends well: exit status 0, the remote command's output
    with alice's KAKAO_ID, the pam_kakao lines log (default: one accepted
    relay line) and sshd's Accepted line. Returns the transcript."""
    rc = term.finish()
    text = term.text()
    want(problems, "ssh exit status", rc == 0, rc)
    want(problems, "remote output", text.endswith(REMOTE_OK), repr(text))
    want_log(problems, marks, *(log or (accepted("sshd"),)))
    want_sshd(problems, marks, ACCEPTED_SSH)
    return text


def authorized_once(problems, marks, prompt_login):
    """One authorize request reached the mock Kakao since marks, with
    prompt=login or without it."""
    auth = authorize_requests(marks)
    want(problems, "one authorize request at the mock, %s prompt=login"
         % ("with" if prompt_login else "without"),
         len(auth) == 1 and ("prompt=login" in auth[0].split("&")) == prompt_login, repr(auth))


@case("sshd, relay only: the URL in the prompt approved on the phone, the code typed "
      "(echoed), the session has KAKAO_ID")
def ssh_relay_only(problems):
    marks, term = begin("sshd", "relay_only", ssh)
    url, code = relay_login(problems, term)
    text = logged_in(problems, term, marks)
    want(problems, "the code echoed (relay only: echo on)", "the code: %s\n" % code in text,
         repr(text))
    # OpenSSH's client names the account before a keyboard-interactive prompt.
    want(problems, "the prompt is the first thing shown",
         text.lstrip("\r").startswith("(alice@127.0.0.1) Approve this login at "), repr(text))
    authorized_once(problems, marks, False)
    save("relay-ssh.txt", text)


@case("sshd, relay only: a wrong code, the prompt again, then the right code accepted")
def ssh_wrong_then_right(problems):
    marks, term = begin("sshd", "relay_only", ssh)
    relay_login(problems, term, wrong_first=True)
    text = logged_in(problems, term, marks,
                     r"pam_kakao\(sshd:auth\): wrong relay code for user=alice "
                     r"\(attempts_left=2\); asking again", accepted("sshd"))
    want(problems, "two prompts", len(PROMPT_RE.findall(text)) == 2, repr(text))


@case("sshd: approved at Kakao by bob, who is not mapped to alice: refused")
def ssh_unmapped_approver(problems):
    marks, term = begin("sshd", "relay_bob", ssh)
    relay_login(problems, term)
    rc = term.finish()
    text = term.text()
    want(problems, "ssh exit status", rc not in (0, None), rc)
    want(problems, "no remote output", "KAKAO_ID" not in text, repr(text))
    want(problems, "ssh says", "Permission denied (keyboard-interactive)" in text, repr(text))
    want_log(problems, marks, r"pam_kakao\(sshd:auth\): rejected relay for user=alice: kakao_id "
             r"not mapped to this user \(kakao_id=%s\)" % BOB_ID)
    want_sshd(problems, marks, r"Failed keyboard-interactive/pam for alice from 127\.0\.0\.1 "
              r"port \d+ ssh2")


@case("sshd, relay only: carol, who has no map line, gets the same prompt with a real "
      "relay URL (prompt_unmapped=yes), then is refused")
def ssh_unmapped_user(problems):
    marks, term = begin("sshd", "relay_only", lambda: ssh(user="carol"))
    term.wait_for(PROMPT_RE)
    term.type("123456")
    rc = term.finish()
    text = term.text()
    want(problems, "ssh exit status", rc not in (0, None), rc)
    want(problems, "ssh says", "Permission denied (keyboard-interactive)" in text, repr(text))
    want(problems, "the prompt as for alice",
         text.lstrip("\r").startswith("(carol@127.0.0.1) Approve this login at "), repr(text))
    want_log(problems, marks, r"pam_kakao\(sshd:auth\): no user map entry for user=carol")
    created = [line for line in lines_since(RELAY_LOG, marks.relay) if "session created" in line]
    want(problems, "one session created at the relay for carol", len(created) == 1 and re.fullmatch(
        r"kakao-pam-relay: session created tag=[0-9a-f]{8} user=carol host=\S+ service=sshd "
        r"rhost=127\.0\.0\.1 client=127\.0\.0\.1", created[0]) is not None, repr(created))


@case("sshd, relay and jwt: the same prompt, echo off, a 6-digit code goes to the relay")
def ssh_relay_jwt_code(problems):
    marks, term = begin("sshd", "relay_jwt", ssh)
    url, code = relay_login(problems, term)
    text = logged_in(problems, term, marks)
    want(problems, "the code not echoed (echo off)", code not in text, repr(text))


@case("sshd, relay and jwt: an app JWT typed at the relay prompt accepted as a jwt")
def ssh_relay_jwt_token(problems):
    jwt = subprocess.run([KP, "mint", "--key", JWT_KEY, "--alg", "HS256", "--kakao-id", ALICE_ID],
                         capture_output=True, text=True, timeout=30).stdout.strip()
    marks, term = begin("sshd", "relay_jwt", ssh)
    term.wait_for(PROMPT_RE)
    term.type(jwt)
    text = logged_in(problems, term, marks, accepted("sshd", "jwt"))
    want(problems, "the token not echoed", len(jwt) > 100 and jwt[:20] not in text, repr(text))
    want(problems, "the phone not used: no authorize request at the mock",
         authorize_requests(marks) == [], repr(authorize_requests(marks)))


@case("sshd, relay_qr = yes: the QR's half-block lines arrive intact before the prompt, "
      "byte for byte the module's drawing, and all of it fits 80x24")
def ssh_qr(problems):
    marks, term = begin("sshd", "relay_qr", lambda: ssh(lang="C.UTF-8"))
    m = term.wait_for(PROMPT_RE)
    url = m.group(1)
    drawn = subprocess.run([QR_BIN, url], capture_output=True, timeout=30)
    want(problems, "e2e_qr_text", drawn.returncode == 0, drawn.stderr)
    # The OpenSSH client writes "(user@host) " before the prompt text, which
    # sshd sends with the QR in front: the module starts it with a new line.
    shown = term.text()[:m.start()].lstrip("\r")
    head = "(alice@127.0.0.1) \n"
    want(problems, "the QR lines before the prompt", shown == head + drawn.stdout.decode(),
         "got %r, want %r" % (shown, head + drawn.stdout.decode()))
    qr_lines = shown[len(head):].split("\n")[:-1]
    width = max((len(line) for line in qr_lines), default=0)
    prompt_rows = -(-len(m.group(0) + "123456") // 80)
    want(problems, "the QR %d lines of %d columns" % (len(qr_lines), width),
         width <= 80 and set("".join(qr_lines)) <= set(" \u2580\u2584\u2588"), repr(qr_lines))
    rows = 1 + len(qr_lines) + prompt_rows
    want(problems, "(user@host), QR and prompt within 24 rows (1 + %d + %d)"
         % (len(qr_lines), prompt_rows), rows <= 24, "")
    term.type(PHONE.approve(url))
    save("relay-ssh-qr.txt", logged_in(problems, term, marks))


@case("sudo step-up, relay: Kakao asked to re-authenticate (prompt=login), a fresh login "
      "accepted under max_token_age=300")
def sudo_fresh(problems):
    marks, term = begin("sudo", "relay_only", sudo_as_alice)
    relay_login(problems, term)
    rc = term.finish()
    text = term.text()
    want(problems, "sudo exit status", rc == 0, rc)
    want(problems, "sudo's output", text.endswith("\n0\n"), repr(text))
    want_log(problems, marks, accepted("sudo"))
    authorized_once(problems, marks, True)


@case("sudo step-up, relay: a Kakao login an hour old (auth_time) refused by max_token_age=300")
def sudo_old(problems):
    marks, term = begin("sudo", "relay_old", sudo_as_alice)
    relay_login(problems, term)
    t = int(time.time())
    rc = term.finish()
    text = term.text()
    want(problems, "sudo exit status", rc not in (0, None), rc)
    want(problems, "no command output", not text.endswith("\n0\n"), repr(text))
    got = want_log(problems, marks,
                   r"pam_kakao\(sudo:auth\): rejected relay for user=alice: authentication too "
                   r"old \(auth_time=\d+ now=\d+ max_token_age=300\)")
    m = re.search(r"auth_time=(\d+)", got[0] if got else "")
    want(problems, "auth_time an hour ago", m is not None and
         t - 3600 - 120 <= int(m.group(1)) <= t - 3600 + 5, repr(got))
    authorized_once(problems, marks, True)


def save(name, text):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w") as f:
        f.write(text)


def main():
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        for run in (ssh_relay_only, ssh_wrong_then_right, ssh_unmapped_approver,
                    ssh_unmapped_user, ssh_relay_jwt_code, ssh_relay_jwt_token, ssh_qr, sudo_fresh, sudo_old):
            run()
    finally:
        PHONE.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
