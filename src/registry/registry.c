/*
 * registry.c — the Docker Registry HTTP API v2 client (libcurl): endpoint
 * configuration, where a registry is reached, and the manifest digest
 * look-up with its challenge, token, redirect and fallback-to-GET steps.
 * The parsers and policies it relies on live in auth.c.
 */
#include "registry/registry.h"

#include "base/sha256.h"
#include "registry/auth.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RG_MANIFEST_MAX (4u << 20)   /* a manifest or index, generously     */
#define RG_TOKEN_BODY_MAX (1u << 20) /* a token endpoint's JSON answer       */
#define RG_CHALLENGE_MAX 8192        /* WWW-Authenticate values, joined      */
#define RG_MAX_REDIRECTS 3
#define RG_URL_MAX 2048
#define RG_DEFAULT_CONNECT_MS 5000
#define RG_DEFAULT_TOTAL_MS 15000

#ifndef SG_VERSION
#define SG_VERSION "dev"
#endif

static const char rg_accept[] =
    "Accept: application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

int sg_registry_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void sg_registry_global_cleanup(void)
{
    sg_token_cache_clear();
    curl_global_cleanup();
}

const char *sg_registry_status_name(sg_registry_status st)
{
    switch (st) {
    case SG_REGISTRY_OK: return "OK";
    case SG_REGISTRY_NOT_FOUND: return "NOT_FOUND";
    case SG_REGISTRY_UNAUTHORIZED: return "UNAUTHORIZED";
    case SG_REGISTRY_UNREACHABLE: return "UNREACHABLE";
    case SG_REGISTRY_ERROR: return "ERROR";
    }
    return "ERROR";
}

/* ---- configuration ------------------------------------------------------ */

/* host[:port] or [v6]:port: nothing that could change a URL's meaning. */
static bool rg_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 255 || name[0] == '-' || name[0] == '.' || name[0] == ':')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

static bool rg_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Repository path as distribution/reference allows it: components of
 * [a-z0-9._-] that start and end alphanumeric, so no "." or ".." segment
 * that an HTTP client would fold away. */
static bool rg_path_valid(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > 255 || strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789._/-") != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool edge = i == 0 || i == n - 1 || path[i - 1] == '/' || path[i + 1] == '/';
        if (edge && path[i] != '/' && !rg_alnum_lower(path[i]))
            return false;
        if (path[i] == '/' && (i == 0 || i == n - 1 || path[i + 1] == '/'))
            return false;
    }
    return true;
}

static bool rg_digest_valid(const char *d)
{
    if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
        return false;
    return strspn(d + 7, "0123456789abcdef") == 64;
}

/* A tag ([\w][\w.-]{0,127}) or a sha256 digest. */
static bool rg_reference_valid(const char *ref)
{
    if (strchr(ref, ':'))
        return rg_digest_valid(ref);
    size_t n = strlen(ref);
    return n >= 1 && n <= 128 && ref[0] != '.' && ref[0] != '-' &&
           strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Scheme and host[:port] of a base URL; -1 unless http(s)://host[:port][/path]
 * with no credentials, query or fragment. */
static int rg_url_origin(const char *url, char *scheme, size_t ssz, char *host, size_t hsz)
{
    CURLU *u = curl_url();
    char *sc = NULL, *h = NULL, *port = NULL, *user = NULL, *q = NULL, *frag = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
        curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_NO_QUERY &&
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_NO_FRAGMENT &&
        (strcmp(sc, "http") == 0 || strcmp(sc, "https") == 0) && *h) {
        CURLUcode pc = curl_url_get(u, CURLUPART_PORT, &port, 0);
        int w1 = snprintf(scheme, ssz, "%s", sc);
        int w2 = pc == CURLUE_OK ? snprintf(host, hsz, "%s:%s", h, port)
                                 : snprintf(host, hsz, "%s", h);
        rc = w1 > 0 && (size_t)w1 < ssz && w2 > 0 && (size_t)w2 < hsz ? 0 : -1;
    }
    curl_free(sc);
    curl_free(h);
    curl_free(port);
    curl_free(user);
    curl_free(q);
    curl_free(frag);
    curl_url_cleanup(u);
    return rc;
}

int sg_registry_config_add_endpoint(sg_registry_config *cfg, const char *spec, const char **why)
{
    const char *eq = strchr(spec, '=');
    *why = NULL;
    if (!eq || eq == spec) {
        *why = "expected NAME=URL, e.g. docker.io=http://127.0.0.1:5000";
        return -1;
    }
    char name[256], scheme[16], host[300];
    size_t n = (size_t)(eq - spec);
    if (n >= sizeof name) {
        *why = "registry name too long";
        return -1;
    }
    memcpy(name, spec, n);
    name[n] = '\0';
    const char *url = eq + 1;
    size_t ulen = strlen(url);
    while (ulen && url[ulen - 1] == '/')
        ulen--;
    if (!rg_name_valid(name)) {
        *why = "invalid registry name (expected host[:port], e.g. docker.io)";
        return -1;
    }
    char *base = strndup(url, ulen);
    if (!base || ulen >= RG_URL_MAX / 2 ||
        rg_url_origin(base, scheme, sizeof scheme, host, sizeof host) != 0 ||
        strncasecmp(base, scheme, strlen(scheme)) != 0) {
        free(base);
        *why = "invalid endpoint URL (expected http[s]://host[:port][/path], "
               "no credentials, query or fragment)";
        return -1;
    }
    for (size_t i = 0; i < cfg->n_endpoints; i++)
        if (strcasecmp(cfg->endpoints[i].name, name) == 0) { /* last one wins */
            free(cfg->endpoints[i].base_url);
            cfg->endpoints[i].base_url = base;
            return 0;
        }
    sg_registry_endpoint *e = realloc(cfg->endpoints, (cfg->n_endpoints + 1) * sizeof *e);
    char *nm = strdup(name);
    if (!e || !nm) {
        if (e)
            cfg->endpoints = e;
        free(base);
        free(nm);
        *why = "out of memory";
        return -1;
    }
    cfg->endpoints = e;
    e[cfg->n_endpoints].name = nm;
    e[cfg->n_endpoints].base_url = base;
    cfg->n_endpoints++;
    return 0;
}

int sg_registry_config_add_insecure(sg_registry_config *cfg, const char *name)
{
    if (!rg_name_valid(name))
        return -1;
    char **v = realloc(cfg->insecure, (cfg->n_insecure + 1) * sizeof *v);
    if (!v)
        return -1;
    cfg->insecure = v;
    if (!(v[cfg->n_insecure] = strdup(name)))
        return -1;
    cfg->n_insecure++;
    return 0;
}

void sg_registry_config_free(sg_registry_config *cfg)
{
    for (size_t i = 0; i < cfg->n_endpoints; i++) {
        free(cfg->endpoints[i].name);
        free(cfg->endpoints[i].base_url);
    }
    for (size_t i = 0; i < cfg->n_insecure; i++)
        free(cfg->insecure[i]);
    free(cfg->endpoints);
    free(cfg->insecure);
    free(cfg->auth_config_path);
    memset(cfg, 0, sizeof *cfg);
}

/* "host:port" matches an insecure entry "host:port" or "host". */
static bool rg_is_insecure(const char *hostport, void *arg)
{
    const sg_registry_config *cfg = arg;
    size_t hlen = strcspn(hostport, ":");
    if (hostport[0] == '[')
        hlen = strcspn(hostport, "]") + 1;
    for (size_t i = 0; cfg && i < cfg->n_insecure; i++) {
        const char *e = cfg->insecure[i];
        if (strcasecmp(e, hostport) == 0 ||
            (strlen(e) == hlen && strncasecmp(e, hostport, hlen) == 0))
            return true;
    }
    return false;
}

static int rg_base_url(const sg_registry_config *cfg, const char *name, char *out, size_t outsz,
                       char *why, size_t whysz)
{
    int w;
    if (!rg_name_valid(name)) {
        snprintf(why, whysz, "invalid registry name \"%.100s\"", name);
        return -1;
    }
    const sg_registry_endpoint *ep = NULL;
    for (size_t i = 0; cfg && i < cfg->n_endpoints; i++)
        if (strcasecmp(cfg->endpoints[i].name, name) == 0)
            ep = &cfg->endpoints[i];
    if (ep) {
        char scheme[16], host[300];
        if (rg_url_origin(ep->base_url, scheme, sizeof scheme, host, sizeof host) != 0) {
            snprintf(why, whysz, "invalid endpoint URL for %s", name);
            return -1;
        }
        if (strcmp(scheme, "http") == 0 && !sg_host_is_loopback(host) &&
            !rg_is_insecure(name, (void *)cfg) && !rg_is_insecure(host, (void *)cfg)) {
            snprintf(why, whysz, "endpoint %.200s for %s is plain HTTP to a non-loopback host; "
                     "use https or list %s with --insecure-registry", ep->base_url, name, name);
            return -1;
        }
        w = snprintf(out, outsz, "%s", ep->base_url);
    } else if (strcmp(name, "docker.io") == 0) {
        w = snprintf(out, outsz, "https://registry-1.docker.io");
    } else {
        bool plain = sg_host_is_loopback(name) || rg_is_insecure(name, (void *)cfg);
        w = snprintf(out, outsz, "%s://%s", plain ? "http" : "https", name);
    }
    if (w < 0 || (size_t)w >= outsz) {
        snprintf(why, whysz, "registry URL too long");
        return -1;
    }
    return 0;
}

int sg_registry_base_url(const sg_registry_config *cfg, const char *name, char *out,
                         size_t outsz)
{
    char why[256];
    return rg_base_url(cfg, name, out, outsz, why, sizeof why);
}

/* ---- one HTTP exchange ------------------------------------------------------ */

typedef struct {
    long status;
    char digest[80];  /* Docker-Content-Digest as sent (trimmed), or "" */
    bool digest_seen;
    char chal[RG_CHALLENGE_MAX];
    size_t chal_len;
    char *redirect;   /* Location resolved against the request URL, or NULL */
    char *body;
    size_t body_len, body_max;
    bool body_overflow;
} rg_resp;

typedef struct {
    const char *bearer;        /* "Authorization: Bearer …" when set       */
    const char *user, *pass;   /* Basic, when set and no bearer             */
} rg_auth;

typedef struct {
    const sg_registry_config *cfg;
    const char *name;
    long long deadline_ms;     /* CLOCK_MONOTONIC                           */
    long connect_ms;
} rg_ctx;

static long long rg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rg_resp_reset(rg_resp *r)
{
    free(r->body);
    free(r->redirect);
    size_t max = r->body_max;
    memset(r, 0, sizeof *r);
    r->body_max = max;
}

static void rg_trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
                  (*s)[*n - 1] == '\n'))
        (*n)--;
}

static bool rg_header_is(const char *line, size_t n, const char *name, const char **val,
                         size_t *vn)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return false;
    *val = line + k + 1;
    *vn = n - k - 1;
    rg_trim(val, vn);
    return true;
}

/* Collects the two headers that matter; a new status line (after 100
 * Continue, or a proxy's CONNECT answer) starts over. */
static size_t rg_on_header(char *line, size_t size, size_t nmemb, void *arg)
{
    rg_resp *r = arg;
    size_t n = size * nmemb;
    const char *v;
    size_t vn;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        r->digest[0] = '\0';
        r->digest_seen = false;
        r->chal_len = 0;
        r->chal[0] = '\0';
    } else if (rg_header_is(line, n, "Docker-Content-Digest", &v, &vn)) {
        r->digest_seen = true;
        if (vn < sizeof r->digest) {
            memcpy(r->digest, v, vn);
            r->digest[vn] = '\0';
        } else {
            r->digest[0] = '\0'; /* too long: invalid */
        }
    } else if (rg_header_is(line, n, "WWW-Authenticate", &v, &vn)) {
        /* Several fields are one list (RFC 9110 5.3). Too much is dropped:
         * the parser then sees a truncated list and may refuse it. */
        size_t need = vn + (r->chal_len ? 2 : 0);
        if (r->chal_len + need < sizeof r->chal) {
            if (r->chal_len) {
                memcpy(r->chal + r->chal_len, ", ", 2);
                r->chal_len += 2;
            }
            memcpy(r->chal + r->chal_len, v, vn);
            r->chal_len += vn;
            r->chal[r->chal_len] = '\0';
        }
    }
    return n;
}

static size_t rg_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    rg_resp *r = arg;
    size_t n = size * nmemb;
    if (r->body_len + n > r->body_max) {
        r->body_overflow = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    char *b = realloc(r->body, r->body_len + n + 1);
    if (!b)
        return 0;
    memcpy(b + r->body_len, data, n);
    r->body = b;
    r->body_len += n;
    b[r->body_len] = '\0';
    return n;
}

static bool rg_curl_unreachable(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_PROXY:
        return true;
    default:
        return false;
    }
}

static void rg_setup(CURL *h, const rg_ctx *ctx, const char *method, const char *url,
                     struct curl_slist *hdrs, const rg_auth *auth, rg_resp *r, long left,
                     char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* redirects: rg_fetch checks each */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);       /* thread pool: no SIGALRM   */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ctx->connect_ms < left ? ctx->connect_ms : left);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sockgate/" SG_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, rg_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rg_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (auth && !auth->bearer && auth->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, auth->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, auth->pass);
    }
}

/* One request, no redirects followed. OK means an HTTP answer arrived. */
static sg_registry_status rg_transfer(const rg_ctx *ctx, const char *method, const char *url,
                                      const char *accept, const rg_auth *auth, rg_resp *r,
                                      char *err, size_t errsz)
{
    long long left = ctx->deadline_ms - rg_now_ms();
    if (left <= 0) {
        snprintf(err, errsz, "timed out talking to %s", ctx->name);
        return SG_REGISTRY_UNREACHABLE;
    }
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL, *tmp;
    char bearer[64 + 8192];
    char errbuf[CURL_ERROR_SIZE] = "";
    bool oom = !h || !(hdrs = curl_slist_append(NULL, accept));
    if (!oom && auth && auth->bearer) {
        int w = snprintf(bearer, sizeof bearer, "Authorization: Bearer %s", auth->bearer);
        oom = w < 0 || (size_t)w >= sizeof bearer || !(tmp = curl_slist_append(hdrs, bearer));
    }
    if (oom) {
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        snprintf(err, errsz, "cannot set up a request to %s", ctx->name);
        return SG_REGISTRY_ERROR;
    }
    rg_setup(h, ctx, method, url, hdrs, auth, r, (long)left, errbuf);
    CURLcode rc = curl_easy_perform(h);
    sg_registry_status st = SG_REGISTRY_OK;
    if (rc != CURLE_OK) {
        const char *what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (r->body_overflow) {
            snprintf(err, errsz, "%s answered more than %zu bytes", url, r->body_max);
            st = SG_REGISTRY_ERROR;
        } else {
            st = rg_curl_unreachable(rc) ? SG_REGISTRY_UNREACHABLE : SG_REGISTRY_ERROR;
            snprintf(err, errsz, "cannot reach registry %s at %s: %s", ctx->name, url, what);
        }
    } else {
        char *loc = NULL;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
            r->redirect = strdup(loc);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return st;
}

static bool rg_is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/*
 * A request and up to RG_MAX_REDIRECTS redirects, each checked by
 * sg_redirect_allowed; credentials only follow to the same origin.
 */
static sg_registry_status rg_fetch(const rg_ctx *ctx, const char *method, const char *url,
                                   const char *accept, const rg_auth *auth, rg_resp *r,
                                   char *err, size_t errsz)
{
    char cur[RG_URL_MAX];
    snprintf(cur, sizeof cur, "%s", url);
    const rg_auth *a = auth;
    for (int hops = 0;; hops++) {
        rg_resp_reset(r);
        sg_registry_status st = rg_transfer(ctx, method, cur, accept, a, r, err, errsz);
        if (st != SG_REGISTRY_OK || !rg_is_redirect(r->status) || !r->redirect)
            return st;
        bool same = false;
        if (hops == RG_MAX_REDIRECTS) {
            snprintf(err, errsz, "registry %s: more than %d redirects", ctx->name,
                     RG_MAX_REDIRECTS);
            return SG_REGISTRY_ERROR;
        }
        if (strlen(r->redirect) >= sizeof cur ||
            !sg_redirect_allowed(cur, r->redirect, rg_is_insecure, (void *)ctx->cfg, &same)) {
            snprintf(err, errsz, "registry %s: refusing redirect from %.300s to %.300s "
                     "(only https, or plain http between loopback or insecure hosts)",
                     ctx->name, cur, r->redirect);
            return SG_REGISTRY_ERROR;
        }
        if (!same)
            a = NULL;
        snprintf(cur, sizeof cur, "%s", r->redirect);
    }
}

/* ---- authentication ----------------------------------------------------------- */

typedef struct {
    char *bearer;
    char *user, *pass;
    bool creds_loaded;
    sg_cred_status cred_st;
    char cred_why[512];
    char chal_error[64];
    char key[2048];          /* token cache key */
    bool bearer_from_cache;
} rg_authstate;

static void rg_authstate_free(rg_authstate *s)
{
    free(s->bearer);
    free(s->user);
    free(s->pass);
}

static sg_registry_status rg_load_creds(const rg_ctx *ctx, rg_authstate *s, char *err,
                                        size_t errsz)
{
    if (!s->creds_loaded) {
        s->creds_loaded = true;
        s->cred_st = sg_auth_config_lookup(ctx->cfg ? ctx->cfg->auth_config_path : NULL,
                                           ctx->name, &s->user, &s->pass, s->cred_why,
                                           sizeof s->cred_why);
    }
    if (s->cred_st == SG_CRED_ERROR) {
        snprintf(err, errsz, "%s", s->cred_why);
        return SG_REGISTRY_ERROR;
    }
    return SG_REGISTRY_OK;
}

/* Tokens are per registry, scope and credentials source; "" (too long to
 * key safely) means: do not cache. */
static void rg_cache_key(const rg_ctx *ctx, const char *scope, char *out, size_t outsz)
{
    const char *cfgpath = ctx->cfg && ctx->cfg->auth_config_path ? ctx->cfg->auth_config_path : "";
    size_t need = strlen(ctx->name) + strlen(scope) + strlen(cfgpath) + 3;
    if (need > outsz)
        out[0] = '\0';
    else
        snprintf(out, outsz, "%s\x1f%s\x1f%s", ctx->name, scope, cfgpath);
}

/* realm?service=…&scope=… with both values escaped. */
static int rg_token_url(const sg_challenge *ch, const char *scope, char *out, size_t outsz)
{
    char *svc = curl_easy_escape(NULL, ch->service, 0);
    char *sc = curl_easy_escape(NULL, scope, 0);
    int w = -1;
    if (svc && sc) {
        char sep = strchr(ch->realm, '?') ? '&' : '?';
        w = ch->service[0] ? snprintf(out, outsz, "%s%cservice=%s&scope=%s", ch->realm, sep, svc, sc)
                           : snprintf(out, outsz, "%s%cscope=%s", ch->realm, sep, sc);
    }
    curl_free(svc);
    curl_free(sc);
    return w < 0 || (size_t)w >= outsz ? -1 : 0;
}

static sg_registry_status rg_get_token(const rg_ctx *ctx, const char *base,
                                       const sg_challenge *ch, const char *scope,
                                       rg_authstate *s, char *err, size_t errsz)
{
    char url[RG_URL_MAX + 2048];
    bool same;
    /* The realm must not downgrade: credentials may be sent to it. */
    if (!sg_redirect_allowed(base, ch->realm, rg_is_insecure, (void *)ctx->cfg, &same) ||
        rg_token_url(ch, scope, url, sizeof url) != 0) {
        snprintf(err, errsz, "registry %s: refusing token realm \"%.300s\" (must be https, or "
                 "plain http on a loopback or insecure host)", ctx->name, ch->realm);
        return SG_REGISTRY_ERROR;
    }
    rg_auth a = {NULL, s->cred_st == SG_CRED_FOUND ? s->user : NULL, s->pass};
    rg_resp r = {.body_max = RG_TOKEN_BODY_MAX};
    sg_registry_status st = rg_fetch(ctx, "GET", url, "Accept: application/json", &a, &r,
                                     err, errsz);
    if (st == SG_REGISTRY_OK) {
        long expires = 0;
        if (r.status == 401 || r.status == 403) {
            snprintf(err, errsz, "registry %s: token server %.300s refused %s (HTTP %ld)%s%s",
                     ctx->name, ch->realm, a.user ? "the credentials from config.json" :
                     "anonymous access", r.status, s->cred_st == SG_CRED_HELPER ? "; " : "",
                     s->cred_st == SG_CRED_HELPER ? s->cred_why : "");
            st = SG_REGISTRY_UNAUTHORIZED;
        } else if (r.status != 200 ||
                   sg_token_response_parse(r.body ? r.body : "", r.body_len, &s->bearer,
                                           &expires) != 0) {
            snprintf(err, errsz, "registry %s: token server %.300s gave no usable token "
                     "(HTTP %ld)", ctx->name, ch->realm, r.status);
            st = SG_REGISTRY_ERROR;
        } else {
            rg_cache_key(ctx, scope, s->key, sizeof s->key);
            if (s->key[0])
                sg_token_cache_put(s->key, s->bearer, expires);
        }
    }
    rg_resp_reset(&r);
    return st;
}

/* A 401: follow its challenge so the next attempt carries credentials. */
static sg_registry_status rg_answer_challenge(const rg_ctx *ctx, const char *base,
                                              const char *path, const rg_resp *r,
                                              rg_authstate *s, char *err, size_t errsz)
{
    sg_challenge ch;
    if (sg_www_authenticate_parse(r->chal, r->chal_len, &ch) != 0) {
        snprintf(err, errsz, "registry %s answered 401 without a usable WWW-Authenticate "
                 "challenge (Bearer with realm, or Basic)", ctx->name);
        return SG_REGISTRY_UNAUTHORIZED;
    }
    sg_registry_status st = rg_load_creds(ctx, s, err, errsz);
    if (st != SG_REGISTRY_OK)
        return st;
    if (ch.scheme == SG_CHAL_BASIC) {
        if (s->cred_st == SG_CRED_FOUND)
            return SG_REGISTRY_OK;
        if (s->cred_st == SG_CRED_HELPER)
            snprintf(err, errsz, "registry %s requires authentication: %s", ctx->name,
                     s->cred_why);
        else
            snprintf(err, errsz, "registry %s requires authentication (Basic) and %s",
                     ctx->name, ctx->cfg && ctx->cfg->auth_config_path
                                    ? "config.json has no credentials for it"
                                    : "no config.json was given (--registry-config)");
        return SG_REGISTRY_UNAUTHORIZED;
    }
    char scope[1100];
    if (ch.scope[0])
        snprintf(scope, sizeof scope, "%s", ch.scope);
    else
        snprintf(scope, sizeof scope, "repository:%s:pull", path);
    free(s->bearer);
    s->bearer = NULL;
    s->bearer_from_cache = false;
    return rg_get_token(ctx, base, &ch, scope, s, err, errsz);
}

/* ---- the manifest digest ----------------------------------------------------------- */

static void rg_auth_view(const rg_authstate *s, rg_auth *a)
{
    a->bearer = s->bearer;
    a->user = s->cred_st == SG_CRED_FOUND ? s->user : NULL;
    a->pass = s->pass;
}

/* HEAD (or GET) the manifest, answering at most one challenge. */
static sg_registry_status rg_manifest_request(const rg_ctx *ctx, const char *method,
                                              const char *base, const char *url,
                                              const char *path, rg_authstate *s, rg_resp *r,
                                              char *err, size_t errsz)
{
    for (int attempt = 0;; attempt++) {
        rg_auth a;
        rg_auth_view(s, &a);
        sg_registry_status st = rg_fetch(ctx, method, url, rg_accept, &a, r, err, errsz);
        if (st != SG_REGISTRY_OK || r->status != 401 || attempt == 1)
            return st;
        if (s->bearer_from_cache && s->key[0])
            sg_token_cache_drop(s->key); /* revoked or expired early */
        sg_challenge ch;
        if (sg_www_authenticate_parse(r->chal, r->chal_len, &ch) == 0)
            snprintf(s->chal_error, sizeof s->chal_error, "%s", ch.error);
        st = rg_answer_challenge(ctx, base, path, r, s, err, errsz);
        if (st != SG_REGISTRY_OK)
            return st;
    }
}

static sg_registry_status rg_classify(const rg_ctx *ctx, const char *image, const char *base,
                                      const rg_resp *r, const rg_authstate *s, char *err,
                                      size_t errsz)
{
    if (r->status >= 200 && r->status < 300)
        return SG_REGISTRY_OK;
    if (r->status == 404) {
        snprintf(err, errsz, "%s: manifest unknown to registry %s (HTTP 404 from %s)", image,
                 ctx->name, base);
        return SG_REGISTRY_NOT_FOUND;
    }
    if (r->status == 401 || r->status == 403) {
        const char *hint = s->cred_st == SG_CRED_HELPER ? s->cred_why
                           : s->cred_st == SG_CRED_FOUND ? "credentials from config.json were refused"
                                                         : "anonymous access was refused";
        snprintf(err, errsz, "%s: registry %s denied access (HTTP %ld%s%s): %s", image,
                 ctx->name, r->status, s->chal_error[0] ? ", " : "", s->chal_error, hint);
        return SG_REGISTRY_UNAUTHORIZED;
    }
    snprintf(err, errsz, "%s: registry %s answered HTTP %ld", image, ctx->name, r->status);
    return SG_REGISTRY_ERROR;
}

/* No usable Docker-Content-Digest on HEAD: GET the manifest and hash it. */
static sg_registry_status rg_digest_by_get(const rg_ctx *ctx, const char *image,
                                           const char *base, const char *url, const char *path,
                                           rg_authstate *s, char digest_out[80], char *err,
                                           size_t errsz)
{
    rg_resp r = {.body_max = RG_MANIFEST_MAX};
    sg_registry_status st = rg_manifest_request(ctx, "GET", base, url, path, s, &r, err, errsz);
    if (st == SG_REGISTRY_OK)
        st = rg_classify(ctx, image, base, &r, s, err, errsz);
    if (st == SG_REGISTRY_OK) {
        char hex[65];
        sg_sha256_hex(r.body ? r.body : "", r.body_len, hex);
        snprintf(digest_out, 80, "sha256:%s", hex);
        /* A header that disagrees with the bytes is a broken or lying registry. */
        if (r.digest_seen && rg_digest_valid(r.digest) && strcmp(r.digest, digest_out) != 0) {
            snprintf(err, errsz, "%s: registry %s sent Docker-Content-Digest %s for content "
                     "whose sha256 is %s", image, ctx->name, r.digest, digest_out);
            digest_out[0] = '\0';
            st = SG_REGISTRY_ERROR;
        }
    }
    rg_resp_reset(&r);
    return st;
}

static sg_registry_status rg_digest(const rg_ctx *ctx, const char *image, const char *base,
                                    const char *url, const char *path, const char *reference,
                                    rg_authstate *s, char digest_out[80], char *err,
                                    size_t errsz)
{
    rg_resp r = {.body_max = 0};
    sg_registry_status st = rg_manifest_request(ctx, "HEAD", base, url, path, s, &r, err, errsz);
    bool use_get = st == SG_REGISTRY_OK && (r.status == 405 || r.status == 501);
    if (st == SG_REGISTRY_OK && !use_get)
        st = rg_classify(ctx, image, base, &r, s, err, errsz);
    if (st == SG_REGISTRY_OK && !use_get) {
        if (r.digest_seen && rg_digest_valid(r.digest)) {
            snprintf(digest_out, 80, "%s", r.digest);
        } else if (r.digest_seen) {
            snprintf(err, errsz, "%s: registry %s sent an invalid Docker-Content-Digest "
                     "\"%.80s\" (expected sha256:<64 hex>)", image, ctx->name, r.digest);
            st = SG_REGISTRY_ERROR;
        } else {
            use_get = true;
        }
    }
    rg_resp_reset(&r);
    if (st == SG_REGISTRY_OK && use_get)
        st = rg_digest_by_get(ctx, image, base, url, path, s, digest_out, err, errsz);
    if (st == SG_REGISTRY_OK && strchr(reference, ':') && strcmp(reference, digest_out) != 0) {
        snprintf(err, errsz, "%s: registry %s served digest %s instead", image, ctx->name,
                 digest_out);
        digest_out[0] = '\0';
        st = SG_REGISTRY_ERROR;
    }
    return st;
}

long sg_registry_total_timeout_ms(const sg_registry_config *cfg)
{
    return cfg && cfg->total_timeout_ms > 0 ? cfg->total_timeout_ms : RG_DEFAULT_TOTAL_MS;
}

sg_registry_status sg_registry_manifest_digest(const sg_registry_config *cfg, const char *name,
                                               const char *path, const char *reference,
                                               char digest_out[80], char *err, size_t errsz)
{
    char base[RG_URL_MAX], url[RG_URL_MAX + 512], image[700];
    digest_out[0] = '\0';
    if (errsz)
        err[0] = '\0';
    if (!name || !path || !reference || !rg_path_valid(path) || !rg_reference_valid(reference)) {
        snprintf(err, errsz, "invalid repository or reference");
        return SG_REGISTRY_ERROR;
    }
    snprintf(image, sizeof image, "%.255s/%.255s%s%s", name, path,
             strchr(reference, ':') ? "@" : ":", reference);
    if (rg_base_url(cfg, name, base, sizeof base, err, errsz) != 0)
        return SG_REGISTRY_ERROR;
    snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", base, path, reference);

    rg_ctx ctx = {cfg, name, 0, RG_DEFAULT_CONNECT_MS};
    long total = sg_registry_total_timeout_ms(cfg);
    if (cfg && cfg->connect_timeout_ms > 0)
        ctx.connect_ms = cfg->connect_timeout_ms;
    ctx.deadline_ms = rg_now_ms() + total;

    rg_authstate s = {0};
    char scope[600];
    snprintf(scope, sizeof scope, "repository:%s:pull", path);
    rg_cache_key(&ctx, scope, s.key, sizeof s.key);
    s.bearer = s.key[0] ? sg_token_cache_get(s.key) : NULL;
    s.bearer_from_cache = s.bearer != NULL;
    sg_registry_status st = rg_digest(&ctx, image, base, url, path, reference, &s, digest_out,
                                      err, errsz);
    rg_authstate_free(&s);
    return st;
}
