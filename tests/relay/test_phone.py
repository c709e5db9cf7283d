#!/usr/bin/env python3
"""kakao-pam-relay approved by a real phone: headless Chromium (tests/phone.py).

Usage: test_phone.py RELAY_BINARY WORKDIR
A host creates a session (POST /v1/sessions); the phone opens the session URL,
presses "Continue with Kakao" (a form POST), follows the 303 to the mock
Kakao's /oauth/authorize and its 302 back to /callback, and shows the code
page; the test reads the code from the page's text, redeems it and checks the
assertion with openssl. Then: a login denied at Kakao (the mock's deny
client) ends on the plain message page and approves nothing; the session URL
opened again after approval never shows the code again. Three browser runs in
all (Chromium takes 6-8 s to start here).

public_url must be https://, so the relay serves HTTPS itself (a self-signed
certificate) at 127.0.0.1:0 under public_url https://relay.test, and the
browser maps that name onto the relay's port (--host-resolver-rules) and
accepts the test certificates (--ignore-certificate-errors: the mock's too).
The relay's port is read from its start-up line, never guessed.

Screenshots at 390x844 go to WORKDIR: approve.png, code.png, denied.png,
used.png. Prints PASS:/FAIL: lines like test_api.py (whose helpers this
imports) and exits 1 if any failed; SKIPPED without /usr/bin/chromium or
without the mock Kakao (RELAY_KAKAO_AUTH_URL, RELAY_KAKAO_CA)."""

import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402  (reads RELAY_BINARY WORKDIR from sys.argv)

PHONE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "phone.py")
CHROMIUM = "/usr/bin/chromium"
NAME = "relay.test"
BUTTON = "form[method=post] button[type=submit]"
CODE_TEXT = ("Type this code only at the terminal where you started this login "
             "\u2014 never give it to anyone.")
# An IPv6 client address: the longest "from" a real login shows, and one
# word that must wrap rather than run off a 390-pixel screen.
RHOST = "2001:db8:85a3:1234:5678:8a2e:370:7334"
TIME_LEFT = r"Time left: (?:[12] min(?: \d{1,2} s)?|\d{1,2} s)"


def phone(port, scratch, url, *args):
    """Runs phone.py open URL ARGS against the relay on port: (rc, output
    object or None, stderr, seconds)."""
    cmd = [sys.executable, PHONE, "open", url, "--ignore-certificate-errors",
           "--host-resolver-rules", "MAP %s 127.0.0.1:%d" % (NAME, port),
           "--timeout", "60"] + list(args)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=dict(os.environ, TMPDIR=scratch))
    try:
        out, err = p.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        p.terminate()  # phone.py kills its browser's group on SIGTERM
        out, err = p.communicate()
    took = round(time.monotonic() - t0, 1)
    try:
        obj = json.loads(out) if p.returncode == 0 else None
    except ValueError:
        obj = None
    return p.returncode, obj, err.strip(), took


def left_behind(scratch):
    """Processes whose command line names the scratch directory (a browser
    phone.py did not stop), and whether the directory still holds anything."""
    procs = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if (scratch + "/").encode() in f.read():
                    procs += 1
        except OSError:
            pass
    return procs, bool(os.listdir(scratch))


def png_size(path):
    try:
        with open(path, "rb") as f:
            d = f.read(24)
    except OSError:
        return None
    if d[:8] != b"\x89PNG\r\n\x1a\n" or d[12:16] != b"IHDR":
        return None
    return int.from_bytes(d[16:20], "big"), int.from_bytes(d[20:24], "big")


def relay(name, client, cert, key, ca):
    api.CLIENT = client
    r = api.Relay(name, "tls_cert = %s\ntls_key = %s\n" % (cert, key), scheme="https")
    r.tls_context = ssl.create_default_context(cafile=ca)
    return r


def approved_flow(cert, key, scratch, shots):
    r = relay("phone", "mockRelayKey_alice_0101", cert, key, cert)
    try:
        st, b = api.create(r, user="alice", service="sshd", host="bastion", rhost=RHOST)
        s, url = b["session"], b["url"]
        api.result("phone: session created (201)", st == 201 and
                   re.fullmatch(r"https://relay\.test/a/[0-9A-Z]{11}", url) is not None,
                   repr((st, b)))
        m = r.mark()
        rc, o, err, took = phone(r.port, scratch, url,
                                 "--first-screenshot", shots["approve"], "--click", BUTTON,
                                 "--wait-text", CODE_TEXT, "--screenshot", shots["code"])
        print("phone: approval run took %.1f s" % took, flush=True)
        api.result("phone: opened the link, pressed Continue, came back with a code (rc 0)",
                   rc == 0 and o is not None, repr((rc, err)))
        o = o or {}
        first = o.get("first", {})
        want = (r"Log in as alice on bastion\?\n\n\(sshd, from " + re.escape(RHOST) + r"\)\n\n" +
                TIME_LEFT + r"\n\nContinue with Kakao\n\nYou will log in with Kakao, then see a "
                r"6-digit code to type at the terminal\. If you did not start this login, "
                r"close this page\.")
        api.result("phone: the approval page (200, exact text)", first.get("status") == 200 and
                   re.fullmatch(want, first.get("text", "")) is not None, repr(first))
        api.result("phone: the approval page fits the 390-pixel screen (scrollWidth %s)"
                   % first.get("scroll_width"), first.get("scroll_width") == 390)
        m_code = re.fullmatch(r"Your login code\n\n(\d{3}) (\d{3})\n\n" + TIME_LEFT +
                              r"\n\n" + re.escape(CODE_TEXT), o.get("text", ""))
        api.result("phone: the code page at /callback (200, exact text, code grouped 3+3)",
                   o.get("status") == 200 and m_code is not None and re.fullmatch(
                       r"https://relay\.test/callback\?code=[^&]+&state=[^&]+",
                       o.get("url", "")) is not None, repr(o))
        code = m_code.group(1) + m_code.group(2) if m_code else "000000"
        started = r.wait_line(r"kakao login started", 30, m)
        approved = r.wait_line(r"approved tag", 30, m)
        api.result("phone: log lines: kakao login started, approved as alice", started is not
                   None and re.fullmatch(r"kakao-pam-relay: kakao login started tag=[0-9a-f]{8} "
                                         r"prompt_login=no client=127\.0\.0\.1", started)
                   is not None and approved is not None and re.fullmatch(
                       r"kakao-pam-relay: approved tag=[0-9a-f]{8} kakao_id=3095134389 "
                       r"client=127\.0\.0\.1", approved) is not None, repr((started, approved)))
        for what in ("approve", "code"):
            api.result("phone: %s.png is a 390x844 PNG" % what,
                       png_size(shots[what]) == (390, 844), repr(png_size(shots[what])))

        t0 = int(time.time())
        st, b = api.redeem(r, s, code)
        t1 = int(time.time())
        ok = st == 200 and set(b) == {"assertion"}
        api.result("phone: the code read from the page redeems: 200 {assertion}", ok,
                   repr((st, b)))
        if ok:
            a = b["assertion"]
            hdr = json.loads(api.b64d(a.split(".")[0]))
            cl = json.loads(api.b64d(a.split(".")[1]))
            api.result("phone: assertion ES256 signature verified by openssl alone",
                       api.verify_with_openssl(a, "phone"))
            api.result("phone: assertion header {alg ES256, typ kakao-pam-login+jwt}",
                       hdr == {"alg": "ES256", "typ": "kakao-pam-login+jwt"}, repr(hdr))
            api.result("phone: assertion claims: iss public_url, aud the host, nonce S, "
                       "kakao_id alice's", set(cl) == {"iss", "aud", "nonce", "kakao_id", "iat",
                                                        "exp", "auth_time", "jti"} and
                       cl["iss"] == "https://" + NAME and cl["aud"] == "bastion" and
                       cl["nonce"] == s and cl["kakao_id"] == 3095134389 and
                       t0 - 1 <= cl["iat"] <= t1 + 1 and cl["exp"] == cl["iat"] + 60 and
                       cl["auth_time"] <= cl["iat"], repr(cl))
        api.result("phone: redeemed twice: 410 used",
                   api.redeem(r, s, code) == (410, {"error": "used"}))

        rc, o, err, took = phone(r.port, scratch, url, "--screenshot", shots["used"])
        print("phone: reopen run took %.1f s" % took, flush=True)
        o = o or {}
        text = o.get("text", "")
        api.result("phone: the link opened again: 410, already approved, exact text",
                   rc == 0 and o.get("status") == 410 and text ==
                   "This login was already approved\n\nIts code was shown once, to the browser "
                   "that approved it. If that was not you, do not type any code: start a new "
                   "login.", repr((rc, err, o)))
        api.result("phone: the link opened again does not show the code",
                   rc == 0 and code not in text and code[:3] + " " + code[3:] not in text and
                   code[:3] not in text and code[3:] not in text, repr(text))
        api.result("phone: no code or session id in the relay's log",
                   all(code not in l and s not in l for l in r.log()))
    finally:
        rc = r.stop()
    api.result("phone: relay exits 0 on SIGTERM", rc == 0, repr(rc))


def denied_flow(cert, key, scratch, shots):
    r = relay("phone-deny", "mockRelayKey_deny_00104", cert, key, cert)
    try:
        st, b = api.create(r, user="alice", service="sudo", host="bastion", rhost="")
        s, url = b["session"], b["url"]
        m = r.mark()
        rc, o, err, took = phone(r.port, scratch, url, "--click", BUTTON, "--wait-text",
                                 "Login not approved", "--screenshot", shots["denied"])
        print("phone: denied run took %.1f s" % took, flush=True)
        o = o or {}
        api.result("phone: denied at Kakao: 403 message page at /callback, exact text",
                   rc == 0 and o.get("status") == 403 and o.get("text") ==
                   "Login not approved\n\nKakao did not approve this login. Nothing was "
                   "approved; start the login again at your terminal if you want to." and
                   re.fullmatch(r"https://relay\.test/callback\?error=access_denied&"
                                r"error_description=[^&]+&state=[^&]+", o.get("url", ""))
                   is not None, repr((rc, err, o)))
        line = r.wait_line(r"denied at kakao", 30, m)
        api.result("phone: denied at Kakao: log line", line is not None and re.fullmatch(
            r"kakao-pam-relay: login denied at kakao tag=[0-9a-f]{8}: error=access_denied",
            line) is not None, repr(line))
        api.result("phone: denied at Kakao: the redeem gets 409 not_approved",
                   api.redeem(r, s, "123456") == (409, {"error": "not_approved"}))
        api.result("phone: denied.png is a 390x844 PNG",
                   png_size(shots["denied"]) == (390, 844), repr(png_size(shots["denied"])))
    finally:
        rc = r.stop()
    api.result("phone: deny relay exits 0 on SIGTERM", rc == 0, repr(rc))


def main():
    if not os.access(CHROMIUM, os.X_OK):
        print("SKIPPED: relay phone test: %s not installed (apt-get install chromium)"
              % CHROMIUM)
        return 0
    if not api.AUTH_CA or not os.environ.get("RELAY_KAKAO_AUTH_URL"):
        print("SKIPPED: relay phone test: no mock Kakao (RELAY_KAKAO_AUTH_URL unset)")
        return 0
    api.PUBLIC = "https://" + NAME
    api.make_signing_key()
    cert, key = api.make_tls_cert(os.path.join(api.WORK, "phone-tls"), NAME,
                                  "DNS:%s,IP:127.0.0.1" % NAME)
    shots = dict((n, os.path.join(api.WORK, n + ".png"))
                 for n in ("approve", "code", "denied", "used"))
    for f in shots.values():
        if os.path.exists(f):
            os.unlink(f)
    # phone.py's TMPDIR: short (Chromium puts a socket in it), checked empty after.
    scratch = tempfile.mkdtemp(prefix="relay-phone.", dir="/tmp")
    try:
        for flow in (approved_flow, denied_flow):
            try:
                flow(cert, key, scratch, shots)
            except Exception as e:  # a crash of the test is a failure, not an abort
                api.result(flow.__name__, False, "exception: %r" % e)
        # phone.py reaps the browser it killed; the rest of Chromium's
        # process group may still be exiting: wait (30 s) for them to go.
        end = time.monotonic() + 30
        procs, files = left_behind(scratch)
        while (procs or files) and time.monotonic() < end:
            time.sleep(0.2)
            procs, files = left_behind(scratch)
        api.result("phone: no browser process and no profile left (%d, %s)" % (procs, files),
                   procs == 0 and not files)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if api.failures else 0


if __name__ == "__main__":
    sys.exit(main())
