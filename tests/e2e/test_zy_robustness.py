"""Robustness (issue 5): dockerd restarted under sockgate; the registry going
down and coming back; 2,000 concurrent connections; a slowloris client cut off
without harming others; a client that stops reading a `docker save` (bounded
memory); SIGTERM during a large `docker load`.

Named test_zy_ so it runs late: the dockerd restart ends every container."""

import io
import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import tarfile
import threading
import time

import pytest

from conftest import (DOCKER_BIN, ENV, cli_env, connect, docker_cli, engine_cli, out,
                      pattern_blocks, raw_request)
from gate import Gate, settings

PING = b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def big_image(name, mib):
    """An image of about `mib` MiB of data that compresses badly."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"".join(pattern_blocks(mib << 20, seed=name.encode()))
        ti = tarfile.TarInfo("big")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    engine_cli("import", "-", name, input=buf.getvalue(), timeout=300)


# ---- 2,000 concurrent connections ---------------------------------------------

def test_2000_concurrent_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    socks = []
    try:
        for _ in range(2000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(ENV["SOCKGATE_SOCK"])
            socks.append(s)
        for s in socks:
            s.sendall(PING)
        answered = 0
        deadline = time.monotonic() + 60
        sel = selectors.DefaultSelector()  # epoll: select() stops at fd 1024
        got = {}
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
            got[s] = b""
        while answered < 2000 and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                got[s] += s.recv(4096)
                if got[s].endswith(b"OK"):
                    answered += 1
                    sel.unregister(s)
        sel.close()
        assert answered == 2000, answered
    finally:
        for s in socks:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert raw_request(ENV["SOCKGATE_SOCK"], PING)[0] == 200


# ---- slowloris ----------------------------------------------------------------------

def test_slowloris_is_cut_off_without_harming_others():
    g = Gate("slow", settings(value=False), extra=("--header-timeout", "2"))
    try:
        slow = connect(g.pub)
        slow.sendall(b"GET /_ping HTTP/1.1\r\n")
        t0 = time.monotonic()
        fast_ok = 0
        answer = b""
        while time.monotonic() - t0 < 8:
            try:
                slow.sendall(b"X")  # a byte at a time, never a whole head
            except OSError:
                break
            if raw_request(g.pub, PING)[0] == 200:
                fast_ok += 1
            slow.settimeout(0.3)
            try:
                chunk = slow.recv(4096)
                answer += chunk
                if not chunk or b"408" in answer:
                    break
            except socket.timeout:
                pass
        elapsed = time.monotonic() - t0
        assert b"HTTP/1.1 408" in answer, answer
        assert 1.5 <= elapsed < 6, elapsed
        assert fast_ok >= 3
        slow.close()
    finally:
        g.stop()


# ---- a client that stops reading docker save ----------------------------------------

def test_client_that_stops_reading_save_costs_bounded_memory():
    big_image("sgsave:1", 256)
    pid = int(ENV["SOCKGATE_PID"])
    try:
        before = rss_kib(pid)
        s = connect(ENV["SOCKGATE_SOCK"])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /v1.41/images/get?names=sgsave%3A1 HTTP/1.1\r\nHost: d\r\n\r\n")
        s.recv(1024)  # the head and a little: then nothing more is read
        time.sleep(6)
        during = rss_kib(pid)
        s.close()
        assert during - before < 16 * 1024, (before, during)  # far below 256 MiB
        # sockgate is fine and the upstream was dropped with the client.
        assert raw_request(ENV["SOCKGATE_SOCK"], PING)[0] == 200
    finally:
        engine_cli("rmi", "-f", "sgsave:1", check=False)


# ---- SIGTERM during a large docker load ---------------------------------------------

def test_sigterm_during_docker_load_completes_or_fails_cleanly(scratch):
    big_image("sgload:1", 192)
    tar = os.path.join(scratch, "sgload.tar")
    engine_cli("save", "-o", tar, "sgload:1", timeout=300)
    engine_cli("rmi", "-f", "sgload:1")
    g = Gate("load", settings(value=False), extra=("--shutdown-timeout", "60"))
    with open(tar, "rb") as f:
        load = subprocess.Popen([DOCKER_BIN, "load"], stdin=f, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=cli_env(g.pub))
        time.sleep(0.3)
        g.proc.send_signal(signal.SIGTERM)
        o, e = load.communicate(timeout=300)
    rc = g.proc.wait(timeout=90)
    g.log.close()
    assert rc == 0, g.text()[-2000:]
    present = engine_cli("image", "inspect", "sgload:1", check=False).returncode == 0
    if load.returncode == 0:
        assert present and b"sgload:1" in o, (o, e)   # it completed
    else:
        assert not present, (o, e)                   # it failed, nothing half-loaded
    engine_cli("rmi", "-f", "sgload:1", check=False)


# ---- the registry down and back -----------------------------------------------------

class Switch:
    """A TCP relay to the test registry that can be switched off (connections
    refused) and on again: the registry going down and coming back."""

    def __init__(self):
        self.lst = socket.socket()
        self.lst.bind(("127.0.0.1", 0))
        self.lst.listen(64)
        self.port = self.lst.getsockname()[1]
        self.up = True
        self.stop = False
        host, port = ENV["REGISTRY_ADDR"].split(":")
        self.target = (host, int(port))
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.lst.accept()
            except OSError:
                return
            if not self.up:
                c.close()
                continue
            u = socket.create_connection(self.target)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.lst.close()


def test_registry_down_and_back():
    sw = Switch()
    g = Gate("regswitch", settings(images=["docker:cli"]),
             endpoint="http://127.0.0.1:%d" % sw.port, extra=("--digest-ttl", "0"))
    mount = "%s:/var/run/docker.sock" % g.pub
    try:
        docker_cli("run", "--rm", "-v", mount, "docker:cli", "true", sock=g.pub)
        sw.up = False  # down: the persisted answer keeps working
        docker_cli("run", "--rm", "-v", mount, "docker:cli", "true", sock=g.pub)
        assert "persisted digest" in g.decisions()[-2]["rule"] + g.decisions()[-1]["rule"]
        sw.up = True   # back: fresh answers again
        docker_cli("run", "--rm", "-v", mount, "docker:cli", "true", sock=g.pub)
        assert "persisted" not in g.decisions()[-2]["rule"]
    finally:
        g.stop()
        sw.close()


# ---- dockerd restarted under sockgate -----------------------------------------------

def test_dockerd_restarted_under_sockgate():
    pidfile = os.path.join(ENV["TESTBED_DIR"], "dockerd.pid")
    with open(pidfile) as f:
        pid = int(f.read().strip())
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\0") if a]
    pub = ENV["SOCKGATE_SOCK"]
    assert raw_request(pub, PING)[0] == 200  # leaves a pooled engine connection
    docker_cli("ps", sock=pub)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    status, _, body = raw_request(pub, PING)
    assert status == 502 and b"cannot reach the Docker Engine" in body, body
    log = open(os.path.join(ENV["TESTBED_DIR"], "dockerd.log"), "ab")
    subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                     start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if raw_request(ENV["ENGINE_SOCK"], PING)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    # Through the same sockgate, without restarting it.
    assert raw_request(pub, PING)[0] == 200
    p = docker_cli("run", "--rm", "bb", "echo", "after-restart", sock=pub)
    assert out(p) == "after-restart"
