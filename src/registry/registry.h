/*
 * registry.h — the Docker Registry HTTP API v2 client sockgate uses to prove
 * that an image is the registry's content (libcurl).
 *
 * Calls are blocking: they run on libuv's thread pool (uv_queue_work), never
 * on the event loop, so a slow or dead registry never stalls a client. Every
 * transfer has a connect and a total timeout.
 *
 * Where a registry is reached:
 *   1. an endpoint override for its name (--registry-endpoint NAME=URL), e.g.
 *      docker.io=http://127.0.0.1:5000 (an internal mirror, or a test one);
 *   2. docker.io → https://registry-1.docker.io;
 *   3. otherwise https://NAME. Plain http:// only for loopback names
 *      (localhost, 127.0.0.0/8, [::1]) or names listed as insecure.
 * Authentication: anonymous; on 401, the WWW-Authenticate challenge is
 * followed: Bearer (token endpoint, with credentials if config.json has
 * them for the registry) or Basic (credentials from config.json "auths").
 * Proxies come from the environment (https_proxy, no_proxy …), as curl reads
 * them.
 */
#ifndef SG_REGISTRY_H
#define SG_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *name;     /* registry name as in image references: "docker.io"  */
    char *base_url; /* "http://127.0.0.1:5000" (no trailing slash)         */
} sg_registry_endpoint;

typedef struct {
    sg_registry_endpoint *endpoints;
    size_t n_endpoints;
    char **insecure;            /* registry names allowed over plain HTTP   */
    size_t n_insecure;
    char *auth_config_path;     /* Docker config.json; NULL: none          */
    long connect_timeout_ms;    /* default 5000                              */
    long total_timeout_ms;      /* default 15000                             */
} sg_registry_config;

typedef enum {
    SG_REGISTRY_OK,
    SG_REGISTRY_NOT_FOUND,    /* 404: the registry does not have it        */
    SG_REGISTRY_UNAUTHORIZED, /* 401/403 after following the challenge     */
    SG_REGISTRY_UNREACHABLE,  /* DNS, connect, TLS, timeout                 */
    SG_REGISTRY_ERROR,        /* any other unexpected answer                */
} sg_registry_status;

/* Call once at start, before any thread uses the client. */
int sg_registry_global_init(void);
void sg_registry_global_cleanup(void);

/* Parse one --registry-endpoint NAME=URL into cfg (copies). -1 + *why. */
int sg_registry_config_add_endpoint(sg_registry_config *cfg, const char *spec,
                                    const char **why);
int sg_registry_config_add_insecure(sg_registry_config *cfg, const char *name);
void sg_registry_config_free(sg_registry_config *cfg);

/* Base URL used for a registry name (see the rules above). */
int sg_registry_base_url(const sg_registry_config *cfg, const char *name,
                         char *out, size_t outsz);

/*
 * The digest the registry serves for repository `path` on registry `name`
 * and `reference` (a tag, or a digest "sha256:…" to test for existence):
 * HEAD /v2/<path>/manifests/<reference> with an Accept header listing every
 * manifest and index media type (Docker v2 schema 2 manifest and manifest
 * list, OCI manifest and index, and v1 signed as a last resort). If the
 * answer lacks Docker-Content-Digest, the manifest is fetched with GET and
 * its sha256 computed. digest_out receives "sha256:<64 hex>".
 * On failure err receives a one-line reason fit for a user.
 */
sg_registry_status sg_registry_manifest_digest(const sg_registry_config *cfg,
                                               const char *name, const char *path,
                                               const char *reference,
                                               char digest_out[80],
                                               char *err, size_t errsz);

const char *sg_registry_status_name(sg_registry_status st);

/* The time limit of one whole look-up under cfg (its default when unset,
 * --registry-timeout in `sockgate serve`); also the longest the digest
 * cache lets a caller wait for one. */
long sg_registry_total_timeout_ms(const sg_registry_config *cfg);

#endif
