"""test_budgets.py — nobody stalls the gate for everyone (issue 19): what
requests may hold while they are inspected and decided is budgeted, for the
process and per caller; a body trickled for inspection is cut by the body
timeout; connections past the limit are told so. Each case checks that
another client's /_ping keeps being answered promptly meanwhile."""

import json
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import ENV, connect, engine_cli, raw_request
from gate import Gate, settings

RELEASE = os.path.join(os.path.dirname(ENV["SOCKGATE_BIN"]), "..", "sockgate")
PING = b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"


class Pinger(threading.Thread):
    """GET /_ping on sock every 50 ms on fresh connections, timing each."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.stop, self.times, self.errors = sock, threading.Event(), [], []

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                status = raw_request(self.sock, PING, timeout=10)[0]
                if status != 200:
                    self.errors.append(status)
            except OSError as e:
                self.errors.append(repr(e))
            self.times.append(time.monotonic() - t0)
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.join(15)
        assert not self.errors, self.errors
        assert self.times, "no ping was made"
        return max(self.times)


def status(g):
    p = subprocess.run([ENV["SOCKGATE_BIN"], "status", "--state-dir", g.state],
                       capture_output=True, timeout=10, check=True)
    return json.loads(p.stdout)


def rss_peak_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def answer_status(s, timeout=60):
    """The status code of the answer on s (None when closed without one)."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return int(buf.split(b" ")[1]) if buf.startswith(b"HTTP/1.1 ") else None


def send_create(sock, body, results, i):
    head = (b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
    try:
        with connect(sock) as s:
            try:
                s.sendall(head + body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the body was read: the answer is waiting
            results[i] = answer_status(s)
    except OSError as e:
        results[i] = repr(e)


def costly_bodies(pub):
    """4 MiB each: [[],[],…] (1.4 million values), and 60,000 strings under a
    socket mount that is refused after the parse (bb is not in the list)."""
    arrays = b'{"Image":"bb","Cmd":[' + b",".join([b"[]"] * 1398000) + b"]}"
    env = b",".join([b'"V%05d=' % i + b"x" * 58 + b'"' for i in range(60000)])
    strings = (b'{"Image":"bb","Env":[' + env + b'],"HostConfig":{"Binds":["' +
               pub.encode() + b':/var/run/docker.sock"]}}')
    assert len(arrays) <= 4 << 20 and len(strings) <= 4 << 20
    return arrays, strings


@pytest.fixture(scope="module")
def budget_gate():
    binary = RELEASE if os.path.exists(RELEASE) else None
    g = Gate("budget", settings(images=["docker:cli"]), binary=binary)
    yield g
    g.stop()


def test_forty_costly_bodies_leave_memory_bounded_and_others_served(budget_gate):
    g = budget_gate
    arrays, strings = costly_bodies(g.pub)
    pinger = Pinger(g.pub)
    pinger.start()
    results = [None] * 40
    threads = [threading.Thread(target=send_create,
                                args=(g.pub, arrays if i % 2 else strings, results, i))
               for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    slowest = pinger.finish()
    peak = rss_peak_kib(g.proc.pid)
    assert all(r in (403, 413, 429, 503) for r in results), results
    assert 429 in results or 503 in results, results          # some refused by the budget
    assert slowest < 0.25, "a /_ping took %.3f s" % slowest
    assert peak < 128 * 1024, "sockgate's peak RSS was %d KiB" % peak
    # Alone, each shape is read and judged: too many values, and the refused mount.
    one = [None, None]
    send_create(g.pub, arrays, one, 0)
    send_create(g.pub, strings, one, 1)
    assert one == [413, 403], one
    st = status(g)["limits"]
    assert st["bytes_held"] == 0 and st["decisions_in_flight"] == 0, st
    assert st["refused_caller_over_share"] + st["refused_budget_exhausted"] > 0, st


def test_callers_share_is_refused_429_before_the_body_is_read():
    g = Gate("share", settings(images=["docker:cli"]), extra=("--inspect-budget", "8"))
    try:
        body_a = b'{"Image":"bb","Env":["A=' + b"a" * (1536 << 10) + b'"]}'
        head = (b"POST /v1.41/containers/create?name=sg-budget-a HTTP/1.1\r\nHost: d\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n")
        with connect(g.pub) as a:
            a.sendall(head % len(body_a) + body_a[:1000])   # holds 1.5 MiB of a 2 MiB share
            time.sleep(0.3)
            with connect(g.pub) as b:
                b.sendall(head % (1 << 20))                   # 1 MiB more: over the share
                assert answer_status(b, 10) == 429
            assert status(g)["limits"]["refused_caller_over_share"] == 1
            a.sendall(body_a[1000:])
            assert answer_status(a, 30) == 201                # then its body is read and created
        assert status(g)["limits"]["bytes_held"] == 0
    finally:
        engine_cli("rm", "-f", "sg-budget-a", check=False)
        g.stop()


def test_trickled_body_is_cut_by_the_body_timeout():
    g = Gate("trickle", settings(images=["docker:cli"]), extra=("--body-timeout", "2"))
    try:
        pinger = Pinger(g.pub)
        pinger.start()
        t0 = time.monotonic()
        with connect(g.pub) as s:
            s.sendall(b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            got = None
            for _ in range(40):                                 # a byte every 0.25 s
                try:
                    s.sendall(b" ")
                except (BrokenPipeError, ConnectionResetError):
                    break
                s.settimeout(0.25)
                try:
                    got = s.recv(4096)
                    break
                except socket.timeout:
                    continue
        elapsed = time.monotonic() - t0
        slowest = pinger.finish()
        assert got and got.startswith(b"HTTP/1.1 408 "), got
        assert b"body took too long" in got, got
        assert 1.5 < elapsed < 5, elapsed
        assert slowest < 0.25, slowest
        assert status(g)["limits"]["slow_bodies_cut"] == 1
    finally:
        g.stop()


def test_connections_past_the_limit_are_answered_503():
    g = Gate("conns", settings(images=["docker:cli"]), extra=("--max-connections", "8"))
    held = []
    try:
        for _ in range(7):  # the status read below makes no client connection
            s = connect(g.pub)
            s.sendall(PING)
            assert answer_status(s, 10) == 200
            held.append(s)
        assert raw_request(g.pub, PING)[0] == 200           # the eighth
        extra = connect(g.pub)
        held.append(extra)
        held.append(connect(g.pub))                         # nine open
        st, _, text = raw_request(g.pub, PING)              # the tenth
        assert st == 503 and b"too many connections (limit 8)" in text, (st, text)
        for s in held:
            s.close()
        held.clear()
        time.sleep(0.3)
        assert raw_request(g.pub, PING)[0] == 200
        assert status(g)["limits"]["refused_connections"] >= 1
    finally:
        for s in held:
            s.close()
        g.stop()
