"""test_cli.py — everyday docker CLI and SDK work through sockgate's public socket:
version/info, pull through the mirror, run, logs -f, exec (plain and TTY),
attach with large stdin and half-close, cp both ways, events, push."""

import hashlib
import json
import os
import pty
import select
import signal
import subprocess
import time
import urllib.request
import uuid

from conftest import (DOCKER_BIN, ENV, cli_env, docker_cli, engine_cli, engine_version, out,
                      pattern_blocks, read_until)


def test_version_cli():
    p = docker_cli("version", "--format", "{{json .}}")
    v = json.loads(p.stdout)
    engine = engine_version()
    assert v["Server"]["ApiVersion"] == engine["ApiVersion"]
    assert v["Server"]["Version"] == engine["Version"]
    assert v["Client"]["Version"]


def test_info_cli():
    direct = json.loads(engine_cli("info", "--format", "{{json .}}").stdout)
    gated = json.loads(docker_cli("info", "--format", "{{json .}}").stdout)
    assert gated["ID"] == direct["ID"]
    assert gated["DockerRootDir"] == direct["DockerRootDir"]
    assert gated["DockerRootDir"].startswith(ENV["TESTBED_DIR"])


def test_version_and_info_sdk(sdk, engine_sdk):
    assert sdk.ping() is True
    assert sdk.version()["ApiVersion"] == engine_version()["ApiVersion"]
    assert sdk.info()["ID"] == engine_sdk.info()["ID"]
    names = {t for i in sdk.images.list() for t in i.tags}
    assert "bb:latest" in names


def test_pull_through_mirror():
    before = engine_cli("image", "inspect", "--format", "{{json .RepoDigests}}", "docker:cli")
    digests = json.loads(before.stdout)
    engine_cli("rmi", "docker:cli")
    try:
        p = docker_cli("pull", "docker:cli", timeout=180)
        assert b"docker.io/library/docker:cli" in p.stdout
    finally:
        # Never leave the bed without docker:cli, whatever happened above.
        if engine_cli("image", "inspect", "docker:cli", check=False).returncode != 0:
            engine_cli("pull", "docker:cli", timeout=180)
    after = json.loads(engine_cli("image", "inspect", "--format", "{{json .RepoDigests}}",
                                  "docker:cli").stdout)
    assert any(d.startswith("docker@sha256:") for d in after), after
    assert after == digests


def test_run_rm_output():
    p = docker_cli("run", "--rm", "bb", "sh", "-c", "echo hello-from-bb; echo err >&2; exit 3",
                   check=False)
    assert p.returncode == 3
    assert p.stdout == b"hello-from-bb\n"
    assert b"err\n" in p.stderr


def test_run_sdk(sdk):
    outb = sdk.containers.run("bb", ["sh", "-c", "echo sdk-$((40+2))"], remove=True)
    assert outb == b"sdk-42\n"


def test_run_detached_logs_follow_stop():
    name = "e2e-logs-" + uuid.uuid4().hex[:8]
    script = ("echo first; while [ ! -f /tmp/go ]; do sleep 0.1; done; "
              "echo after-go; exec sleep 1000")
    cid = out(docker_cli("run", "-d", "--name", name, "bb", "sh", "-c", script))
    try:
        logs = subprocess.Popen([DOCKER_BIN, "logs", "-f", name], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=cli_env())
        try:
            read_until(logs.stdout, b"first\n", 20)
            # Printed only now, while logs -f is already streaming.
            docker_cli("exec", name, "touch", "/tmp/go")
            read_until(logs.stdout, b"after-go\n", 20)
            t0 = time.monotonic()
            docker_cli("stop", "-t", "1", name)
            # The stream ends when the container stops.
            assert logs.wait(timeout=30) == 0
            assert time.monotonic() - t0 < 30
        finally:
            if logs.poll() is None:
                logs.kill()
                logs.wait()
        state = json.loads(docker_cli("inspect", "--format", "{{json .State}}", cid).stdout)
        assert state["Running"] is False
    finally:
        engine_cli("rm", "-f", cid, check=False)


def test_exec_plain(container):
    cid = container("sleep", "1000")
    p = docker_cli("exec", cid, "sh", "-c", "echo out; echo err >&2; [ -t 0 ] || echo notty")
    assert p.stdout == b"out\nnotty\n"
    assert b"err\n" in p.stderr
    p = docker_cli("exec", "-i", cid, "sh", "-c", "tr a-z A-Z", input=b"shout\n")
    assert p.stdout == b"SHOUT\n"


def _run_in_pty(argv, keys, timeout=30):
    """Runs argv with a real terminal as stdin/stdout/stderr, types keys, returns
    everything the terminal showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=cli_env(),
                            start_new_session=True)
    os.close(slave)
    seen = b""
    typed = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the other side is gone
                    break
                if not chunk:
                    break
                seen += chunk
            if not typed and b"#" in seen:  # the shell's prompt
                os.write(master, keys)
                typed = True
            if proc.poll() is not None and not r:
                break
        rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return rc, seen


def test_exec_tty(container):
    cid = container("sleep", "1000")
    rc, seen = _run_in_pty([DOCKER_BIN, "exec", "-it", cid, "sh"],
                           b"tty; echo tty-$((6*7)); exit 7\r")
    assert rc == 7, seen
    assert b"/dev/pts/" in seen, seen
    assert b"tty-42" in seen, seen


def test_run_tty():
    rc, seen = _run_in_pty([DOCKER_BIN, "run", "--rm", "-it", "bb", "sh"],
                           b"stty size; echo run-$((5*5)); exit\r")
    assert rc == 0, seen
    assert b"run-25" in seen, seen


def test_attach_stdin_100mb():
    total = 100 * 1024 * 1024
    h = hashlib.sha256()
    proc = subprocess.Popen([DOCKER_BIN, "run", "-i", "--rm", "bb", "sh", "-c",
                             "cat | sha256sum"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    try:
        for chunk in pattern_blocks(total):
            h.update(chunk)
            proc.stdin.write(chunk)
        proc.stdin.close()
        stdout = proc.stdout.read()
        rc = proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, proc.stderr.read()
    assert stdout.split()[0].decode() == h.hexdigest()


def test_stdin_eof_half_close():
    # cat only ends when the container sees EOF on stdin, i.e. when the client's
    # half-close went through sockgate's relay.
    p = docker_cli("run", "-i", "--rm", "bb", "cat", input=b"hi\n", timeout=60)
    assert p.stdout == b"hi\n"


def test_attach_running_cat(container):
    cid = container("cat", opts=("-i",))
    proc = subprocess.Popen([DOCKER_BIN, "attach", cid], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=cli_env())
    try:
        for i in range(3):
            line = b"echo-me-%d\n" % i
            proc.stdin.write(line)
            proc.stdin.flush()
            read_until(proc.stdout, line, 20)
        # dockerd 20.10 keeps a non-StdinOnce attach open after stdin EOF, so
        # the client detaches by going away; the container must live on.
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
    assert out(engine_cli("inspect", "--format", "{{.State.Running}}", cid)) == "true"


def test_cp_both_ways(container, scratch):
    cid = container("sleep", "1000")
    src = os.path.join(scratch, "in.bin")
    h = hashlib.sha256()
    with open(src, "wb") as f:
        for chunk in pattern_blocks(5 * 1024 * 1024 + 12345, seed=b"cp"):
            f.write(chunk)
            h.update(chunk)
    docker_cli("cp", src, cid + ":/tmp/in.bin")
    inside = out(docker_cli("exec", cid, "sha256sum", "/tmp/in.bin")).split()[0]
    assert inside == h.hexdigest()
    dst = os.path.join(scratch, "back.bin")
    docker_cli("cp", cid + ":/tmp/in.bin", dst)
    with open(dst, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == h.hexdigest()


def test_events_stream():
    name = "e2e-ev-" + uuid.uuid4().hex[:8]
    ev = subprocess.Popen([DOCKER_BIN, "events", "--format", "{{json .}}",
                           "--filter", "type=container", "--filter", "event=create"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    try:
        time.sleep(1.0)  # let the stream open before the event happens
        assert ev.poll() is None, ev.stderr.read()
        docker_cli("create", "--name", name, "bb", "true")
        line = read_until(ev.stdout, name.encode(), 20).splitlines()[-1]
        e = json.loads(line)
        assert e["Action"] == "create"
        assert e["Actor"]["Attributes"]["name"] == name
        assert ev.poll() is None  # still streaming
    finally:
        ev.send_signal(signal.SIGINT)
        try:
            ev.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ev.kill()
            ev.wait()
        engine_cli("rm", "-f", name, check=False)


def test_push_to_registry():
    tag = uuid.uuid4().hex[:10]
    ref = "%s/e2e/bb:%s" % (ENV["REGISTRY_ADDR"], tag)
    docker_cli("tag", "bb:latest", ref)
    try:
        p = docker_cli("push", ref, timeout=120)
        pushed = [ln for ln in out(p).splitlines() if "digest: sha256:" in ln]
        assert pushed, p.stdout
        digest = pushed[0].split("digest: ")[1].split()[0]
        req = urllib.request.Request(
            "http://%s/v2/e2e/bb/manifests/%s" % (ENV["REGISTRY_ADDR"], tag), method="HEAD",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(req, timeout=10) as r:
            assert r.headers["Docker-Content-Digest"] == digest
    finally:
        engine_cli("rmi", ref, check=False)
