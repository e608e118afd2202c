"""test_tenants_admin.py — tenants as the administrator sees them (issue 20):
`sockgate status` lists each tenant on the engine with its policy and the
containers (running/all), volumes and networks it holds, as dockerd counts
them; `sockgate explain --image` and `--uid` say which policy and scope a
socket-mounting container or a public-socket user gets."""

import json
import subprocess

from conftest import ENV, docker_cli, engine_cli, out
from gate import Gate, settings


def policy():
    s = settings(images=["docker:cli"])
    s["sockgate"] = {"imagePolicies": {"docker:cli": {"scope": "own"}},
                     "publicSocketScope": "own"}
    return s


class Job:
    """A CI job: a docker:cli container with the Docker socket, started by
    the host through the gate; `docker` runs the CLI inside it."""

    def __init__(self, gate, name):
        self.name = name
        engine_cli("rm", "-f", name, check=False)
        docker_cli("run", "-d", "--name", name, "-v", gate.pub + ":/var/run/docker.sock",
                   "docker:cli", "sleep", "600", sock=gate.pub)

    def docker(self, *args):
        p = engine_cli("exec", self.name, "docker", *args, check=False)
        assert p.returncode == 0, (args, (p.stdout + p.stderr).decode(errors="replace"))
        return out(p)

    def tenant(self):
        labels = json.loads(out(engine_cli("inspect", "-f", "{{json .Config.Labels}}",
                                           self.name)))
        return labels["io.sockgate.tenant"]


def sockgate(*args):
    """A sockgate command (the suite's ASan build: a leak fails it)."""
    p = subprocess.run([ENV["SOCKGATE_BIN"], *args], capture_output=True, timeout=60)
    text = p.stdout.decode(errors="replace")
    assert p.returncode == 0, (args, text, p.stderr.decode(errors="replace")[-3000:])
    return text, p.stderr.decode(errors="replace")


def tenants(g, *extra):
    text, err = sockgate("status", "--state-dir", g.state, *extra)
    return json.loads(text), err


def test_status_lists_a_jobs_tenant_with_its_objects():
    g = Gate("tenants-admin", policy())
    try:
        job = Job(g, "sg-adm-job")
        engine_cli("rm", "-f", "sg-adm-web", check=False)
        job.docker("volume", "create", "sg-adm-vol")
        job.docker("run", "-d", "--name", "sg-adm-web", "bb", "sleep", "600")
        tid = job.tenant()
        doc, _ = tenants(g)
        # the gate names its engine; status asked that one
        assert doc["engine"]["socket"] == ENV["ENGINE_SOCK"]
        mine = [t for t in doc["tenants"] if t["id"] == tid]
        assert mine == [{"id": tid, "policy": "docker:cli",
                         "containers": {"running": 2, "all": 2},
                         "volumes": 1, "networks": 0}], doc["tenants"]
        # stopped containers are counted, and the host's objects are no tenant's
        job.docker("stop", "-t", "1", "sg-adm-web")
        engine_cli("volume", "create", "sg-adm-host-vol")
        doc, _ = tenants(g)
        mine = [t for t in doc["tenants"] if t["id"] == tid]
        assert mine[0]["containers"] == {"running": 1, "all": 2}, mine
        assert mine[0]["volumes"] == 1, mine
        assert "tenants_error" not in doc and "tenants_skipped" not in doc, doc
        # root on the public socket is no tenant: what it creates is nobody's
        docker_cli("volume", "create", "sg-adm-root-vol", sock=g.pub)
        doc, _ = tenants(g)
        assert not [t for t in doc["tenants"] if t["id"] in ("", "uid:0")], doc["tenants"]
        assert [t for t in doc["tenants"] if t["id"] == tid][0]["volumes"] == 1
        # an engine that does not answer: said so, and the gate's status still printed
        doc, err = tenants(g, "--engine", g.dir + "/no-engine.sock")
        assert "tenants" not in doc and "no-engine.sock" in doc["tenants_error"], doc
        assert "tenants not counted" in err and doc["counters"]["requests"] > 0
    finally:
        engine_cli("rm", "-f", "sg-adm-job", "sg-adm-web", check=False)
        for v in ("sg-adm-vol", "sg-adm-host-vol", "sg-adm-root-vol"):
            engine_cli("volume", "rm", v, check=False)
        g.stop()


def test_explain_names_the_policy_and_scope_of_a_caller():
    g = Gate("tenants-explain", policy())
    try:
        text, _ = sockgate("explain", "--settings", g.settings_file, "--image", "docker:cli")
        assert "imageList: docker:cli names it" in text, text
        assert "policy:   docker:cli, the most specific pattern naming it" in text, text
        assert "proves it against the registry at create" in text, text
        assert "\nscope:    own:" in text, text
        assert "\ncommands: none restricted" in text, text
        # an image no pattern names: no policy, everything in scope
        text, _ = sockgate("explain", "--settings", g.settings_file, "--image", "bb")
        assert "policy:   none names it" in text and "\nscope:    all:" in text, text
        # a user of the public socket: its own tenant; root sees everything
        text, _ = sockgate("explain", "--settings", g.settings_file, "--uid", "1000")
        assert "tenant:   uid:1000" in text and "\nscope:    own:" in text, text
        text, _ = sockgate("explain", "--settings", g.settings_file, "--uid", "0")
        assert "isolated: no (root)" in text and "\nscope:    all:" in text, text
        # with a request: the job's container lists only its tenant's
        text, _ = sockgate("explain", "--settings", g.settings_file, "--engine",
                           ENV["ENGINE_SOCK"], "--image", "docker:cli", "GET",
                           "/v1.41/containers/json?all=1")
        assert "as a container of docker:cli on the restricted socket, policy docker:cli" in text
        assert "io.sockgate.tenant%3D" in text, text
    finally:
        g.stop()
