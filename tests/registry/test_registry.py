"""test_registry.py — `sockgate digest` against Debian's docker-registry.

Digests are known because the content was pushed here (conftest.py); the
registry really serves, authenticates and validates tokens. Only 127.0.0.1
is contacted.
"""
import json
import socket
import threading
import time

import pytest

from conftest import auth_config, sha256

EP = "--registry-endpoint"


def ok(p):
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    return p.stdout.strip()


def fails(p, status, *words):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""
    line = p.stderr.strip()
    assert "\n" not in line, line
    assert line.startswith(f"sockgate digest: {status}: "), line
    for w in words:
        assert w in line, line
    return line


# ---- plain registry -------------------------------------------------------------

def test_tag_gives_manifest_digest(sockgate, open_registry, content):
    assert ok(sockgate(EP, f"docker.io={open_registry.url}", "docker:cli")) == content["cli"]
    # the same image, spelled the long way
    assert ok(sockgate(EP, f"docker.io={open_registry.url}/",
                       "docker.io/library/docker:cli")) == content["cli"]


def test_loopback_name_needs_no_endpoint(sockgate, open_registry, content):
    assert ok(sockgate(f"{open_registry.addr}/team/tool:1.0")) == content["other"]
    assert ok(sockgate(f"localhost:{open_registry.port}/library/docker:cli")) == content["cli"]


def test_endpoint_for_other_registry_name(sockgate, open_registry, content):
    # a non-loopback name may be served by a loopback endpoint
    assert ok(sockgate(EP, f"registry.example.com={open_registry.url}",
                       "registry.example.com/team/tool:1.0")) == content["other"]


def test_index_tag_gives_index_digest(sockgate, open_registry, content):
    d = ok(sockgate(EP, f"docker.io={open_registry.url}", "docker:multi"))
    assert d == content["index"]
    assert d != content["child"]


def test_digest_reference_that_exists(sockgate, open_registry, content):
    for key in ("cli", "index", "child"):
        ref = f"docker@{content[key]}"
        assert ok(sockgate(EP, f"docker.io={open_registry.url}", ref)) == content[key]


def test_missing_tag_repo_and_digest(sockgate, open_registry):
    fails(sockgate(EP, f"docker.io={open_registry.url}", "docker:no-such-tag"),
          "NOT_FOUND", "docker.io/library/docker:no-such-tag", "404")
    fails(sockgate(EP, f"docker.io={open_registry.url}", "nobody/nothing"),
          "NOT_FOUND", "docker.io/nobody/nothing:latest")
    fails(sockgate(EP, f"docker.io={open_registry.url}", "docker@" + sha256(b"absent")),
          "NOT_FOUND")


# ---- where a registry may be reached ------------------------------------------------

def test_http_endpoint_for_non_loopback_host_refused(sockgate):
    # refused before any connection: 192.0.2.1 (TEST-NET-1) is never contacted
    line = fails(sockgate(EP, "docker.io=http://192.0.2.1:5000", "docker:cli"),
                 "ERROR", "plain HTTP", "--insecure-registry")
    assert "192.0.2.1" in line


def test_bad_arguments(sockgate):
    assert sockgate().returncode == 2
    assert sockgate("a", "b").returncode == 2
    assert sockgate("--bogus", "docker:cli").returncode == 2
    assert sockgate(EP, "no-equals-sign", "docker:cli").returncode == 2
    assert sockgate(EP, "docker.io=ftp://127.0.0.1", "docker:cli").returncode == 2
    assert sockgate(EP, "docker.io=http://u:p@127.0.0.1", "docker:cli").returncode == 2
    p = sockgate("Docker:CLI")
    assert p.returncode == 1 and "invalid image reference" in p.stderr


# ---- unreachable registries ------------------------------------------------------------

def test_nobody_listening_is_unreachable_quickly(sockgate):
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = sockgate(EP, f"docker.io=http://127.0.0.1:{port}", "docker:cli")
    fails(p, "UNREACHABLE", f"127.0.0.1:{port}")
    assert p.elapsed < 3


@pytest.fixture
def silent_listener():
    """Accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held, stop = [], threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


def test_silent_registry_hits_total_timeout(sockgate, silent_listener):
    p = sockgate(EP, f"docker.io=http://127.0.0.1:{silent_listener}", "--timeout-ms", "1500",
                 "docker:cli")
    fails(p, "UNREACHABLE")
    assert 1.4 < p.elapsed < 6, p.elapsed


@pytest.fixture
def full_backlog():
    """A listener whose accept queue is full and never drained: the kernel
    drops further SYNs, so a connect hangs until the client gives up."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(8):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    time.sleep(0.2)
    yield port
    for c in fillers:
        c.close()
    srv.close()


def test_connect_timeout_is_honoured(sockgate, full_backlog):
    p = sockgate(EP, f"docker.io=http://127.0.0.1:{full_backlog}",
                 "--connect-timeout-ms", "1000", "--timeout-ms", "20000", "docker:cli")
    fails(p, "UNREACHABLE")
    assert 0.9 < p.elapsed < 5, p.elapsed


# ---- what the registry answers: GET fallback, redirects, bad headers ------------------

def test_no_digest_header_falls_back_to_get(sockgate, open_registry, content, front):
    f = front(open_registry.url, "strip")
    for tag, key in (("cli", "cli"), ("multi", "index")):
        assert ok(sockgate(EP, f"docker.io={f.url}", f"docker:{tag}")) == content[key]
    assert ("HEAD", "/v2/library/docker/manifests/cli") in f.seen
    assert ("GET", "/v2/library/docker/manifests/cli") in f.seen


def test_get_digest_header_must_match_content(sockgate, open_registry, front):
    f = front(open_registry.url, "lie")
    fails(sockgate(EP, f"docker.io={f.url}", "docker:cli"), "ERROR", "Docker-Content-Digest")


def test_malformed_digest_header_is_an_error(sockgate, open_registry, front):
    f = front(open_registry.url, "bad")
    fails(sockgate(EP, f"docker.io={f.url}", "docker:cli"), "ERROR",
          "invalid Docker-Content-Digest")


def test_redirect_is_followed(sockgate, open_registry, content, front):
    f = front(open_registry.url, "redirect")
    assert ok(sockgate(EP, f"docker.io={f.url}", "docker:cli")) == content["cli"]
    assert f.seen == [("HEAD", "/v2/library/docker/manifests/cli")]


def test_redirect_loop_is_bounded(sockgate, open_registry, front):
    f = front(open_registry.url, "loop")
    fails(sockgate(EP, f"docker.io={f.url}", "docker:cli"), "ERROR", "redirects")
    assert len(f.seen) == 4  # the request and 3 redirects


# ---- basic auth ---------------------------------------------------------------------------

def test_basic_auth_with_config(sockgate, htpasswd_registry, content, tmp_path):
    r = htpasswd_registry
    cfg = auth_config(tmp_path / "config.json", {r.addr: (r.user, r.password)})
    assert ok(sockgate("--registry-config", cfg, f"{r.addr}/library/docker:cli")) == content["cli"]
    cfg2 = auth_config(tmp_path / "c2.json", {f"https://{r.addr}": (r.user, r.password)})
    assert ok(sockgate("--registry-config", cfg2, f"{r.addr}/team/tool:1.0")) == content["other"]


def test_basic_auth_docker_hub_key(sockgate, htpasswd_registry, content, tmp_path):
    r = htpasswd_registry
    cfg = auth_config(tmp_path / "config.json", {
        "https://index.docker.io/v1/": (r.user, r.password),
        "ghcr.io": ("someone", "else")})
    assert ok(sockgate(EP, f"docker.io={r.url}", "--registry-config", cfg,
                       "docker:multi")) == content["index"]


def test_basic_auth_without_credentials(sockgate, htpasswd_registry, tmp_path):
    r = htpasswd_registry
    fails(sockgate(f"{r.addr}/library/docker:cli"), "UNAUTHORIZED", "--registry-config")
    other = auth_config(tmp_path / "other.json", {"ghcr.io": ("a", "b")})
    fails(sockgate("--registry-config", other, f"{r.addr}/library/docker:cli"),
          "UNAUTHORIZED", "no credentials")


def test_basic_auth_wrong_password(sockgate, htpasswd_registry, tmp_path):
    r = htpasswd_registry
    cfg = auth_config(tmp_path / "config.json", {r.addr: (r.user, "wrong")})
    fails(sockgate("--registry-config", cfg, f"{r.addr}/library/docker:cli"),
          "UNAUTHORIZED", "refused")


def test_credential_helpers_are_reported(sockgate, htpasswd_registry, tmp_path):
    r = htpasswd_registry
    cfg = auth_config(tmp_path / "store.json", {r.addr: (None, None)}, credsStore="desktop")
    fails(sockgate("--registry-config", cfg, f"{r.addr}/library/docker:cli"),
          "UNAUTHORIZED", "credsStore", "desktop", "not support")
    cfg = tmp_path / "helpers.json"
    cfg.write_text(json.dumps({"credHelpers": {r.addr: "pass"}}))
    fails(sockgate("--registry-config", cfg, f"{r.addr}/library/docker:cli"),
          "UNAUTHORIZED", "credHelpers", "pass")


def test_broken_config_is_reported(sockgate, htpasswd_registry, tmp_path):
    r = htpasswd_registry
    cfg = tmp_path / "broken.json"
    cfg.write_text('{"auths": ')
    fails(sockgate("--registry-config", cfg, f"{r.addr}/library/docker:cli"), "ERROR",
          "config.json")
    cfg.write_text(json.dumps({"auths": {r.addr: {"auth": "bm90LWJhc2U2NA"}}}))  # no colon
    fails(sockgate("--registry-config", cfg, f"{r.addr}/library/docker:cli"), "ERROR",
          "user:password")


# ---- bearer tokens (auth: token, validated by the registry) ---------------------------------

def test_bearer_anonymous(sockgate, token_registry, content):
    r = token_registry()
    assert ok(sockgate(EP, f"docker.io={r.url}", "docker:cli")) == content["cli"]
    assert ok(sockgate(EP, f"docker.io={r.url}", "docker:multi")) == content["index"]
    reqs = r.tokens.requests
    assert len(reqs) == 2 and all(q["user"] is None for q in reqs)
    assert reqs[0]["query"] == {"service": ["sockgate-test-registry"],
                                "scope": ["repository:library/docker:pull"]}


def test_bearer_with_credentials(sockgate, token_registry, content, tmp_path):
    r = token_registry(require_user="bob", require_password="hunter2")
    fails(sockgate(EP, f"docker.io={r.url}", "docker:cli"), "UNAUTHORIZED",
          "token server", "anonymous")
    cfg = auth_config(tmp_path / "config.json", {"https://index.docker.io/v1/":
                                                 ("bob", "hunter2")})
    assert ok(sockgate(EP, f"docker.io={r.url}", "--registry-config", cfg,
                       "docker@" + content["child"])) == content["child"]
    assert r.tokens.requests[-1]["user"] == "bob"
    bad = auth_config(tmp_path / "bad.json", {"docker.io": ("bob", "nope")})
    fails(sockgate(EP, f"docker.io={r.url}", "--registry-config", bad, "docker:cli"),
          "UNAUTHORIZED", "config.json")


def test_bearer_token_the_registry_rejects(sockgate, token_registry):
    # negative control: a token signed by an untrusted key is refused by the registry
    r = token_registry(wrong_key=True)
    fails(sockgate(EP, f"docker.io={r.url}", "docker:cli"), "UNAUTHORIZED", "401")
    assert len(r.tokens.requests) == 1


def test_bearer_missing_tag(sockgate, token_registry):
    r = token_registry()
    fails(sockgate(EP, f"docker.io={r.url}", "docker:nope"), "NOT_FOUND")
