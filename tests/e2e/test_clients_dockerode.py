"""dockerode (tests/clients/dockerode-workload.js) through sockgate's public and
restricted sockets: pull, build, hijacked attach and exec with stdin,
archives, follow logs, events, stats. The restricted socket is driven twice:
from the host, and from inside a socket-mounting container, where dockerode
runs on the host's Node in an image derived from docker:cli and gets the
restricted socket in place of the one it mounted."""

import io
import json
import os
import subprocess
import tarfile

import pytest

from clients import (BLOCKED_PREFIX, CLIENTS, NODE, client_gate, gate_socket,  # noqa: F401
                     run_node, socket_kind)
from conftest import derived_image, docker_cli, engine_cli, out
from gate import Gate, settings

NODE_IMAGE = "sg-node-client:e2e"


def check_workload(res, restricted):
    ok = {k: v["value"] for k, v in res.items() if v["ok"]}
    failed = {k: v for k, v in res.items() if not v["ok"]}
    assert ok["pull"].startswith("Status: Image is up to date for docker:cli")
    # dockerode sends its attach options as a body: never stdin (issue 10).
    assert ok["attach"] == ["stdin:[hello from dockerode]\n"] * 10
    assert ok["exec"] == "EXEC STDIN\n"
    assert ok["archive"] == "put by dockerode\n"
    assert ok["logs"] == "line 1\nline 2\nline 3\n"
    assert ok["stats"]["hasMemory"] and ok["stats"]["hasCpu"]
    assert ok["events"] == "die"
    if not restricted:
        assert not failed, failed
        assert ok["build"] == "built-by-dockerode\n"
    else:
        # `build` is denied on the restricted socket.
        assert list(failed) == ["build"], failed
        assert failed["build"]["status"] == 403
        assert BLOCKED_PREFIX + "/build?" in failed["build"]["error"]
        assert "is blocked; if you wish to allow it" in failed["build"]["error"]


def remove_run(run):
    left = out(engine_cli("ps", "-aq", "--filter", "label=sockgate.test=" + run)).split()
    if left:
        engine_cli("rm", "-f", *left, check=False)
    engine_cli("rmi", "-f", "sg-dockerode-built:" + run, check=False)
    return left


def test_dockerode_workload(client_gate, socket_kind, scratch):
    run = "dockerode-%s" % socket_kind
    try:
        rc, res, err = run_node("dockerode-workload.js", gate_socket(client_gate, socket_kind),
                                scratch, {"SG_RUN": run})
        assert rc == 0 and "error" not in res, (res, err[-2000:])
        check_workload(res, socket_kind == "restricted")
    finally:
        left = remove_run(run)
    assert not left, "the workload left containers behind: %s" % left


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


@pytest.fixture(scope="module")
def derived_gate():
    # docker:cli and what is built on it may mount the socket; the command
    # list is the recommended one.
    g = Gate("clients-in", settings(images=["docker:cli"], derived=True,
                                     commands={"type": "deny", "commands": ["build", "push"]}))
    yield g
    g.stop()


def test_dockerode_inside_a_socket_mounting_container(derived_gate, node_image):
    run = "dockerode-inside"
    try:
        p = docker_cli("run", "--rm", "-v", derived_gate.pub + ":/var/run/docker.sock",
                       "-e", "SG_RUN=" + run, node_image, "node", "/clients/dockerode-workload.js",
                       sock=derived_gate.pub, check=False, timeout=300)
        lines = [ln for ln in p.stdout.decode().splitlines() if ln.startswith("{")]
        assert p.returncode == 0 and lines, (p.stdout[-2000:], p.stderr[-2000:])
        res = json.loads(lines[-1])
        check_workload(res, restricted=True)
        # The mount was allowed as derived from docker:cli and rewritten, and
        # the workload's requests came in on the restricted socket.
        decisions = derived_gate.decisions()
        assert [d for d in decisions if d["verdict"] == "allowed, rewritten"
                and d["image"] == "docker.io/library/sg-node-client"
                and d["rule"].startswith("allowDerivedImages")], derived_gate.text()[-2000:]
        assert [d for d in decisions if d["socket"] == "restricted"
                and d["rule"] == "commandList deny: ROUTE_BUILD"], derived_gate.text()[-2000:]
    finally:
        left = remove_run(run)
    assert not left, "the workload left containers behind: %s" % left
