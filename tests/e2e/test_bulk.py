"""test_bulk.py — large bodies streamed both ways through sockgate: a 1 GiB image
imported, saved (compared member by member and byte count with a direct save) and
loaded back, and a legacy build with a 100 MB context."""

import hashlib
import os
import subprocess
import tarfile

import pytest

from conftest import DOCKER_BIN, cli_env, docker_cli, engine_cli, out, pattern_blocks

GIB = 1 << 30
BIG_REF = "e2e-big:1"


class _GenReader:
    """File-like reader over a generator of byte chunks (for tarfile)."""

    def __init__(self, gen):
        self.gen = gen
        self.buf = b""

    def read(self, n=-1):
        while n < 0 or len(self.buf) < n:
            try:
                self.buf += next(self.gen)
            except StopIteration:
                break
        if n < 0:
            n = len(self.buf)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


@pytest.fixture(scope="module")
def big_image():
    """A one-layer image holding a 1 GiB file, imported through sockgate (so the
    1 GiB request body is itself part of the test)."""
    proc = subprocess.Popen([DOCKER_BIN, "import", "-", BIG_REF], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    try:
        with tarfile.open(fileobj=proc.stdin, mode="w|", bufsize=1 << 20) as tf:
            ti = tarfile.TarInfo("big")
            ti.size = GIB
            ti.mode = 0o644
            ti.mtime = 1700000000
            tf.addfile(ti, _GenReader(pattern_blocks(GIB, seed=b"big-image")))
        proc.stdin.close()
        stdout = proc.stdout.read()
        rc = proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, proc.stderr.read()
    image_id = stdout.decode().strip()
    assert image_id.startswith("sha256:")
    yield image_id
    engine_cli("rmi", "-f", BIG_REF, check=False)


class _TeeReader:
    """Reads a stream, counting its bytes and copying them to a file."""

    def __init__(self, stream, f):
        self.stream, self.f, self.size = stream, f, 0

    def read(self, n=-1):
        data = self.stream.read(n)
        self.size += len(data)
        if self.f:
            self.f.write(data)
        return data


def _save_hash(sock_cli, path=None):
    """Streams `docker save BIG_REF` and returns (digest, size): the digest of
    every member's name, type, size, link and content, in order — not of the
    tar's bytes, since an engine may stamp the archive's own headers with the
    time of the save (28 does). Also writes the stream to path when given."""
    env = cli_env() if sock_cli == "gated" else cli_env(os.environ["ENGINE_SOCK"])
    proc = subprocess.Popen([DOCKER_BIN, "save", BIG_REF], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    h = hashlib.sha256()
    f = open(path, "wb") if path else None
    tee = _TeeReader(proc.stdout, f)
    try:
        with tarfile.open(fileobj=tee, mode="r|") as tf:
            for m in tf:
                h.update(repr((m.name, m.type, m.size, m.linkname)).encode())
                if m.isfile():
                    src = tf.extractfile(m)
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        h.update(chunk)
        while tee.read(1 << 20):  # the tar's padding after its last member
            pass
        rc = proc.wait(timeout=600)
    finally:
        if f:
            f.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, proc.stderr.read()
    return h.hexdigest(), tee.size


def test_save_load_1gib(big_image, scratch):
    direct, dsize = _save_hash("direct")
    assert dsize > GIB
    saved = os.path.join(scratch, "big.tar")
    gated, gsize = _save_hash("gated", saved)
    assert (gated, gsize) == (direct, dsize)

    engine_cli("rmi", BIG_REF)
    p = docker_cli("load", "-i", saved, timeout=600)
    assert BIG_REF.encode() in p.stdout or big_image.encode() in p.stdout, p.stdout
    assert out(engine_cli("image", "inspect", "--format", "{{.Id}}", BIG_REF)) == big_image
    os.unlink(saved)


def test_legacy_build_100mb_context(scratch):
    total = 100 * 1024 * 1024 + 777
    h = hashlib.sha256()
    with open(os.path.join(scratch, "big"), "wb") as f:
        for chunk in pattern_blocks(total, seed=b"build-ctx"):
            f.write(chunk)
            h.update(chunk)
    with open(os.path.join(scratch, "Dockerfile"), "w") as f:
        f.write("FROM bb\nCOPY big /big\nRUN sha256sum /big\n")
    tag = "e2e-build:100m"
    try:
        p = docker_cli("build", "-t", tag, scratch, env={"DOCKER_BUILDKIT": "0"},
                       timeout=600, check=False)
        assert p.returncode == 0, p.stderr[-2000:]
        text = (p.stdout + p.stderr).decode(errors="replace")
        assert "Sending build context to Docker daemon" in text
        assert "%s  /big" % h.hexdigest() in text, text[-2000:]
        inside = out(docker_cli("run", "--rm", tag, "sha256sum", "/big")).split()[0]
        assert inside == h.hexdigest()
    finally:
        engine_cli("rmi", "-f", tag, check=False)
