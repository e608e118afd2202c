"""test_identify.py — who is calling on the restricted socket (issue 20):
every container allowed to mount the socket shares the restricted socket,
so the gate names the caller from the kernel (the peer's cgroup and PID
namespace) confirmed by dockerd, and every decision line carries it. A
caller that is not a container it can confirm is "(unidentified)" and is
served exactly as before (the restricted socket's rules apply to all)."""

import socket

import pytest

from conftest import Reader, api, connect, docker_cli, engine_cli, out, raw_request
from gate import Gate, settings

PREFIX = "enhanced container isolation: "


@pytest.fixture(scope="module")
def gate():
    g = Gate("ident", settings(images=["docker:cli"],
                               commands={"type": "deny", "commands": ["push"]}))
    yield g
    g.stop()


def test_decisions_name_the_calling_container(gate):
    names = ["sg-ident-a", "sg-ident-b"]
    try:
        for name in names:
            p = docker_cli("run", "--name", name, "-v", gate.pub + ":/var/run/docker.sock",
                           "docker:cli", "docker", "run", "--rm", "--privileged", "bb", "true",
                           sock=gate.pub, check=False, timeout=120)
            text = (p.stdout + p.stderr).decode(errors="replace")
            assert p.returncode != 0 and PREFIX in text, text[-2000:]
        ids = {n: out(engine_cli("inspect", "-f", "{{.Id}}", n)) for n in names}
        refused = [d for d in gate.decisions()
                   if d["socket"] == "restricted" and d["verdict"] == "denied"]
        for name in names:
            mine = [d for d in refused if d.get("container") == name]
            assert mine, (name, refused)
            assert all(d["container_id"] == ids[name] for d in mine), mine
            # the image as the gate let it be created: pinned to the digest it proved
            assert all(d["container_image"].startswith("docker.io/library/docker@sha256:")
                       for d in mine), mine
    finally:
        for name in names:
            engine_cli("rm", "-f", name, check=False)


def test_a_host_process_on_the_restricted_socket_is_unidentified(gate):
    # Not in a container: nothing to confirm. Served as every restricted
    # caller is (the command list holds), and named so in the log.
    st, _, _ = raw_request(gate.res, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    assert st == 200
    st, answer = api(gate.res, "POST", "/v1.41/images/bb/push")
    assert st == 403 and "push" in answer["message"], answer
    mine = [d for d in gate.decisions()
            if d["socket"] == "restricted" and "/images/bb/push" in d["target"]]
    assert mine and mine[-1]["container"] == "(unidentified)", mine


def test_a_request_sent_with_the_connect_is_answered_after_identification(gate):
    # Bytes that arrive while the gate asks dockerd who is calling wait in
    # the connection's buffer, then are read as usual (also after a half-close).
    with connect(gate.res, timeout=10) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        status, _, body = Reader(s).response()
    assert status == 200 and body == b"OK", (status, body)
