"""dockerode (tests/clients/dockerode-workload.js) through sockgate's public and
restricted sockets: pull, build, hijacked attach and exec with stdin,
archives, follow logs, events, stats."""

from clients import (BLOCKED_PREFIX, client_gate, gate_socket, run_node,  # noqa: F401
                     socket_kind)
from conftest import engine_cli, out


def test_dockerode_workload(client_gate, socket_kind, scratch):
    run = "dockerode-%s" % socket_kind
    try:
        rc, res, err = run_node("dockerode-workload.js", gate_socket(client_gate, socket_kind),
                                scratch, {"SG_RUN": run})
        assert rc == 0 and "error" not in res, (res, err[-2000:])
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
        if socket_kind == "public":
            assert not failed, failed
            assert ok["build"] == "built-by-dockerode\n"
        else:
            # The recommended policy denies `build` on the restricted socket.
            assert list(failed) == ["build"], failed
            assert failed["build"]["status"] == 403
            assert BLOCKED_PREFIX + "/build?" in failed["build"]["error"]
            assert "is blocked; if you wish to allow it" in failed["build"]["error"]
    finally:
        left = out(engine_cli("ps", "-aq", "--filter", "label=sockgate.test=" + run)).split()
        if left:
            engine_cli("rm", "-f", *left, check=False)
        engine_cli("rmi", "-f", "sg-dockerode-built:" + run, check=False)
    assert not left, "the workload left containers behind: %s" % left
