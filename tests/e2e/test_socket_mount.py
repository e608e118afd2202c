"""Docker socket mount permissions (issue 3): who may mount the socket, proven
by registry digests, with the exact Docker Desktop messages; every way of
exposing the socket; registry outages.

Each test module gate runs its own sockgate (gate.Gate) with a policy, in
front of the shared test bed's dockerd and registry (the registry is
dockerd's mirror and sockgate's `docker.io` endpoint)."""

import json
import os
import socket
import threading
import time

import pytest

from conftest import ENV, api, docker_cli, engine_cli, out
from gate import Gate, settings

NOT_LISTED = ('enhanced container isolation: docker socket mount denied for container '
              'with image "docker.io/library/docker"; image is not in the allowed list; '
              'if you wish to allow it, configure the docker socket image list in the '
              'Docker Desktop settings.')
PREFIX = "enhanced container isolation: docker socket mount denied for container with image "


def run(gate, *args, check=False, timeout=120):
    return docker_cli(*args, sock=gate.pub, check=check, timeout=timeout)


def err(p):
    return p.stderr.decode(errors="replace")


def push_image(tag, content):
    """Makes a one-file image with `content`, pushes it to the test registry as
    library/<tag>, removes the local copies: `docker pull <tag>` through the
    mirror then yields docker.io/library/<tag>."""
    reg = ENV["REGISTRY_ADDR"]
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = content.encode()
        ti = tarfile.TarInfo("content")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
        with open("/bin/busybox", "rb") as f:
            bb = f.read()
        ti = tarfile.TarInfo("bin/busybox")
        ti.size = len(bb)
        ti.mode = 0o755
        t.addfile(ti, io.BytesIO(bb))
        for applet in ("sh", "cat", "ls", "true"):
            ti = tarfile.TarInfo("bin/" + applet)
            ti.type = tarfile.SYMTYPE
            ti.linkname = "busybox"
            t.addfile(ti)
    remote = "%s/library/%s" % (reg, tag)
    engine_cli("import", "-", remote, input=buf.getvalue())
    engine_cli("push", remote)
    engine_cli("rmi", remote)


@pytest.fixture(scope="module")
def gate():
    g = Gate("mount", settings(images=["docker.io/localstack/localstack:*"]),
             extra=("--digest-ttl", "0"))
    yield g
    g.stop()


pytestmark = pytest.mark.usefixtures("remove_new_containers")


def sock_mount(gate):
    return "%s:/var/run/docker.sock" % gate.pub


# ---- the feature page's scenario --------------------------------------------------

def test_not_listed_is_denied_with_the_exact_message(gate):
    p = run(gate, "run", "--rm", "-v", sock_mount(gate), "docker:cli", "docker", "version")
    assert p.returncode != 0
    assert NOT_LISTED in err(p), err(p)
    d = gate.decisions()[-1]
    assert d["verdict"] == "denied" and d["image"] == "docker.io/library/docker"
    assert d["socket"] == "public" and d["uid"] == 0


def test_listed_is_allowed_and_gets_the_restricted_socket(gate):
    gate.reload(settings(images=["docker:cli"]))
    try:
        p = run(gate, "run", "--name", "sg-allowed", "-v", sock_mount(gate), "docker:cli",
                "docker", "version", "--format", "{{.Server.Version}}", check=True)
        assert out(p), err(p)
        # The container got the restricted socket, pinned to the verified digest.
        info = json.loads(out(engine_cli("inspect", "sg-allowed")))[0]
        assert info["HostConfig"]["Binds"] == ["%s:/var/run/docker.sock" % gate.res]
        assert "@sha256:" in info["Config"]["Image"]
        d = gate.decisions()
        assert any(x["verdict"] == "allowed, rewritten" for x in d)
    finally:
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_retagged_image_is_denied(gate):
    gate.reload(settings(images=["docker:cli"]))
    try:
        engine_cli("rmi", "-f", "docker:cli")
        engine_cli("tag", "bb", "docker:cli")
        p = run(gate, "run", "--rm", "-v", sock_mount(gate), "docker:cli", "true")
        assert p.returncode != 0
        assert PREFIX + '"docker.io/library/docker"; ' in err(p), err(p)
        assert "not the registry's content" in err(p) and "docker image rm" in err(p)
    finally:
        engine_cli("rmi", "-f", "docker:cli", check=False)
        engine_cli("pull", "docker:cli")  # the real one, with its RepoDigest
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_tag_moved_upstream_denied_until_pulled_again(gate):
    push_image("sgmoved:v1", "first")
    engine_cli("pull", "sgmoved:v1")
    gate.reload(settings(images=["sgmoved:v1"]))
    try:
        run(gate, "run", "--rm", "-v", sock_mount(gate), "sgmoved:v1", "true", check=True)
        push_image("sgmoved:v1", "second")  # the registry now serves other content
        p = run(gate, "run", "--rm", "-v", sock_mount(gate), "sgmoved:v1", "true")
        assert p.returncode != 0 and "docker image rm" in err(p), err(p)
        engine_cli("pull", "sgmoved:v1")
        run(gate, "run", "--rm", "-v", sock_mount(gate), "sgmoved:v1", "true", check=True)
    finally:
        engine_cli("rmi", "-f", "sgmoved:v1", check=False)
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_wildcard_and_digest_entries(gate):
    digest = json.loads(out(engine_cli("inspect", "docker:cli")))[0]["RepoDigests"][0].split("@")[1]
    for entry in ("docker:*", "docker.io/library/docker@" + digest):
        gate.reload(settings(images=[entry]))
        run(gate, "run", "--rm", "-v", sock_mount(gate), "docker:cli", "true", check=True)
    gate.reload(settings(images=["docker@sha256:" + "0" * 64]))
    p = run(gate, "run", "--rm", "-v", sock_mount(gate), "docker:cli", "true")
    assert p.returncode != 0 and PREFIX in err(p)
    gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_everyone_allows_a_local_only_image(gate):
    p = run(gate, "run", "--rm", "-v", sock_mount(gate), "bb", "true")
    assert p.returncode != 0 and PREFIX + '"docker.io/library/bb"' in err(p), err(p)
    gate.reload(settings(images=["*"]))
    try:
        run(gate, "run", "--rm", "-v", sock_mount(gate), "bb", "true", check=True)
    finally:
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


# Built on docker:cli, and (issue 17) only relabelled: LABEL and ENV change no
# layer, so the same file system under another image ID is derived too.
DERIVED = {
    "built": ("RUN echo derived > /derived\n", ["cat", "/derived"]),
    "relabelled": ("LABEL sockgate.test=derived\nENV SG_DERIVED=1\n", ["true"]),
}


@pytest.mark.parametrize("kind", sorted(DERIVED))
def test_derived_images(gate, scratch, kind):
    step, cmd = DERIVED[kind]
    tag = "sgderived:" + kind
    with open(os.path.join(scratch, "Dockerfile"), "w") as f:
        f.write("FROM docker:cli\n" + step)
    engine_cli("build", "-q", "-t", tag, scratch, env={"DOCKER_BUILDKIT": "0"}, timeout=300)
    try:
        gate.reload(settings(images=["docker:cli"]))
        run(gate, "run", "--rm", "-v", sock_mount(gate), tag, *cmd, check=True)
        assert any("allowDerivedImages" in d.get("rule", "") for d in gate.decisions()[-3:]), \
            gate.decisions()[-3:]
        gate.reload(settings(images=["docker:cli"], derived=False))
        p = run(gate, "run", "--rm", "-v", sock_mount(gate), tag, "true")
        assert p.returncode != 0 and "not in the allowed list" in err(p), err(p)
    finally:
        engine_cli("rmi", "-f", tag, check=False)
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_derived_from_a_base_with_several_repo_digests(gate, scratch):
    # Issue 17: a base pushed to a second repository (a mirror, CI's own
    # registry) has two RepoDigests; the one that sorts first is not the
    # listed one. Every RepoDigest is tried.
    mirror = "%s/aaa-mirror/docker:cli" % ENV["REGISTRY_ADDR"]
    engine_cli("tag", "docker:cli", mirror)
    engine_cli("push", mirror)
    digests = json.loads(out(engine_cli("image", "inspect", "--format",
                                        "{{json .RepoDigests}}", "docker:cli")))
    assert len(digests) >= 2 and digests[0].startswith(ENV["REGISTRY_ADDR"]), digests
    with open(os.path.join(scratch, "Dockerfile"), "w") as f:
        f.write("FROM docker:cli\nRUN echo derived > /derived\n")
    engine_cli("build", "-q", "-t", "sgderived:mirrored", scratch,
               env={"DOCKER_BUILDKIT": "0"}, timeout=300)
    try:
        gate.reload(settings(images=["docker:cli"]))
        run(gate, "run", "--rm", "-v", sock_mount(gate), "sgderived:mirrored", "cat",
            "/derived", check=True)
        assert any("allowDerivedImages" in d.get("rule", "") for d in gate.decisions()[-3:]), \
            gate.decisions()[-3:]
    finally:
        engine_cli("rmi", "-f", "sgderived:mirrored", check=False)
        engine_cli("rmi", mirror, check=False)
        for d in digests:
            if d.startswith(ENV["REGISTRY_ADDR"] + "/aaa-mirror/"):
                engine_cli("rmi", d, check=False)
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_repository_wildcard_entry(gate):
    # Issue 17: "library/*:*" (a star as the last path component) covers
    # docker.io/library/docker, still proven by the registry's digests.
    gate.reload(settings(images=["library/*:*"]))
    try:
        run(gate, "run", "--rm", "-v", sock_mount(gate), "docker:cli", "true", check=True)
        assert any(d.get("rule", "").startswith("imageList: library/*:*")
                   for d in gate.decisions()[-3:]), gate.decisions()[-3:]
        engine_cli("tag", "bb", "docker.io/library/sgnotpulled:1")
        try:
            p = run(gate, "run", "--rm", "-v", sock_mount(gate), "sgnotpulled:1", "true")
            assert p.returncode != 0 and PREFIX in err(p), err(p)
        finally:
            engine_cli("rmi", "docker.io/library/sgnotpulled:1", check=False)
    finally:
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_missing_image_gets_dockers_404_so_the_cli_pulls(gate):
    gate.reload(settings(images=["sgpull:v1"]))
    push_image("sgpull:v1", "pull me")
    try:
        p = run(gate, "run", "--rm", "-v", sock_mount(gate), "sgpull:v1", "true", check=True)
        assert "Unable to find image" in err(p)
    finally:
        engine_cli("rmi", "-f", "sgpull:v1", check=False)
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_container_created_before_the_policy_cannot_start(gate):
    cid = out(engine_cli("create", "-v", "%s:/s.sock" % gate.pub, "docker:cli", "true"))
    status, body = api(gate.pub, "POST", "/v1.41/containers/%s/start" % cid)
    assert status == 403 and NOT_LISTED == body["message"], body
    gate.reload(settings(images=["docker:cli"]))
    try:
        status, body = api(gate.pub, "POST", "/v1.41/containers/%s/start" % cid)
        assert status == 403 and "remove it and create it again" in body["message"], body
    finally:
        engine_cli("rm", cid)
        gate.reload(settings(images=["docker.io/localstack/localstack:*"]))


def test_value_false_turns_the_policy_off():
    g = Gate("off", settings(images=[], value=False))
    try:
        run(g, "run", "--rm", "-v", sock_mount(g), "bb", "true", check=True)
    finally:
        g.stop()


def test_value_true_without_socket_mount_denies_everyone():
    g = Gate("nobody", settings(socket_mount=False))
    try:
        p = run(g, "run", "--rm", "-v", sock_mount(g), "docker:cli", "true")
        assert NOT_LISTED in err(p), err(p)
    finally:
        g.stop()


# ---- every way to expose the socket (denied for an image not listed) --------------

def shapes(gate, links):
    pub, run_dir = gate.pub, os.path.dirname(gate.pub)
    sym, hard, vol = links["sym"], links["hard"], links["volume"]
    dup = '{"Image":"bb","HostConfig":{"Binds":["/tmp:/t"]},"hostconfig":{"Binds":["%s:/s"]}}' % pub
    return [
        ("binds", {"Image": "bb", "HostConfig": {"Binds": ["%s:/s" % pub]}}),
        ("binds ro", {"Image": "bb", "HostConfig": {"Binds": ["%s:/s:ro" % pub]}}),
        ("binds double slash", {"Image": "bb", "HostConfig": {"Binds": ["/%s:/s" % pub.replace("/", "//")]}}),
        ("binds dot", {"Image": "bb", "HostConfig": {"Binds": ["%s/./p.sock:/s" % run_dir]}}),
        ("binds dotdot", {"Image": "bb", "HostConfig": {"Binds": ["%s/../%s/p.sock:/s" % (
            run_dir, os.path.basename(run_dir))]}}),
        ("binds symlink", {"Image": "bb", "HostConfig": {"Binds": ["%s:/s" % sym]}}),
        ("binds hard link", {"Image": "bb", "HostConfig": {"Binds": ["%s:/s" % hard]}}),
        ("binds parent", {"Image": "bb", "HostConfig": {"Binds": ["%s:/r" % run_dir]}}),
        ("binds grandparent", {"Image": "bb", "HostConfig": {"Binds": [
            "%s:/r" % os.path.dirname(run_dir)]}}),
        ("binds root", {"Image": "bb", "HostConfig": {"Binds": ["/:/host"]}}),
        # Issue 17: longer than PATH_MAX until dockerd cleans it
        ("binds long unclean", {"Image": "bb", "HostConfig": {"Binds": [
            "/" + "./" * 2100 + pub[1:] + ":/s"]}}),
        ("binds engine socket", {"Image": "bb", "HostConfig": {"Binds": ["%s:/s" % ENV["ENGINE_SOCK"]]}}),
        ("binds restricted socket", {"Image": "bb", "HostConfig": {"Binds": ["%s:/s" % gate.res]}}),
        ("mounts bind", {"Image": "bb", "HostConfig": {"Mounts": [
            {"Type": "bind", "Source": pub, "Target": "/s"}]}}),
        ("mounts bind dir", {"Image": "bb", "HostConfig": {"Mounts": [
            {"Type": "bind", "Source": run_dir, "Target": "/r"}]}}),
        ("mounts inline local volume", {"Image": "bb", "HostConfig": {"Mounts": [
            {"Type": "volume", "Source": "sginline", "Target": "/r", "VolumeOptions": {
                "DriverConfig": {"Name": "local", "Options": {
                    "type": "none", "o": "bind", "device": run_dir}}}}]}}),
        # Issue 17: a bind flag in o binds the device whatever the type says
        ("mounts inline tmpfs bind", {"Image": "bb", "HostConfig": {"Mounts": [
            {"Type": "volume", "Target": "/r", "VolumeOptions": {
                "DriverConfig": {"Name": "local", "Options": {
                    "type": "tmpfs", "o": "bind", "device": run_dir}}}}]}}),
        ("mounts inline ext4 rbind ro", {"Image": "bb", "HostConfig": {"Mounts": [
            {"Type": "volume", "Target": "/r", "VolumeOptions": {
                "DriverConfig": {"Options": {
                    "type": "ext4", "o": "rbind,ro", "device": run_dir}}}}]}}),
        ("named tmpfs-bind volume created earlier", {"Image": "bb", "HostConfig": {
            "Binds": ["%s:/r" % links["tmpfs_volume"]]}}),
        ("named volume created earlier", {"Image": "bb", "HostConfig": {"Binds": ["%s:/r" % vol]}}),
        ("named volume in mounts", {"Image": "bb", "HostConfig": {"Mounts": [
            {"Type": "volume", "Source": vol, "Target": "/r"}]}}),
        ("volumes from", {"Image": "bb", "HostConfig": {"VolumesFrom": [links["holder"]]}}),
        ("case folded keys", b'{"image":"bb","HOSTCONFIG":{"binds":["%s:/s"]}}' % pub.encode()),
        ("long s folding", ('{"Image":"bb","Ho\u017ftConfig":{"Binds":["%s:/s"]}}' % pub).encode()),
        ("unicode escapes", ('{"Image":"bb","HostConfig":{"\\u0042inds":["%s:/s"]}}' %
                             pub.replace("/", "\\u002f")).encode()),
        ("duplicate keys", dup.encode()),
    ]


@pytest.fixture(scope="module")
def links(gate):
    d = os.path.join(ENV["TESTBED_DIR"], "g-links")
    os.makedirs(d, exist_ok=True)
    sym, hard = os.path.join(d, "sym.sock"), os.path.join(d, "hard.sock")
    for p in (sym, hard):
        if os.path.lexists(p):
            os.unlink(p)
    os.symlink(gate.pub, sym)
    os.link(gate.pub, hard)
    engine_cli("volume", "create", "--driver", "local", "--opt", "type=none", "--opt", "o=bind",
               "--opt", "device=%s" % os.path.dirname(gate.pub), "sgrunvol")
    engine_cli("volume", "create", "--driver", "local", "--opt", "type=tmpfs", "--opt", "o=bind",
               "--opt", "device=%s" % os.path.dirname(gate.pub), "sgruntmpfsvol")
    holder = out(engine_cli("create", "-v", "%s:/s" % gate.pub, "bb", "true"))
    yield {"sym": sym, "hard": hard, "volume": "sgrunvol", "holder": holder,
           "tmpfs_volume": "sgruntmpfsvol"}
    engine_cli("rm", "-f", holder, check=False)
    engine_cli("volume", "rm", "sgrunvol", check=False)
    engine_cli("volume", "rm", "sgruntmpfsvol", check=False)


PATHS = ["/v1.41/containers/create", "/containers/create", "/v1.41./containers/create",
         "/v1.40/containers/create"]


def test_every_exposure_shape_is_denied(gate, links):
    before = out(engine_cli("ps", "-aq"))
    results = []
    cases = shapes(gate, links)
    for i, (name, body) in enumerate(cases):
        for chunked in (False, True):
            path = PATHS[i % len(PATHS)]
            status, resp = api(gate.pub, "POST", path, body, chunked=chunked)
            msg = resp.get("message", "") if isinstance(resp, dict) else str(resp)
            results.append((name, chunked, path, status, msg))
    # A body with two keys that fold alike is refused before any rule reads
    # it (400): dockerd would merge them, which sockgate does not model.
    bad = [r for r in results
           if not (r[3] == 403 and r[4].startswith(PREFIX)) and
           not (r[0] == "duplicate keys" and r[3] == 400 and "ambiguous" in r[4])]
    assert not bad, "\n".join(map(str, bad))
    assert len(results) >= 25
    assert out(engine_cli("ps", "-aq")) == before  # dockerd created nothing


def test_harmless_mounts_still_work(gate, scratch):
    status, resp = api(gate.pub, "POST", "/v1.41/containers/create",
                       {"Image": "bb", "Cmd": ["true"], "HostConfig": {"Binds": ["%s:/data" % scratch]}})
    assert status == 201, resp
    engine_cli("rm", resp["Id"])


def test_ambiguous_body_names_the_keys(gate):
    status, resp = api(gate.pub, "POST", "/v1.41/containers/create",
                       b'{"Image":"bb","HostConfig":{"Binds":[],"binds":["/run:/r"]}}')
    assert status == 400 and "ambiguous request body" in resp["message"], resp
    assert '"binds"' in resp["message"] and '"Binds"' in resp["message"]


# ---- registry outages --------------------------------------------------------------

def test_registry_down_with_a_persisted_digest_is_allowed_and_without_denied():
    state = os.path.join(ENV["TESTBED_DIR"], "g-persist-state")
    pol = settings(images=["docker:cli"])
    g = Gate("persist-up", pol, state=state)  # learns the digest and persists it
    try:
        run(g, "run", "--rm", "-v", sock_mount(g), "docker:cli", "true", check=True)
    finally:
        g.stop()
    dead = "http://127.0.0.1:9"  # discard port: nobody listens
    g = Gate("persist-down", pol, state=state, endpoint=dead, extra=("--digest-ttl", "0"))
    try:
        run(g, "run", "--rm", "-v", sock_mount(g), "docker:cli", "true", check=True)
        assert "persisted digest" in g.decisions()[-2]["rule"] + g.decisions()[-1]["rule"]
    finally:
        g.stop()
    g = Gate("fresh-down", pol, endpoint=dead)
    try:
        p = run(g, "run", "--rm", "-v", sock_mount(g), "docker:cli", "true")
        assert p.returncode != 0 and PREFIX in err(p) and "registry" in err(p), err(p)
    finally:
        g.stop()


def test_hanging_registry_does_not_stall_other_clients():
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(16)  # accepts (by the kernel) and never answers
    port = lst.getsockname()[1]
    g = Gate("hang", settings(images=["docker:cli"]), endpoint="http://127.0.0.1:%d" % port)
    try:
        done = {}

        def slow():
            t = time.monotonic()
            done["p"] = run(g, "run", "--rm", "-v", sock_mount(g), "docker:cli", "true")
            done["t"] = time.monotonic() - t

        th = threading.Thread(target=slow)
        th.start()
        time.sleep(1.0)
        t = time.monotonic()
        for _ in range(20):
            run(g, "version", "--format", "{{.Server.Version}}", check=True)
        assert time.monotonic() - t < 15
        assert th.is_alive(), "the socket-mounting run should still be waiting"
        th.join(timeout=60)
        assert done["p"].returncode != 0 and PREFIX in err(done["p"])
    finally:
        g.stop()
        lst.close()
