"""systemd socket activation: sockgate serves the sockets a service manager
passes (LISTEN_FDS/LISTEN_FDNAMES), tells the public from the restricted one
by name, and leaves the socket files alone when it exits (they belong to the
manager). Driven by systemd's own systemd-socket-activate."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ENV, raw_request
from gate import ASAN_ENV, settings


@pytest.mark.skipif(not shutil.which("systemd-socket-activate"),
                    reason="systemd-socket-activate is not installed")
def test_socket_activation_public_and_restricted():
    d = os.path.join(ENV["TESTBED_DIR"], "g-activation")
    os.makedirs(d, exist_ok=True)
    pub, res = os.path.join(d, "p.sock"), os.path.join(d, "r.sock")
    for p in (pub, res):
        if os.path.exists(p):
            os.unlink(p)
    conf = os.path.join(d, "admin-settings.json")
    with open(conf, "w") as f:
        json.dump(settings(images=["docker:cli"], commands={"type": "deny", "commands": ["push"]}), f)
    log = open(os.path.join(d, "sockgate.log"), "wb")
    env_args = []
    for k, v in ASAN_ENV.items():
        env_args += ["-E", "%s=%s" % (k, v)]
    proc = subprocess.Popen(
        ["systemd-socket-activate", "-l", pub, "-l", res, "--fdname=public:restricted",
         *env_args, ENV["SOCKGATE_BIN"], "serve", "--listen", os.path.join(d, "unused.sock"),
         "--engine", ENV["ENGINE_SOCK"], "--settings", conf, "--state-dir",
         os.path.join(d, "state"), "--log-format", "json"],
        stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while not (os.path.exists(pub) and os.path.exists(res)):
            assert time.monotonic() < deadline, "systemd-socket-activate did not listen"
            time.sleep(0.05)
        # The first connection starts sockgate; it is answered, not refused.
        assert raw_request(pub, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")[0] == 200
        push = b"POST /v1.41/images/x/push?tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
        assert raw_request(res, push)[0] == 403          # restricted: the command list applies
        assert raw_request(pub, push)[0] != 403          # public: it does not
        assert not os.path.exists(os.path.join(d, "unused.sock"))  # --listen ignored
        with open(os.path.join(d, "sockgate.log"), "rb") as f:
            text = f.read().decode()
        assert "from the service manager (public)" in text and "(restricted)" in text, text
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        log.close()
    with open(os.path.join(d, "sockgate.log"), "rb") as f:
        text = f.read().decode()
    assert rc == 0, text[-2000:]
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert bad not in text, text[-3000:]
    # The socket files belong to the service manager: sockgate left them.
    assert os.path.exists(pub) and os.path.exists(res)


def _spawn_with_fds(socks, names, d, conf):
    """Start sockgate the way systemd does: the listening sockets as fds 3..,
    LISTEN_FDS/LISTEN_FDNAMES, LISTEN_PID set in the child itself."""
    fds = [s.fileno() for s in socks]

    def child():
        for i, fd in enumerate(fds):
            os.dup2(fd, 3 + i)
            os.set_inheritable(3 + i, True)
        # The child's own environment (env=None below): LISTEN_PID must be
        # the pid that execs sockgate, which only the child knows.
        os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=str(len(fds)),
                          LISTEN_FDNAMES=names, **ASAN_ENV)

    log = open(os.path.join(d, "sockgate.log"), "ab")
    # --listen points into the test's directory: if activation were not
    # recognised, sockgate would serve there, never on a system path.
    return subprocess.Popen(
        [ENV["SOCKGATE_BIN"], "serve", "--listen", os.path.join(d, "not-activated.sock"),
         "--restricted", "none", "--engine", ENV["ENGINE_SOCK"], "--settings", conf,
         "--state-dir", os.path.join(d, "state"), "--status-socket", "none"],
        preexec_fn=child, pass_fds=list(range(3, 3 + len(socks))) + fds,
        stdout=log, stderr=log)


def test_restart_under_a_service_manager_refuses_no_connection():
    """The manager holds the sockets; sockgate is stopped and started again
    while a client keeps connecting: every request is answered (connections
    queue in the listen backlog meanwhile), none is refused."""
    import socket
    import threading

    d = os.path.join(ENV["TESTBED_DIR"], "g-restart")
    os.makedirs(d, exist_ok=True)
    pub = os.path.join(d, "p.sock")
    if os.path.exists(pub):
        os.unlink(pub)
    conf = os.path.join(d, "admin-settings.json")
    with open(conf, "w") as f:
        json.dump(settings(value=False), f)
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(pub)
    lst.listen(1024)
    proc = _spawn_with_fds([lst], "public", d, conf)
    results = {"ok": 0, "failed": []}
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                status = raw_request(pub, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n",
                                     timeout=30)[0]
                if status == 200:
                    results["ok"] += 1
                else:
                    results["failed"].append(status)
            except (OSError, EOFError) as e:  # EOF: closed without an answer
                results["failed"].append(repr(e))

    t = threading.Thread(target=client)
    try:
        deadline = time.monotonic() + 10
        while results["ok"] == 0 and time.monotonic() < deadline:
            if not t.is_alive():
                t.start()
            time.sleep(0.05)
        for _ in range(3):  # three restarts under load
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            time.sleep(0.3)  # nobody accepts now: clients queue
            proc = _spawn_with_fds([lst], "public", d, conf)
            before = results["ok"]
            deadline = time.monotonic() + 10
            while results["ok"] == before and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        stop.set()
        t.join(timeout=60)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        lst.close()
    assert results["failed"] == [], results["failed"][:5]
    assert results["ok"] > 10
    with open(os.path.join(d, "sockgate.log"), "rb") as f:
        text = f.read().decode()
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert bad not in text, text[-3000:]
