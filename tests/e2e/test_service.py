"""Running sockgate as a service (issue 5): the settings file is reloaded when
it changes, a broken file keeps the running policy and the log says what is
wrong, decisions are audit lines, and `sockgate status` shows the policy in
force, the digest cache and counters."""

import json
import os
import subprocess
import time

from conftest import ENV, connect, Reader
from gate import Gate, settings

PUSH = b"POST /v1.41/images/x/push?tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
# A start is decided on the container's stored configuration: a look-up.
START = (b"POST /v1.41/containers/sg-service-no-such/start HTTP/1.1\r\nHost: d\r\n"
         b"Content-Length: 0\r\n\r\n")


def status_of(sock, request):
    with connect(sock) as s:
        s.sendall(request)
        return Reader(s).response()[0]


def wait_for(pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_file_change_reload_broken_file_status_and_audit_lines():
    pol = {"type": "deny", "commands": ["ps"]}
    g = Gate("service", settings(images=["docker:cli"], commands=pol))
    try:
        assert status_of(g.res, PUSH) != 403
        # Saved by an editor: written to a new file and renamed over the old one.
        tmp = g.settings_file + ".new"
        with open(tmp, "w") as f:
            json.dump(settings(images=["docker:cli"], commands={"type": "deny",
                                                                "commands": ["push"]}), f)
        os.rename(tmp, g.settings_file)
        wait_for(lambda: "settings file changed" in g.text(), "no reload on file change")
        wait_for(lambda: status_of(g.res, PUSH) == 403, "new policy not in force")
        # A broken file: the running policy stays, the log says exactly why.
        with open(g.settings_file, "w") as f:
            f.write('{"enhancedContainerIsolation": {"value": "yes"}}')
        wait_for(lambda: "reload failed, keeping the running policy" in g.text(),
                 "broken file not reported")
        assert "enhancedContainerIsolation.value: must be true or false" in g.text()
        assert status_of(g.res, PUSH) == 403
        # One audit line per denial, with the client's credentials.
        d = [x for x in g.decisions() if x["verdict"] == "denied"][-1]
        assert d["socket"] == "restricted" and d["method"] == "POST" and d["uid"] == 0
        assert d["pid"] == os.getpid() and d["target"].endswith("/push?tag=1")
        assert '"msg":"policy","why":"start"' in g.text()
        assert status_of(g.res, START) == 404
        # sockgate status, from the root-only socket in the state directory.
        st = os.path.join(g.state, "status.sock")
        assert oct(os.stat(st).st_mode & 0o777) == "0o600"
        p = subprocess.run([ENV["SOCKGATE_BIN"], "status", "--state-dir", g.state],
                           capture_output=True, timeout=10)
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["policy"]["commands"] == ["push"] and doc["policy"]["eci"] is True
        assert doc["counters"]["denied"] >= 2 and doc["counters"]["requests"] >= 5
        # the start waited for its look-up: counted, with the time it was held
        assert doc["counters"]["decisions"] >= 1 and doc["counters"]["decision_us"] > 0, doc
        assert "docker.io/library/docker:cli" in doc["digests"]
        # what it learned of the engine: user namespaces, default runtime
        userns = os.environ.get("TESTBED_USERNS") == "1"
        assert doc["engine"]["reached"] and doc["engine"]["userns_remap"] is userns, doc["engine"]
        assert doc["engine"]["default_runtime"] == "runc"
    finally:
        g.stop()
