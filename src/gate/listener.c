/*
 * listener.c — the sockets clients connect to.
 *
 * Either sockgate creates them (--listen, --restricted) or systemd hands
 * them over (socket activation: LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES; an
 * fd named "restricted" is the restricted socket, every other one public).
 * A socket sockgate created is removed at shutdown, but only if the path
 * still holds that very socket (same device and inode), so a successor that
 * already took the path over is never disturbed.
 */
#include <errno.h>
#include <grp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "gate/gate.h"

#define SD_LISTEN_FDS_START 3

static void listener_on_connection(uv_stream_t *s, int status)
{
    sg_listener *l = s->data;
    if (status < 0) {
        sg_warn("accept on %s socket failed: %s", sg_socket_kind_name(l->kind),
                uv_strerror(status));
        return;
    }
    /* Even while draining: libuv has accepted it already, and dropping it
     * would refuse a client that a restarted sockgate could have served. It
     * is served and closed after its exchange. */
    sg_conn_accept(l);
}

static sg_listener *listener_new(sg_server *srv, sg_socket_kind kind)
{
    sg_listener *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    if (uv_pipe_init(srv->loop, &l->pipe, 0) != 0) {
        free(l);
        return NULL;
    }
    l->srv = srv;
    l->kind = kind;
    l->pipe.data = l;
    l->next = srv->listeners;
    srv->listeners = l;
    return l;
}

/* A leftover socket file from a crashed run may be replaced; a live one, or
 * anything that is not a socket, may not. */
static int listener_clear_stale(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode)) {
        sg_error("%s exists and is not a socket; refusing to replace it", path);
        return -EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    if (live) {
        sg_error("%s is in use by another process", path);
        return -EADDRINUSE;
    }
    return unlink(path) == 0 ? 0 : -errno;
}

static int listener_set_owner(const sg_server_config *cfg, const char *path)
{
    if (cfg->socket_group) {
        struct group *g = getgrnam(cfg->socket_group);
        if (!g) {
            sg_error("--socket-group: no group named %s", cfg->socket_group);
            return -1;
        }
        if (chown(path, (uid_t)-1, g->gr_gid) != 0) {
            sg_error("chown %s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (chmod(path, cfg->socket_mode) != 0) {
        sg_error("chmod %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * With user namespaces, a socket-mounting container's root is an
 * unprivileged host uid: the restricted socket becomes its own, so that
 * the container can connect (the group and mode stay as configured). Only
 * the restricted socket: the public one is for the host's users.
 */
void sg_listeners_own_restricted(sg_server *srv, uid_t uid)
{
    char path[SG_LISTENER_PATH_MAX];
    for (sg_listener *l = srv->listeners; l; l = l->next) {
        if (l->kind != SG_SOCKET_RESTRICTED || !sg_listener_path(l, path, sizeof path))
            continue;
        if (chown(path, uid, (gid_t)-1) != 0)
            sg_warn("chown %s to uid %u (the engine's remapped root): %s", path, (unsigned)uid,
                    strerror(errno));
        else
            sg_info("restricted socket %s now belongs to uid %u, the root of containers under "
                    "userns-remap",
                    path, (unsigned)uid);
    }
}

static int listener_create(sg_server *srv, const char *path, sg_socket_kind kind)
{
    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        sg_error("socket path too long: %s", path);
        return -1;
    }
    if (listener_clear_stale(path) != 0)
        return -1;
    sg_listener *l = listener_new(srv, kind);
    if (!l)
        return -1;
    int rc = uv_pipe_bind(&l->pipe, path);
    if (rc == 0) {
        l->created_path = strdup(path);
        struct stat st;
        if (stat(path, &st) == 0) {
            l->dev = st.st_dev;
            l->ino = st.st_ino;
        }
        if (listener_set_owner(&srv->cfg, path) != 0)
            return -1;
        rc = uv_listen((uv_stream_t *)&l->pipe, SOMAXCONN, listener_on_connection);
    }
    if (rc != 0) {
        sg_error("cannot listen on %s: %s", path, uv_strerror(rc));
        return -1;
    }
    sg_info("listening on %s (%s)", path, sg_socket_kind_name(kind));
    return 0;
}

static sg_socket_kind listener_kind_from_name(const char *names, int index)
{
    const char *p = names;
    for (int i = 0; p && i < index; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (!p)
        return SG_SOCKET_PUBLIC;
    size_t len = strcspn(p, ":");
    return len == 10 && strncmp(p, "restricted", 10) == 0 ? SG_SOCKET_RESTRICTED
                                                          : SG_SOCKET_PUBLIC;
}

/* Returns the number of sockets systemd passed, or -1 on error. */
static int listener_adopt_activated(sg_server *srv)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    int n = (int)strtol(fds, NULL, 10);
    const char *names = getenv("LISTEN_FDNAMES");
    for (int i = 0; i < n; i++) {
        sg_listener *l = listener_new(srv, listener_kind_from_name(names, i));
        int fd = SD_LISTEN_FDS_START + i;
        int rc = l ? uv_pipe_open(&l->pipe, fd) : UV_ENOMEM;
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&l->pipe, SOMAXCONN, listener_on_connection);
        if (rc != 0) {
            sg_error("socket activation: fd %d: %s", fd, uv_strerror(rc));
            return -1;
        }
        sg_info("listening on fd %d from the service manager (%s)", fd,
                sg_socket_kind_name(l->kind));
    }
    /* Children (none today) must not think the sockets are theirs. */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return n;
}

int sg_listeners_open(sg_server *srv)
{
    int activated = listener_adopt_activated(srv);
    if (activated < 0)
        return -1;
    if (activated > 0)
        return 0;
    if (!srv->cfg.listen_path) {
        sg_error("no socket to listen on: give --listen or start under socket activation");
        return -1;
    }
    if (listener_create(srv, srv->cfg.listen_path, SG_SOCKET_PUBLIC) != 0)
        return -1;
    if (srv->cfg.restricted_path &&
        listener_create(srv, srv->cfg.restricted_path, SG_SOCKET_RESTRICTED) != 0)
        return -1;
    return 0;
}

/* The socket's path, read back from the socket itself: the same answer for
 * a socket sockgate created and one the service manager passed. */
bool sg_listener_path(const sg_listener *l, char *out, size_t outsz)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    uv_os_fd_t fd;
    if (uv_fileno((const uv_handle_t *)&l->pipe, &fd) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0 ||
        len <= offsetof(struct sockaddr_un, sun_path) || !sa.sun_path[0])
        return false;
    size_t n = strnlen(sa.sun_path, len - offsetof(struct sockaddr_un, sun_path));
    if (n >= outsz)
        return false;
    memcpy(out, sa.sun_path, n);
    out[n] = '\0';
    return true;
}

static void listener_on_closed(uv_handle_t *h)
{
    sg_listener *l = h->data;
    free(l->created_path);
    free(l);
}

static void listener_unlink_if_ours(const sg_listener *l)
{
    struct stat st;
    if (!l->created_path || lstat(l->created_path, &st) != 0)
        return;
    if (st.st_dev == l->dev && st.st_ino == l->ino)
        unlink(l->created_path);
}

void sg_listeners_close(sg_server *srv)
{
    while (srv->listeners) {
        sg_listener *l = srv->listeners;
        srv->listeners = l->next;
        listener_unlink_if_ours(l);
        uv_close((uv_handle_t *)&l->pipe, listener_on_closed);
    }
}
