#!/usr/bin/env python3
"""The relay rows of `make demo` (tests/demo.sh).

Usage: demo_relay.py MODULE DEMO_DIR
Environment: PK_MOCK_PORT and PK_MOCK_CA, the demo's mock Kakao API (its
server certificate and key next to the CA), as tests/pam/relay_helper.py
wants them.

A real kakao-pam-relay (build/kakao-pam-relay) behind relay_helper.py's HTTPS
front; real pamtester, under pam_wrapper, through the built module with
`accept = relay`. For each row pamtester shows the prompt with the URL, the
headless Chromium phone (tests/phone.py) opens it, presses Continue with
Kakao, logs in at the mock Kakao and reads the code off the page, and the
code (or a wrong one) is typed at pamtester. One line per row on stdout:
SCENARIO<TAB>USER<TAB>STATUS<TAB>PAMTESTER'S LAST WORDS<TAB>LAST SYSLOG LINE,
for demo.sh to print like its other rows. Everything it starts stops by
itself (the helper on stdin EOF, pamtester and phone.py on their timeouts)."""

import os
import re
import select
import subprocess
import sys
import time

MOD, D = sys.argv[1], sys.argv[2]
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "pam"))
from relay_helper_client import Helper  # noqa: E402
RELAY = os.path.join(TOP, "build", "kakao-pam-relay")
URL = re.compile(r"Approve this login at (https://\S+/a/[0-9A-Z]+) with Kakao")


def service(h, name):
    conf = os.path.join(D, name + ".conf")
    with open(conf, "w") as f:
        f.write("user_map = %s/pam_kakao.users\naccept = relay\nrelay_url = "
                "https://127.0.0.1:%d\nrelay_key = %s\nca_file = %s\ntimeout = 10\n"
                % (D, h.port, h.pub, os.environ["PK_MOCK_CA"]))
    os.chmod(conf, 0o644)
    with open(os.path.join(D, "services", name), "w") as f:
        f.write("auth required %s config=%s\naccount required %s config=%s\n"
                % (MOD, conf, MOD, conf))


def row(h, svc, title, user, answer):
    """pamtester SVC USER authenticate; answer(url, out) returns the lines to
    type once the prompt is there (None: type nothing more)."""
    env = dict(os.environ, LD_PRELOAD="libpam_wrapper.so", PAM_WRAPPER="1",
               PAM_WRAPPER_SERVICE_DIR=os.path.join(D, "services"), PAM_WRAPPER_DEBUGLEVEL="2")
    p = subprocess.Popen(["pamtester", "-v", svc, user, "authenticate"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = b""
    deadline = time.monotonic() + 60
    while URL.search(out.decode(errors="replace")) is None and time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(p.stdout.fileno(), 4096) if r else b""
        if not chunk:
            break
        out += chunk
    m = URL.search(out.decode(errors="replace"))
    if m is not None:
        for line in answer(m.group(1)):
            p.stdin.write((line + "\n").encode())
            p.stdin.flush()
    try:
        rest, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        rest, _ = p.communicate()
    text = (out + rest).decode(errors="replace")
    logs = re.findall(r"SYSLOG\(\d+\): (.*)", text)
    words = re.findall(r"^pamtester: (.*)$", text, re.M)
    print("\t".join([title, user, str(p.returncode), words[-1] if words else "",
                     logs[-1] if logs else ""]), flush=True)


def main():
    h = Helper(RELAY, os.path.join(D, "relay"))
    try:
        service(h, "relay")

        def approved(url):
            return [h.cmd("phone " + url)[5:]]

        def wrong(url):
            code = h.cmd("phone " + url)[5:]
            bad = "%06d" % ((int(code) + 1) % 1000000) if code.isdigit() else "000000"
            return [bad, bad, bad]

        row(h, "relay", "relay: approved on the phone", "alice", approved)
        row(h, "relay", "relay: wrong code, three times", "alice", wrong)
        row(h, "relay", "relay: approved by unmapped Kakao", "bob", approved)
    finally:
        h.close()
    h = Helper(RELAY, os.path.join(D, "relay_short"), ttl=30)
    try:
        service(h, "relay_short")

        def late(url):
            t0 = time.monotonic()
            code = h.cmd("phone " + url)[5:]
            # The session (30 s) was made before t0: wait it out.
            while time.monotonic() - t0 < 31:
                time.sleep(0.5)
            return [code]

        row(h, "relay_short", "relay: code typed after 30 s", "alice", late)
    finally:
        h.close()


main()
