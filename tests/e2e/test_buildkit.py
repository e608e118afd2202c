"""test_buildkit.py — BuildKit through sockgate (issue 18): `docker buildx build`
on the newest engine, whose builds go through the /grpc and /session tunnels.

Plain builds work through both sockets. For isolated callers (everyone on
the restricted socket, non-root users on the public one) a build that asks
for an entitlement (`--allow network.host` with `RUN --network=host`,
`security.insecure`) or the host network (`--network=host`) fails with the
ECI message and produces nothing, although this dockerd grants
network.host by default; root's builds are read by nobody and keep working.

The buildx plugin is the newest engine's (testbed/install-newest-engine),
found through a DOCKER_CONFIG of the test's own (cliPluginsExtraDirs). For
a build from inside a socket-mounting container, the same plugin is put in
an image derived from docker:cli, where Docker's own docker:cli has it."""

import json
import os
import pwd
import subprocess

import pytest

from conftest import ENV, cli_plugin_tar, derived_image, docker_cli, engine_cli, host_user, remove_host_user
from gate import Gate, settings

NEWEST = os.environ.get("SG_NEWEST_ROOT", "/opt/sockgate-testbed/docker-newest")
CLI = os.path.join(NEWEST, "bin", "docker")
PREFIX = "enhanced container isolation: "
USER = "sgbuild"
BUILDX_IMAGE = "sg-buildx-client"

pytestmark = pytest.mark.skipif(
    os.environ.get("E2E_ENGINE") != "newest" or not os.path.exists(CLI),
    reason="BuildKit through buildx: the newest engine's pass")


@pytest.fixture(scope="module")
def builder_user():
    """A non-root user in a group of its own that owns the gate's sockets."""
    yield host_user(USER)
    remove_host_user(USER)


@pytest.fixture(scope="module")
def gate(builder_user):
    g = Gate("bk", settings(images=["docker:cli"], derived=True), extra=("--socket-group", USER))
    os.chmod(g.dir, 0o711)
    yield g
    g.stop()


def docker_config(owner):
    """A DOCKER_CONFIG that finds the newest engine's buildx and compose."""
    d = os.path.join(ENV["TESTBED_DIR"], "bk-config-%d" % owner.pw_uid)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"cliPluginsExtraDirs": [os.path.join(NEWEST, "cli-plugins")]}, f)
    for root, dirs, files in os.walk(d):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, owner.pw_uid, owner.pw_gid)
    return d


def buildx(sock, ctx, *args, user=None):
    """`docker buildx build ARGS CTX` against sock, as root or as user."""
    owner = user or pwd.getpwuid(0)
    env = dict(os.environ, DOCKER_HOST="unix://" + sock, DOCKER_CONFIG=docker_config(owner),
               HOME=owner.pw_dir, BUILDX_NO_DEFAULT_ATTESTATIONS="1",
               BUILDX_BUILDER="default")  # the engine's BuildKit, never a pulled builder
    env.pop("DOCKER_CONTEXT", None)
    env.pop("DOCKER_BUILDKIT", None)
    cmd = [CLI, "buildx", "build", "--progress=plain", *args, ctx]
    if user:
        cmd = ["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid,
               "--groups=%d" % user.pw_gid] + cmd
    p = subprocess.run(cmd, capture_output=True, timeout=300, env=env)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def context(scratch, dockerfile, owner=None):
    with open(os.path.join(scratch, "Dockerfile"), "w") as f:
        f.write(dockerfile)
    with open(os.path.join(scratch, "hello"), "w") as f:
        f.write("from the context\n")
    if owner:
        for n in (scratch, os.path.join(scratch, "Dockerfile"), os.path.join(scratch, "hello")):
            os.chown(n, owner.pw_uid, owner.pw_gid)
    return scratch


def image_exists(tag):
    return engine_cli("image", "inspect", tag, check=False).returncode == 0


def callers(gate, user):
    """(name, socket, user): the isolated callers."""
    return [("restricted", gate.res, None), ("public user", gate.pub, user)]


PLAIN = "FROM bb\nARG GREETING=hi\nCOPY hello /hello\nRUN cat /hello && echo $GREETING\n"

# Multi-stage, a secret mounted for one step (it travels over /session), the
# result exported to the client's disk (over /session too).
# (WHO keeps each caller's build out of the others' cache: a secret is not
# part of a step's cache key.)
STAGED = ("FROM bb AS first\nCOPY hello /hello\nARG WHO\n"
          "RUN --mount=type=secret,id=token echo $WHO >/who; cat /run/secrets/token > /seen\n"
          "FROM bb\nCOPY --from=first /seen /hello /out/\n")


def test_plain_build_works_on_both_sockets(gate, builder_user, scratch):
    os.chmod(scratch, 0o755)
    for name, sock, user in callers(gate, builder_user) + [("root", gate.pub, None)]:
        tag = "sgbk-plain-%s:1" % name.replace(" ", "-")
        ctx = context(scratch, PLAIN, user)
        rc, text = buildx(sock, ctx, "--build-arg", "GREETING=built", "-t", tag, user=user)
        try:
            assert rc == 0, "%s: %s" % (name, text[-3000:])
            assert "built" in text
            assert image_exists(tag), name
        finally:
            engine_cli("rmi", "-f", tag, check=False)


def test_secrets_stages_and_local_output(gate, builder_user, scratch):
    os.chmod(scratch, 0o755)
    for name, sock, user in callers(gate, builder_user) + [("root", gate.pub, None)]:
        ctx = context(scratch, STAGED, user)
        secret = os.path.join(scratch, "token.txt")
        dest = os.path.join(scratch, "out-" + name.replace(" ", "-"))
        with open(secret, "w") as f:
            f.write("s3cret-%s\n" % name)
        if user:
            os.chown(secret, user.pw_uid, user.pw_gid)
        rc, text = buildx(sock, ctx, "--secret", "id=token,src=" + secret,
                          "--build-arg", "WHO=" + name,
                          "--output", "type=local,dest=" + dest, user=user)
        assert rc == 0, "%s: %s" % (name, text[-3000:])
        with open(os.path.join(dest, "out", "seen")) as f:
            assert f.read() == "s3cret-%s\n" % name
        with open(os.path.join(dest, "out", "hello")) as f:
            assert f.read() == "from the context\n"


# (buildx options, Dockerfile): each asks BuildKit for more than a sandbox.
ESCAPES = [
    (["--allow", "network.host"], "FROM bb\nRUN --network=host true\n", "network.host"),
    (["--network", "host"], "FROM bb\nRUN true\n", ""),
    (["--allow", "security.insecure"], "FROM bb\nRUN --security=insecure true\n",
     "security.insecure"),
    # buildx sends this in the frontend gateway's Solve (FrontendOpt)
    (["--cgroup-parent", "/sg-escape"], "FROM bb\nRUN true\n", "cgroup parent"),
]


@pytest.mark.parametrize("opts,dockerfile,named", ESCAPES, ids=["allow-network-host",
                                                                 "network-host", "insecure",
                                                                 "cgroup-parent"])
def test_escaping_build_refused_for_isolated_callers(gate, builder_user, scratch, opts,
                                                     dockerfile, named):
    os.chmod(scratch, 0o755)
    before = len(gate.decisions())
    for name, sock, user in callers(gate, builder_user):
        tag = "sgbk-escape:1"
        ctx = context(scratch, dockerfile, user)
        rc, text = buildx(sock, ctx, *opts, "-t", tag, user=user)
        assert rc != 0, "%s: built:\n%s" % (name, text[-3000:])
        assert PREFIX in text and named in text, "%s:\n%s" % (name, text[-3000:])
        assert not image_exists(tag), name
    refused = [d for d in gate.decisions()[before:] if d["rule"] == "isolation: build"]
    assert {d["socket"] for d in refused} == {"restricted", "public"}, refused


def test_roots_builds_are_not_read(gate, scratch):
    # dockerd grants network.host by default: root may use it.
    tag = "sgbk-root-host:1"
    ctx = context(scratch, "FROM bb\nRUN --network=host true\n")
    rc, text = buildx(gate.pub, ctx, "--allow", "network.host", "-t", tag)
    try:
        assert rc == 0, text[-3000:]
        assert image_exists(tag)
    finally:
        engine_cli("rmi", "-f", tag, check=False)


@pytest.fixture(scope="module")
def buildx_image():
    """docker:cli with the buildx plugin: derived from an allowed image, made
    on the engine directly (set-up, not under test)."""
    plugin = os.path.join(NEWEST, "cli-plugins", "docker-buildx")
    yield derived_image(BUILDX_IMAGE, cli_plugin_tar(plugin, "docker-buildx"))
    engine_cli("rmi", "-f", BUILDX_IMAGE, check=False)


# Run in the socket-mounting container: a multi-stage build with a secret, a
# build argument, COPY and a local output, then a build that asks for the
# host's network. Each step's outcome is printed on a line of its own.
IN_CONTAINER = r"""
set -u
export BUILDX_BUILDER=default BUILDX_NO_DEFAULT_ATTESTATIONS=1
mkdir -p /tmp/ctx /tmp/host
printf 'from the context\n' >/tmp/ctx/hello
printf 's3cret-inside\n' >/tmp/token
printf '%s' "$STAGED" >/tmp/ctx/Dockerfile
if docker buildx build --progress=plain --secret id=token,src=/tmp/token \
        --build-arg WHO=inside --output type=local,dest=/tmp/out /tmp/ctx >/tmp/log 2>&1; then
    echo "staged: ok $(cat /tmp/out/out/seen) $(cat /tmp/out/out/hello)"
else
    echo "staged: failed"; tail -20 /tmp/log
fi
printf 'FROM bb\nRUN --network=host true\n' >/tmp/host/Dockerfile
if docker buildx build --progress=plain --allow network.host -t sgbk-inside-host:1 \
        /tmp/host >/tmp/log 2>&1; then
    echo "host network: built"
else
    echo "host network: refused: $(grep -o 'enhanced container isolation: [^"]*' /tmp/log | head -1)"
fi
"""


def test_buildx_inside_a_socket_mounting_container(gate, buildx_image):
    before = len(gate.decisions())
    p = docker_cli("run", "--rm", "-v", gate.pub + ":/var/run/docker.sock", "-e",
                   "STAGED=" + STAGED, buildx_image, "sh", "-c", IN_CONTAINER,
                   sock=gate.pub, check=False, timeout=300)
    text = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    try:
        assert p.returncode == 0, text[-3000:]
        assert "staged: ok s3cret-inside from the context" in text, text[-3000:]
        assert "host network: refused: " + PREFIX in text, text[-3000:]
        assert not image_exists("sgbk-inside-host:1")
        decisions = gate.decisions()[before:]
        assert [d for d in decisions if d["verdict"] == "allowed, rewritten"
                and d["image"] == "docker.io/library/" + BUILDX_IMAGE], gate.text()[-2000:]
        refused = [d for d in decisions if d["rule"] == "isolation: build"]
        assert refused and {d["socket"] for d in refused} == {"restricted"}, refused
    finally:
        engine_cli("rmi", "-f", "sgbk-inside-host:1", check=False)
