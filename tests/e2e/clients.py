"""tests/e2e/clients.py — what the real-client suites (test_clients_*.py)
share: the gate they run through, with the policy sockgate ships for
Testcontainers (dist/admin-settings.json), and the way to run the Node
clients pinned in tests/clients (package-lock.json, installed by
testbed/install-deps).

Each workload runs twice: on the gate's public socket, as a developer's
tools do, and on its restricted socket, as a socket-mounting container's
would (the command list then applies: `build` and `push` are refused).
"""

import json
import os
import subprocess

import pytest

from conftest import ENV
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
