"""tests/e2e/test_hijack_body.py — a request body that dockerd does not read
before it hijacks the connection must never become stream data.

dockerd's attach, attach/ws, /session and /grpc handlers never read the body;
exec start reads one JSON object. Go's server drops whatever it had buffered
when a handler hijacks, so a body sent directly in one write is lost, while
bytes that arrive after the switch are the container's stdin. The gate
forwards those bodies cut to what dockerd reads (nothing, or the object), so
the outcome no longer depends on how the bytes happened to arrive.
"""

import json
import os
import socket
import struct
import time

from conftest import ENV, Reader, connect, engine_cli, out, raw_request


def attach_request(cid, body, extra=b""):
    return (b"POST /v1.41/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
            b"Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
            % (cid.encode(), len(body), extra, body))


def read_switch(r):
    status, headers, _ = r.response(head_only=True)
    assert status == 101, "attach not switched: %d %r" % (status, headers)


def read_until(sock, buf, needle, timeout=20):
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        assert left > 0, "timed out waiting for %r; got %r" % (needle, buf[-300:])
        sock.settimeout(left)
        chunk = sock.recv(65536)
        assert chunk, "EOF before %r; got %r" % (needle, buf[-300:])
        buf += chunk
    return buf


def read_to_eof(sock, timeout=20):
    buf = b""
    sock.settimeout(timeout)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def test_attach_body_never_reaches_stdin_100_times(container):
    # One container, stdin kept open across attaches: each attach sends its
    # body with the head in one write, then a line of its own; the echo of
    # that line must be the first thing the container read since the last one.
    cid = container("sh", "-c", 'while read x; do echo "stdin:[$x]"; done', opts=("-i",))
    for i in range(100):
        body = b'{"stream":true,"stdin":true,"stdout":true,"stderr":true,"hijack":%d}\n' % i
        with connect(ENV["SOCKGATE_SOCK"]) as s:
            s.sendall(attach_request(cid, body))
            r = Reader(s)
            read_switch(r)
            s.sendall(b"line-%d\n" % i)
            got = read_until(s, r.buf, b"stdin:[line-%d]" % i)
            assert b"hijack" not in got, "attach %d: body reached stdin: %r" % (i, got)
    logs = out(engine_cli("logs", cid))
    assert "hijack" not in logs, logs[-2000:]
    assert logs.count("stdin:[line-") == 100, logs[-2000:]


def test_attach_body_issue_reproduction(container):
    # The issue's reproduction: StdinOnce, one read, the client half-closes.
    for i in range(10):
        cid = out(engine_cli("create", "-i", "bb", "sh", "-c", 'read x; echo "stdin:[$x]"'))
        try:
            engine_cli("start", cid)
            with connect(ENV["SOCKGATE_SOCK"]) as s:
                s.sendall(attach_request(cid, b'{"k":1}\n'))
                read_switch(Reader(s))
                s.shutdown(socket.SHUT_WR)
                read_to_eof(s)
            engine_cli("wait", cid)
            assert out(engine_cli("logs", cid)) == "stdin:[]"
        finally:
            engine_cli("rm", "-f", cid, check=False)


def test_attach_body_then_stream_bytes_in_one_write(container):
    # Body and the first stdin bytes in one write: the body is dropped, what
    # follows it is the stream.
    cid = container("sh", "-c", 'while read x; do echo "stdin:[$x]"; done', opts=("-i",))
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(attach_request(cid, b'{"junk":true}\n') + b"early\n")
        r = Reader(s)
        read_switch(r)
        got = read_until(s, r.buf, b"stdin:[early]")
        assert b"junk" not in got


def test_attach_chunked_body_and_expect_continue(container):
    cid = container("sh", "-c", 'while read x; do echo "stdin:[$x]"; done', opts=("-i",))
    head = (b"POST /v1.41/containers/%s/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
            b"Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
            b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n" % cid.encode())
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(head)
        r = Reader(s)
        assert r.response(head_only=True)[0] == 100
        s.sendall(b"6\r\nchunk1\r\n")
        time.sleep(0.2)
        s.sendall(b"7\r\nchunk2\n\r\n0\r\n\r\n")
        read_switch(r)
        s.sendall(b"after\n")
        got = read_until(s, r.buf, b"stdin:[after]")
        assert b"chunk" not in got


def exec_start(cid, body, chunks=None):
    """Starts an exec of `read x` with the given exec-start body; returns
    what the exec printed."""
    create = json.dumps({"AttachStdin": True, "AttachStdout": True, "AttachStderr": True,
                         "Cmd": ["sh", "-c", 'read x; echo "stdin:[$x]"']}).encode()
    st, _, b = raw_request(ENV["SOCKGATE_SOCK"], (
        b"POST /v1.41/containers/%s/exec HTTP/1.1\r\nHost: d\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s")
        % (cid.encode(), len(create), create))
    assert st == 201, b
    eid = json.loads(b)["Id"]
    head = (b"POST /v1.41/exec/%s/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
            b"Upgrade: tcp\r\nContent-Type: application/json\r\n" % eid.encode())
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        if chunks is None:
            s.sendall(head + b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        else:
            s.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
            for c in chunks:
                s.sendall(b"%x\r\n%s\r\n" % (len(c), c))
                time.sleep(0.1)
            s.sendall(b"0\r\n\r\n")
        r = Reader(s)
        status, headers, rest = r.response(head_only=True)
        if status != 101:
            return status, r.buf
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
        return status, r.buf + read_to_eof(s)


def test_exec_start_reads_one_object_and_nothing_after(container):
    cid = container("sleep", "300")
    for _ in range(5):
        st, got = exec_start(cid, b'{"Detach":false,"Tty":false}\n{"junk":1}\n')
        assert st == 101 and b"stdin:[]" in got, got
    # The object in one chunk, the trailing bytes in a later one.
    st, got = exec_start(cid, None, chunks=[b'{"Detach":false,', b'"Tty":false}', b"junk\n"])
    assert st == 101 and b"stdin:[]" in got, got
    # A string with braces and escaped quotes inside is part of the object.
    st, got = exec_start(cid, b'{"Detach":false,"x":"}\\"{"}leak\n')
    assert st == 101 and b"stdin:[]" in got, got
    # dockerd would decode `null` and hijack with the rest unread: refused.
    st, got = exec_start(cid, b"null\nleak\n")
    assert st == 400 and b"JSON object" in got, got


def ws_frame(payload):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x82, 0x80 | len(payload)) + mask + masked


def test_attach_ws_body_is_not_a_frame(container):
    # The websocket attach reads frames from Go's read buffer: a body sent
    # with the head would be a frame to the container. The gate drops it.
    cid = container("sh", "-c", 'while read x; do echo "stdin:[$x]"; done', opts=("-i",))
    body = ws_frame(b"fromthebody\n")
    req = (b"GET /v1.41/containers/%s/attach/ws?stream=1 HTTP/1.1\r\nHost: localhost\r\n"
           b"Connection: Upgrade\r\nUpgrade: websocket\r\nOrigin: http://localhost\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c29ja2dhdGUtdGVzdC1rZXk=\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (cid.encode(), len(body), body))
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(req)
        r = Reader(s)
        status, _, _ = r.response(head_only=True)
        assert status == 101
        s.sendall(ws_frame(b"fromframe\n"))
        got = read_until(s, r.buf, b"stdin:[fromframe]")
        assert b"fromthebody" not in got, got
    assert "fromthebody" not in out(engine_cli("logs", cid))


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def h2_frames(s, buf, want, timeout=10):
    """Reads HTTP/2 frames until one satisfies want(type, flags); False at EOF."""
    deadline = time.monotonic() + timeout
    while True:
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            ftype, flags = buf[3], buf[4]
            buf = buf[9 + n:]
            if want(ftype, flags):
                return True
        left = deadline - time.monotonic()
        assert left > 0, "no HTTP/2 frame in time"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return False
        if not chunk:
            return False
        buf += chunk


def h2_read_frames(s, timeout=10):
    """Every frame until the server closes: [(type, flags, payload)]."""
    buf, frames = b"", []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the connection was not closed in time: %r" % frames
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            assert not buf, "a partial frame before the close: %r" % buf
            return frames
        buf += chunk
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n = int.from_bytes(buf[:3], "big")
            frames.append((buf[3], buf[4], buf[9:9 + n]))
            buf = buf[9 + n:]


def test_h2_prior_knowledge_is_answered_http_1_1_required():
    # Engine API 1.53 serves gRPC over HTTP/2 with prior knowledge; the gate
    # reads HTTP/2 only inside a confirmed /grpc upgrade. A prior-knowledge
    # client gets the answer it can read (server preface, then GOAWAY with
    # HTTP_1_1_REQUIRED), on both sockets, and nothing reaches dockerd;
    # the fallback, POST /grpc on a new connection, is upgraded.
    for sock in (ENV["SOCKGATE_SOCK"], ENV["RESTRICTED_SOCK"]):
        with connect(sock) as s:
            s.sendall(H2_PREFACE + H2_SETTINGS)
            frames = h2_read_frames(s)
        assert [f[0] for f in frames] == [4, 7], frames
        assert frames[0][2] == b"" and frames[0][1] == 0, frames   # SETTINGS, not an ACK
        goaway = frames[1][2]
        assert goaway[:4] == b"\0\0\0\0", goaway          # no stream was processed
        assert int.from_bytes(goaway[4:8], "big") == 0xd, goaway   # HTTP_1_1_REQUIRED
        assert b"POST /grpc" in goaway[8:], goaway
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(b"POST /grpc HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
        r = Reader(s)
        assert r.response(head_only=True)[0] == 101
        s.sendall(H2_PREFACE + H2_SETTINGS)
        assert h2_frames(s, r.buf, lambda t, f: t == 4 and f & 1), "no SETTINGS ACK after the upgrade"


def test_grpc_body_does_not_precede_the_h2_preface():
    # dockerd's /grpc is an HTTP/2 server on the hijacked connection: a body
    # that reached it would come before the client preface and end the
    # connection. With the body dropped, our SETTINGS are acknowledged.
    for _ in range(5):
        body = b"this is not HTTP/2\n"
        with connect(ENV["SOCKGATE_SOCK"]) as s:
            s.sendall(b"POST /grpc HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            r = Reader(s)
            assert r.response(head_only=True)[0] == 101
            s.sendall(H2_PREFACE + H2_SETTINGS)
            assert h2_frames(s, r.buf, lambda t, f: t == 4 and f & 1), \
                "h2 server closed: the body reached it"


def test_session_body_does_not_precede_the_h2_stream():
    # On /session dockerd is the HTTP/2 client: it sends the preface and
    # expects our SETTINGS as the first frame. A body that reached it would
    # be taken as our first frame and end the session.
    body = b"this is not HTTP/2 either\n"
    with connect(ENV["SOCKGATE_SOCK"]) as s:
        s.sendall(b"POST /session HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
                  b"X-Docker-Expose-Session-Uuid: sockgate-hijack-body-test\r\n"
                  b"X-Docker-Expose-Session-Name: test\r\n"
                  b"X-Docker-Expose-Session-Sharedkey: test\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        r = Reader(s)
        assert r.response(head_only=True)[0] == 101
        buf = read_until(s, r.buf, H2_PREFACE)
        buf = buf[buf.index(H2_PREFACE) + len(H2_PREFACE):]
        s.sendall(H2_SETTINGS)
        assert h2_frames(s, buf, lambda t, f: t == 4 and f & 1), \
            "h2 client closed: the body reached it"
