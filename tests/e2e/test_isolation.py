"""Enhanced container isolation for every container sockgate lets through
(issue 9, docs/DESIGN.md section 7), against the real engine.

Two isolated callers drive the same refusals with the real docker CLI:
  * a container allowed to mount the socket (docker:cli), whose docker CLI
    talks to the restricted socket sockgate gave it;
  * a non-root member of the public socket's group, on the host.
Every refused shape must leave the engine as it was (checked through the
engine's own socket), carry the message of its rule family, and be logged
as one decision line. Legitimate work keeps working for both, and root on
the public socket is not affected.

The same module runs a second time against a dockerd with
--userns-remap=default (tests/e2e/run), the recommended deployment."""

import json
import os
import grp
import shutil
import subprocess
import time

import pytest

from conftest import (ENV, DOCKER_BIN, Reader, connect, engine_cli, docker_cli, host_user, out,
                      remove_host_user)
from gate import Gate, settings

PREFIX = "enhanced container isolation: "
USER = "sgiso"
USERNS = os.environ.get("TESTBED_USERNS") == "1"

pytestmark = pytest.mark.userns


# ---- the callers ------------------------------------------------------------------

@pytest.fixture(scope="module")
def iso_user():
    """A non-root user whose home is on the test bed, in a group of its own
    that owns the gate's sockets."""
    pw = host_user(USER, ("data", ".docker"))
    yield pw
    remove_host_user(USER)
    shutil.rmtree(pw.pw_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_dir():
    """A directory the policy shares with everyone (filesharingAllowedDirectories)."""
    d = os.path.join(ENV["TESTBED_DIR"], "shared")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "hello"), "w") as f:
        f.write("shared\n")
    os.chmod(d, 0o755)
    return d


def policy(shared, **extra):
    p = settings(images=["docker:cli"])
    p["filesharingAllowedDirectories"] = [{"path": "$HOME", "sharedByDefault": True},
                                          {"path": shared, "sharedByDefault": False}]
    p.update(extra)
    return p


@pytest.fixture(scope="module")
def gate(iso_user, shared_dir):
    g = Gate("iso", policy(shared_dir), extra=("--socket-group", USER))
    os.chmod(g.dir, 0o711)
    yield g
    g.stop()


@pytest.fixture(scope="module")
def box(gate):
    """A docker:cli container allowed to mount the socket: it gets the
    restricted one, and its docker CLI is the restricted caller."""
    name = "sg-iso-box"
    engine_cli("rm", "-f", name, check=False)
    docker_cli("run", "-d", "--name", name, "-v", "%s:/var/run/docker.sock" % gate.pub,
               "docker:cli", "sleep", "3600", sock=gate.pub)
    info = json.loads(out(engine_cli("inspect", name)))[0]
    assert info["HostConfig"]["Binds"] == ["%s:/var/run/docker.sock" % gate.res]
    yield name
    engine_cli("rm", "-f", name, check=False)


@pytest.fixture(scope="module")
def targets(gate):
    """Containers, a volume and a network root made directly on the engine:
    what an isolated caller must not reach through them."""
    names = {"priv": "sg-iso-priv", "holder": "sg-iso-holder", "stopped": "sg-iso-stopped",
             "plain": "sg-iso-plain"}
    engine_cli("rm", "-f", *names.values(), check=False)
    # Not isolated, as far as this machine lets a container be: privileged
    # containers cannot start here (the sandbox withholds capabilities).
    engine_cli("run", "-d", "--name", names["priv"], "--cap-add", "SYS_ADMIN", "--pid=host",
               "--userns=host", "bb", "sleep", "3600")
    engine_cli("run", "-d", "--name", names["holder"], "-v", "/etc:/hostetc:ro", "bb",
               "sleep", "3600")
    engine_cli("create", "--name", names["stopped"], "--privileged", "--userns=host", "bb",
               "true")
    engine_cli("run", "-d", "--name", names["plain"], "bb", "sleep", "3600")
    engine_cli("volume", "rm", "sg-iso-etcvol", check=False)
    engine_cli("volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt",
               "device=/etc", "sg-iso-etcvol")
    # made straight on dockerd's socket: a tmpfs by its type, a bind by its o
    engine_cli("volume", "rm", "sg-iso-tmpfsbind", check=False)
    engine_cli("volume", "create", "--opt", "type=tmpfs", "--opt", "o=bind", "--opt",
               "device=/etc", "sg-iso-tmpfsbind")
    yield names
    engine_cli("rm", "-f", *names.values(), check=False)
    engine_cli("volume", "rm", "sg-iso-etcvol", check=False)
    engine_cli("volume", "rm", "sg-iso-tmpfsbind", check=False)


class Caller:
    """Runs the docker CLI as one isolated caller."""

    def __init__(self, kind, gate, box=None, user=None):
        self.kind, self.gate, self.box, self.user = kind, gate, box, user

    def docker(self, *args, check=False, timeout=120, input=None):
        if self.kind == "restricted":
            # the legacy builder: BuildKit's requests are not what is tested here
            cmd = [DOCKER_BIN, "-H", "unix://" + ENV["ENGINE_SOCK"], "exec", "-i",
                   "-e", "DOCKER_BUILDKIT=0", self.box, "docker", *args]
            env = dict(os.environ)
        else:
            pw = self.user
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                   "--groups=%d" % pw.pw_gid, DOCKER_BIN, *args]
            env = dict(os.environ, HOME=pw.pw_dir, DOCKER_HOST="unix://" + self.gate.pub,
                       DOCKER_CONFIG=os.path.join(pw.pw_dir, ".docker"), DOCKER_BUILDKIT="0")
            env.pop("DOCKER_CONTEXT", None)
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, input=input)
        if check and p.returncode != 0:
            raise AssertionError("%s: docker %s failed:\n%s" % (
                self.kind, " ".join(args), (p.stdout + p.stderr).decode(errors="replace")))
        return p

    def curl(self, method, path, body=None, ctype="application/json"):
        """One raw request; returns (status, message)."""
        sock = self.gate.res if self.kind == "restricted" else self.gate.pub
        cmd = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", sock,
               "-X", method, "-H", "Content-Type: " + ctype]
        if body is not None:
            cmd += ["--data-binary", "@-"]
        cmd.append("http://docker" + path)
        if self.kind == "public":
            pw = self.user
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                   "--groups=%d" % pw.pw_gid] + cmd
        data = None if body is None else (body if isinstance(body, bytes) else
                                          json.dumps(body).encode())
        p = subprocess.run(cmd, capture_output=True, input=data, timeout=60)
        text = p.stdout.decode(errors="replace")
        resp, _, code = text.rpartition("\n")
        try:
            msg = json.loads(resp).get("message", resp)
        except ValueError:
            msg = resp
        return int(code or 0), msg

    def home(self):
        return self.user.pw_dir if self.kind == "public" else None


@pytest.fixture(scope="module", params=["restricted", "public"])
def caller(request, gate, iso_user):
    if request.param == "restricted":
        return Caller("restricted", gate, box=request.getfixturevalue("box"))
    return Caller("public", gate, user=iso_user)


# ---- the engine did nothing ----------------------------------------------------------

def engine_state():
    """What a refused request must not change."""
    return {
        "containers": out(engine_cli("ps", "-a", "--no-trunc", "--format",
                                     "{{.ID}} {{.State}} {{.Image}}")),
        "volumes": out(engine_cli("volume", "ls", "-q")),
        "networks": out(engine_cli("network", "ls", "-q")),
        # as a set: dockerd orders images by creation time in whole seconds,
        # and images made within the same second come back in any order
        "images": sorted(out(engine_cli("images", "-q", "--no-trunc")).split()),
    }


def refused(caller, args, family, *, input=None):
    """docker ARGS is refused with a message of the rule family, the engine
    is unchanged, and one more decision line says so."""
    before, n = engine_state(), len(caller.gate.decisions())
    p = caller.docker(*args, input=input)
    text = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode != 0, "%s: docker %s succeeded:\n%s" % (caller.kind, args, text)
    assert PREFIX in text and family in text, "%s: docker %s:\n%s" % (caller.kind, args, text)
    assert engine_state() == before, "%s: docker %s changed the engine" % (caller.kind, args)
    denials = [d for d in caller.gate.decisions()[n:] if d["verdict"] == "denied"]
    assert denials and denials[-1]["isolated"], denials
    assert denials[-1]["socket"] == caller.kind
    return text


RUN = ["run", "--rm"]

# (docker run options, text of the rule family in the message)
RUN_SHAPES = [
    (["--privileged"], "privileged containers are not allowed"),
    (["--pid=host"], "host's PID namespace"),
    (["--network=host"], "host's network namespace"),
    (["--ipc=host"], "host's IPC namespace"),
    (["--uts=host"], "host's UTS namespace"),
    (["--userns=host"], "host's user namespace"),
    (["--cgroupns=host"], "host's cgroup namespace"),
    (["--cap-add=SYS_ADMIN"], "capability \"CAP_SYS_ADMIN\""),
    (["--cap-add=CAP_SYS_ADMIN"], "capability \"CAP_SYS_ADMIN\""),
    (["--cap-add=cap_sys_module"], "capability"),
    (["--cap-add=ALL"], "capability \"ALL\""),
    (["--cap-add=NET_ADMIN"], "capability"),
    (["--device=/dev/mem"], "host devices are not allowed"),
    (["--device-cgroup-rule=c 1:1 rwm"], "host devices are not allowed"),
    (["--security-opt", "seccomp=unconfined"], "security option \"seccomp=unconfined\""),
    (["--security-opt", "apparmor=unconfined"], "security option \"apparmor=unconfined\""),
    (["--security-opt", "label=disable"], "security option \"label=disable\""),
    (["--security-opt", "label:disable"], "security option"),
    (["--security-opt", "label=type:spc_t"], "security option"),
    (["--security-opt", "systempaths=unconfined"], "masked and read-only system paths"),
    (["--cgroup-parent=/sockgate-test"], "cgroup parent"),
    (["--runtime=io.containerd.kata.v2"], "runtime"),
    (["-v", "/etc:/x"], "host path \"/etc\""),
    (["-v", "/:/host"], "host path \"/\""),
    (["-v", "/var/tmp/../../etc:/x"], "host path"),
    (["--mount", "type=bind,source=/etc,target=/x"], "host path \"/etc\""),
    (["--mount", "type=volume,source=sg-iso-inline,target=/x,volume-driver=local,"
      "volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc"], "host path \"/etc\""),
    (["-v", "sg-iso-etcvol:/x"], "host path \"/etc\""),
    (["--volumes-from", "sg-iso-holder"], "host path \"/etc\""),
    (["--mount", "type=volume,target=/x,volume-driver=local,volume-opt=type=none,"
      "volume-opt=o=bind,volume-opt=device=//etc"], "host path \"//etc\""),
    (["--mount", "type=volume,target=/x,volume-driver=local,volume-opt=type=none,"
      "volume-opt=o=bind,volume-opt=device=../../../../etc"], "host path"),
    (["--mount", "type=volume,target=/x,volume-driver=local,volume-opt=type=proc,"
      "volume-opt=device=proc"], "local volumes of type \"proc\""),
    # Issue 17: the kernel binds whenever o holds bind or rbind, whatever the type
    (["--mount", "type=volume,target=/x,volume-driver=local,volume-opt=type=tmpfs,"
      "volume-opt=o=bind,volume-opt=device=/etc"], "host path \"/etc\""),
    (["--mount", "type=volume,target=/x,volume-driver=local,volume-opt=type=ext4,"
      "\"volume-opt=o=bind,ro\",volume-opt=device=/etc"], "host path \"/etc\""),
    (["--mount", "type=volume,target=/x,volume-driver=local,volume-opt=type=xfs,"
      "volume-opt=o=rbind,volume-opt=device=/etc"], "host path \"/etc\""),
    (["-v", "sg-iso-tmpfsbind:/x"], "host path \"/etc\""),
    (["--network", "container:sg-iso-priv"], "joining the network namespace"),
    (["--pid", "container:sg-iso-priv"], "joining the PID namespace"),
    (["--ipc", "container:sg-iso-priv"], "joining the IPC namespace"),
    (["--link", "sg-iso-priv:p"], "linking to container \"sg-iso-priv\""),
]


@pytest.mark.parametrize("opts,family", RUN_SHAPES, ids=[" ".join(s[0])[:40] for s in RUN_SHAPES])
def test_run_shape_refused(caller, targets, opts, family):
    refused(caller, RUN + opts + ["bb", "true"], family)


def test_propagation_refused(caller, targets, shared_dir):
    refused(caller, RUN + ["-v", "%s:/x:rshared" % shared_dir, "bb", "true"],
            "bind propagation \"rshared\"")
    refused(caller, RUN + ["--mount", "type=bind,source=%s,target=/x,bind-propagation=shared" %
                           shared_dir, "bb", "true"], "bind propagation \"shared\"")


# What an isolated caller may not do to containers that are not isolated.
EXISTING_SHAPES = [
    (["exec", "sg-iso-priv", "true"], "exec into container \"sg-iso-priv\""),
    (["exec", "--privileged", "sg-iso-plain", "true"], "privileged exec is not allowed"),
    (["exec", "-u", "0", "--privileged", "sg-iso-plain", "id"], "privileged exec"),

    (["cp", "sg-iso-holder:/hostetc/hostname", "-"], "copy files from container"),
    (["start", "sg-iso-stopped"], "start container \"sg-iso-stopped\""),
    (["restart", "sg-iso-priv"], "restart container \"sg-iso-priv\""),
    (["commit", "sg-iso-priv", "sg-iso-commit"], "commit container \"sg-iso-priv\""),
]


@pytest.mark.parametrize("args,family", EXISTING_SHAPES, ids=[a[0][0] + " " + a[0][-1] for a in EXISTING_SHAPES])
def test_existing_container_refused(caller, targets, args, family):
    refused(caller, args, family)


@pytest.mark.parametrize("args", [["cp", "/etc/hostname", "sg-iso-priv:/tmp/"],
                                  ["attach", "--no-stdin", "sg-iso-priv"]], ids=["cp", "attach"])
def test_refused_where_the_cli_hides_the_message(caller, targets, args):
    # `docker cp` first asks for the path with HEAD, whose answer has no
    # body; `docker attach` only says the upgrade got a 403. The refusal is
    # in the log (and test_raw_request_refused checks the messages).
    before, n = engine_state(), len(caller.gate.decisions())
    p = caller.docker(*args)
    assert p.returncode != 0
    assert engine_state() == before
    d = caller.gate.decisions()[n:]
    assert d and d[-1]["verdict"] == "denied" and d[-1]["rule"] == "isolation: existing container"


ENGINE_SHAPES = [
    (["volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=/etc", "sg-iso-v1"],
     "host path \"/etc\""),
    (["volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=//root", "sg-iso-v2"],
     "host path \"//root\""),
    (["volume", "create", "-o", "type=sysfs", "-o", "device=sysfs", "sg-iso-v3"],
     "local volumes of type \"sysfs\""),
    (["volume", "create", "-o", "type=tmpfs", "-o", "o=bind", "-o", "device=/etc", "sg-iso-v4"],
     "host path \"/etc\""),
    (["volume", "create", "-o", "type=ext4", "-o", "o=rbind", "-o", "device=/etc", "sg-iso-v5"],
     "host path \"/etc\""),
    (["volume", "create", "-o", "type=nfs", "-o", "o=addr=127.0.0.1", "-o", "device=:/x",
      "sg-iso-v6"], "host's network"),
    # Issue 17: dockerd would fetch this from the host's network namespace
    # (the CLI fetches a build's URL context itself; /build?remote= is a raw
    # shape below, as the Python SDK sends it)
    (["import", "http://127.0.0.1:9/x.tar", "sg-iso-imported"], "sockgate.allowUrlFetches"),
    (["network", "create", "-d", "macvlan", "sg-iso-mac"], "\"macvlan\" driver"),
    (["network", "create", "-d", "ipvlan", "sg-iso-ipv"], "\"ipvlan\" driver"),
    (["network", "create", "-o", "com.docker.network.bridge.name=eth0", "sg-iso-br"],
     "com.docker.network.bridge.name"),
    (["network", "connect", "host", "sg-iso-plain"], "host network is not allowed"),
    (["swarm", "init", "--advertise-addr", "127.0.0.1"], "changing the swarm"),
    (["swarm", "join", "--token", "x", "127.0.0.1:2377"], "changing the swarm"),
]


@pytest.mark.parametrize("args,family", ENGINE_SHAPES, ids=[" ".join(a[0][:3]) for a in ENGINE_SHAPES])
def test_engine_wide_refused(caller, targets, args, family):
    refused(caller, args, family)


def test_build_in_host_network_refused(caller, targets):
    ctx = "FROM bb\nRUN true\n"
    p = caller.docker("build", "--network", "host", "-q", "-", input=ctx.encode())
    # the legacy builder sends networkmode in the query of /build
    text = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode != 0 and "networkmode=host" in text, text


# Raw requests: what the CLI never sends, but a client may.
RAW_SHAPES = [
    ("POST", "/v1.41/containers/create", {"Image": "bb", "Binds": ["/etc:/x"]}, 400,
     "host configuration outside HostConfig"),
    ("POST", "/v1.24/containers/create", {"Image": "bb", "HostConfig": None,
                                           "Privileged": True}, 400, "outside HostConfig"),
    ("POST", "/v1.41/containers/create", {"Image": "bb", "HostConfig": {
        "Binds": ["/run/docker.sock\u0000:/x"]}}, 400, "NUL"),
    ("POST", "/v1.41/containers/sg-iso-plain/exec", {"Cmd": ["id"], "Privileged": True}, 403,
     "privileged exec"),
    ("POST", "/v1.41/containers/sg-iso-plain/update", {"Devices": [
        {"PathOnHost": "/dev/mem", "PathInContainer": "/dev/mem", "CgroupPermissions": "rwm"}]},
     403, "host devices"),
    ("POST", "/v1.41/services/create", {"Name": "x", "TaskTemplate": {"ContainerSpec": {
        "Image": "bb", "Privileges": {"Seccomp": {"Mode": "unconfined"}}}}}, 403,
     "seccomp=unconfined"),
    ("POST", "/v1.41/services/create", {"Name": "x", "TaskTemplate": {
        "ContainerSpec": {"Image": "bb"}, "Networks": [{"Target": "host"}]}}, 403,
     "host network"),
    ("POST", "/v1.23/containers/sg-iso-holder/copy", {"Resource": "/hostetc/shadow"}, 403,
     "does not know the route"),
    ("POST", "/v1.41/containers/create", {"Image": "bb", "HostConfig": {
        "Annotations": {"a": "b"}}}, 403, "annotations"),
    ("POST", "/v1.41/containers/create", {"Image": "bb", "HostConfig": {
        "Sysctls": {"kernel.core_pattern": "|/x"}}}, 403, "sysctl \"kernel.core_pattern\""),
    ("PUT", "/v1.41/containers/sg-iso-priv/archive?path=/tmp", b"not a tar", 403,
     "copy files into container \"sg-iso-priv\""),
    ("POST", "/v1.41/plugins/pull?remote=sg/none", [], 403, "plugins"),
    ("POST", "/v1.41/containers/sg-iso-priv/attach?stream=1&stdout=1", None, 403,
     "attach to container \"sg-iso-priv\""),
    ("POST", "/v1.41/plugins/create?name=sg-none", b"", 403, "plugins"),
    # Issue 17: a malformed query is refused where it is read, never taken as absent
    ("POST", "/v1.41/commit?container=sg-iso-priv&x=%00", None, 400, "malformed query"),
    ("POST", "/v1.41/commit?" + "k" * 300 + "=1&container=sg-iso-priv", None, 403,
     "commit container \"sg-iso-priv\""),
    ("POST", "/v1.41/build?cgroupparent=" + "c" * 600, b"", 403, "cgroup parent"),
    ("POST", "/v1.41/images/create?fromSrc=http%3A%2F%2F127.0.0.1%3A9%2Fx.tar&repo=sg-x", b"",
     403, "allowUrlFetches"),
    ("POST", "/v1.41/build?remote=http%3A%2F%2F127.0.0.1%3A9%2FDockerfile", b"", 403,
     "allowUrlFetches"),
    ("POST", "/v1.41/volumes/create", {"Name": "sg-iso-raw", "DriverOpts": {
        "type": "tmpfs", "o": "bind,ro", "device": "/etc"}}, 403, "host path \"/etc\""),
]


@pytest.mark.parametrize("method,path,body,status,family", RAW_SHAPES,
                         ids=[r[1].split("/")[-1] + "-" + r[4][:20] for r in RAW_SHAPES])
def test_raw_request_refused(caller, targets, method, path, body, status, family):
    before = engine_state()
    st, msg = caller.curl(method, path, body)
    assert st == status and family in msg, (st, msg)
    assert engine_state() == before


def test_form_body_refused(caller, targets):
    st, msg = caller.curl("POST", "/v1.41/build?t=x", b"networkmode=host",
                          ctype="application/x-www-form-urlencoded")
    assert st == 400 and "form bodies" in msg, (st, msg)


def test_isolated_create_gets_a_private_cgroup_namespace(caller, targets):
    name = "sg-iso-cgns-" + caller.kind
    try:
        caller.docker("create", "--name", name, "bb", "true", check=True)
        info = json.loads(out(engine_cli("inspect", name)))[0]
        assert info["HostConfig"]["CgroupnsMode"] == "private"
    finally:
        engine_cli("rm", "-f", name, check=False)


# ---- what keeps working ------------------------------------------------------------------

def test_legitimate_work(caller, targets, shared_dir):
    tag = caller.kind
    vol, net, name = "sg-iso-vol-" + tag, "sg-iso-net-" + tag, "sg-iso-work-" + tag
    try:
        caller.docker("volume", "create", vol, check=True)
        caller.docker("network", "create", net, check=True)
        # host paths only with user namespaces (see test_host_paths_need_userns)
        shared = ["-v", "%s:/shared:ro" % shared_dir] if USERNS else []
        caller.docker("run", "-d", "--name", name, "--network", net, "-v", vol + ":/vol",
                      "--tmpfs", "/scratch", "-p", "127.0.0.1::80", "--cap-add", "NET_RAW",
                      "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                      *shared, "bb", "sleep", "600", check=True)
        if USERNS:
            p = caller.docker("exec", name, "cat", "/shared/hello", check=True)
            assert out(p) == "shared"
        caller.docker("exec", name, "sh", "-c", "echo hi > /vol/f; echo logged", check=True)
        caller.docker("cp", "/etc/hostname" if caller.kind == "restricted" else
                      os.path.join(shared_dir, "hello"), name + ":/scratch/", check=True)
        p = caller.docker("cp", name + ":/vol/f", "-", check=True)
        assert b"hi" in p.stdout
        caller.docker("logs", name, check=True)
        ports = out(caller.docker("port", name, check=True))
        assert ports.startswith("80/tcp -> 127.0.0.1:"), ports
        p = caller.docker("build", "-q", "-t", "sg-iso-built-" + tag, "-",
                          input=b"FROM bb\nRUN echo built > /built\n", check=True, timeout=300)
        caller.docker("run", "--rm", "sg-iso-built-" + tag, "cat", "/built", check=True)
    finally:
        engine_cli("rm", "-f", name, check=False)
        engine_cli("network", "rm", net, check=False)
        engine_cli("volume", "rm", vol, check=False)
        engine_cli("rmi", "sg-iso-built-" + tag, check=False)


def test_names_are_pinned_to_ids(caller, targets):
    """What the gate checked is what dockerd uses: containers named in a
    body reach the engine by ID, and requests that name a container in the
    path or the query still do what they say."""
    tag = caller.kind
    first, second = "sg-iso-pin-a-" + tag, "sg-iso-pin-b-" + tag
    try:
        caller.docker("run", "-d", "--name", first, "-v", "/data", "-e", "SECRET=own", "bb",
                      "sleep", "600", check=True)
        first_id = json.loads(out(engine_cli("inspect", first)))[0]["Id"]
        caller.docker("run", "-d", "--name", second, "--volumes-from", first + ":ro",
                      "--pid", "container:" + first, "--link", first + ":peer", "bb",
                      "sleep", "600", check=True)
        hc = json.loads(out(engine_cli("inspect", second)))[0]["HostConfig"]
        assert hc["VolumesFrom"] == [first_id + ":ro"]
        assert hc["PidMode"] == "container:" + first_id
        # the link kept its alias: the linked container's environment is there
        env = out(caller.docker("exec", second, "env", check=True))
        assert "PEER_ENV_SECRET=own" in env, env
        # a pinned path and a pinned query
        caller.docker("exec", first, "touch", "/marker-" + tag, check=True)
        caller.docker("restart", "-t", "0", first, check=True)
        caller.docker("commit", first, "sg-iso-pinned-" + tag, check=True)
        caller.docker("run", "--rm", "sg-iso-pinned-" + tag, "test", "-e", "/marker-" + tag,
                      check=True)
    finally:
        engine_cli("rm", "-f", second, first, check=False)
        engine_cli("rmi", "sg-iso-pinned-" + tag, check=False)


def test_host_paths_need_userns(caller, targets, shared_dir):
    """Without user namespaces a container's root is the host's root, and a
    shared directory, read-only or not, is a channel to the host (a socket
    left there to pass it a descriptor of "/"): no host paths at all."""
    if USERNS:
        caller.docker("run", "--rm", "-v", "%s:/s:ro" % shared_dir, "bb", "cat", "/s/hello",
                      check=True)
    else:
        refused(caller, RUN + ["-v", "%s:/s:ro" % shared_dir, "bb", "true"],
                "does not remap users")


def test_binds_in_the_callers_home(gate, iso_user):
    c = Caller("public", gate, user=iso_user)
    data = os.path.join(iso_user.pw_dir, "data")
    with open(os.path.join(data, "mine"), "w") as f:
        f.write("mine\n")
    if not USERNS:
        refused(c, RUN + ["-v", "%s:/d:ro" % data, "bb", "true"], "does not remap users")
        return
    p = c.docker("run", "--rm", "-v", "%s:/d:ro" % data, "bb", "cat", "/d/mine", check=True)
    assert out(p) == "mine"
    # another user's home is not the caller's
    refused(c, RUN + ["-v", "/root:/r", "bb", "true"], "host path \"/root\"")


def test_root_on_the_public_socket_is_not_isolated(gate, targets):
    p = docker_cli("run", "--rm", "--cap-add", "SYS_ADMIN", "--pid=host", "--userns=host",
                   "-v", "/etc:/x:ro", "bb", "cat", "/x/hostname", sock=gate.pub, check=True)
    assert out(p)
    d = [x for x in gate.decisions() if x["uid"] == 0 and x["socket"] == "public"]
    assert not any(x["verdict"] == "denied" for x in d[-3:]), d[-3:]


def test_exempt_users(gate, iso_user, shared_dir, targets):
    gate.reload(policy(shared_dir, sockgate={"exemptFromIsolation": {"users": [USER]}}))
    try:
        c = Caller("public", gate, user=iso_user)
        c.docker("run", "--rm", "--cap-add", "SYS_ADMIN", "bb", "true", check=True)
    finally:
        gate.reload(policy(shared_dir))
    refused(Caller("public", gate, user=iso_user), RUN + ["--cap-add", "SYS_ADMIN", "bb", "true"],
            "capability")


def test_check_and_status_report_the_engine(gate):
    userns = os.environ.get("TESTBED_USERNS") == "1"
    daemon_json = os.path.join(ENV["TESTBED_DIR"], "daemon.json")  # the bed's dockerd reads it
    p = subprocess.run([ENV["SOCKGATE_BIN"], "check", gate.settings_file, "--engine",
                        ENV["ENGINE_SOCK"], "--daemon-json", daemon_json],
                       capture_output=True, timeout=30)
    text = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert ("user namespaces on (userns-remap)" if userns else
            "user namespaces off (recommended") in text, text
    assert "host paths only inside (filesharingAllowedDirectories): $HOME " in text, text
    # dockerd's side: its defaults grant network.host, which the gate refuses
    assert "network-host       granted (dockerd's default)" in text, text
    assert ("user namespaces: on (userns-remap default)" if userns else
            "user namespaces: off; recommended") in text, text
    store = os.environ.get("TESTBED_CONTAINERD_STORE") == "1"
    assert ("image store: containerd" if store else "image store: the graph driver") in text
    # the log says it at start, as a warning when user namespaces are off
    assert ("user namespaces on" if userns else "user namespaces off") in gate.text()


# ---- the settings that apply to everyone --------------------------------------------

def test_port_binding_behavior(gate, shared_dir):
    """portBindingBehavior binds for root too (it is the administrator's, not
    an isolation rule): default-local rewrites, local-only refuses."""
    name = "sg-iso-ports"
    gate.reload(policy(shared_dir, portBindingBehavior={"locked": True,
                                                        "value": "default-local-port-binding"}))
    try:
        docker_cli("run", "-d", "--name", name, "-p", "80", "-p", "0.0.0.0::81",
                   "bb", "sleep", "60", sock=gate.pub)
        hc = json.loads(out(engine_cli("inspect", name)))[0]["HostConfig"]
        assert [b["HostIp"] for b in hc["PortBindings"]["80/tcp"]] == ["127.0.0.1", "::1"]
        assert [b["HostIp"] for b in hc["PortBindings"]["81/tcp"]] == ["0.0.0.0"]
        engine_cli("rm", "-f", name)
        # -P: what the container exposes, on loopback, named explicitly
        docker_cli("create", "--name", name, "--expose", "90", "-P", "bb", "true", sock=gate.pub)
        hc = json.loads(out(engine_cli("inspect", name)))[0]["HostConfig"]
        assert hc["PublishAllPorts"] is False
        assert [b["HostIp"] for b in hc["PortBindings"]["90/tcp"]] == ["127.0.0.1", "::1"]
        engine_cli("rm", "-f", name)
        gate.reload(policy(shared_dir, portBindingBehavior={"value": "local-only-port-binding"}))
        for spec in ("0.0.0.0::80", "[::]::80", "10.213.0.1::80"):
            p = docker_cli("run", "--rm", "-p", spec, "bb", "true", sock=gate.pub, check=False)
            assert p.returncode != 0 and b"local-only-port-binding" in p.stderr, p.stderr
        docker_cli("run", "--rm", "-p", "127.0.0.1::80", "-p", "80", "bb", "true",
                   sock=gate.pub)
    finally:
        engine_cli("rm", "-f", name, check=False)
        gate.reload(policy(shared_dir))


def test_block_docker_load(gate, shared_dir):
    gate.reload(policy(shared_dir, blockDockerLoad={"locked": True, "value": True}))
    try:
        save = engine_cli("save", "bb").stdout
        p = docker_cli("load", sock=gate.pub, input=save, check=False)
        assert p.returncode != 0 and b"docker load is blocked (blockDockerLoad" in p.stderr
        p = docker_cli("import", "-", "sg-iso-imported", sock=gate.pub, input=b"", check=False)
        assert p.returncode != 0 and b"docker import is blocked" in p.stderr, p.stderr
    finally:
        gate.reload(policy(shared_dir))
    docker_cli("load", sock=gate.pub, input=save)


def test_refused_while_its_body_is_still_coming(gate, shared_dir):
    """A request refused before its body is read still gets its answer after
    the client's last write: the gate reads and discards the rest (lingering
    close) instead of closing after the first MiB, which left `docker load`
    of a blocked image with only "broken pipe" (seen in CI). 16 MiB here."""
    gate.reload(policy(shared_dir, blockDockerLoad={"locked": True, "value": True}))
    try:
        size, chunk = 16 << 20, b"\0" * 65536
        with connect(gate.pub) as s:
            s.sendall(b"POST /v1.41/images/load?quiet=1 HTTP/1.1\r\nHost: d\r\n"
                      b"Content-Type: application/x-tar\r\nContent-Length: %d\r\n\r\n" % size)
            for _ in range(size // len(chunk)):
                s.sendall(chunk)
            status, _, body = Reader(s).response()
            assert status == 403 and b"docker load is blocked (blockDockerLoad" in body, body
            assert Reader(s).closed()
    finally:
        gate.reload(policy(shared_dir))


def test_lingering_close_ends_when_the_client_goes_quiet(gate, shared_dir):
    """A refused client that stops sending without closing is let go after
    the lingering close's idle time (2 s), not kept for its whole 30 s."""
    gate.reload(policy(shared_dir, blockDockerLoad={"locked": True, "value": True}))
    try:
        with connect(gate.pub) as s:
            s.sendall(b"POST /v1.41/images/load HTTP/1.1\r\nHost: d\r\n"
                      b"Content-Length: 1000000\r\n\r\n" + b"\0" * 1000)
            t0 = time.monotonic()
            status, _, _ = Reader(s).response()
            assert status == 403
            assert Reader(s).closed(timeout=10)
            assert time.monotonic() - t0 < 6
    finally:
        gate.reload(policy(shared_dir))


def test_root_in_another_pid_namespace_is_isolated(gate, targets):
    """uid 0 that is not the host's root (a container that was passed a
    descriptor of the public socket, here a process in a PID namespace of
    its own) is isolated like any other caller."""
    body = json.dumps({"Image": "bb", "HostConfig": {"CapAdd": ["SYS_ADMIN"]}})
    p = subprocess.run(["unshare", "--pid", "--fork", "curl", "-sS", "--unix-socket", gate.pub,
                        "-H", "Content-Type: application/json", "-d", body,
                        "http://d/v1.41/containers/create"], capture_output=True, timeout=30)
    assert b"capability" in p.stdout and PREFIX.encode() in p.stdout, p.stdout + p.stderr
    d = gate.decisions()[-1]
    assert d["uid"] == 0 and d["isolated"] and d["verdict"] == "denied", d
