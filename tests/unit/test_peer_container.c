/*
 * test_peer_container.c — the container ID named by /proc/PID/cgroup, in
 * the shapes dockerd's cgroup drivers and parents give it, and the peer of
 * a real socket pair (this process: not in a container).
 */
#include "decide/peer_container.h"

#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

#define ID "d73962288ea5edd803c540ec347f3ba67e66ac633927ae6d3f54761f13d0988d"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *id_of(const char *text)
{
    static char out[SG_CONTAINER_ID_LEN + 1];
    return sg_cgroup_container_id(text, strlen(text), out) ? out : NULL;
}

TEST(cgroupfs_v1_and_unified)
{
    CHECK_STR(id_of("9:name=systemd:/docker/" ID "\n8:pids:/docker/" ID "\n0::/docker/" ID "\n"),
              ID);
    CHECK_STR(id_of("0::/docker/" ID "\n"), ID);
    CHECK_STR(id_of("12:memory:/docker/" ID "\n"), ID); /* v1 only */
}

TEST(systemd_scopes_parents_and_nesting)
{
    CHECK_STR(id_of("0::/system.slice/docker-" ID ".scope\n"), ID);
    CHECK_STR(id_of("0::/kubepods/burstable/pod1/cri-containerd-" ID ".scope\n"), ID);
    CHECK_STR(id_of("0::/my-parent/" ID "\n"), ID);
    /* the deepest wins: a container's own cgroup below another's */
    CHECK_STR(id_of("0::/docker/" ID2 "/docker/" ID "\n"), ID);
    /* the unified line wins over v1 lines */
    CHECK_STR(id_of("3:cpu:/docker/" ID2 "\n0::/docker/" ID "\n"), ID);
}

TEST(no_container)
{
    CHECK(id_of("0::/user.slice/user-0.slice/session-1.scope\n") == NULL);
    CHECK(id_of("0::/\n") == NULL);
    CHECK(id_of("") == NULL);
    CHECK(id_of("0::/docker/" ID "0\n") == NULL);                       /* 65 digits */
    CHECK(id_of("0::/docker/D73962288EA5EDD803C540EC347F3BA67E66AC633927AE6D3F54761F13D0988D\n") ==
          NULL);                                                         /* uppercase */
    CHECK(id_of("garbage without colons " ID "\n") == NULL);
}

TEST(a_host_process_is_no_container)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int pidfd = sg_peer_pidfd(sv[0]);
    sg_peer_container pc;
    /* this test runs on the host (or the CI's own container, whose cgroup
     * may name one): either way the read itself must not fail on a live peer */
    bool read = sg_peer_container_read(getpid(), pidfd, &pc);
    CHECK(!read || strlen(pc.id) == SG_CONTAINER_ID_LEN);
    uint64_t dev, ino;
    CHECK(sg_pidns_of(getpid(), &dev, &ino));
    CHECK(!sg_pidns_of(0, &dev, &ino));
    if (pidfd >= 0)
        close(pidfd);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    RUN(cgroupfs_v1_and_unified);
    RUN(systemd_scopes_parents_and_nesting);
    RUN(no_container);
    RUN(a_host_process_is_no_container);
    return UNIT_DONE();
}
