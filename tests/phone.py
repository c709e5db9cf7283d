#!/usr/bin/env python3
"""A phone for the tests: headless Chromium driven over the DevTools protocol.

    python3 tests/phone.py open URL [--first-screenshot F.png] [--click SELECTOR]
        [--wait-text TEXT] [--screenshot F.png] [--width 390 --height 844]
        [--timeout S] [--ignore-certificate-errors] [--host-resolver-rules RULES]
        [--chromium PATH]

Opens URL at a phone's size, optionally clicks the element SELECTOR (a CSS
selector: a button of a form is a real submit) and waits for the page that
click leads to (redirects followed), optionally waits until the page shows
TEXT, optionally saves a PNG screenshot of the viewport, and prints one JSON
object on stdout: {"url": final URL, "status": HTTP status of the final
document (null if unknown), "text": document.body.innerText}. With
--first-screenshot, the page URL opened is also saved as a PNG before any
click, and the object has "first": {"status", "text", "scroll_width"} of
that page (scroll_width wider than --width: a line runs off the screen).
--host-resolver-rules is given to Chromium as it is ("MAP relay.test
127.0.0.1:PORT": a test server stands in for an https:// name).

Exit status: 0 done; 1 the page could not be loaded (a navigation error, a
missing element, a click that leads nowhere, TEXT not shown, or the whole
run past --timeout), told in one line on stderr; 2 usage.

Python 3 standard library only. The browser is spoken to over
--remote-debugging-pipe: commands on its fd 3, answers and events on its
fd 4, each a JSON text ended by a NUL byte; no websocket, no port. Clicks
and reading the page go through Runtime.evaluate, which the page's
Content-Security-Policy does not govern, so pages without any script under
`default-src 'none'` are driven as they are. Chromium runs in its own
process group with a fresh profile in a temporary directory; the group is
killed and the directory removed at the end, on a timeout and on SIGTERM.
"""

import argparse
import base64
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"


class PhoneError(Exception):
    """A failure told on stderr, exit status 1."""


class Browser:
    """One Chromium process and one page in it, spoken to over the pipe."""

    def __init__(self, chromium, width, height, insecure, deadline, resolver_rules=None):
        self.deadline = deadline
        self.next_id = 0
        self.events = []
        self.buf = b""
        self.session = None
        self.proc = None
        # The profile and the browser's own temporary files, removed together.
        # Chromium puts a socket in its TMPDIR: the path must fit a socket
        # address (108 bytes), so a long TMPDIR gives way to /tmp.
        base = tempfile.gettempdir()
        self.scratch = tempfile.mkdtemp(prefix="phone.", dir=base if len(base) <= 40 else "/tmp")
        profile = os.path.join(self.scratch, "profile")
        os.mkdir(profile, 0o700)
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        args = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-quic",
            "--disable-extensions", "--mute-audio", "--hide-scrollbars",
            "--user-data-dir=" + profile, "--remote-debugging-pipe",
            "--window-size=%d,%d" % (width, height), "about:blank",
        ]
        if insecure:
            args.insert(1, "--ignore-certificate-errors")
        if resolver_rules:
            args.insert(1, "--host-resolver-rules=" + resolver_rules)

        def child_fds():
            # The pipe ends land on fds 3 and 4, whatever numbers they had.
            hi_r = os.dup(cmd_r)
            hi_w = os.dup(res_w)
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        try:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=False,
                preexec_fn=child_fds, env=dict(os.environ, TMPDIR=self.scratch))
        finally:
            os.close(cmd_r)
            os.close(res_w)
        self.cmd_w = cmd_w
        self.res_r = res_r
        self.width = width
        self.height = height

    # ---- the pipe -------------------------------------------------------

    def _read_message(self):
        """The next message from the browser; PhoneError past the deadline."""
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise PhoneError("timed out")
            ready, _, _ = select.select([self.res_r], [], [], left)
            if not ready:
                raise PhoneError("timed out")
            chunk = os.read(self.res_r, 1 << 20)
            if not chunk:
                raise PhoneError("the browser closed its DevTools pipe (did it start?)")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=True, what=None):
        """Sends a command and returns its result; events seen meanwhile are
        kept. what names the wait in a timeout's message (default: method)."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session is not None:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            _, ready, _ = select.select([], [self.cmd_w], [],
                                        max(0.0, self.deadline - time.monotonic()))
            if not ready:
                raise PhoneError("timed out while sending %s" % method)
            data = data[os.write(self.cmd_w, data):]
        while True:
            try:
                m = self._read_message()
            except PhoneError as e:
                raise PhoneError("%s while waiting for %s" % (e, what or method)) from None
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise PhoneError("%s: %s" % (method, m["error"].get("message", m["error"])))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, accept, what):
        """The first kept or coming event for which accept(event) is true;
        it and every event kept before it are dropped (they are past)."""
        while True:
            for i, e in enumerate(self.events):
                if accept(e):
                    del self.events[:i + 1]
                    return e
            try:
                self.events.append(self._read_message())
            except PhoneError as e:
                raise PhoneError("%s while waiting for %s" % (e, what)) from None

    # ---- the page -------------------------------------------------------

    def open_page(self):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        self.target = target["targetId"]
        attached = self.send("Target.attachToTarget",
                             {"targetId": self.target, "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Network.enable"):
            self.send(method)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1,
                   "mobile": True})
        self.frame = self.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
        self.events.clear()

    def _mine(self, e):
        return e.get("sessionId") == self.session

    def wait_loaded(self, what, loader=None):
        """Waits for the main frame's next navigation (the one of loader,
        when given) and its load event; PhoneError for an error page.
        Returns the document's HTTP status (None if unknown)."""
        status = None
        while True:
            e = self.wait_event(lambda e: self._mine(e) and e["method"] in (
                "Page.frameNavigated", "Network.responseReceived"), what)
            if e["method"] == "Network.responseReceived":
                p = e["params"]
                if p.get("type") == "Document" and p.get("frameId") == self.frame:
                    status = p["response"].get("status")
                continue
            frame = e["params"]["frame"]
            if frame.get("id") != self.frame or (loader and frame.get("loaderId") != loader):
                continue
            if frame.get("unreachableUrl") or frame.get("url", "").startswith("chrome-error:"):
                raise PhoneError("navigation failed: %s could not be loaded"
                                 % frame.get("unreachableUrl", frame.get("url")))
            break
        self.wait_event(lambda e: self._mine(e) and e["method"] == "Page.loadEventFired",
                        "the page to load (%s)" % what)
        return status

    def navigate(self, url):
        result = self.send("Page.navigate", {"url": url}, what="the page at %s" % url)
        if result.get("errorText"):
            raise PhoneError("navigation to %s failed: %s" % (url, result["errorText"]))
        return self.wait_loaded("the page at %s" % url, result.get("loaderId"))

    def evaluate(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise PhoneError("script error: %s" % d.get("exception", {}).get(
                "description", d.get("text")))
        return r["result"].get("value")

    def click(self, selector):
        """Clicks the element (as a user would: a submit button submits its
        form) and waits for the page the click leads to."""
        sel = json.dumps(selector)
        found = self.evaluate(
            "(() => { const e = document.querySelector(%s); if (!e) return false;"
            " e.click(); return true; })()" % sel)
        if not found:
            raise PhoneError("no element matches %s on %s" % (selector, self.url()))
        return self.wait_loaded("the page after clicking %s" % selector)

    def wait_text(self, text):
        url = None
        try:
            while time.monotonic() < self.deadline:
                url = self.url()
                if text in (self.text() or ""):
                    return
                time.sleep(min(0.1, max(0.0, self.deadline - time.monotonic())))
        except PhoneError as e:
            if not str(e).startswith("timed out"):
                raise
        raise PhoneError("timed out: the page never showed %s (%s)" % (json.dumps(text), url))

    def url(self):
        return self.evaluate("location.href")

    def text(self):
        return self.evaluate("document.body ? document.body.innerText : ''")

    def screenshot(self, path):
        r = self.send("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    # ---- the end --------------------------------------------------------

    def close(self):
        """Ends the browser's whole process group and removes its profile.
        SIGKILL at once: nothing of the profile is worth a clean shutdown."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        for fd in ("cmd_w", "res_r"):
            if getattr(self, fd, None) is not None:
                os.close(getattr(self, fd))
                setattr(self, fd, None)
        shutil.rmtree(self.scratch, ignore_errors=True)


def cmd_open(a):
    deadline = time.monotonic() + a.timeout
    b = None
    try:
        b = Browser(a.chromium, a.width, a.height, a.ignore_certificate_errors, deadline,
                    a.host_resolver_rules)
        b.open_page()
        status = b.navigate(a.url)
        first = None
        if a.first_screenshot:
            b.screenshot(a.first_screenshot)
            first = {"status": status, "text": b.text(),
                     "scroll_width": b.evaluate("document.documentElement.scrollWidth")}
        if a.click:
            status = b.click(a.click)
        if a.wait_text:
            b.wait_text(a.wait_text)
        if a.screenshot:
            b.screenshot(a.screenshot)
        out = {"url": b.url(), "status": status, "text": b.text()}
        if first is not None:
            out["first"] = first
    except PhoneError as e:
        msg = str(e)
        if msg.startswith("timed out"):
            msg = "%s (after %g s)" % (msg, a.timeout)
        print("phone.py: %s" % msg, file=sys.stderr)
        return 1
    finally:
        if b is not None:
            b.close()
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def main():
    p = argparse.ArgumentParser(prog="phone.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("open", help="open a URL, optionally click, print the final page")
    o.add_argument("url")
    o.add_argument("--first-screenshot", metavar="FILE",
                   help="save the page opened as a PNG before any click")
    o.add_argument("--click", metavar="SELECTOR")
    o.add_argument("--wait-text", metavar="TEXT")
    o.add_argument("--screenshot", metavar="FILE")
    o.add_argument("--width", type=int, default=390)
    o.add_argument("--height", type=int, default=844)
    o.add_argument("--timeout", type=float, default=30.0, metavar="S")
    o.add_argument("--ignore-certificate-errors", action="store_true",
                   help="accept any certificate (test servers only)")
    o.add_argument("--host-resolver-rules", metavar="RULES",
                   help="Chromium's host mapping, e.g. \"MAP relay.test 127.0.0.1:8470\"")
    o.add_argument("--chromium", default=CHROMIUM, metavar="PATH")
    a = p.parse_args()
    if a.timeout <= 0 or a.width <= 0 or a.height <= 0:
        p.error("--timeout, --width and --height must be positive")
    if not os.access(a.chromium, os.X_OK):
        print("phone.py: %s not found or not executable" % a.chromium, file=sys.stderr)
        return 1

    # SIGTERM and SIGHUP end the run through the finally clauses (the
    # browser's group killed, the profile removed).
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    return cmd_open(a)


if __name__ == "__main__":
    sys.exit(main())
