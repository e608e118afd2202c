"""test_http.py — HTTP/1.1 behaviour of sockgate's public socket seen on the wire:
keep-alive (one SDK connection, 1,000 requests), pipelining, every class of
malformed request (400/431/501/505 with an Engine-style JSON body and the
connection closed), HTTP/1.0, Expect: 100-continue, HEAD."""

import json
import socket

import docker
import pytest

from conftest import ENV, Reader, connect, engine_cli, engine_version, json_body, raw_request

API = "/v1.41"


def test_one_sdk_connection_1000_requests():
    api = docker.APIClient(base_url="unix://" + ENV["SOCKGATE_SOCK"], version="1.41",
                           timeout=60)
    adapter = api.get_adapter("http+docker://localhost")
    # docker-py 5 keys its connection pools by full URL, i.e. one connection per
    # endpoint; route every request through one pool of one connection so that
    # a mix of endpoints shares a single keep-alive connection.
    pool = adapter.get_connection("http+docker://localhost/v1.41/version")
    adapter.get_connection = lambda url, proxies=None: pool
    opened = []
    new_conn = pool._new_conn

    def counting_new_conn():
        opened.append(1)
        return new_conn()
    pool._new_conn = counting_new_conn
    try:
        calls = [api.ping, api.version, lambda: api.containers(all=True), api.images,
                 lambda: api.inspect_image("bb")]
        for i in range(1000):
            assert calls[i % len(calls)]() is not None
        # Every connection the pool opens is counted: one means sockgate kept
        # the connection alive for all 1,000 requests.
        assert len(opened) == 1, "%d connections for 1,000 requests" % len(opened)
        assert pool.num_requests >= 1000, pool.num_requests
    finally:
        api.close()


def test_pipelined_requests_in_order():
    want = engine_version()["ApiVersion"]
    reqs = b""
    for i in range(10):
        if i % 2 == 0:
            reqs += b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"
        else:
            reqs += b"GET " + API.encode() + b"/version HTTP/1.1\r\nHost: docker\r\n\r\n"
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(reqs)  # all ten in one write
        rd = Reader(s)
        for i in range(10):
            status, headers, body = rd.response()
            assert status == 200, (i, status, body)
            if i % 2 == 0:
                assert body == b"OK", (i, body)
            else:
                assert json.loads(body)["ApiVersion"] == want, (i, body)
        # The connection is still usable afterwards.
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        assert rd.response()[2] == b"OK"


BIG = b"a" * (70 * 1024)

MALFORMED = {
    "cl_and_te": (400, b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\nHost: d\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
    "two_cl": (400, b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\nHost: d\r\n"
               b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
               b"\r\n{}"),
    "te_gzip": (400, b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\nHost: d\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}"),
    "te_gzip_chunked": (400, b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\n"
                        b"Host: d\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    "obs_fold": (400, b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-A: a\r\n b\r\n\r\n"),
    "bare_lf": (400, b"GET /_ping HTTP/1.1\nHost: d\n\n"),
    "bare_lf_one_line": (400, b"GET /_ping HTTP/1.1\r\nHost: d\nX-A: b\r\n\r\n"),
    "control_char": (400, b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-A: a\x01b\r\n\r\n"),
    "chunk_ext": (400, b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\nHost: d\r\n"
                  b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"2;ext=1\r\n{}\r\n0\r\n\r\n"),
    "bad_chunk_size": (400, b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\n"
                       b"Host: d\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    "absolute_form": (400, b"GET http://docker/_ping HTTP/1.1\r\nHost: docker\r\n\r\n"),
    "head_over_64k": (431, b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: " + BIG + b"\r\n\r\n"),
    "http2": (505, b"GET /_ping HTTP/2.0\r\nHost: d\r\n\r\n"),
    "patch": ((400, 501), b"PATCH /_ping HTTP/1.1\r\nHost: d\r\n\r\n"),
    "space_before_colon": (400, b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-A : b\r\n\r\n"),
    "cl_not_a_number": (400, b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\n"
                        b"Host: d\r\nContent-Length: 2x\r\n\r\n{}"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_rejected_and_closed(name):
    want, data = MALFORMED[name]
    want = want if isinstance(want, tuple) else (want,)
    with connect(ENV["SOCKGATE_SOCK"], timeout=10) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it may close while we are still writing the 70 KiB head
        rd = Reader(s)
        status, headers, body = rd.response()
        assert status in want, (status, body)
        assert headers.get("content-type", "").startswith("application/json"), headers
        msg = json_body(body).get("message")
        assert isinstance(msg, str) and msg, body
        assert rd.closed(), "connection left open after %d" % status


def test_malformed_after_good_request_on_same_connection():
    # A valid request is answered, then the bad one closes the connection.
    with connect(ENV["SOCKGATE_SOCK"], timeout=10) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
                  b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-A: a\r\n b\r\n\r\n")
        rd = Reader(s)
        assert rd.response()[0] == 200
        status, _, body = rd.response()
        assert status == 400, body
        assert rd.closed()


def test_http10_answered_and_closed():
    with connect(ENV["SOCKGATE_SOCK"], timeout=10) as s:
        s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
        rd = Reader(s)
        status, headers, body = rd.response()
        assert status == 200
        assert body == b"OK"
        assert rd.closed()


def test_expect_100_continue():
    body = json.dumps({"Image": "bb", "Cmd": ["true"]}).encode()
    head = (b"POST " + API.encode() + b"/containers/create HTTP/1.1\r\nHost: d\r\n"
            b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    with connect(ENV["SOCKGATE_SOCK"], timeout=30) as s:
        s.sendall(head)
        rd = Reader(s)
        # Either a 100 Continue comes first, or the client sends the body after
        # a short wait (RFC 9110 10.1.1); both must end in 201.
        s.settimeout(3)
        try:
            status, _, _ = rd.response()
            assert status == 100, status
        except socket.timeout:
            pass
        s.settimeout(30)
        s.sendall(body)
        status, _, resp = rd.response()
        assert status == 201, resp
        cid = json_body(resp)["Id"]
    engine_cli("rm", "-f", cid)


def test_head_ping_then_reuse():
    with connect(ENV["SOCKGATE_SOCK"], timeout=10) as s:
        s.sendall(b"HEAD /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        rd = Reader(s)
        status, headers, body = rd.response(head_only=True)
        assert status == 200
        assert "api-version" in headers
        # No body may follow a HEAD response: the next response starts cleanly.
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        status, _, body = rd.response()
        assert (status, body) == (200, b"OK")


def test_not_found_is_engine_json():
    status, headers, body = raw_request(
        ENV["SOCKGATE_SOCK"], b"GET " + API.encode() + b"/containers/e2e-no-such/json HTTP/1.1\r\n"
        b"Host: d\r\n\r\n")
    assert status == 404
    assert "No such container" in json_body(body)["message"]


UNCLEAN = ["/v1.41/containers//json?all=1", "/v1.41/./version", "/v1.41/containers/../version?x=1",
           "//_ping", "/v1.41/containers/json/"]


@pytest.mark.parametrize("path", UNCLEAN, ids=["double-slash", "dot", "dotdot", "root-double-slash",
                                                "trailing-slash"])
def test_unclean_path_answered_like_engine(path):
    # dockerd's router redirects non-canonical paths (301 + cleaned Location);
    # sockgate must give the same answer (and never forward the raw path).
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: d\r\n\r\n"
    e_status, e_headers, _ = raw_request(ENV["ENGINE_SOCK"], req)
    g_status, g_headers, g_body = raw_request(ENV["SOCKGATE_SOCK"], req)
    assert g_status == e_status, g_body
    assert g_headers.get("location") == e_headers.get("location")
    # and sockgate is still serving
    assert raw_request(ENV["SOCKGATE_SOCK"], b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")[2] == b"OK"


def test_long_redirect_is_exactly_its_head_and_body():
    # Issue 17: a Location longer than the head's old fixed buffer sent the
    # bytes past it (stack, old log lines). The answer must be one head with
    # that Location, then exactly Content-Length bytes, and nothing more.
    path = "//" + "%41" * 3000
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n"
    e_status, e_headers, _ = raw_request(ENV["ENGINE_SOCK"], req)
    with connect(ENV["SOCKGATE_SOCK"], timeout=10) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, data[:200]
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 301 "), lines[0]
    fields = dict(l.split(b": ", 1) for l in lines[1:])
    assert fields[b"Location"].decode() == e_headers.get("location"), fields[b"Location"][:80]
    assert e_status == 301
    assert len(body) == int(fields[b"Content-Length"]), (len(body), fields)
    assert json.loads(body)["message"]


def _tar_of(size):
    import io
    import tarfile
    from conftest import pattern_blocks
    data = b"".join(pattern_blocks(size, seed=b"upload"))
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as tf:
        ti = tarfile.TarInfo("up.bin")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_upload_written_at_once_20_times(framing, container):
    """A 5 MB request body written in one go (head, body and, for chunked, the
    last-chunk all arriving together) must always be forwarded completely:
    this is how the docker CLI's `cp` uploads, and how a stalled final chunk
    shows up as a hung `docker cp`."""
    cid = container("sleep", "1000")
    tar = _tar_of(5 * 1024 * 1024)
    target = ("/v1.41/containers/%s/archive?path=%%2Ftmp" % cid).encode()
    if framing == "chunked":
        body = b"".join(b"%x\r\n" % len(tar[o:o + 32768]) + tar[o:o + 32768] + b"\r\n"
                        for o in range(0, len(tar), 32768)) + b"0\r\n\r\n"
        head = b"PUT " + target + b" HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n" \
               b"Transfer-Encoding: chunked\r\n\r\n"
    else:
        body = tar
        head = b"PUT " + target + b" HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n" \
               b"Content-Length: " + str(len(tar)).encode() + b"\r\n\r\n"
    results = []
    for _ in range(20):
        with connect(ENV["SOCKGATE_SOCK"], timeout=10) as s:
            s.sendall(head + body)
            try:
                results.append(Reader(s).response()[0])
            except socket.timeout:
                results.append("timeout")
    assert results == [200] * 20, results
