"""test_policy.py — a smoke check of the ECI policy on the real engine, with the
settings tests/e2e/run writes (imageList: the test registry's docker:cli only;
commandList: deny push, build). The exact policy semantics are unit-tested; this
proves the wiring: restricted socket vs public socket, and a denied socket mount
never reaches dockerd."""

import json
import re

from conftest import ENV, docker_cli, engine_cli

SOCK_MOUNT_DENIED = ('enhanced container isolation: docker socket mount denied for container '
                     'with image \\"docker.io/library/bb\\"; image is not in the allowed list; '
                     'if you wish to allow it, configure the docker socket image list in the '
                     'Docker Desktop settings.')


def test_restricted_socket_blocks_denied_command():
    ref = "%s/e2e/denied:1" % ENV["REGISTRY_ADDR"]
    engine_cli("tag", "bb:latest", ref)
    try:
        p = docker_cli("push", ref, sock=ENV["RESTRICTED_SOCK"], check=False, timeout=60)
        assert p.returncode != 0
        err = p.stderr.decode()
        m = re.search(r'enhanced container isolation: docker command "(/v1\.\d+/images/[^"]+)" '
                      r'is blocked; if you wish to allow it, configure the docker socket command '
                      r'list in the Docker Desktop settings or admin-settings\.', err)
        assert m, err
        assert m.group(1).endswith("/push?tag=1"), m.group(1)
    finally:
        engine_cli("rmi", ref, check=False)


def test_restricted_socket_allows_other_commands():
    p = docker_cli("ps", "-a", "--format", "{{.ID}}", sock=ENV["RESTRICTED_SOCK"])
    assert p.returncode == 0
    p = docker_cli("run", "--rm", "bb", "echo", "restricted-ok", sock=ENV["RESTRICTED_SOCK"])
    assert p.stdout == b"restricted-ok\n"


def test_socket_mount_denied_for_unlisted_image():
    before = set(engine_cli("ps", "-aq", "--no-trunc").stdout.split())
    p = docker_cli("create", "-v", "%s:/var/run/docker.sock" % ENV["SOCKGATE_SOCK"], "bb",
                   "true", check=False)
    assert p.returncode != 0
    assert json.loads('"%s"' % SOCK_MOUNT_DENIED) in p.stderr.decode(), p.stderr
    after = set(engine_cli("ps", "-aq", "--no-trunc").stdout.split())
    assert after == before, "a denied create still reached dockerd"
