/*
 * caller.c — the caller's identity and exemption (see caller.h).
 */
#include "decide/caller.h"

#include "decide/peer_container.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *sg_socket_kind_name(sg_socket_kind kind)
{
    return kind == SG_SOCKET_RESTRICTED ? "restricted" : "public";
}

/* Is pid in our PID namespace? Compared by the namespace's inode; read
 * when the connection is accepted, while the peer is still connected. */
static bool caller_same_pidns(pid_t pid)
{
    uint64_t our_dev, our_ino, dev, ino;
    return sg_pidns_self(&our_dev, &our_ino) && sg_pidns_of(pid, &dev, &ino) &&
           our_dev == dev && our_ino == ino;
}

void sg_caller_from_socket(int fd, sg_socket_kind kind, sg_caller *c)
{
    memset(c, 0, sizeof *c);
    c->socket = kind;
    c->pid = -1;
    c->uid = (uid_t)-1;
    c->gid = (gid_t)-1;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        c->pid = cred.pid;
        c->uid = cred.uid;
        c->gid = cred.gid;
    }
    /* The peer's supplementary groups as of connect(); a peer in more
     * groups than fit is simply not matched by the ones left out. */
    socklen_t glen = sizeof c->groups;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &glen) == 0)
        c->n_groups = glen / sizeof c->groups[0];
    c->host_pidns = c->pid > 0 && caller_same_pidns(c->pid);
}

static bool caller_in_group(const sg_caller *c, gid_t g)
{
    if (c->gid == g)
        return true;
    for (size_t i = 0; i < c->n_groups; i++)
        if (c->groups[i] == g)
            return true;
    return false;
}

bool sg_caller_isolated(const sg_settings *s, const sg_caller *c)
{
    if (!s->eci_enabled)
        return false;
    if (c->socket == SG_SOCKET_RESTRICTED || c->uid == (uid_t)-1 || !c->host_pidns)
        return true;
    if (c->uid == 0)
        return false;
    for (size_t i = 0; i < s->n_exempt_uids; i++)
        if (s->exempt_uids[i] == c->uid)
            return false;
    for (size_t i = 0; i < s->n_exempt_gids; i++)
        if (caller_in_group(c, s->exempt_gids[i]))
            return false;
    return true;
}

/* A tiny cache: the user database can be slow (NSS, LDAP) and the loop
 * must not wait on it for every request. */
#define HOME_CACHE 16
#define HOME_TTL_S 60

static struct {
    uid_t uid;
    time_t at;
    bool found;
    char home[256];
} home_cache[HOME_CACHE];

bool sg_caller_home(const sg_caller *c, char *out, size_t outsz)
{
    if (c->socket != SG_SOCKET_PUBLIC || c->uid == 0 || c->uid == (uid_t)-1)
        return false;
    time_t now = time(NULL);
    size_t slot = c->uid % HOME_CACHE;
    if (home_cache[slot].at && home_cache[slot].uid == c->uid &&
        now - home_cache[slot].at < HOME_TTL_S) {
        snprintf(out, outsz, "%s", home_cache[slot].home);
        return home_cache[slot].found;
    }
    struct passwd pw, *res = NULL;
    char buf[4096];
    /* A system account's "home" is often a system directory (/, /dev,
     * /usr/sbin): only a directory the caller owns is their home. */
    struct stat st;
    bool found = getpwuid_r(c->uid, &pw, buf, sizeof buf, &res) == 0 && res &&
                 pw.pw_dir && pw.pw_dir[0] == '/' &&
                 strspn(pw.pw_dir, "/") < strlen(pw.pw_dir) &&
                 strlen(pw.pw_dir) < sizeof home_cache[0].home && stat(pw.pw_dir, &st) == 0 &&
                 S_ISDIR(st.st_mode) && st.st_uid == c->uid;
    home_cache[slot].uid = c->uid;
    home_cache[slot].at = now;
    home_cache[slot].found = found;
    snprintf(home_cache[slot].home, sizeof home_cache[slot].home, "%s", found ? pw.pw_dir : "");
    snprintf(out, outsz, "%s", home_cache[slot].home);
    return found;
}
