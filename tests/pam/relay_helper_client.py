"""The Python side of tests/pam/relay_helper.py, for the scripts that drive
it (tests/cli/test_enroll_relay.py, tests/demo_relay.py): start it, send it
commands, stop it."""

import os
import subprocess
import sys

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay_helper.py")


class Helper:
    """relay_helper.py RELAY WORK [TTL]: a kakao-pam-relay behind an HTTPS
    front on 127.0.0.1; port (the front's) and pub (relay_key) once ready.
    Needs PK_MOCK_PORT and PK_MOCK_CA in the environment."""

    def __init__(self, relay, work, ttl=None):
        args = [sys.executable, HELPER, relay, work] + ([str(ttl)] if ttl else [])
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        ready = self.p.stdout.readline().split()
        if len(ready) != 3 or ready[0] != "ready":
            self.close()
            raise RuntimeError("relay_helper.py did not start: %r" % ready)
        self.port, self.pub = int(ready[1]), ready[2]

    def cmd(self, line):
        """One command, its one answer line."""
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def close(self):
        """EOF on its stdin stops the relay and the helper."""
        self.p.stdin.close()
        self.p.wait(60)
