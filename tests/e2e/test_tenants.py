"""test_tenants.py — tenants on one Docker socket (issue 20): two CI jobs
(socket-mounting docker:cli containers under an image policy with scope
"own") and the host share one dockerd through sockgate. Each job runs,
lists, inspects, logs, execs, stops and removes its own containers,
volumes and networks, and sees nothing of the other's or the host's:
everything else answers as dockerd answers for what does not exist."""

import grp
import json
import os
import subprocess

import pytest

from conftest import (DOCKER_BIN, api, cli_plugin_tar, derived_image, docker_cli, engine_cli,
                      host_user, out, remove_host_user)
from gate import Gate, settings

SECRET = "s3cret-of-the-host"


def policy(public_scope=None):
    s = settings(images=["docker:cli"])
    s["sockgate"] = {"imagePolicies": {"docker:cli": {"scope": "own"}}}
    if public_scope:
        s["sockgate"]["publicSocketScope"] = public_scope
    return s


class Job:
    """A CI job: a docker:cli container with the Docker socket, started by
    the host through sockgate; `docker` runs the CLI inside it."""

    def __init__(self, gate, name):
        self.name = name
        engine_cli("rm", "-f", name, check=False)
        docker_cli("run", "-d", "--name", name, "-v", gate.pub + ":/var/run/docker.sock",
                   "docker:cli", "sleep", "600", sock=gate.pub)

    def docker(self, *args, check=True, timeout=120):
        p = engine_cli("exec", self.name, "docker", *args, check=False, timeout=timeout)
        text = (p.stdout + p.stderr).decode(errors="replace")
        if check:
            assert p.returncode == 0, (args, text[-2000:])
        return p.returncode, text

    def stop(self):
        engine_cli("rm", "-f", self.name, check=False)


@pytest.fixture(scope="module")
def bed():
    g = Gate("tenants", policy())
    engine_cli("rm", "-f", "sg-host-web", check=False)
    engine_cli("run", "-d", "--name", "sg-host-web", "-e", "SECRET=" + SECRET, "bb",
               "sleep", "600")
    engine_cli("volume", "create", "sg-host-vol")
    engine_cli("network", "create", "sg-host-net")
    a, b = Job(g, "sg-job-a"), Job(g, "sg-job-b")
    yield g, a, b
    a.stop()
    b.stop()
    for kind, names in (("container", ["sg-host-web", "a-web", "a-tmp", "b-web", "a-nested", "b-df"]),
                        ("volume", ["sg-host-vol", "a-vol", "b-vol"]),
                        ("network", ["sg-host-net", "a-net", "b-net"])):
        for n in names:
            engine_cli(kind, "rm", "-f", n, check=False) if kind == "container" else \
                engine_cli(kind, "rm", n, check=False)
    g.stop()


def test_a_job_works_on_its_own_containers_volumes_and_networks(bed):
    g, a, _ = bed
    a.docker("volume", "create", "a-vol")
    a.docker("network", "create", "a-net")
    a.docker("run", "-d", "--name", "a-web", "--network", "a-net", "-v", "a-vol:/data",
             "-e", "SECRET=a-secret", "bb", "sh", "-c", "echo hello-a; sleep 600")
    _, ps = a.docker("ps", "--format", "{{.Names}}")
    assert "a-web" in ps.split(), ps
    _, env = a.docker("inspect", "-f", "{{json .Config.Env}}", "a-web")
    assert "a-secret" in env
    _, logs = a.docker("logs", "a-web")
    assert "hello-a" in logs
    _, ex = a.docker("exec", "a-web", "cat", "/proc/1/cmdline")
    assert "sleep" in ex
    _, vols = a.docker("volume", "ls", "--format", "{{.Name}}")
    assert vols.split() == ["a-vol"], vols
    _, nets = a.docker("network", "ls", "--format", "{{.Name}}")
    assert "a-net" in nets.split() and "sg-host-net" not in nets.split(), nets
    a.docker("run", "--name", "a-tmp", "bb", "true")
    a.docker("stop", "-t", "1", "a-web")
    a.docker("rm", "a-tmp")
    # what the job created is marked with its tenant, on the engine
    labels = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}", "a-web")))
    job = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}", "sg-job-a")))
    assert labels["io.sockgate.tenant"] == job["io.sockgate.tenant"] != ""
    assert job["io.sockgate.policy"] == "docker:cli"


HOST_OBJECTS = {"sg-host-web": "sg-none-web", "sg-host-vol": "sg-none-vol",
                "sg-host-net": "sg-none-net"}


def as_missing(args):
    return tuple(HOST_OBJECTS.get(a, a.replace("sg-host-web", "sg-none-web")) for a in args)


@pytest.mark.parametrize("args", [
    ("inspect", "sg-host-web"),
    ("container", "inspect", "sg-host-web"),
    ("logs", "sg-host-web"),
    ("exec", "sg-host-web", "env"),
    ("kill", "sg-host-web"),
    ("stop", "sg-host-web"),
    ("rm", "-f", "sg-host-web"),
    ("cp", "sg-host-web:/etc/hostname", "/tmp/x"),
    ("volume", "inspect", "sg-host-vol"),
    ("volume", "rm", "sg-host-vol"),
    ("network", "inspect", "sg-host-net"),
    ("network", "rm", "sg-host-net"),
    ("network", "connect", "sg-host-net", "sg-job-a"),
    ("network", "disconnect", "bridge", "sg-host-web"),
    ("run", "--rm", "--volumes-from", "sg-host-web", "bb", "true"),
    ("run", "--rm", "--network", "sg-host-net", "bb", "true"),
    ("run", "--rm", "--network", "container:sg-host-web", "bb", "true"),
    ("run", "--rm", "--pid", "container:sg-host-web", "bb", "true"),
    ("run", "--rm", "--link", "sg-host-web:h", "bb", "true"),
    ("update", "--memory", "64m", "sg-host-web"),
    ("rename", "sg-host-web", "sg-mine"),
    ("exec", "sg-host-web", "true"),
])
def test_the_hosts_objects_answer_as_missing_ones_do(bed, args):
    """What a job is told of the host's object is, word for word, what
    dockerd tells of one that does not exist."""
    _, a, _ = bed
    rc, text = a.docker(*args, check=False)
    rc_none, text_none = a.docker(*as_missing(args), check=False)
    for host, none in HOST_OBJECTS.items():
        text_none = text_none.replace(none, host)
    assert (rc, text) == (rc_none, text_none)
    assert SECRET not in text
    assert out(engine_cli("inspect", "-f", "{{.State.Running}}", "sg-host-web")) == "true"
    for kind, name in (("volume", "sg-host-vol"), ("network", "sg-host-net")):
        assert engine_cli(kind, "inspect", name, check=False).returncode == 0


def test_another_tenants_volume_is_not_mounted(bed):
    # dockerd would make a missing volume; one that is someone else's is
    # refused as missing instead
    g, a, _ = bed
    rc, text = a.docker("run", "--rm", "-v", "sg-host-vol:/x", "bb", "true", check=False)
    assert rc != 0, text
    # nothing was created with it: the job never had it mounted
    users = out(engine_cli("ps", "-aq", "--filter", "volume=sg-host-vol"))
    assert users == "", users
    refused = [d["rule"] for d in g.decisions() if d["verdict"] == "denied" and
               d.get("container") == "sg-job-a" and "/containers/create" in d["target"]]
    assert refused and all(r.startswith(("scope:", "isolation")) for r in refused), \
        [d for d in g.decisions() if d["verdict"] == "denied"]


def test_lists_and_prunes_are_the_jobs_own(bed):
    _, a, b = bed
    b.docker("volume", "create", "b-vol")
    b.docker("network", "create", "b-net")
    b.docker("run", "-d", "--name", "b-web", "-e", "SECRET=b-secret", "bb", "sleep", "600")
    for job, mine, theirs in ((a, "a-web", "b-web"), (b, "b-web", "a-web")):
        _, ps = job.docker("ps", "-a", "--format", "{{.Names}}")
        assert theirs not in ps and "sg-host-web" not in ps, ps
        _, every = job.docker("inspect", "-f", "{{json .Config.Env}}", mine)
        assert "secret" in every
    rc, text = a.docker("inspect", "b-web", check=False)
    assert rc != 0 and "b-secret" not in text
    # prunes remove only the pruner's own
    a.docker("container", "prune", "-f")
    a.docker("volume", "prune", "-f", "--all", check=False)
    a.docker("network", "prune", "-f")
    for kind, name in (("container", "b-web"), ("volume", "b-vol"), ("network", "b-net"),
                       ("container", "sg-host-web"), ("volume", "sg-host-vol"),
                       ("network", "sg-host-net")):
        assert engine_cli(kind, "inspect", name, check=False).returncode == 0, (kind, name)


def test_events_are_the_jobs_own(bed):
    _, a, b = bed
    b.docker("run", "--rm", "bb", "true")
    _, ev = a.docker("events", "--since", "60s", "--until", "0s", "--format",
                     "{{.Actor.Attributes.name}}")
    assert "b-web" not in ev and "sg-host-web" not in ev, ev


def test_a_forged_owner_label_is_refused_on_every_socket(bed):
    g, a, _ = bed
    rc, text = a.docker("run", "--rm", "--label", "io.sockgate.tenant=x", "bb", "true",
                        check=False)
    assert rc != 0 and "io.sockgate.tenant" in text, text
    for sock in (g.pub,):
        for path, body in (("/containers/create", {"Image": "bb", "Labels": {
                "io.sockgate.tenant": "x"}}),
                           ("/volumes/create", {"Name": "sg-forged", "Labels": {
                               "io.sockgate.policy": "*"}}),
                           ("/networks/create", {"Name": "sg-forged", "Labels": {
                               "io.sockgate.x": "y"}})):
            st, answer = api(sock, "POST", path, body)
            assert st == 403 and "io.sockgate." in answer["message"], (path, answer)


def test_an_images_own_label_names_no_tenant(bed):
    g, a, _ = bed
    # a container the host creates carries an explicit, empty tenant label,
    # so an image labelled io.sockgate.tenant=<job> cannot plant it in a job
    tenant = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}",
                                       "sg-job-a")))["io.sockgate.tenant"]
    engine_cli("rm", "-f", "sg-planted", check=False)
    p = engine_cli("commit", "-c", "LABEL io.sockgate.tenant=" + tenant, "sg-host-web",
                   "sg-planted-image")
    try:
        docker_cli("create", "--name", "sg-planted", "sg-planted-image", sock=g.pub)
        _, ps = a.docker("ps", "-a", "--format", "{{.Names}}")
        assert "sg-planted" not in ps
    finally:
        engine_cli("rm", "-f", "sg-planted", check=False)
        engine_cli("rmi", "sg-planted-image", check=False)
    assert p.returncode == 0


def test_a_nested_socket_mounting_container_stays_in_its_parents_tenant(bed):
    g, a, _ = bed
    # the job names the gate's socket by its host path, as a runner's job
    # names the socket it was given (DOCKER_HOST, the runner's config)
    a.docker("run", "-d", "--name", "a-nested", "-v", g.res + ":/var/run/docker.sock",
             "docker:cli", "sleep", "600")
    parent = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}", "sg-job-a")))
    nested = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}", "a-nested")))
    assert nested["io.sockgate.tenant"] == parent["io.sockgate.tenant"]
    p = engine_cli("exec", "a-nested", "docker", "ps", "-a", "--format", "{{.Names}}")
    names = out(p).split()
    assert "a-nested" in names and "sg-job-a" in names, names
    assert "b-web" not in names and "sg-job-b" not in names and "sg-host-web" not in names, names


def test_the_host_sees_everything(bed):
    g, _, _ = bed
    names = out(docker_cli("ps", "-a", "--format", "{{.Names}}", sock=g.pub)).split()
    assert {"sg-host-web", "a-nested", "sg-job-a", "b-web", "sg-job-b"} <= set(names), names


def user_docker(pw, gid, sock):
    """The docker CLI as a non-root user in the gate's socket group."""
    def run(*args, check=True):
        env = dict(os.environ, HOME=pw.pw_dir, DOCKER_HOST="unix://" + sock,
                   DOCKER_CONFIG=os.path.join(pw.pw_dir, ".docker"))
        env.pop("DOCKER_CONTEXT", None)
        p = subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                            "--groups=%d" % gid, DOCKER_BIN, *args], capture_output=True,
                           timeout=120, env=env)
        text = (p.stdout + p.stderr).decode(errors="replace")
        assert not check or p.returncode == 0, (args, text)
        return p.returncode, text
    return run


def test_public_socket_scope_gives_each_user_their_own():
    """publicSocketScope "own": two non-root users in the docker group of a
    shared build server see only what each created; root sees everything."""
    subprocess.run(["groupadd", "sgtenants"], capture_output=True)
    gid = grp.getgrnam("sgtenants").gr_gid
    pws = [host_user(n) for n in ("sgalice", "sgbob")]
    g = Gate("tenants-public", policy(public_scope="own"), extra=("--socket-group", "sgtenants"))
    os.chmod(g.dir, 0o711)
    alice, bob = (user_docker(pw, gid, g.pub) for pw in pws)
    try:
        engine_cli("rm", "-f", "sg-alice-web", "sg-bob-web", check=False)
        alice("run", "-d", "--name", "sg-alice-web", "-e", "SECRET=alice", "bb", "sleep", "600")
        bob("run", "-d", "--name", "sg-bob-web", "bb", "sleep", "600")
        _, text = alice("ps", "-a", "--format", "{{.Names}}")
        assert text.split() == ["sg-alice-web"], text
        rc, text = bob("inspect", "sg-alice-web", check=False)
        assert rc != 0 and "No such object: sg-alice-web" in text, text
        assert "SECRET" not in text
        _, text = bob("rm", "-f", "sg-alice-web", check=False)
        assert "No such container: sg-alice-web" in text, text
        assert out(engine_cli("inspect", "-f", "{{.State.Running}}", "sg-alice-web")) == "true"
        names = out(docker_cli("ps", "--format", "{{.Names}}", sock=g.pub)).split()
        assert {"sg-alice-web", "sg-bob-web"} <= set(names), names
        labels = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}",
                                           "sg-bob-web")))
        assert labels["io.sockgate.tenant"] == "uid:%d" % pws[1].pw_uid
    finally:
        engine_cli("rm", "-f", "sg-alice-web", "sg-bob-web", check=False)
        g.stop()
        for n in ("sgalice", "sgbob"):
            remove_host_user(n)
        subprocess.run(["groupdel", "sgtenants"], capture_output=True)


def test_builtin_networks_stay_visible_without_others_containers(bed):
    _, a, b = bed
    a.docker("network", "create", "a-net2")
    b.docker("network", "create", "b-net2")
    try:
        _, nets = a.docker("network", "ls", "--format", "{{.Name}}")
        assert {"bridge", "host", "none", "a-net2"} <= set(nets.split()), nets
        assert "b-net2" not in nets and "sg-host-net" not in nets, nets
        # the host's container is on the default bridge: not shown to a job
        _, bridge = a.docker("network", "inspect", "bridge")
        info = json.loads(bridge)[0]
        assert info["Name"] == "bridge" and info["Containers"] == {}, info
        assert info["IPAM"]["Config"], info  # what Testcontainers reads the gateway from
        assert "sg-host-web" not in bridge and SECRET not in bridge
        # with a filter, the list is narrowed by dockerd's label filter
        _, mine = a.docker("network", "ls", "--filter", "name=net2", "--format", "{{.Name}}")
        assert mine.split() == ["a-net2"], mine
    finally:
        a.docker("network", "rm", "a-net2", check=False)
        b.docker("network", "rm", "b-net2", check=False)


def test_system_df_counts_the_jobs_own(bed):
    _, a, b = bed
    b.docker("run", "-d", "--name", "b-df", "bb", "sleep", "600")
    a.docker("volume", "create", "a-df")
    try:
        _, df = a.docker("system", "df", "-v", "--format", "{{json .}}")
        assert "sg-host-web" not in df and "b-df" not in df and "sg-host-vol" not in df, df
        assert "sg-job-a" in df and "a-df" in df, df
    finally:
        engine_cli("rm", "-f", "b-df", check=False)
        engine_cli("volume", "rm", "a-df", check=False)


def test_a_job_cannot_link_to_anothers_container_when_joining(bed):
    _, a, _ = bed
    a.docker("network", "create", "a-net3")
    a.docker("create", "--name", "a-c", "bb", "sleep", "1")
    try:
        rc, text = a.docker("network", "connect", "--link", "sg-host-web:h", "a-net3", "a-c",
                            check=False)
        rc_none, text_none = a.docker("network", "connect", "--link", "sg-none-web:h",
                                      "a-net3", "a-c", check=False)
        assert rc != 0 and "sg-host-web" in text, text
        assert text.replace("sg-host-web", "X") == text_none.replace("sg-none-web", "X") or \
            "No such container: sg-host-web" in text, (text, text_none)
        a.docker("network", "connect", "a-net3", "a-c")   # its own: fine
        a.docker("network", "disconnect", "bridge", "a-c")  # a built-in: every tenant's
        a.docker("network", "connect", "bridge", "a-c")
    finally:
        engine_cli("rm", "-f", "a-c", check=False)
        engine_cli("network", "rm", "a-net3", check=False)


def test_volumes_docker_makes_for_a_job_are_the_jobs(bed):
    """`docker run -v name:/x` with a volume that does not exist yet: dockerd
    makes it, and it must be the job's to use again, list and remove."""
    _, a, b = bed
    try:
        a.docker("run", "--rm", "-v", "a-cache:/cache", "bb", "sh", "-c", "echo kept > /cache/f")
        _, kept = a.docker("run", "--rm", "-v", "a-cache:/cache:ro,nocopy", "bb", "cat",
                           "/cache/f")
        assert "kept" in kept.split(), kept
        rc, text = a.docker("run", "--rm", "-v", "a-cache:/cache:rw", "bb", "touch", "/cache/g",
                            check=False)
        assert rc == 0, text
        rc, text = a.docker("run", "--rm", "-v", "a-cache:/cache:ro", "bb", "touch", "/cache/h",
                            check=False)
        assert rc != 0 and "Read-only file system" in text, text
        a.docker("run", "--rm", "--mount", "type=volume,src=a-cache2,dst=/c", "bb", "true")
        _, vols = a.docker("volume", "ls", "--format", "{{.Name}}")
        assert {"a-cache", "a-cache2"} <= set(vols.split()), vols
        rc, text = b.docker("run", "--rm", "-v", "a-cache:/cache", "bb", "cat", "/cache/f",
                            check=False)
        assert rc != 0 and "kept" not in text, text
        a.docker("volume", "rm", "a-cache", "a-cache2")
    finally:
        engine_cli("volume", "rm", "a-cache", "a-cache2", check=False)


NEWEST = os.environ.get("SG_NEWEST_ROOT", "/opt/sockgate-testbed/docker-newest")
COMPOSE_PLUGIN = os.path.join(NEWEST, "cli-plugins", "docker-compose")
COMPOSE_FILE = b"""services:
  web:
    image: bb
    command: ["sh", "-c", "echo compose-up; sleep 600"]
    environment: [SECRET=compose-secret]
    volumes: [data:/data]
    networks: [back]
volumes:
  data: {}
networks:
  back: {}
"""


@pytest.mark.skipif(os.environ.get("E2E_ENGINE") != "newest" or not os.path.exists(COMPOSE_PLUGIN),
                    reason="the compose v2 plugin comes with the newest engine's pass")
def test_compose_in_a_job_works_on_its_own_project(bed):
    """docker compose up, ps, logs, exec, down -v inside a scoped job: its
    labels, lists and named objects are the job's; the other job sees none."""
    g, _, b = bed
    derived_image("sg-compose-cli", cli_plugin_tar(COMPOSE_PLUGIN, "docker-compose"))
    job = "sg-job-compose"
    engine_cli("rm", "-f", job, check=False)
    docker_cli("run", "-d", "--name", job, "-v", g.pub + ":/var/run/docker.sock",
               "sg-compose-cli", "sleep", "600", sock=g.pub)
    try:
        engine_cli("exec", "-i", job, "sh", "-c", "mkdir -p /p && cat > /p/compose.yml",
                   input=COMPOSE_FILE)

        def compose(*args, check=True):
            p = engine_cli("exec", "-w", "/p", job, "docker", "compose", "-p", "tproj", *args,
                           check=False, timeout=180)
            text = (p.stdout + p.stderr).decode(errors="replace")
            assert not check or p.returncode == 0, (args, text[-3000:])
            return text

        compose("up", "-d")
        assert "tproj-web-1" in compose("ps", "--format", "{{.Name}}")
        assert "compose-up" in compose("logs", "web")
        assert "compose-secret" in compose("exec", "-T", "web", "env")
        labels = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}",
                                           "tproj-web-1")))
        vol = json.loads(out(engine_cli("volume", "inspect", "-f", "{{json .Labels}}",
                                        "tproj_data")))
        assert labels["io.sockgate.tenant"] == vol["io.sockgate.tenant"] != ""
        assert labels["com.docker.compose.project"] == "tproj"
        _, theirs = b.docker("ps", "-a", "--format", "{{.Names}}")
        assert "tproj-web-1" not in theirs
        compose("down", "-v")
        for kind, name in (("container", "tproj-web-1"), ("volume", "tproj_data"),
                           ("network", "tproj_back")):
            assert engine_cli(kind, "inspect", name, check=False).returncode != 0, (kind, name)
    finally:
        engine_cli("rm", "-f", job, "tproj-web-1", check=False)
        engine_cli("volume", "rm", "tproj_data", check=False)
        engine_cli("network", "rm", "tproj_back", check=False)
        engine_cli("rmi", "sg-compose-cli", check=False)


def test_a_sibling_that_reaches_a_socket_holders_socket_keeps_the_tenants_scope(bed):
    """A job's container without the socket but in the PID namespace of one
    with it reaches that socket through /proc/1/root, and is then the
    caller: it must carry its tenant's policy, never fall back to scope
    "all" (found in review: it did)."""
    g, a, _ = bed
    try:
        a.docker("run", "-d", "--name", "a-holder", "-v", g.res + ":/var/run/docker.sock",
                 "docker:cli", "sleep", "600")
        a.docker("run", "-d", "--name", "a-sibling", "--pid", "container:a-holder", "docker:cli",
                 "sleep", "600")
        labels = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}",
                                           "a-sibling")))
        assert labels["io.sockgate.policy"] == "docker:cli", labels
        p = engine_cli("exec", "a-sibling", "docker", "-H",
                       "unix:///proc/1/root/var/run/docker.sock", "ps", "-a", "--format",
                       "{{.Names}}", check=False)
        names = out(p).split()
        assert p.returncode == 0 and "a-holder" in names, (p.stdout, p.stderr)
        assert "sg-host-web" not in names and "sg-job-b" not in names, names
        p = engine_cli("exec", "a-sibling", "docker", "-H",
                       "unix:///proc/1/root/var/run/docker.sock", "inspect", "sg-host-web",
                       check=False)
        assert p.returncode != 0 and SECRET.encode() not in p.stdout + p.stderr
    finally:
        engine_cli("rm", "-f", "a-holder", "a-sibling", check=False)


def test_an_images_policy_label_is_overridden(bed):
    _, a, _ = bed
    engine_cli("rm", "-f", "a-planted", check=False)
    engine_cli("commit", "-c", "LABEL io.sockgate.policy=*", "sg-host-web", "sg-policy-image")
    try:
        a.docker("create", "--name", "a-planted", "sg-policy-image")
        labels = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}",
                                           "a-planted")))
        assert labels["io.sockgate.policy"] == "docker:cli", labels
    finally:
        engine_cli("rm", "-f", "a-planted", check=False)
        engine_cli("rmi", "sg-policy-image", check=False)


def test_a_job_cannot_connect_its_container_to_the_host_network(bed):
    g, a, _ = bed
    a.docker("create", "--name", "a-hostnet", "bb", "true")
    try:
        rc, text = a.docker("network", "connect", "host", "a-hostnet", check=False)
        assert rc != 0 and "enhanced container isolation" in text, text
    finally:
        engine_cli("rm", "-f", "a-hostnet", check=False)
