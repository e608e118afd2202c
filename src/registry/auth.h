/*
 * auth.h — the pure, testable pieces of registry authentication and
 * transport policy: the WWW-Authenticate parser (untrusted bytes, fuzzed),
 * base64, config.json credential look-up, token responses and the token
 * cache, and which hosts may be spoken to in plain HTTP.
 */
#ifndef SG_REGISTRY_AUTH_H
#define SG_REGISTRY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SG_CHAL_NONE,
    SG_CHAL_BASIC,
    SG_CHAL_BEARER,
} sg_chal_scheme;

typedef struct {
    sg_chal_scheme scheme;
    char realm[1024];
    char service[256];
    char scope[1024];
    char error[64];     /* Bearer error="…", e.g. insufficient_scope */
} sg_challenge;

/*
 * Parse a WWW-Authenticate field value (RFC 7235: one or more challenges,
 * auth-params with token or quoted-string values, backslash escapes).
 * Picks the first Bearer challenge that has a realm, else the first Basic
 * one. Returns 0, or -1 if the value is malformed or offers neither.
 */
int sg_www_authenticate_parse(const char *v, size_t len, sg_challenge *out);

/* Standard base64 (padding optional). Returns decoded length or -1. */
long sg_base64_decode(const char *in, size_t len, unsigned char *out, size_t outsz);

typedef enum {
    SG_CRED_NONE,    /* no entry: go anonymous                           */
    SG_CRED_FOUND,   /* *user and *pass set (malloc'd)                    */
    SG_CRED_HELPER,  /* a credential helper holds them: unsupported; why  */
    SG_CRED_ERROR,   /* unreadable or malformed config.json; why           */
} sg_cred_status;

/* Credentials for registry `name` ("docker.io", "ghcr.io", "host:5000")
 * from a Docker config.json. */
sg_cred_status sg_auth_config_lookup(const char *path, const char *name,
                                     char **user, char **pass,
                                     char *why, size_t whysz);

/* A token endpoint's JSON answer: "token" or "access_token", "expires_in"
 * (default 60). Returns 0 with *token malloc'd, or -1. */
int sg_token_response_parse(const char *body, size_t len, char **token,
                            long *expires_in);

/* In-memory token cache, thread-safe. get returns a malloc'd copy or NULL. */
char *sg_token_cache_get(const char *key);
void sg_token_cache_put(const char *key, const char *token, long expires_in);
void sg_token_cache_drop(const char *key);
void sg_token_cache_clear(void);

/* "localhost", "127.0.0.0/8", "::1", with or without ":port" / brackets. */
bool sg_host_is_loopback(const char *hostport);

/*
 * May the client go from URL `from` to URL `to` (a redirect)? Only http and
 * https; never from https to http; http only to a loopback host or one for
 * which `insecure_ok` says yes. *same_host tells whether credentials may
 * follow.
 */
typedef bool (*sg_insecure_fn)(const char *host, void *arg);
bool sg_redirect_allowed(const char *from, const char *to, sg_insecure_fn insecure_ok,
                         void *arg, bool *same_host);

#endif
