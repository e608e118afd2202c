"""test_zz_fdleak.py — runs last (files are collected in name order): after the
whole suite, sockgate holds no more client connections or other fds than when it
began, and no more engine connections than its idle keep-alive pool explains."""

import time

from conftest import BASELINE, ENV, classify_fds, describe_fds

# sockgate pools idle keep-alive connections to dockerd (up to 64). The pool
# only grows to the number of requests that were in flight at once, and this
# suite never has more than a handful in flight on the main gate; engine
# connections leaked by the ~200 streamed, hijacked or aborted requests of the
# suite would far exceed this.
MAX_IDLE_UPSTREAMS_SEEN = 8


def test_no_fd_leak_after_suite():
    pid = int(ENV["SOCKGATE_PID"])
    deadline = time.monotonic() + 20
    now = classify_fds(pid)
    while now["other"] > BASELINE["other"] and time.monotonic() < deadline:
        time.sleep(0.2)
        now = classify_fds(pid)
    assert now["other"] <= BASELINE["other"], (
        "sockgate holds %d non-engine fds, %d at the start:\n%s" % (
            now["other"], BASELINE["other"], describe_fds(pid)))
    limit = max(BASELINE["upstream"], MAX_IDLE_UPSTREAMS_SEEN)
    assert now["upstream"] <= limit, (
        "sockgate holds %d connections to the engine (at most %d idle expected):\n%s" % (
            now["upstream"], limit, describe_fds(pid)))
