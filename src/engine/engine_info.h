/*
 * engine_info.h — what sockgate learns about the engine from GET /info:
 * whether it remaps users into a user namespace (daemon.json
 * "userns-remap", the recommended deployment: it is what makes "the
 * container runs in a user namespace" true on Linux), its default runtime
 * (the only one isolated containers may use) and its version. With
 * user namespaces, a container's root is an unprivileged host uid that
 * dockerd names in its data root; sockgate gives it the restricted socket
 * (server.c), or a socket-mounting container could not connect to it.
 */
#ifndef SG_ENGINE_INFO_H
#define SG_ENGINE_INFO_H

#include <jansson.h>
#include <stdbool.h>

typedef struct {
    bool known;               /* the engine has answered at least once      */
    bool userns;              /* SecurityOptions holds "name=userns"         */
    bool remap_known;         /* userns: remap_uid/gid read off the data root */
    unsigned remap_uid;       /* the host uid a container's root becomes:     */
    unsigned remap_gid;       /* DockerRootDir ends in "/<uid>.<gid>"         */
    char default_runtime[64]; /* DefaultRuntime                             */
    char version[64];         /* ServerVersion                              */
} sg_engine_info;

/* Read a GET /info answer; false (and *out untouched) if it is not one. */
bool sg_engine_info_read(json_t *info, sg_engine_info *out);

/* One line for logs and `sockgate check`/`status`. */
void sg_engine_info_describe(const sg_engine_info *ei, char *out, size_t outsz);

#endif
