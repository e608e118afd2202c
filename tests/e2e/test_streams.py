"""test_streams.py — large streams on the wire, where the gate splices instead of
copying (gate/bulk.c): a body framed by its length goes in whole, stops at its
end (the request pipelined after it is still a request) and is dropped cleanly
when dockerd answers early; an answer framed by dockerd's close (HTTP/1.0)
equals the direct one byte for byte; an attach carries 64 MiB each way intact,
stdin's end included; a client that leaves mid-stream leaves the gate serving,
with its pipe closed (test_zz_fdleak counts it)."""

import hashlib
import io
import json
import os
import socket
import subprocess
import tarfile
import threading
import time

from conftest import ENV, Reader, classify_fds, connect, engine_cli, out, pattern_blocks

API = "/v1.41"
MIB = 1 << 20
SIZE = 48 * MIB  # well past the 1 MiB at which a stream becomes bulk


def spliced():
    """The bytes the main gate has moved by splice so far (sockgate status):
    the tests show the lanes carried their stream, not the copying path."""
    p = subprocess.run([ENV["SOCKGATE_BIN"], "status", "--state-dir",
                        os.path.join(ENV["TESTBED_DIR"], "state")],
                       capture_output=True, timeout=10, check=True)
    return json.loads(p.stdout)["streams"]["spliced_bytes"]


def _tar_of(name, total):
    """A tar holding one file of `total` pattern bytes, and the file's sha256."""
    data = b"".join(pattern_blocks(total, seed=name.encode()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue(), hashlib.sha256(data).hexdigest()


def _file_sha_direct(cid, path):
    """sha256 of a file in a running container, as the container sees it."""
    return out(engine_cli("exec", cid, "sha256sum", path)).split()[0]


def _big_file_container(container, size):
    cid = container("sh", "-c", "head -c %d /dev/urandom > /big.tmp && mv /big.tmp /big && "
                    "sleep 3600" % size)
    deadline = time.monotonic() + 60
    while engine_cli("exec", cid, "test", "-f", "/big", check=False).returncode != 0:
        assert time.monotonic() < deadline, "the big file did not appear"
        time.sleep(0.2)
    return cid


def _http10_body_sha(sock, path, stop_after=None):
    """(status line, sha256 of the body, body length) of an HTTP/1.0 GET;
    stop_after: leave after that many body bytes instead."""
    with connect(sock, timeout=120) as s:
        s.sendall(b"GET %s HTTP/1.0\r\nHost: d\r\n\r\n" % path.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, buf
            buf += chunk
        head, body = buf.split(b"\r\n\r\n", 1)
        h = hashlib.sha256(body)
        n = len(body)
        while stop_after is None or n < stop_after:
            chunk = s.recv(MIB)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
    return head.split(b"\r\n")[0], h.hexdigest(), n


def _archive_put(cid, path, length):
    """The head of a PUT of a tar of `length` bytes into a container, framed by
    its length (an SDK's put_archive)."""
    return (b"PUT %s/containers/%s/archive?path=%s HTTP/1.1\r\nHost: d\r\n"
            b"Content-Type: application/x-tar\r\nContent-Length: %d\r\n\r\n" % (
                API.encode(), cid.encode(), path.encode(), length))


def test_a_large_length_framed_upload_arrives_whole_and_the_next_request_is_a_request(container):
    cid = container("sleep", "3600")
    tar, sha = _tar_of("up.bin", SIZE)
    req = _archive_put(cid, "/tmp", len(tar))
    ping = b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
    before = spliced()
    with connect(ENV["SOCKGATE_SOCK"], timeout=120) as s:
        # The next request rides right behind the body: a splice that took
        # a byte past the body's end would have sent it to dockerd as body.
        s.sendall(req + tar + ping)
        rd = Reader(s)
        status, _, body = rd.response()
        assert status == 200, body
        status, _, body = rd.response()
        assert (status, body) == (200, b"OK")
    assert _file_sha_direct(cid, "/tmp/up.bin") == sha
    assert spliced() - before >= len(tar) - 2 * MIB  # all but what came with the head


def test_an_upload_dockerd_refuses_early_is_answered_and_closed(container):
    cid = container("sleep", "3600")
    tar, _ = _tar_of("up.bin", SIZE)
    req = _archive_put(cid, "/no/such/dir", len(tar))
    with connect(ENV["SOCKGATE_SOCK"], timeout=120) as s:
        sender = threading.Thread(target=lambda: _send_quietly(s, req + tar))
        sender.start()
        rd = Reader(s)
        status, _, body = rd.response()
        assert status == 404, body
        assert rd.closed(timeout=60)
        sender.join(60)
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        assert Reader(s).response()[0] == 200


def _send_quietly(s, data):
    try:
        s.sendall(data)
    except OSError:
        pass  # the gate closed after the answer: the rest had nowhere to go


def test_a_large_answer_framed_by_close_equals_the_direct_one(container):
    cid = _big_file_container(container, SIZE)
    path = "%s/containers/%s/archive?path=/big" % (API, cid)
    direct = _http10_body_sha(ENV["ENGINE_SOCK"], path)
    before = spliced()
    gated = _http10_body_sha(ENV["SOCKGATE_SOCK"], path)
    assert b" 200 " in direct[0] + b" "
    assert gated == direct
    assert gated[2] > SIZE
    assert spliced() - before >= SIZE - 2 * MIB  # all but the first MiB or so


def test_a_client_leaving_mid_stream_leaves_the_gate_serving(container):
    cid = _big_file_container(container, SIZE)
    pid = int(ENV["SOCKGATE_PID"])
    before = classify_fds(pid)["other"]
    path = "%s/containers/%s/archive?path=/big" % (API, cid)
    for _ in range(3):
        _http10_body_sha(ENV["SOCKGATE_SOCK"], path, stop_after=8 * MIB)
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        assert Reader(s).response()[0] == 200
    deadline = time.monotonic() + 20
    while classify_fds(pid)["other"] > before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert classify_fds(pid)["other"] <= before  # no pipe left behind


def _engine(method, path, body=None):
    with connect(ENV["ENGINE_SOCK"]) as s:
        data = b"" if body is None else json.dumps(body).encode()
        s.sendall(b"%s %s HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (method.encode(), path.encode(),
                                                       len(data), data))
        status, _, resp = Reader(s).response()
    return status, json.loads(resp.decode() or "null")


def test_an_attach_carries_64_mib_each_way_with_stdins_end():
    total = 64 * MIB
    status, made = _engine("POST", API + "/containers/create", {
        "Image": "bb", "Cmd": ["cat"], "OpenStdin": True, "StdinOnce": True,
        "AttachStdin": True, "AttachStdout": True, "HostConfig": {"NetworkMode": "none"}})
    assert status == 201, made
    cid = made["Id"]
    before = spliced()
    try:
        with connect(ENV["SOCKGATE_SOCK"], timeout=120) as s:
            s.sendall(b"POST %s/containers/%s/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
                      b"Host: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" % (
                          API.encode(), cid.encode()))
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(1)
            assert b" 101 " in head.split(b"\r\n")[0], head
            assert _engine("POST", "%s/containers/%s/start" % (API, cid))[0] == 204
            sent = hashlib.sha256()

            def send():
                for block in pattern_blocks(total, seed=b"attach"):
                    s.sendall(block)
                    sent.update(block)
                s.shutdown(socket.SHUT_WR)  # stdin's end: cat exits

            sender = threading.Thread(target=send)
            sender.start()
            got, n, buf = hashlib.sha256(), 0, b""
            while True:
                chunk = s.recv(MIB)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 8:  # stdcopy frames: 8-byte header, payload
                    size = int.from_bytes(buf[4:8], "big")
                    if len(buf) < 8 + size:
                        break
                    got.update(buf[8:8 + size])
                    n += size
                    buf = buf[8 + size:]
            sender.join(60)
            assert (n, buf) == (total, b"")
            assert got.hexdigest() == sent.hexdigest()
        # stdin's end reached cat through the splice: it exits, and cleanly.
        assert out(engine_cli("wait", cid, timeout=60)) == "0"
        assert spliced() - before >= 2 * (total - 2 * MIB)  # both ways
    finally:
        engine_cli("rm", "-f", cid, check=False)
