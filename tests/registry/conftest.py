"""conftest.py — fixtures for the registry client tests.

Everything runs on 127.0.0.1: Debian's docker-registry (started per test
module or session with a config written here, storage in a temp dir),
content pushed through the registry's own HTTP API (no docker daemon), a
token issuer (token_server.py) and small fault-injecting HTTP helpers.

The command under test is `sockgate digest`: $SOCKGATE_BIN, else
build/sockgate if it knows the command, else tests/registry/digest_driver.c
linked with the project's ASan objects (built here through make).
"""
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_BIN = "/usr/bin/docker-registry"
SAN = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
       "-fno-sanitize-recover=undefined"]
WARN = ["-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
        "-Wmissing-prototypes", "-Wpointer-arith", "-Wformat=2", "-Wvla",
        "-Wno-unused-parameter"]

M_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
M_OCI = "application/vnd.oci.image.manifest.v1+json"
M_OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


# ---- the command under test ------------------------------------------------

def _knows_digest(binary):
    try:
        p = subprocess.run([str(binary), "digest", "--help"], capture_output=True,
                           text=True, timeout=10)
    except OSError:
        return False
    return p.returncode == 0 and "--registry-endpoint" in p.stdout


def _build_driver(out_dir):
    """The driver, linked against the project's ASan objects: only what it
    needs is pulled from an archive, so half-written unrelated files do not
    matter."""
    srcs = sorted(ROOT.glob("src/*/*.c"))
    objs = ["build/asan-obj/" + str(s.relative_to(ROOT / "src"))[:-2] + ".o" for s in srcs]
    subprocess.run(["make", "-k", "-s", f"-j{os.cpu_count() or 2}", *objs], cwd=ROOT,
                   capture_output=True, text=True)
    have = [ROOT / o for o in objs if (ROOT / o).exists()]
    lib = out_dir / "libsockgate-asan.a"
    subprocess.run(["ar", "rcs", str(lib), *map(str, have)], check=True)
    libs = subprocess.run(["pkg-config", "--libs", "libuv", "jansson", "libcurl"],
                          capture_output=True, text=True, check=True).stdout.split()
    cflags = subprocess.run(["pkg-config", "--cflags", "libuv", "jansson", "libcurl"],
                            capture_output=True, text=True, check=True).stdout.split()
    drv = out_dir / "digest_driver"
    p = subprocess.run([os.environ.get("CC", "cc"), "-std=c17", "-D_GNU_SOURCE", "-Isrc",
                        *cflags, *WARN, *SAN, "-o", str(drv),
                        "tests/registry/digest_driver.c", str(lib), *libs],
                       cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail("cannot build tests/registry/digest_driver.c:\n" + p.stderr[-3000:])
    return drv


@pytest.fixture(scope="session")
def sockgate(tmp_path_factory):
    env = os.environ.get("SOCKGATE_BIN")
    if env:
        binary = Path(env)
        if not _knows_digest(binary):
            pytest.fail(f"SOCKGATE_BIN={env} does not implement `digest`")
    elif _knows_digest(ROOT / "build/sockgate"):
        binary = ROOT / "build/sockgate"
    else:
        binary = _build_driver(tmp_path_factory.mktemp("driver"))

    def run(*args, timeout=40):
        t0 = time.monotonic()
        p = subprocess.run([str(binary), "digest", *map(str, args)], capture_output=True,
                           text=True, timeout=timeout,
                           env={**os.environ, "no_proxy": "127.0.0.1,localhost",
                                "ASAN_OPTIONS": "detect_leaks=1",
                                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"})
        p.elapsed = time.monotonic() - t0
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert bad not in p.stderr, p.stderr
        return p
    run.binary = binary
    return run


# ---- the registry ------------------------------------------------------------

class Registry:
    def __init__(self, workdir, storage, auth_yaml=""):
        self.dir = Path(tempfile.mkdtemp(prefix="reg.", dir=workdir))
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.addr}"
        self.config = self.dir / "config.yml"
        self.config.write_text(f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {self.addr}
  secret: sockgate-registry-tests
{auth_yaml}""")
        self.log = open(self.dir / "registry.log", "wb")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(self.config)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _, _ = http_request("GET", self.url + "/v2/")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("docker-registry did not start:\n" +
                                       (self.dir / "registry.log").read_text()[-2000:])
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def http_request(method, url, body=None, headers=None, timeout=10):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def push_blob(base, repo, data):
    digest = sha256(data)
    st, h, _ = http_request("POST", f"{base}/v2/{repo}/blobs/uploads/")
    assert st == 202, st
    loc = urllib.parse.urljoin(base + "/", h["Location"])
    sep = "&" if "?" in loc else "?"
    st, _, b = http_request("PUT", f"{loc}{sep}digest={digest}", body=data,
                            headers={"Content-Type": "application/octet-stream",
                                     "Content-Length": str(len(data))})
    assert st == 201, (st, b)
    return {"digest": digest, "size": len(data)}


def push_manifest(base, repo, ref, media_type, obj):
    body = json.dumps(obj, indent=3).encode()  # not canonical: the digest is of these bytes
    st, h, b = http_request("PUT", f"{base}/v2/{repo}/manifests/{ref}", body=body,
                            headers={"Content-Type": media_type})
    assert st == 201, (st, b)
    assert h["Docker-Content-Digest"] == sha256(body)
    return sha256(body), len(body)


def tar_gz(name, content):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        t.addfile(info, io.BytesIO(content))
    return buf.getvalue(), gzip.compress(buf.getvalue(), mtime=0)


def push_image(base, repo, tag, media_type, marker):
    """A one-layer image under `tag`; returns its manifest digest."""
    raw, gz = tar_gz("hello.txt", marker.encode())
    layer = push_blob(base, repo, gz)
    oci = media_type == M_OCI
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha256(raw)]},
                         "config": {"Cmd": ["/hello"]}}).encode()
    cfg = push_blob(base, repo, config)
    manifest = {
        "schemaVersion": 2, "mediaType": media_type,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json" if oci else
                   "application/vnd.docker.container.image.v1+json", **cfg},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip" if oci else
                    "application/vnd.docker.image.rootfs.diff.tar.gzip", **layer}],
    }
    return push_manifest(base, repo, tag, media_type, manifest)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("registry-tests")


@pytest.fixture(scope="session")
def content(workdir):
    """Pushes, through an open registry, the images every test registry
    (open, htpasswd, token) then serves from the same storage."""
    storage = workdir / "storage"
    storage.mkdir()
    reg = Registry(workdir, storage)
    try:
        c = {"storage": storage}
        c["cli"], _ = push_image(reg.url, "library/docker", "cli", M_DOCKER, "docker cli")
        child, size = push_image(reg.url, "library/docker", "child-amd64", M_OCI, "multi")
        c["child"] = child
        c["index"], _ = push_manifest(reg.url, "library/docker", "multi", M_OCI_INDEX, {
            "schemaVersion": 2, "mediaType": M_OCI_INDEX,
            "manifests": [{"mediaType": M_OCI, "digest": child, "size": size,
                           "platform": {"architecture": "amd64", "os": "linux"}}]})
        c["other"], _ = push_image(reg.url, "team/tool", "1.0", M_DOCKER, "tool")
    finally:
        reg.stop()
    return c


@pytest.fixture(scope="session")
def open_registry(workdir, content):
    reg = Registry(workdir, content["storage"])
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def htpasswd_registry(workdir, content):
    if not shutil.which("htpasswd"):
        pytest.fail("htpasswd missing (apache2-utils): run tests/registry/run")
    pw = subprocess.run(["htpasswd", "-Bbn", "alice", "s3cret-pw"], capture_output=True,
                        text=True, check=True).stdout
    f = workdir / "htpasswd"
    f.write_text(pw)
    reg = Registry(workdir, content["storage"],
                   f"auth:\n  htpasswd:\n    realm: basic-realm\n    path: {f}\n")
    reg.user, reg.password = "alice", "s3cret-pw"
    yield reg
    reg.stop()


@pytest.fixture
def token_registry(workdir, content):
    """Factory: a registry with `auth: token` and its own token server."""
    from token_server import TokenServer
    made = []

    def make(**kw):
        ts = TokenServer("sockgate-test-issuer", "sockgate-test-registry", **kw).start()
        bundle = Path(tempfile.mkdtemp(dir=workdir)) / "root.pem"
        bundle.write_bytes(ts.cert_pem())
        reg = Registry(workdir, content["storage"], f"""auth:
  token:
    realm: {ts.realm}
    service: sockgate-test-registry
    issuer: sockgate-test-issuer
    rootcertbundle: {bundle}
""")
        reg.tokens = ts
        made.append((reg, ts))
        return reg
    yield make
    for reg, ts in made:
        reg.stop()
        ts.stop()


def auth_config(path, entries, **extra):
    """A Docker config.json with `auths` built from {key: (user, password)}."""
    auths = {k: ({"auth": base64.b64encode(f"{u}:{p}".encode()).decode()} if u else {})
             for k, (u, p) in entries.items()}
    path.write_text(json.dumps({"auths": auths, **extra}))
    return path


# ---- fault injection in front of the real registry -----------------------------

class Front:
    """An HTTP server in front of a registry that forwards requests and
    rewrites the answer (mode): "strip" drops Docker-Content-Digest, "bad"
    makes it malformed, "lie" replaces it with another valid digest,
    "redirect" answers 307 to the registry, "loop" redirects to itself,
    A silent peer is in test_registry.py (a raw socket)."""

    def __init__(self, target, mode):
        self.target, self.mode = target, mode
        self.seen = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        front = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _go(self):
                front.seen.append((self.command, self.path))
                if front.mode == "redirect":
                    return self._reply(307, {"Location": front.target + self.path}, b"")
                if front.mode == "loop":
                    return self._reply(302, {"Location": self.path}, b"")
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("accept", "authorization")}
                st, h, body = http_request(self.command, front.target + self.path,
                                           headers=hdrs)
                out = {k: v for k, v in h.items()
                       if k.lower() in ("content-type", "docker-content-digest",
                                        "www-authenticate")}
                if front.mode == "strip":
                    out.pop("Docker-Content-Digest", None)
                elif front.mode == "bad":
                    out["Docker-Content-Digest"] = "sha256:NOT-HEX"
                elif front.mode == "lie":  # no digest on HEAD, a wrong one on GET
                    if self.command == "HEAD":
                        out.pop("Docker-Content-Digest", None)
                    else:
                        out["Docker-Content-Digest"] = sha256(b"something else")
                out["Content-Length"] = str(len(body))
                self._reply(st, out, body if self.command == "GET" else b"")

            def _reply(self, st, headers, body):
                self.send_response(st)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = _go

        return H


@pytest.fixture
def front():
    made = []

    def make(target, mode):
        f = Front(target, mode)
        made.append(f)
        return f
    yield make
    for f in made:
        f.stop()
