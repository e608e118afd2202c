"""tests/e2e/conftest.py — shared fixtures and helpers for sockgate's end-to-end suite.

Everything here drives the *real* engine of the test bed (testbed/up) through
sockgate's public socket: the host's docker CLI, the Python Docker SDK and raw
HTTP/1.1 on a unix socket. tests/e2e/run sets the environment:

    SOCKGATE_SOCK RESTRICTED_SOCK ENGINE_SOCK REGISTRY_ADDR SOCKGATE_BIN
    SOCKGATE_PID TESTBED_DIR
"""

import json
import os
import select
import socket
import subprocess
import time

import docker
import pytest

REQUIRED = ("SOCKGATE_SOCK", "RESTRICTED_SOCK", "ENGINE_SOCK", "REGISTRY_ADDR",
            "SOCKGATE_BIN", "SOCKGATE_PID", "TESTBED_DIR")
ENV = {k: os.environ.get(k, "") for k in REQUIRED}
DOCKER_BIN = os.environ.get("DOCKER_BIN") or (
    "/usr/local/bin/docker" if os.access("/usr/local/bin/docker", os.X_OK) else "/usr/bin/docker")

# sockgate's open fds when the session started; test_zz_fdleak compares.
BASELINE = {}


def pytest_sessionstart(session):
    missing = [k for k in REQUIRED if not ENV[k]]
    if missing:
        raise pytest.UsageError(
            "tests/e2e needs a test bed and a running sockgate; run tests/e2e/run "
            "(missing env: %s)" % " ".join(missing))
    # Warm up (first requests may open lazily created fds), then record.
    for _ in range(3):
        raw_request(ENV["SOCKGATE_SOCK"], b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    time.sleep(0.5)
    BASELINE["fds"] = fd_count(int(ENV["SOCKGATE_PID"]))
    BASELINE.update(classify_fds(int(ENV["SOCKGATE_PID"])))


# ---- processes and fds -------------------------------------------------------

def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def _unix_sockets():
    """inode -> (state, local path, peer inode, owning processes), from `ss`."""
    try:
        ss = subprocess.run(["ss", "-xanp"], capture_output=True, timeout=10).stdout.decode()
    except (OSError, subprocess.TimeoutExpired):
        ss = ""
    socks = {}
    for ln in ss.splitlines()[1:]:
        f = ln.split()
        if len(f) >= 8:
            socks[f[5]] = (f[1], f[4], f[7], " ".join(f[8:]))
    return socks


def _fd_targets(pid):
    fds = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            fds[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return fds


def classify_fds(pid):
    """Splits sockgate's fds into connections to the engine socket (which its
    keep-alive pool may legitimately keep idle) and everything else."""
    socks = _unix_sockets()
    upstream = other = 0
    for target in _fd_targets(pid).values():
        if target.startswith("socket:[") and target[8:-1] in socks:
            peer = socks.get(socks[target[8:-1]][2])
            if peer and peer[1] == ENV["ENGINE_SOCK"]:
                upstream += 1
                continue
        other += 1
    return {"upstream": upstream, "other": other}


def describe_fds(pid):
    """sockgate's fds with, for unix sockets, the path and peer `ss` reports, so
    a leak report says which connections are left."""
    socks = _unix_sockets()
    lines = []
    for fd, target in sorted(_fd_targets(pid).items()):
        extra = ""
        if target.startswith("socket:[") and target[8:-1] in socks:
            state, local, peer, _ = socks[target[8:-1]]
            pst = socks.get(peer, ("?", "?", "?", "?"))
            extra = "  %s local=%s peer=%s %s" % (state, local, pst[1], pst[3])
        lines.append("  fd %d -> %s%s" % (fd, target, extra))
    return "\n".join(lines)


def wait_fds_at_most(pid, limit, timeout):
    """Polls until pid has at most limit fds; returns the last count."""
    deadline = time.monotonic() + timeout
    n = fd_count(pid)
    while n > limit and time.monotonic() < deadline:
        time.sleep(0.1)
        n = fd_count(pid)
    return n


def cli_env(sock=None, **extra):
    env = dict(os.environ)
    env["DOCKER_HOST"] = "unix://" + (sock or ENV["SOCKGATE_SOCK"])
    env["DOCKER_CONFIG"] = os.path.join(ENV["TESTBED_DIR"], "dockercfg")
    env.pop("DOCKER_CONTEXT", None)
    env.update(extra)
    return env


def docker_cli(*args, sock=None, input=None, timeout=120, check=True, env=None):
    """Runs the real docker CLI against sock (default: sockgate's public socket)."""
    e = cli_env(sock)
    if env:
        e.update(env)
    p = subprocess.run([DOCKER_BIN, *args], input=input, capture_output=True,
                       timeout=timeout, env=e)
    if check and p.returncode != 0:
        raise AssertionError("docker %s failed (%d):\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, p.stdout[-2000:].decode(errors="replace"),
            p.stderr[-2000:].decode(errors="replace")))
    return p


def engine_cli(*args, **kw):
    """The same CLI straight to the engine, for set-up and comparisons."""
    return docker_cli(*args, sock=ENV["ENGINE_SOCK"], **kw)


def out(p):
    return p.stdout.decode().strip()


def read_until(stream, needle, timeout):
    """Reads a pipe until needle appears; returns everything read."""
    buf = b""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for %r; got %r" % (needle, buf[-500:]))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError("EOF before %r; got %r" % (needle, buf[-500:]))
            buf += chunk
    return buf


# ---- raw HTTP on a unix socket ----------------------------------------------

def connect(path, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class Reader:
    """Minimal HTTP/1.1 response reader over a socket (for raw-protocol tests)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self, head_only=False):
        """Returns (status, headers{lower: value}, body). Skips nothing: a 1xx
        interim response is returned as such."""
        status_line = self.line().decode("latin-1")
        parts = status_line.split(" ", 2)
        assert parts[0].startswith("HTTP/1."), "bad status line %r" % status_line
        status = int(parts[1])
        headers = {}
        while True:
            ln = self.line()
            if not ln:
                break
            k, v = ln.decode("latin-1").split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if head_only or status in (204, 304) or 100 <= status < 200:
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    while self.line():
                        pass
                    break
                body += self.exact(size)
                self.line()
            return status, headers, body
        if "content-length" in headers:
            return status, headers, self.exact(int(headers["content-length"]))
        # Delimited by close.
        body = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            body += chunk
        return status, headers, body

    def closed(self, timeout=5):
        """True when the peer closes the connection (EOF) within timeout
        and sent nothing else."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True


def raw_request(path, data, timeout=30):
    """Sends data on a fresh connection and returns the first response."""
    with connect(path, timeout) as s:
        s.sendall(data)
        return Reader(s).response()


def api(sock, method, path, body=None, chunked=False, extra=b"", ctype="application/json"):
    """One raw request (body: bytes, or JSON-encoded) on a fresh connection to
    sock, plainly framed or in two chunks; returns (status, parsed JSON or the
    raw body)."""
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    head = b"%s %s HTTP/1.1\r\nHost: d\r\nContent-Type: %s\r\n" % (
        method.encode(), path.encode(), ctype.encode())
    if chunked:
        half = len(data) // 2
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (data[:half], data[half:]) if p)
        req = head + b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n" + payload + b"0\r\n\r\n"
    else:
        req = head + b"Content-Length: %d\r\n" % len(data) + extra + b"\r\n" + data
    with connect(sock) as s:
        s.sendall(req)
        status, _, resp = Reader(s).response()
    try:
        return status, json.loads(resp.decode() or "null")
    except ValueError:
        return status, resp


def derived_image(ref, files_tar, base="docker:cli"):
    """ref: base with the files of a tar added, made on the engine directly
    (set-up, not under test); an image derived from an allowed one."""
    cid = out(engine_cli("create", base, "true"))
    try:
        engine_cli("cp", "-", cid + ":/", input=files_tar, timeout=300)
        engine_cli("commit", cid, ref)
    finally:
        engine_cli("rm", "-f", cid, check=False)
    return ref


def cli_plugin_tar(plugin, name):
    """A docker CLI plugin (a path on this machine) where the CLI looks for
    it, as plugin `name`, with the libraries it links, as a tar for
    derived_image (docker:cli here is busybox, without a libc of its own)."""
    import io
    import tarfile
    ldd = subprocess.run(["ldd", plugin], capture_output=True, text=True, check=True).stdout
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.add(os.path.realpath(plugin), arcname="usr/local/libexec/docker/cli-plugins/" + name)
        for lib in (w for w in ldd.split() if w.startswith("/")):
            t.add(os.path.realpath(lib), arcname=lib.lstrip("/"))
    return buf.getvalue()


def host_user(name, subdirs=()):
    """A non-root user (made anew) whose home is on the test bed, in a group of
    its own (for a gate's --socket-group), able to reach the test bed's
    sockets; its home and subdirs are its own. Returns its pwd entry;
    remove_host_user() undoes it."""
    import pwd
    home = os.path.join(ENV["TESTBED_DIR"], "home-" + name)
    remove_host_user(name)
    subprocess.run(["groupadd", name], check=True)
    subprocess.run(["useradd", "-M", "-d", home, "-g", name, "-s", "/bin/sh", name], check=True)
    pw = pwd.getpwnam(name)
    for d in ("",) + tuple(subdirs):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    for d, _, _ in os.walk(home):
        os.chown(d, pw.pw_uid, pw.pw_gid)
    os.chmod(ENV["TESTBED_DIR"], 0o711)
    return pw


def remove_host_user(name):
    subprocess.run(["userdel", name], capture_output=True)
    subprocess.run(["groupdel", name], capture_output=True)


def engine_version():
    """The engine's own GET /version, asked on its socket: what a test
    expects the gate to pass through, whichever engine the pass runs."""
    status, _, body = raw_request(ENV["ENGINE_SOCK"],
                                  b"GET /version HTTP/1.0\r\nHost: docker\r\n\r\n")
    assert status == 200, body
    return json.loads(body)


def json_body(body):
    return json.loads(body.decode())


# ---- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="session")
def env():
    return ENV


# Module scope: the SDK keeps keep-alive connections open until closed, and the
# final fd-leak check must not count connections a client still holds.
@pytest.fixture(scope="module")
def sdk():
    c = docker.DockerClient(base_url="unix://" + ENV["SOCKGATE_SOCK"], version="auto",
                            timeout=300)
    yield c
    c.close()


@pytest.fixture(scope="module")
def engine_sdk():
    c = docker.DockerClient(base_url="unix://" + ENV["ENGINE_SOCK"], version="auto",
                            timeout=300)
    yield c
    c.close()


@pytest.fixture
def container(request):
    """Factory: starts `bb` containers (through the engine directly, so set-up does
    not depend on what is under test) and removes them afterwards."""
    made = []

    def start(*cmd, opts=()):
        cid = out(engine_cli("run", "-d", *opts, "bb", *cmd))
        made.append(cid)
        return cid

    yield start
    if made:
        engine_cli("rm", "-f", *made, check=False)


@pytest.fixture
def scratch():
    """A scratch directory on the test bed's disk (not tmpfs)."""
    base = os.path.join(ENV["TESTBED_DIR"], "tmp")
    os.makedirs(base, exist_ok=True)
    import tempfile
    import shutil
    d = tempfile.mkdtemp(dir=base)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def pattern_blocks(total, block=1 << 20, seed=b"sockgate-e2e"):
    """Cheap, non-repeating-looking data: one random block, each copy stamped with
    its index so that dropped, duplicated or reordered blocks change the hash."""
    import hashlib
    base = hashlib.sha256(seed).digest() * (block // 32)
    base = base[:block]
    sent = 0
    i = 0
    while sent < total:
        stamp = b"%016d" % i
        chunk = (stamp + base[len(stamp):])[: min(block, total - sent)]
        yield chunk
        sent += len(chunk)
        i += 1


@pytest.fixture
def remove_new_containers():
    """Removes, after the test, every container the test left on the engine
    (the policy tests create them through gates, under names they do not
    always know)."""
    before = set(out(engine_cli("ps", "-aq", "--no-trunc")).split())
    yield
    after = set(out(engine_cli("ps", "-aq", "--no-trunc")).split())
    if after - before:
        engine_cli("rm", "-f", *(after - before), check=False)
