/*
 * caller.h — who sent a request, and whether the isolation rules bind them.
 *
 * The kernel tells who is on the other end of a unix socket (SO_PEERCRED,
 * SO_PEERGROUPS, read once when the connection is accepted); nothing the
 * client sends can change it. docs/DESIGN.md section 7: with the policy on,
 * every caller is isolated except root on the public socket (root can open
 * the engine socket anyway) and the users and groups the administrator
 * lists in sockgate.exemptFromIsolation. Nobody on the restricted socket is
 * ever exempt.
 */
#ifndef SG_CALLER_H
#define SG_CALLER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy/settings.h"

typedef enum {
    SG_SOCKET_PUBLIC,     /* host users, CI, SDKs                      */
    SG_SOCKET_RESTRICTED, /* containers allowed to mount the socket    */
} sg_socket_kind;

#define SG_CALLER_MAX_GROUPS 64

/* The container behind a restricted-socket connection (gate/identify.c). */
typedef enum {
    SG_CONTAINER_NONE,    /* the public socket: no container to name      */
    SG_CONTAINER_PENDING, /* being identified: no request is read yet     */
    SG_CONTAINER_KNOWN,   /* cgroup and PID namespace agree with dockerd  */
    SG_CONTAINER_UNKNOWN, /* cannot be told: never the most permissive    */
} sg_container_state;

/* Kept small: every connection carries one (the name and image, for the
 * audit line, are the gate's: gate/identify.c). */
typedef struct {
    sg_container_state state;
    char id[65];          /* dockerd's ID when KNOWN, else ""             */
} sg_caller_container;

typedef struct {
    sg_socket_kind socket;
    pid_t pid;                            /* -1 when unknown               */
    uid_t uid;                            /* (uid_t)-1 when unknown        */
    gid_t gid;
    gid_t groups[SG_CALLER_MAX_GROUPS];   /* supplementary groups          */
    size_t n_groups;
    bool host_pidns;                      /* in sockgate's PID namespace   */
    sg_caller_container container;        /* restricted socket: who        */
} sg_caller;

const char *sg_socket_kind_name(sg_socket_kind kind);

/* Fill *c from a connected unix socket. Unknown fields stay "unknown",
 * which is never exempt. */
void sg_caller_from_socket(int fd, sg_socket_kind kind, sg_caller *c);

/* Do the isolation rules apply to this caller under this policy? */
bool sg_caller_isolated(const sg_settings *s, const sg_caller *c);

/*
 * The caller's home directory (for "$HOME" in filesharingAllowedDirectories)
 * into out; false when there is none to give: root, the restricted socket,
 * an unknown uid. Looked up in the user database, cached for a minute.
 */
bool sg_caller_home(const sg_caller *c, char *out, size_t outsz);

#endif
