"""Testcontainers for Node (tests/clients/testcontainers-workload.js) through
sockgate's public and restricted sockets, with Ryuk on: the seed's scenario.

Testcontainers pulls testcontainers/ryuk itself (the test bed's registry
serves the project's reaper, testbed/reaper.c, under that name through
dockerd's mirror) and starts it with the Docker socket it talks to mounted.
sockgate must allow that mount only because the image's digest is the
registry's, give Ryuk the restricted socket, and Ryuk, through it, must
remove what the test left once the test process is gone. A local image that
merely carries Ryuk's name is refused."""

import json
import subprocess
import time

import pytest

from clients import (CLIENTS, MOUNT_DENIED, NODE, client_gate, gate_socket,  # noqa: F401
                     run_node, socket_kind, bed_env)
from conftest import docker_cli, engine_cli, out

# This CI machine is itself a container (/.dockerenv), which makes
# Testcontainers look for Ryuk's port on the bridge gateway; ports are
# published on 127.0.0.1 here, where a developer's laptop has them too.
TC_ENV = {"TESTCONTAINERS_HOST_OVERRIDE": "localhost"}


def ryuk_ref():
    return "testcontainers/ryuk:" + bed_env()["RYUK_TAG"]


def inspect(ref, kind="container"):
    p = engine_cli(kind, "inspect", ref, check=False)
    return json.loads(p.stdout)[0] if p.returncode == 0 else None


def wait_until(what, cond, timeout=60):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.5)


def no_reaper_running():
    return not out(engine_cli("ps", "-q", "--filter", "label=org.testcontainers.ryuk=true"))


@pytest.fixture
def fresh_ryuk():
    """No Ryuk image or container on the engine: Testcontainers must pull and
    start its own."""
    wait_until("an earlier Ryuk to finish", no_reaper_running)
    engine_cli("rmi", "-f", ryuk_ref(), check=False)
    yield
    wait_until("Ryuk to finish", no_reaper_running)


def test_the_pinned_testcontainers_asks_for_the_test_beds_ryuk_tag():
    p = subprocess.run([NODE, "-e", 'process.stdout.write(require("testcontainers/build/reaper/'
                        'reaper").REAPER_IMAGE)'], cwd=CLIENTS, capture_output=True, timeout=60)
    assert p.stdout.decode() == ryuk_ref(), (p.stdout, p.stderr)


def test_testcontainers_with_ryuk(client_gate, socket_kind, scratch, fresh_ryuk):
    sock = gate_socket(client_gate, socket_kind)
    rc, res, err = run_node("testcontainers-workload.js", sock, scratch, TC_ENV)
    assert rc == 0 and "error" not in res, (res, err[-3000:])
    assert res["exec"] == {"exitCode": 0, "output": "copied before start\n"}
    assert res["copyOut"] == "copied after start\n"
    assert res["http"] == "pong\n"            # published port, userland proxy
    assert res["viaNetwork"] == "pong\n"      # the test's own network and alias
    assert "ready" in res["logs"]
    assert res["stopped"]

    # Ryuk: started by Testcontainers from the pulled image, allowed by the
    # image list's digest check, given the restricted socket.
    client = inspect(res["client"])
    assert client, "the container left for Ryuk is already gone"
    session = client["Config"]["Labels"]["org.testcontainers.session-id"]
    ryuk = inspect("testcontainers-ryuk-" + session)
    assert ryuk, "no Ryuk container for session " + session
    assert ryuk["HostConfig"]["Binds"] == [client_gate.res + ":/var/run/docker.sock:rw"]
    assert ryuk["Config"]["Image"].startswith("docker.io/testcontainers/ryuk@sha256:")
    image = inspect(ryuk_ref(), "image")
    assert ryuk["Config"]["Image"] in image["RepoDigests"] or \
        ryuk["Config"]["Image"].replace("docker.io/", "", 1) in image["RepoDigests"]
    decisions = [d for d in client_gate.decisions()
                 if d["image"] == "docker.io/testcontainers/ryuk" and "/containers/create" in d["target"]
                 and session in d["target"]]
    assert [(d["socket"], d["verdict"], d["rule"]) for d in decisions] == [
        (socket_kind, "allowed, rewritten", "imageList: docker.io/testcontainers/ryuk:*")]

    # The test process has exited: after its reconnection timeout Ryuk
    # removes what the session left, through the restricted socket.
    wait_until("Ryuk to remove the session's container",
               lambda: inspect(res["client"]) is None)
    wait_until("Ryuk to remove the session's network",
               lambda: inspect(res["network"], "network") is None)
    wait_until("Ryuk to exit", no_reaper_running)
    assert not out(engine_cli("ps", "-aq", "--filter",
                              "label=org.testcontainers.session-id=" + session))


@pytest.mark.parametrize("impostor", ["bb", "docker:cli"])
def test_an_image_only_named_ryuk_is_refused(client_gate, scratch, fresh_ryuk, impostor):
    # The retagging attack on this scenario: a local-only image, or another
    # registry image (with a RepoDigest, but not Ryuk's), tagged as Ryuk.
    engine_cli("tag", impostor, ryuk_ref())
    try:
        before = set(out(engine_cli("ps", "-aq")).split())
        rc, res, err = run_node("testcontainers-workload.js", client_gate.pub, scratch, TC_ENV)
        after = set(out(engine_cli("ps", "-aq")).split())
        made = [inspect(c) for c in after - before]
        if after - before:
            engine_cli("rm", "-f", *(after - before), check=False)
        assert rc != 0 and MOUNT_DENIED in res.get("error", ""), (res, err[-2000:])
        assert not [c for c in made if c["HostConfig"]["Binds"]], "a socket mount got through"
        if impostor == "bb":
            assert "cannot be proven to come from the registry" in res["error"], res["error"]
    finally:
        engine_cli("rmi", ryuk_ref(), check=False)


def test_the_refusal_of_another_registry_image_says_why(client_gate, fresh_ryuk):
    engine_cli("tag", "docker:cli", ryuk_ref())
    try:
        p = docker_cli("create", "-v", client_gate.pub + ":/var/run/docker.sock", ryuk_ref(),
                       sock=client_gate.pub, check=False)
        text = p.stderr.decode()
        assert p.returncode != 0 and MOUNT_DENIED in text, text
        assert not text.rstrip().endswith('";'), "no reason given: " + text
        assert "was not pulled from docker.io/testcontainers/ryuk" in text, text
    finally:
        engine_cli("rmi", ryuk_ref(), check=False)
