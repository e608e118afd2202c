"""systemd socket activation: sockgate serves the sockets a service manager
passes (LISTEN_FDS/LISTEN_FDNAMES), tells the public from the restricted one
by name, and leaves the socket files alone when it exits (they belong to the
manager). Driven by systemd's own systemd-socket-activate."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ENV, raw_request
from gate import ASAN_ENV, settings


@pytest.mark.skipif(not shutil.which("systemd-socket-activate"),
                    reason="systemd-socket-activate is not installed")
def test_socket_activation_public_and_restricted():
    d = os.path.join(ENV["TESTBED_DIR"], "g-activation")
    os.makedirs(d, exist_ok=True)
    pub, res = os.path.join(d, "p.sock"), os.path.join(d, "r.sock")
    for p in (pub, res):
        if os.path.exists(p):
            os.unlink(p)
    conf = os.path.join(d, "admin-settings.json")
    with open(conf, "w") as f:
        json.dump(settings(images=["docker:cli"], commands={"type": "deny", "commands": ["push"]}), f)
    log = open(os.path.join(d, "sockgate.log"), "wb")
    env_args = []
    for k, v in ASAN_ENV.items():
        env_args += ["-E", "%s=%s" % (k, v)]
    proc = subprocess.Popen(
        ["systemd-socket-activate", "-l", pub, "-l", res, "--fdname=public:restricted",
         *env_args, ENV["SOCKGATE_BIN"], "serve", "--listen", os.path.join(d, "unused.sock"),
         "--engine", ENV["ENGINE_SOCK"], "--settings", conf, "--state-dir",
         os.path.join(d, "state"), "--log-format", "json"],
        stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while not (os.path.exists(pub) and os.path.exists(res)):
            assert time.monotonic() < deadline, "systemd-socket-activate did not listen"
            time.sleep(0.05)
        # The first connection starts sockgate; it is answered, not refused.
        assert raw_request(pub, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")[0] == 200
        push = b"POST /v1.41/images/x/push?tag=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n"
        assert raw_request(res, push)[0] == 403          # restricted: the command list applies
        assert raw_request(pub, push)[0] != 403          # public: it does not
        assert not os.path.exists(os.path.join(d, "unused.sock"))  # --listen ignored
        with open(os.path.join(d, "sockgate.log"), "rb") as f:
            text = f.read().decode()
        assert "from the service manager (public)" in text and "(restricted)" in text, text
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        log.close()
    with open(os.path.join(d, "sockgate.log"), "rb") as f:
        text = f.read().decode()
    assert rc == 0, text[-2000:]
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert bad not in text, text[-3000:]
    # The socket files belong to the service manager: sockgate left them.
    assert os.path.exists(pub) and os.path.exists(res)
