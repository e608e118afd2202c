"""Testcontainers for Node (tests/clients/testcontainers-workload.js) through
sockgate's public and restricted sockets, with Ryuk on: the seed's scenario.

Testcontainers pulls testcontainers/ryuk itself (the test bed's registry
serves the project's reaper, testbed/reaper.c, under that name through
dockerd's mirror) and starts it with the Docker socket it talks to mounted.
sockgate must allow that mount only because the image's digest is the
registry's, give Ryuk the restricted socket, and Ryuk, through it, must
remove what the test left once the test process is gone. A local image that
merely carries Ryuk's name is refused. The same workload runs again inside
a socket-mounting container, through the restricted socket the gate gives
it, and starts its own Ryuk from there."""

import json
import subprocess
import time

import pytest

from clients import (CLIENTS, MOUNT_DENIED, NODE, client_gate, gate_socket,  # noqa: F401
                     inside_policy, node_image, run_node, run_testcontainers_inside,
                     socket_kind, bed_env)
from conftest import docker_cli, engine_cli, out
from gate import Gate

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


def check_workload_and_ryuk(gate, res, err, socket_kind):
    """The workload's result, and the Ryuk it started on gate's socket_kind
    socket; returns the session's ID."""
    assert "error" not in res, (res, err[-3000:])
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
    assert ryuk["HostConfig"]["Binds"] == [gate.res + ":/var/run/docker.sock:rw"]
    assert ryuk["Config"]["Image"].startswith("docker.io/testcontainers/ryuk@sha256:")
    image = inspect(ryuk_ref(), "image")
    assert ryuk["Config"]["Image"] in image["RepoDigests"] or \
        ryuk["Config"]["Image"].replace("docker.io/", "", 1) in image["RepoDigests"]
    decisions = [d for d in gate.decisions()
                 if d["image"] == "docker.io/testcontainers/ryuk" and "/containers/create" in d["target"]
                 and session in d["target"]]
    assert [(d["socket"], d["verdict"], d["rule"]) for d in decisions] == [
        (socket_kind, "allowed, rewritten", "imageList: docker.io/testcontainers/ryuk:*")]
    return session


def check_reaped(res, session):
    """The test process has exited: after its reconnection timeout Ryuk
    removes what the session left, through the restricted socket."""
    wait_until("Ryuk to remove the session's container",
               lambda: inspect(res["client"]) is None)
    wait_until("Ryuk to remove the session's network",
               lambda: inspect(res["network"], "network") is None)
    wait_until("Ryuk to exit", no_reaper_running)
    assert not out(engine_cli("ps", "-aq", "--filter",
                              "label=org.testcontainers.session-id=" + session))


def test_testcontainers_with_ryuk(client_gate, socket_kind, scratch, fresh_ryuk):
    sock = gate_socket(client_gate, socket_kind)
    rc, res, err = run_node("testcontainers-workload.js", sock, scratch, TC_ENV)
    assert rc == 0, (res, err[-3000:])
    session = check_workload_and_ryuk(client_gate, res, err, socket_kind)
    check_reaped(res, session)


@pytest.fixture(scope="module")
def inside_gate():
    # The recommended policy, and docker:cli with what is built on it
    # (node_image) allowed to mount the socket.
    g = Gate("tc-inside", inside_policy())
    yield g
    g.stop()


def remove_sessions():
    """Removes whatever carries a Testcontainers session label (Ryuk
    included), after a failure: the next test needs an engine without a
    running Ryuk."""
    label = "label=org.testcontainers.session-id"
    left = out(engine_cli("ps", "-aq", "--filter", label)).split()
    if left:
        engine_cli("rm", "-f", *left, check=False)
    nets = out(engine_cli("network", "ls", "-q", "--filter", label)).split()
    if nets:
        engine_cli("network", "rm", *nets, check=False)


def test_testcontainers_inside_a_socket_mounting_container(inside_gate, node_image, fresh_ryuk):
    # Testcontainers for Node in a container that mounts the Docker socket:
    # the gate gives it the restricted socket, Testcontainers pulls and
    # starts Ryuk through it with the socket it mounted (named by its host
    # path, see run_testcontainers_inside), which the gate turns into the
    # restricted socket once more, and Ryuk reaps what the workload left
    # once the workload (and its connection to Ryuk) is gone.
    name = "sg-tc-inside"
    ok = False
    try:
        rc, res, err = run_testcontainers_inside(inside_gate, name)
        assert rc == 0, (res, err[-3000:])
        session = check_workload_and_ryuk(inside_gate, res, err, "restricted")
        decisions = inside_gate.decisions()
        # The workload's container: derived from docker:cli, given the
        # restricted socket in place of the public one it mounted.
        assert [(d["socket"], d["verdict"]) for d in decisions
                if d["image"] == "docker.io/library/sg-node-client"
                and "/containers/create" in d["target"] and name in d["target"]] == [
            ("public", "allowed, rewritten")], inside_gate.text()[-3000:]
        # Ryuk's create came from the workload's container, as the gate
        # identified it on the restricted socket.
        ryuk_creates = [d for d in decisions if d["image"] == "docker.io/testcontainers/ryuk"
                        and "/containers/create" in d["target"] and session in d["target"]]
        assert [d.get("container") for d in ryuk_creates] == [name], ryuk_creates
        check_reaped(res, session)
        ok = True
    finally:
        if not ok:
            remove_sessions()


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


# ---- tenants (issue 20) -------------------------------------------------------

TENANT_POLICIES = {
    "docker.io/testcontainers/ryuk:*": {"commandList": {"type": "allow", "commands": [
        "container*", "network*", "volume*", "image*", "ps", "inspect", "events"]}},
    "docker:cli": {"scope": "own"},
}


@pytest.fixture(scope="module")
def tenant_gate():
    g = Gate("tc-tenant", inside_policy({"imagePolicies": TENANT_POLICIES}))
    yield g
    g.stop()


@pytest.fixture
def bystanders():
    """A container and a network the host made: what a tenant's Ryuk must
    neither see nor reap, though they carry the session label it reaps by."""
    engine_cli("rm", "-f", "sg-tc-bystander", check=False)
    engine_cli("network", "rm", "sg-tc-bystander", check=False)
    yield
    engine_cli("rm", "-f", "sg-tc-bystander", check=False)
    engine_cli("network", "rm", "sg-tc-bystander", check=False)


def test_testcontainers_inside_a_scoped_tenant_reaps_only_its_own(tenant_gate, node_image,
                                                                   fresh_ryuk, bystanders):
    """Testcontainers in a CI job whose image policy has scope "own": its Ryuk,
    started from inside, is in the job's tenant and reaps that tenant's
    objects only, even those of another tenant's session label."""
    name = "sg-tc-tenant"
    ok = False
    try:
        rc, res, err = run_testcontainers_inside(tenant_gate, name)
        assert rc == 0, (res, err[-3000:])
        session = check_workload_and_ryuk(tenant_gate, res, err, "restricted")
        # the host's objects carry the same session label: Ryuk's filter
        # would match them, its tenant's scope must not
        label = "org.testcontainers.session-id=" + session
        engine_cli("run", "-d", "--name", "sg-tc-bystander", "--label", label, "bb", "sleep",
                   "600")
        engine_cli("network", "create", "--label", label, "sg-tc-bystander")
        ryuk = inspect("testcontainers-ryuk-" + session)
        client = inspect(res["client"])
        tenant = client["Config"]["Labels"]["io.sockgate.tenant"]
        assert tenant and ryuk["Config"]["Labels"]["io.sockgate.tenant"] == tenant
        assert ryuk["Config"]["Labels"]["io.sockgate.policy"] == "docker:cli"
        wait_until("Ryuk to remove the session's container",
                   lambda: inspect(res["client"]) is None)
        wait_until("Ryuk to remove the session's network",
                   lambda: inspect(res["network"], "network") is None)
        wait_until("Ryuk to exit", no_reaper_running)
        assert inspect("sg-tc-bystander")["State"]["Running"]
        assert inspect("sg-tc-bystander", "network")
        ok = True
    finally:
        if not ok:
            remove_sessions()


def test_testcontainers_from_the_host_with_a_scope_all_ryuk(tenant_gate, scratch, fresh_ryuk):
    """From the host, with the tenants' policies in force: Ryuk's image
    policy (its command list, scope "all") applies, and all is as before."""
    rc, res, err = run_node("testcontainers-workload.js", tenant_gate.pub, scratch, TC_ENV)
    assert rc == 0, (res, err[-3000:])
    session = check_workload_and_ryuk(tenant_gate, res, err, "public")
    ryuk = inspect("testcontainers-ryuk-" + session)
    assert ryuk["Config"]["Labels"]["io.sockgate.policy"] == "docker.io/testcontainers/ryuk:*"
    check_reaped(res, session)
