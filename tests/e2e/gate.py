"""tests/e2e/gate.py — a second sockgate, with its own sockets, settings and
state, for the policy tests (the suite's main sockgate runs without a policy).

The gate binary is the one the suite runs (SOCKGATE_BIN: the ASan build), so
every policy test is also a sanitizer test: stop() fails on any report.
"""

import json
import os
import signal
import socket
import subprocess
import threading
import time

from conftest import ENV, raw_request

ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


def settings(images=None, derived=None, value=True, socket_mount=True, commands=None):
    eci = {"locked": True, "value": value}
    if socket_mount:
        il = {}
        if images is not None:
            il["images"] = images
        if derived is not None:
            il["allowDerivedImages"] = derived
        eci["dockerSocketMount"] = {"imageList": il}
        if commands:
            eci["dockerSocketMount"]["commandList"] = commands
    return {"configurationFileVersion": 2, "enhancedContainerIsolation": eci}


class Gate:
    def __init__(self, name, policy, extra=(), state=None, endpoint=None, log_pipe=False,
                 binary=None):
        self.dir = os.path.join(ENV["TESTBED_DIR"], "g-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.pub = os.path.join(self.dir, "p.sock")
        self.res = os.path.join(self.dir, "r.sock")
        self.state = state or os.path.join(self.dir, "state")
        self.settings_file = os.path.join(self.dir, "admin-settings.json")
        self.log_file = os.path.join(self.dir, "sockgate.log")
        self.write(policy)
        endpoint = endpoint or "http://" + ENV["REGISTRY_ADDR"]
        # binary: another build, e.g. the release one where memory is measured
        # (ASan's shadow and quarantine would be measured instead).
        args = [binary or ENV["SOCKGATE_BIN"], "serve", "--listen", self.pub, "--restricted", self.res,
                "--engine", ENV["ENGINE_SOCK"], "--settings", self.settings_file,
                "--state-dir", self.state, "--registry-endpoint", "docker.io=" + endpoint,
                "--log-format", "json", "--shutdown-timeout", "5", *extra]
        env = dict(os.environ, **ASAN_ENV)
        self.log = open(self.log_file, "wb")
        # log_pipe: stderr is a pipe nobody reads until drain_log() (a stalled journald).
        self.drainer = None
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.PIPE if log_pipe else self.log, env=env)
        deadline = time.monotonic() + 20
        while True:
            try:
                if raw_request(self.pub, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("gate %s did not start:\n%s" % (name, self.text()))
            time.sleep(0.05)

    def write(self, policy):
        with open(self.settings_file, "w") as f:
            json.dump(policy, f)

    def reload(self, policy):
        before = self.text().count("policy reloaded")
        self.write(policy)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.text().count("policy reloaded") == before:
            assert time.monotonic() < deadline, "reload not logged:\n" + self.text()[-2000:]
            time.sleep(0.05)

    def drain_log(self):
        """From now on, copy what sockgate writes on its stderr pipe into the log file."""
        def copy():
            for chunk in iter(lambda: os.read(self.proc.stderr.fileno(), 65536), b""):
                self.log.write(chunk)
                self.log.flush()
        if self.proc.stderr and not self.drainer:
            self.drainer = threading.Thread(target=copy, daemon=True)
            self.drainer.start()

    def settle(self, timeout=10):
        """sockgate writes its log from a thread of its own, a moment after a line
        is queued (and a decision line is queued before its request is answered):
        wait until the status socket says nothing is left in the queue, so that
        the log holds the lines of every request already answered."""
        if self.proc.poll() is not None or (self.proc.stderr and not self.drainer):
            return  # exited, or its stderr is a pipe left stalled on purpose
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(5)
                    s.connect(os.path.join(self.state, "status.sock"))
                    data = b"".join(iter(lambda: s.recv(65536), b""))
                if json.loads(data)["log"]["queued_bytes"] == 0:
                    return
            except (OSError, ValueError, KeyError):
                return  # no status socket: nothing to ask
            time.sleep(0.02)

    def text(self):
        self.settle()
        with open(self.log_file, "rb") as f:
            return f.read().decode(errors="replace")

    def decisions(self):
        out = []
        for ln in self.text().splitlines():
            if ln.startswith("{"):
                j = json.loads(ln)
                if j.get("msg") == "decision":
                    out.append(j)
        return out

    def stop(self):
        self.drain_log()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        if self.drainer:
            self.drainer.join(timeout=30)
            self.proc.stderr.close()
        self.log.close()
        text = self.text()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert bad not in text, "sanitizer report in %s:\n%s" % (self.log_file, text[-4000:])
        assert rc == 0, "gate exited %d:\n%s" % (rc, text[-2000:])
        assert not os.path.exists(self.pub), "public socket left behind"
