"""Where dockerd reads host configuration (issue 8, docs/HOSTCONFIG.md),
against the real engine.

dockerd 20.10 (the test bed's) still takes host configuration from the
top level of a create body when HostConfig is absent or null, and from the
body of a start below API 1.24. Both bypassed the socket mount permissions.
Every such body must be refused on every API version the engine accepts,
and leave nothing created or changed (checked through the engine's own
socket); allowed images must still work on every version the docker CLI
and the Python SDK use."""

import json

import docker
import pytest

from conftest import ENV, api, docker_cli, engine_cli, engine_version, out
from gate import Gate, settings

pytestmark = [pytest.mark.userns, pytest.mark.usefixtures("remove_new_containers")]

OUTSIDE = "host configuration outside HostConfig"
START_BODY = "container start with a body"

# The engine accepts API 1.12 (its minimum) to 1.41 (its maximum).
VERSIONS = ["1.12", "1.18", "1.19", "1.23", "1.24", "1.25", "1.30", "1.40", "1.41", None]


@pytest.fixture(scope="module")
def gate():
    g = Gate("hostconfig", settings(images=["docker:cli"]))
    yield g
    g.stop()


def vpath(version, rest):
    return ("/v%s" % version if version else "") + rest


def engine_containers():
    return out(engine_cli("ps", "-aq", "--no-trunc"))


def top_level_bodies(gate):
    pub, eng = gate.pub, ENV["ENGINE_SOCK"]
    return [
        ("Binds", {"Image": "bb", "Binds": ["%s:/var/run/docker.sock" % pub]}),
        ("engine socket", {"Image": "bb", "Binds": ["%s:/s" % eng]}),
        ("lower-case keys", {"Image": "bb", "binds": ["%s:/s" % pub]}),
        ("upper-case keys", {"Image": "bb", "BINDS": ["%s:/s" % pub]}),
        ("Mounts", {"Image": "bb", "Mounts": [{"Type": "bind", "Source": pub, "Target": "/s"}]}),
        ("VolumesFrom", {"Image": "bb", "VolumesFrom": ["sg-hc-holder"]}),
        ("HostConfig null", {"Image": "bb", "HostConfig": None, "Binds": ["%s:/s" % pub]}),
        ("both keys", {"Image": "bb", "HostConfig": {}, "Binds": ["%s:/s" % pub]}),
        ("both, merged field", {"Image": "bb", "HostConfig": {}, "VolumeDriver": "local"}),
        ("Privileged", {"Image": "bb", "Privileged": True}),
        ("escaped key", ('{"Image":"bb","\\u0042inds":["%s:/s"]}' % pub).encode()),
        ("long s", ('{"Image":"bb","Bind\u017f":["%s:/s"]}' % pub).encode()),
    ]


@pytest.fixture(scope="module")
def holder(gate):
    engine_cli("rm", "-f", "sg-hc-holder", check=False)
    engine_cli("create", "--name", "sg-hc-holder", "-v", "%s:/s" % gate.pub, "bb", "true")
    yield "sg-hc-holder"
    engine_cli("rm", "-f", "sg-hc-holder", check=False)


@pytest.mark.parametrize("sock", ["public", "restricted"])
def test_top_level_host_configuration_refused_on_every_version(gate, holder, sock):
    path = gate.pub if sock == "public" else gate.res
    before = engine_containers()
    bad = []
    n = 0
    for name, body in top_level_bodies(gate):
        for v in VERSIONS:
            status, resp = api(path, "POST", vpath(v, "/containers/create"), body)
            n += 1
            msg = resp.get("message", "") if isinstance(resp, dict) else str(resp)
            if status != 400 or OUTSIDE not in msg:
                bad.append((name, v, status, msg))
    assert not bad, "\n".join(map(str, bad))
    assert n >= 100
    assert engine_containers() == before  # dockerd created nothing


def test_start_body_refused_and_container_unchanged(gate):
    cid = out(engine_cli("create", "bb", "sleep", "30"))
    before = json.loads(out(engine_cli("inspect", cid)))[0]["HostConfig"]
    bodies = [
        {"Binds": ["%s:/var/run/docker.sock" % ENV["ENGINE_SOCK"]]},
        {"HostConfig": {"Binds": ["%s:/s" % gate.pub]}},
        {"binds": ["/:/host"], "Privileged": True},
        {"Privileged": True},
    ]
    bad = []
    for body in bodies:
        for v in VERSIONS:
            for sock in (gate.pub, gate.res):
                status, resp = api(sock, "POST", vpath(v, "/containers/%s/start" % cid), body)
                if status != 400 or START_BODY not in resp.get("message", ""):
                    bad.append((body, v, status, resp))
    assert not bad, "\n".join(map(str, bad[:10]))
    info = json.loads(out(engine_cli("inspect", cid)))[0]
    assert info["HostConfig"] == before
    assert info["State"]["Running"] is False


def test_start_with_an_ignored_body_still_starts(gate):
    cid = out(engine_cli("create", "bb", "sleep", "30"))
    status, resp = api(gate.pub, "POST", "/v1.23/containers/%s/start" % cid, b"{}")
    info = json.loads(out(engine_cli("inspect", cid)))[0]
    if version_tuple(engine_version()["MinAPIVersion"]) > (1, 23):
        # 26+ serve nothing below 1.24: dockerd's own refusal, passed on
        text = resp.get("message", "") if isinstance(resp, dict) else resp.decode(errors="replace")
        assert status == 400 and "too old" in text, (status, resp)
        assert not info["State"]["Running"]
    else:
        assert status == 204
        assert info["State"]["Running"] and info["HostConfig"]["Binds"] is None
    engine_cli("rm", "-f", cid)


def version_tuple(v):
    return tuple(int(x) for x in v.split("."))


# ---- allowed images keep working on every version clients use ---------------------

@pytest.mark.parametrize("version", ["1.24", "1.30", "1.40", "1.41"])
def test_cli_socket_mount_on_old_versions(gate, version):
    p = docker_cli("run", "--rm", "-v", "%s:/var/run/docker.sock" % gate.pub, "docker:cli",
                   "docker", "version", "--format", "{{.Server.APIVersion}}",
                   sock=gate.pub, env={"DOCKER_API_VERSION": version})
    assert out(p), p.stderr


@pytest.mark.parametrize("version", ["1.24", "1.35", "1.41", "auto"])
def test_sdk_socket_mount_on_old_versions(gate, version):
    c = docker.DockerClient(base_url="unix://" + gate.pub, version=version, timeout=120)
    try:
        logs = c.containers.run("docker:cli", ["docker", "version", "--format",
                                               "{{.Server.Version}}"],
                                volumes={gate.pub: {"bind": "/var/run/docker.sock", "mode": "rw"}},
                                remove=True)
        assert logs.strip()
    finally:
        c.close()
