"""The commandList (issue 4): what a container that may mount the Docker socket
may do through it. Every request on the restricted socket is decided; the
public socket is not affected; containers created from inside get the same
socket-mount checks (nested enforcement)."""

import json
import re

import pytest

from conftest import ENV, Reader, connect, docker_cli, engine_cli, out
from gate import Gate, settings

BLOCKED = ('enhanced container isolation: docker command "{}" is blocked; if you wish to allow '
           'it, configure the docker socket command list in the Docker Desktop settings or '
           'admin-settings.')
BLOCKED_RE = re.compile(r'enhanced container isolation: docker command "([^"]+)" is blocked; if '
                        r'you wish to allow it, configure the docker socket command list in the '
                        r'Docker Desktop settings or admin-settings\.')


def policy(kind, commands, images=("docker:cli",)):
    return settings(images=list(images), commands={"type": kind, "commands": commands})


@pytest.fixture(scope="module")
def gate():
    g = Gate("cmds", policy("deny", ["push"]))
    yield g
    g.stop()


pytestmark = pytest.mark.usefixtures("remove_new_containers")


def inside(gate, *cmd, check=False, extra=()):
    """Runs docker:cli with the Docker socket mounted (so: the restricted
    socket) and `cmd` in it."""
    return docker_cli("run", "--rm", "-v", "%s:/var/run/docker.sock" % gate.pub, *extra,
                      "docker:cli", *cmd, sock=gate.pub, check=check, timeout=180)


def text(p):
    return (p.stdout + p.stderr).decode(errors="replace")


def raw(path, request):
    with connect(path) as s:
        s.sendall(request)
        status, _, body = Reader(s).response()
    try:
        return status, json.loads(body.decode())
    except ValueError:
        return status, body


def test_deny_push_blocks_push_with_the_exact_message_and_ps_works(gate):
    gate.reload(policy("deny", ["push"]))
    p = inside(gate, "sh", "-c", "docker ps >/dev/null && echo PS-OK; docker push myimage")
    t = text(p)
    assert "PS-OK" in t, t
    m = BLOCKED_RE.search(t)
    assert m and m.group(1).endswith("/myimage/push?tag=latest"), t
    # The same request from a raw socket on the restricted socket.
    target = "/v1.43/images/myimage/push?tag=latest"
    status, body = raw(gate.res, b"POST %s HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
                       % target.encode())
    assert status == 403 and body["message"] == BLOCKED.format(target), body
    assert any(d["rule"].startswith("commandList deny") and d["socket"] == "restricted"
               for d in gate.decisions())


def test_public_socket_is_not_affected(gate):
    gate.reload(policy("deny", ["push", "image*"]))
    reg = ENV["REGISTRY_ADDR"]
    engine_cli("tag", "bb", "%s/sgpublic:1" % reg)
    try:
        docker_cli("push", "%s/sgpublic:1" % reg, sock=gate.pub)
        docker_cli("images", sock=gate.pub)
    finally:
        engine_cli("rmi", "%s/sgpublic:1" % reg, check=False)


def test_allow_list_runs_containers_but_does_not_pull(gate):
    gate.reload(policy("allow", ["ps", "container*", "volume*"]))
    p = inside(gate, "sh", "-c", "docker run --rm bb echo INNER-RUN-OK; docker volume ls -q >/dev/null "
               "&& echo VOL-OK; docker pull bb:nope")
    t = text(p)
    assert "INNER-RUN-OK" in t and "VOL-OK" in t, t
    m = BLOCKED_RE.search(t)
    assert m and "/images/create" in m.group(1), t


def test_group_wildcards(gate):
    gate.reload(policy("deny", ["image*"]))
    p = inside(gate, "sh", "-c", "docker ps >/dev/null && echo PS-OK; docker images")
    t = text(p)
    assert "PS-OK" in t and BLOCKED_RE.search(t) and "/images/json" in t, t
    # A route under /images/ that no docker version has: still blocked.
    status, _ = raw(gate.res, b"GET /v1.41/images/x/future-route HTTP/1.1\r\nHost: d\r\n\r\n")
    assert status == 403
    gate.reload(policy("deny", ["container*"]))
    p = inside(gate, "sh", "-c", "docker images -q >/dev/null && echo IMAGES-OK; docker ps")
    t = text(p)
    assert "IMAGES-OK" in t and "/containers/json" in t and BLOCKED_RE.search(t), t


def test_build_blocks_legacy_build_and_buildkit_tunnels(gate, scratch):
    gate.reload(policy("deny", ["build"]))
    p = inside(gate, "sh", "-c", "mkdir /ctx && echo 'FROM bb' > /ctx/Dockerfile && "
               "DOCKER_BUILDKIT=0 docker build /ctx")
    t = text(p)
    assert BLOCKED_RE.search(t) and "/build" in t, t
    for path in (b"/grpc", b"/session"):
        status, _ = raw(gate.res, b"POST %s HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
                        b"Upgrade: h2c\r\nContent-Length: 0\r\n\r\n" % path)
        assert status == 403, path


def test_nested_enforcement(gate):
    gate.reload(policy("deny", ["push"]))
    # From inside, a sibling asking for the host's public socket gets the
    # restricted one; a sibling with an image not listed is denied.
    p = inside(gate, "sh", "-c",
               "docker create --name sg-sibling -v %s:/var/run/docker.sock docker:cli true "
               "&& echo SIBLING-OK; docker run --rm -v %s:/s bb true" % (gate.pub, gate.pub))
    t = text(p)
    assert "SIBLING-OK" in t, t
    assert 'denied for container with image "docker.io/library/bb"' in t, t
    info = json.loads(out(engine_cli("inspect", "sg-sibling")))[0]
    assert info["HostConfig"]["Binds"] == ["%s:/var/run/docker.sock" % gate.res]
    engine_cli("rm", "sg-sibling")


def test_pipelined_and_keep_alive_requests_are_each_decided(gate):
    gate.reload(policy("deny", ["push"]))
    reqs = (b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"
            b"POST /v1.41/images/x/push?tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
            b"GET /v1.41/version HTTP/1.1\r\nHost: d\r\n\r\n")
    with connect(gate.res) as s:
        s.sendall(reqs)
        r = Reader(s)
        statuses = [r.response()[0] for _ in range(3)]
        # keep-alive: the same connection goes on after a block
        s.sendall(b"POST /images/y/push HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
                  b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        statuses += [r.response()[0], r.response()[0]]
    assert statuses == [200, 403, 200, 403, 200]


@pytest.mark.parametrize("target", [
    b"/v1.41/images/x/push", b"/images/x/push", b"/v1.41./images/x/push", b"/v1.41/images/a%2Fb/push",
    b"/v1.41/images/x/pu%73h", b"/v%31.41/images/x/push", b"/v1.41/images/x/push/", b"//images/x/push",
    b"/v1.41/images/x/../x/push", b"/v1.41/images/x/%2e%2e/x/push", b"/V1.41/images/x/push",
])
def test_path_tricks_never_let_a_blocked_route_through(gate, target):
    gate.reload(policy("deny", ["push"]))
    status, _ = raw(gate.res, b"POST %s?tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
                    % target)
    # Blocked (403), redirected without forwarding (301), or a route dockerd
    # does not have (404) -- never forwarded as a push.
    assert status in (301, 403, 404), (target, status)
    assert not any("push" in d.get("target", "") and d["verdict"] != "denied"
                   for d in gate.decisions())


def test_a_reload_applies_from_the_next_request_on_open_connections(gate):
    gate.reload(policy("deny", ["ps"]))
    push = b"POST /v1.41/images/x/push?tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
    with connect(gate.res) as s:
        r = Reader(s)
        s.sendall(push)
        first = r.response()[0]          # push allowed: dockerd answers (image unknown)
        gate.reload(policy("deny", ["push"]))
        s.sendall(push)                  # same keep-alive connection, new policy
        second = r.response()[0]
    assert first != 403 and second == 403, (first, second)
