/*
 * peer_container.h — which container a process on the restricted socket is
 * in, as the kernel tells it (issue 20: who is calling).
 *
 * Every container allowed to mount the Docker socket shares the one
 * restricted socket, so the socket alone cannot tell them apart. The kernel
 * can: SO_PEERCRED names the process that connected, /proc/PID/cgroup names
 * the cgroup dockerd made for its container (the container's ID is the
 * last path component that is one: ".../docker/ID", "docker-ID.scope",
 * "PARENT/ID"), and /proc/PID/ns/pid names its PID namespace. The gate then
 * asks dockerd about that ID and believes it only if the container's own
 * init process is in the same PID namespace (gate/identify.c): a process
 * that could move itself into another container's cgroup still cannot put
 * itself into that container's PID namespace.
 *
 * The peer is pinned with a pidfd taken at accept (SO_PEERPIDFD, Linux 6.5)
 * when the kernel has it: what is read from /proc is trusted only if that
 * process still exists afterwards, so a PID reused between connect() and
 * the reads cannot lend its container to the connection.
 */
#ifndef SG_PEER_CONTAINER_H
#define SG_PEER_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SG_CONTAINER_ID_LEN 64

typedef struct {
    char id[SG_CONTAINER_ID_LEN + 1]; /* from the cgroup; "" when none   */
    uint64_t pidns_dev, pidns_ino;    /* the peer's PID namespace         */
} sg_peer_container;

/*
 * The container ID that /proc/PID/cgroup text names: the deepest path
 * component that is, or wraps ("docker-ID.scope", "cri-containerd-ID"),
 * 64 lowercase hex digits, taken from the unified ("0::") line when there
 * is one, else from the first line that names one. false: none.
 */
bool sg_cgroup_container_id(const char *text, size_t len, char out[SG_CONTAINER_ID_LEN + 1]);

/*
 * Read the peer's container and PID namespace from /proc. pidfd: the
 * peer's pidfd from accept, or -1 (then a reused PID cannot be told).
 * false when anything cannot be read, or the peer is gone.
 */
bool sg_peer_container_read(pid_t pid, int pidfd, sg_peer_container *out);

/* The PID namespace of pid (a container's init): false when unreadable. */
bool sg_pidns_of(pid_t pid, uint64_t *dev, uint64_t *ino);
/* sockgate's own PID namespace. */
bool sg_pidns_self(uint64_t *dev, uint64_t *ino);

/* The peer's pidfd (SO_PEERPIDFD), or -1 when the kernel has none. */
int sg_peer_pidfd(int sock_fd);

#endif
