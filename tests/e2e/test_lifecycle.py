"""test_lifecycle.py — resources and process life: a client that vanishes in the
middle of a stream (logs -f, events) makes sockgate drop the upstream at once;
an unreachable engine gives 502 and sockgate recovers when it is back; SIGTERM
exits 0 and removes the sockets (a second sockgate instance, so the main one
keeps serving)."""

import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import (DOCKER_BIN, ENV, cli_env, connect, describe_fds, fd_count, json_body, raw_request,
                      read_until, wait_fds_at_most)

SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"runtime error:", b"LeakSanitizer")


def _sockgate_pid():
    return int(ENV["SOCKGATE_PID"])


@pytest.mark.parametrize("kind", ["logs", "events"])
def test_client_disconnect_mid_stream_closes_upstream(kind, container):
    pid = _sockgate_pid()
    name = "e2e-dc-" + uuid.uuid4().hex[:8]
    if kind == "logs":
        cid = container("sh", "-c", "echo streaming; exec sleep 1000")
        argv = [DOCKER_BIN, "logs", "-f", cid]
    else:
        argv = [DOCKER_BIN, "events", "--filter", "type=container", "--filter",
                "container=" + name]
    before = fd_count(pid)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=cli_env())
    try:
        if kind == "logs":
            read_until(proc.stdout, b"streaming\n", 20)
        else:
            time.sleep(0.5)
            container("true", opts=("--name", name))
            read_until(proc.stdout, name.encode(), 20)
        time.sleep(0.3)
        during = fd_count(pid)
        assert during >= before + 1, (before, during)
    finally:
        proc.kill()  # vanishes without a word: no FIN from the client side first
        proc.wait()
    # The client's connection and the engine connection that carried the
    # stream must both go (the latter may have come from an idle pool, so
    # count from `during`), and nothing may stay above the level before.
    want = min(before, during - 2)
    after = wait_fds_at_most(pid, want, 3)
    assert after <= want, (
        "sockgate kept %d fds after the client went away (before %d, during %d):\n%s" % (
            after, before, during, describe_fds(pid)))


def _start_sockgate(d, engine):
    pub, res = os.path.join(d, "p.sock"), os.path.join(d, "r.sock")
    log = open(os.path.join(d, "sockgate.log"), "wb")
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    proc = subprocess.Popen([ENV["SOCKGATE_BIN"], "serve", "--listen", pub, "--restricted", res,
                             "--engine", engine, "--state-dir", os.path.join(d, "state")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    log.close()
    # testbed/down ends it by this pid file should the test die half-way.
    with open(os.path.join(ENV["TESTBED_DIR"], "sockgate-%s.pid" % os.path.basename(d)), "w") as f:
        f.write("%d\n" % proc.pid)
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, "second sockgate exited: %s" % _log(d)
        try:
            connect(pub, 1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "second sockgate never listened: %s" % _log(d)
            time.sleep(0.1)
    return proc, pub, res


def _log(d):
    with open(os.path.join(d, "sockgate.log"), "rb") as f:
        return f.read()[-3000:].decode(errors="replace")


def _stop(proc, d, pub, res):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=30)
    os.unlink(os.path.join(ENV["TESTBED_DIR"], "sockgate-%s.pid" % os.path.basename(d)))
    log = _log(d).encode()
    assert rc == 0, "exit status %d after SIGTERM: %s" % (rc, log.decode())
    assert not any(m in log for m in SANITIZER_MARKS), log.decode()
    assert not os.path.exists(pub), "public socket left behind"
    assert not os.path.exists(res), "restricted socket left behind"


@pytest.fixture
def second_dir():
    d = os.path.join(ENV["TESTBED_DIR"], "sg2")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_engine_unreachable_502_then_recovers(second_dir):
    fake = os.path.join(second_dir, "engine.sock")  # nobody listens here (yet)
    proc, pub, res = _start_sockgate(second_dir, fake)
    try:
        ping = b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
        status, headers, body = raw_request(pub, ping)
        assert status == 502, body
        assert headers.get("content-type", "").startswith("application/json")
        msg = json_body(body)["message"]
        assert msg.startswith("sockgate: cannot reach the Docker Engine at "), msg
        assert fake in msg
        # Also for a real API call by the real CLI.
        p = subprocess.run([DOCKER_BIN, "ps"], capture_output=True, timeout=30,
                           env=cli_env(pub))
        assert p.returncode != 0
        assert b"cannot reach the Docker Engine" in p.stderr, p.stderr
        # The engine "comes back" at that path.
        os.symlink(ENV["ENGINE_SOCK"], fake)
        status, _, body = raw_request(pub, ping)
        assert (status, body) == (200, b"OK")
        p = subprocess.run([DOCKER_BIN, "run", "--rm", "bb", "echo", "back"],
                           capture_output=True, timeout=60, env=cli_env(pub))
        assert p.stdout == b"back\n", p.stderr
    finally:
        _stop(proc, second_dir, pub, res)


def test_sigterm_exits_0_and_removes_sockets(second_dir):
    proc, pub, res = _start_sockgate(second_dir, ENV["ENGINE_SOCK"])
    assert os.path.exists(pub) and os.path.exists(res)
    # An idle keep-alive client must not hold the shutdown up.
    idle = connect(pub)
    idle.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    idle.recv(4096)
    t0 = time.monotonic()
    try:
        _stop(proc, second_dir, pub, res)
    finally:
        idle.close()
    assert time.monotonic() - t0 < 15
