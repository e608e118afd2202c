"""tests/e2e/clients.py — what the real-client suites (test_clients_*.py)
share: the gate they run through, with the policy sockgate ships for
Testcontainers (dist/admin-settings.json), and the way to run the Node
clients pinned in tests/clients (package-lock.json, installed by
testbed/install-deps).

Each workload runs twice: on the gate's public socket, as a developer's
tools do, and on its restricted socket, as a socket-mounting container's
would (the command list then applies: `build` and `push` are refused).
run_node_inside() runs one inside such a container: the host's Node in an
image derived from docker:cli (node_image), the gate's socket mounted.
"""

import copy
import io
import json
import os
import subprocess
import tarfile

import pytest

from conftest import ENV, derived_image, docker_cli, engine_cli
from gate import Gate

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLIENTS = os.path.join(ROOT, "tests", "clients")
NODE = "/usr/bin/node"

# The seed's recommendation for this scenario, exactly as shipped.
with open(os.path.join(ROOT, "dist", "admin-settings.json")) as _f:
    RECOMMENDED = json.load(_f)

BLOCKED_PREFIX = 'enhanced container isolation: docker command "'
MOUNT_DENIED = ('enhanced container isolation: docker socket mount denied for container with '
                'image "docker.io/testcontainers/ryuk"')


def bed_env():
    """The variables testbed/up wrote (RYUK_TAG, BRIDGE …)."""
    values = {}
    with open(os.path.join(ENV["TESTBED_DIR"], "env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                values[k] = v
    return values


@pytest.fixture(scope="module")
def client_gate():
    missing = os.path.join(CLIENTS, "node_modules", ".package-lock.json")
    if not os.path.exists(missing):
        raise AssertionError("tests/clients/node_modules is not installed: run testbed/install-deps")
    g = Gate("clients", RECOMMENDED)
    yield g
    g.stop()


@pytest.fixture(params=["public", "restricted"])
def socket_kind(request):
    return request.param


def gate_socket(gate, kind):
    return gate.pub if kind == "public" else gate.res


def run_node(script, sock, home, extra_env=None, timeout=240):
    """Runs tests/clients/<script> with DOCKER_HOST=sock; returns (rc, the
    JSON object it printed, its stderr)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,                       # no user config of any client
        "DOCKER_HOST": "unix://" + sock,
        "TMPDIR": home,
    }
    env.update(extra_env or {})
    p = subprocess.run([NODE, os.path.join(CLIENTS, script)], cwd=CLIENTS, env=env,
                       capture_output=True, timeout=timeout)
    stdout = p.stdout.decode(errors="replace")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    assert lines, "%s printed no result (rc %d):\n%s\n%s" % (
        script, p.returncode, stdout[-3000:], p.stderr.decode(errors="replace")[-3000:])
    return p.returncode, json.loads(lines[-1]), p.stderr.decode(errors="replace")


# ---- the same clients inside a socket-mounting container ----------------------

NODE_IMAGE = "sg-node-client:e2e"


def node_rootfs_tar():
    """The host's Node, the libraries it links and tests/clients, as a tar to
    copy into a docker:cli container (busybox: no libc of its own)."""
    ldd = subprocess.run(["ldd", NODE], capture_output=True, text=True, check=True).stdout
    libs = [w for w in ldd.split() if w.startswith("/")]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.add(os.path.realpath(NODE), arcname="usr/local/bin/node")
        for lib in libs:
            t.add(os.path.realpath(lib), arcname=lib.lstrip("/"))
        t.add(CLIENTS, arcname="clients",
              filter=lambda ti: None if ti.name.startswith("clients/compose") else ti)
    return buf.getvalue()


@pytest.fixture(scope="module")
def node_image():
    """docker:cli plus Node and the pinned clients: an image derived from an
    allowed one, made on the engine directly (set-up, not under test)."""
    yield derived_image(NODE_IMAGE, node_rootfs_tar())
    engine_cli("rmi", "-f", NODE_IMAGE, check=False)


def inside_policy(sockgate=None):
    """The recommended policy (Ryuk by digest, build and push denied) with
    docker:cli and the images built on it (node_image) allowed to mount the
    socket too; sockgate: a value for sockgate's own key, e.g.
    {"imagePolicies": {...}}."""
    policy = copy.deepcopy(RECOMMENDED)
    il = policy["enhancedContainerIsolation"]["dockerSocketMount"]["imageList"]
    il["images"] = ["docker:cli"] + il["images"]
    il["allowDerivedImages"] = True
    if sockgate is not None:
        policy["sockgate"] = sockgate
    return policy


def run_node_inside(gate, script, name, extra_env=None, network=None, image=NODE_IMAGE,
                    timeout=300):
    """Runs `node /clients/<script>` in a container named name, made with the
    docker CLI on gate's public socket with that socket mounted at
    /var/run/docker.sock (DOCKER_HOST=unix:///var/run/docker.sock): the gate
    must allow image and give the container its restricted socket instead.
    network: the container's --network (None: the engine's default bridge).
    The container is removed when it exits (--rm). Returns (rc, the JSON
    object the script printed, what the container and the CLI wrote on
    stderr)."""
    args = ["run", "--rm", "--name", name, "-v", gate.pub + ":/var/run/docker.sock",
            "-e", "DOCKER_HOST=unix:///var/run/docker.sock"]
    if network:
        args += ["--network", network]
    for k, v in (extra_env or {}).items():
        args += ["-e", "%s=%s" % (k, v)]
    args += [image, "node", "/clients/" + script]
    try:
        p = docker_cli(*args, sock=gate.pub, check=False, timeout=timeout)
    finally:
        engine_cli("rm", "-f", name, check=False)   # only if the CLI gave up on it
    stdout = p.stdout.decode(errors="replace")
    stderr = p.stderr.decode(errors="replace")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    assert lines, "%s inside %s printed no result (rc %d):\n%s\n%s" % (
        script, name, p.returncode, stdout[-3000:], stderr[-3000:])
    return p.returncode, json.loads(lines[-1]), stderr


# Published ports are on the host's 127.0.0.1 only in the test bed (dockerd
# --ip 127.0.0.1), where Testcontainers, inside a container (/.dockerenv),
# would look for them on the bridge's gateway. The workload container shares
# the host's network instead (allowed: root on the public socket is not
# isolated) and is told the host is 127.0.0.1, for Ryuk's port and the
# workload's published one alike.
TC_INSIDE_ENV = {"TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"}


def run_testcontainers_inside(gate, name, extra_env=None, timeout=300):
    """tests/clients/testcontainers-workload.js inside a socket-mounting
    container (run_node_inside): Testcontainers, on the restricted socket,
    starts its own Ryuk with the socket it was given mounted. Returns (rc,
    result, stderr).

    Ryuk's bind names a path on the host, and Testcontainers takes the
    container's own /var/run/docker.sock for it. Where sockgate listens on
    /run/docker.sock that is the socket again; in the test bed the host has
    no /run/docker.sock (the gate's public socket lives in the test bed's
    directory, and a bind of a path that is not one of the gate's sockets is
    a host path, refused to an isolated caller), so the workload is told
    where the socket it mounted is on the host, as Testcontainers' own
    TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE is meant for."""
    env = dict(TC_INSIDE_ENV, TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE=gate.pub)
    env.update(extra_env or {})
    return run_node_inside(gate, "testcontainers-workload.js", name, env, network="host",
                           timeout=timeout)
