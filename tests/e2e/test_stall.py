"""Nobody stalls the gate (issue 19): a log output nobody drains costs log
lines, counted in `sockgate status` and in the log itself, never answers; a
FIFO put at the settings path is refused at start and on reload instead of
holding the event loop.

The time limits are liveness checks, not performance targets: before the
fix the gate stopped answering altogether."""

import json
import os
import signal
import subprocess
import threading
import time

from conftest import ENV, connect, raw_request
from gate import ASAN_ENV, Gate, settings

PING = b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
PUSH = b"POST /v1.41/images/x/push?tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
# A refused push whose target is 16 KiB: its decision line is as long, so a
# few hundred of them fill the log's 4 MiB queue.
LONG_PUSH = (b"POST /v1.41/images/x/push?tag=1&pad=" + b"p" * 16000 +
             b" HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n")
DENY_PUSH = {"type": "deny", "commands": ["push"]}
PROMPT = 0.25  # seconds


def timed(sock, request):
    t0 = time.monotonic()
    status = raw_request(sock, request, timeout=10)[0]
    return status, time.monotonic() - t0


def gate_status(g):
    """The document of the gate's status socket."""
    with connect(os.path.join(g.state, "status.sock"), timeout=10) as s:
        data = b""
        for chunk in iter(lambda: s.recv(65536), b""):
            data += chunk
    return json.loads(data)


def wait_for(pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Pinger(threading.Thread):
    """GET /_ping on the public socket every 20 ms; keeps the slowest answer
    and any failure."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.done = sock, threading.Event()
        self.times, self.failures = [], []

    def run(self):
        while not self.done.is_set():
            try:
                status, took = timed(self.sock, PING)
                self.times.append(took)
                if status != 200:
                    self.failures.append(status)
            except OSError as e:
                self.failures.append(repr(e))
            time.sleep(0.02)

    def stop(self):
        self.done.set()
        self.join(timeout=30)
        return self.times, self.failures


def loss_warnings(text):
    return [json.loads(ln) for ln in text.splitlines()
            if ln.startswith("{") and '"msg":"log lines lost"' in ln]


def test_stalled_log_pipe_drops_lines_and_the_gate_keeps_answering():
    g = Gate("log-stall", settings(images=["docker:cli"], commands=DENY_PUSH), log_pipe=True)
    pinger = Pinger(g.pub)
    try:
        pinger.start()
        # Well over 64 KiB of decision lines to a pipe nobody reads, until
        # the queue is full and decision lines are being dropped.
        for i in range(3000):
            assert raw_request(g.res, LONG_PUSH, timeout=10)[0] == 403
            if i % 25 == 24 and gate_status(g)["log"]["audit_lines_dropped"] > 0:
                break
        log = gate_status(g)["log"]
        assert log["lines_dropped"] > 0 and log["audit_lines_dropped"] > 0, log
        assert log["queued_bytes"] > 1 << 20, log  # still stalled
        # Still stalled: others are answered, and so are refusals.
        for _ in range(20):
            status, took = timed(g.pub, PING)
            assert status == 200 and took < PROMPT, (status, took)
            status, took = timed(g.res, PUSH)
            assert status == 403 and took < PROMPT, (status, took)
        times, failures = pinger.stop()
        assert not failures, failures
        assert len(times) >= 5 and max(times) < PROMPT, (len(times), max(times))

        # Drained: what was queued is written, then the warning, which adds
        # up to what the status counted.
        g.drain_log()
        wait_for(lambda: loss_warnings(g.text()) and gate_status(g)["log"]["queued_bytes"] == 0,
                 "the log did not drain or no loss warning:\n" + g.text()[-2000:])
        log = gate_status(g)["log"]
        warnings = loss_warnings(g.text())
        assert warnings[0]["level"] == "warn", warnings
        assert sum(w["lines_lost"] for w in warnings) == log["lines_dropped"], (warnings, log)
        assert sum(w["audit_lines_lost"] for w in warnings) == log["audit_lines_dropped"]
        assert log["write_errors"] == 0 and log["lines_written"] > 100, log
        assert g.decisions(), "no decision line was kept"
    finally:
        pinger.done.set()
        g.stop()


def test_settings_fifo_is_a_startup_error():
    d = os.path.join(ENV["TESTBED_DIR"], "g-fifo-start")
    os.makedirs(d, exist_ok=True)
    fifo = os.path.join(d, "admin-settings.json")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    pub = os.path.join(d, "p.sock")
    p = subprocess.Popen([ENV["SOCKGATE_BIN"], "serve", "--listen", pub,
                          "--restricted", os.path.join(d, "r.sock"),
                          "--engine", ENV["ENGINE_SOCK"], "--settings", fifo,
                          "--state-dir", os.path.join(d, "state")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, **ASAN_ENV))
    try:
        out = p.communicate(timeout=20)[0].decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1, out
    assert fifo + ": not a regular file (a FIFO)" in out, out
    assert "Sanitizer" not in out and not os.path.exists(pub), out
    # `sockgate check` says the same, and does not hang either.
    c = subprocess.run([ENV["SOCKGATE_BIN"], "check", fifo], capture_output=True, timeout=20)
    assert c.returncode == 1 and b"not a regular file (a FIFO)" in c.stderr, c.stderr


def test_settings_replaced_by_fifo_keeps_the_running_policy():
    g = Gate("fifo-reload", settings(images=["docker:cli"], commands=DENY_PUSH))
    try:
        assert raw_request(g.res, PUSH)[0] == 403
        before = g.text().count("reload failed")
        os.unlink(g.settings_file)
        os.mkfifo(g.settings_file)
        g.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: g.text().count("reload failed") > before, "reload failure not logged")
        assert "keeping the running policy: %s: not a regular file (a FIFO)" % g.settings_file \
            in g.text()
        status, took = timed(g.pub, PING)
        assert status == 200 and took < PROMPT, (status, took)
        assert raw_request(g.res, PUSH)[0] == 403  # the old policy, still in force
        assert gate_status(g)["policy"]["commands"] == ["push"]
    finally:
        g.stop()
