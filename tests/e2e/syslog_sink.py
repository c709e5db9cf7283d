#!/usr/bin/env python3
"""A private /dev/log for the end-to-end tests (tests/e2e/ns.sh).

Binds a Unix datagram socket at --socket and appends every message it gets
to --out, one line each, flushed at once, as sent (for example
"<85>Nov 26 14:50:00 sshd[123]: pam_kakao(sshd:auth): accepted ..."). The
test mounts the socket's directory over /dev inside its private mount
namespace, so sshd and sudo (through pam_syslog) log here and never to the
host's syslog. Standard library only. Stops by itself: on SIGTERM/SIGINT/
SIGHUP, within 0.5 s after --parent-pid is gone, or after --lifetime seconds.
"""

import argparse
import os
import signal
import socket
import sys
import time


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--parent-pid", type=int)
    p.add_argument("--lifetime", type=float, default=300.0)
    args = p.parse_args()

    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.append(1))

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    sock.bind(args.socket)
    # Anyone may log, as with the real /dev/log (sudo's child runs as the user).
    os.chmod(args.socket, 0o666)
    sock.settimeout(0.5)
    deadline = time.monotonic() + args.lifetime
    with open(args.out, "ab", buffering=0) as out:
        while not stop and time.monotonic() < deadline:
            if args.parent_pid is not None and not alive(args.parent_pid):
                break
            try:
                msg = sock.recv(65536)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            out.write(msg.rstrip(b"\0\n").replace(b"\n", b"\\n") + b"\n")
    sock.close()
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
