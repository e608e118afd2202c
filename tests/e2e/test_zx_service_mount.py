"""Socket mounts through swarm services (issue 3): service create and update
bodies are checked like container creates; an allowed service gets the
restricted socket and its image pinned. The test bed's engine becomes a
single-node swarm on loopback for this module and leaves it afterwards."""

import json
import os

import pytest

from conftest import docker_cli, engine_cli, out
from gate import Gate, settings

PREFIX = "enhanced container isolation: docker socket mount denied for container with image "


@pytest.fixture(scope="module")
def swarm_gate():
    engine_cli("swarm", "init", "--advertise-addr", "127.0.0.1", timeout=120)
    g = Gate("svc", settings(images=["docker:cli"]))
    yield g
    g.stop()
    engine_cli("service", "rm", "sg-svc-ok", "sg-svc-plain", check=False)
    engine_cli("swarm", "leave", "--force", timeout=120, check=False)


def service(g, *args, check=False):
    # --no-resolve-image: the CLI would otherwise ask a public registry.
    return docker_cli("service", *args, sock=g.pub, check=check, timeout=120)


def test_service_create_with_socket_denied_for_unlisted_image(swarm_gate):
    g = swarm_gate
    p = service(g, "create", "--detach", "--no-resolve-image", "--name", "sg-svc-deny", "--mount",
                "type=bind,source=%s,target=/var/run/docker.sock" % g.pub, "bb", "sleep", "100")
    assert p.returncode != 0
    assert PREFIX + '"docker.io/library/bb"; image is not in the allowed list' in p.stderr.decode()
    assert "sg-svc-deny" not in out(engine_cli("service", "ls", "--format", "{{.Name}}"))


def test_service_create_allowed_gets_restricted_socket_and_pin(swarm_gate):
    g = swarm_gate
    service(g, "create", "--detach", "--no-resolve-image", "--name", "sg-svc-ok", "--mount",
            "type=bind,source=%s,target=/var/run/docker.sock" % g.pub, "docker:cli",
            "sleep", "100", check=True)
    spec = json.loads(out(engine_cli("service", "inspect", "sg-svc-ok")))[0]["Spec"]
    cs = spec["TaskTemplate"]["ContainerSpec"]
    assert cs["Mounts"][0]["Source"] == g.res
    assert "@sha256:" in cs["Image"]


def test_service_update_adding_a_socket_mount_is_checked(swarm_gate):
    g = swarm_gate
    service(g, "create", "--detach", "--no-resolve-image", "--name", "sg-svc-plain", "bb",
            "sleep", "100", check=True)
    # The gate's directory holds its public socket: a directory above it.
    p = service(g, "update", "--detach", "--no-resolve-image", "--mount-add",
                "type=bind,source=%s,target=/host-run" % os.path.dirname(g.pub), "sg-svc-plain")
    assert p.returncode != 0 and PREFIX in p.stderr.decode(), p.stderr
