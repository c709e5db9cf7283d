"""A real redis-server for the relay's tests: a unix socket in a temporary
directory (no TCP port at all), no persistence (--save '' --appendonly no),
started and stopped by the test, and gone with it (it dies with its parent
through a watchdog). A minimal RESP client reads and checks what the relay
stored."""

import os
import signal
import socket
import subprocess
import time


class RedisServer:
    def __init__(self, directory, password=None):
        self.dir = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.sock = os.path.join(directory, "redis.sock")
        self.password = password
        self.proc = None
        self.start()

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        cmd = ["redis-server", "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
               "--save", "", "--appendonly", "no", "--dir", self.dir, "--loglevel", "warning",
               "--databases", "16"]
        if self.password:
            cmd += ["--requirepass", self.password]
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        # A watchdog: the server never outlives this test process.
        parent = os.getpid()
        self.watch = subprocess.Popen(
            ["sh", "-c", "while kill -0 %d 2>/dev/null && kill -0 %d 2>/dev/null; do sleep 1; "
             "done; kill -9 %d 2>/dev/null" % (parent, self.proc.pid, self.proc.pid)],
            stdin=subprocess.DEVNULL)
        end = time.monotonic() + 30
        while True:
            try:
                if self.command("PING") == "PONG":
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def url(self):
        return "unix:" + self.sock

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.watch.wait()
            self.log.close()
        self.proc = None

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def pid(self):
        return self.proc.pid

    def command(self, *args, timeout=30):
        """One command on a new connection (AUTH first when a password is
        set); the reply as str, int, None, or list. The server is running:
        30 s only end a wait for an answer that never comes."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.sock)
            f = s.makefile("rb")
            if self.password:
                s.sendall(_encode(("AUTH", self.password)))
                _read(f)
            s.sendall(_encode(args))
            return _read(f)
        finally:
            s.close()


def _encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class RedisError(Exception):
    pass


def _read(f):
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise OSError("bad reply %r" % line)
