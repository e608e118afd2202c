"""dockerode (tests/clients/dockerode-workload.js) through sockgate's public and
restricted sockets: pull, build, hijacked attach and exec with stdin,
archives, follow logs, events, stats. The restricted socket is driven twice:
from the host, and from inside a socket-mounting container, where dockerode
runs on the host's Node in an image derived from docker:cli and gets the
restricted socket in place of the one it mounted."""

import pytest

from clients import (BLOCKED_PREFIX, client_gate, gate_socket, node_image,  # noqa: F401
                     run_node, run_node_inside, socket_kind)
from conftest import engine_cli, out
from gate import Gate, settings


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
        rc, res, err = run_node_inside(derived_gate, "dockerode-workload.js", "sg-" + run,
                                       {"SG_RUN": run}, image=node_image)
        assert rc == 0 and "error" not in res, (res, err[-2000:])
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
