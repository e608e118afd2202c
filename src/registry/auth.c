/*
 * auth.c — registry authentication helpers: the WWW-Authenticate challenge
 * parser (reads untrusted bytes: strict, bounded, fuzzed), base64, Docker
 * config.json credential look-up, token responses, a thread-safe token cache,
 * and the plain-HTTP / redirect policy.
 */
#include "registry/auth.h"

#include "base/regfile.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- WWW-Authenticate ------------------------------------------------ */

typedef struct {
    const char *p, *end;
} au_cursor;

static bool au_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void au_skip_ows(au_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static size_t au_token(au_cursor *c)
{
    const char *s = c->p;
    while (c->p < c->end && au_tchar((unsigned char)*c->p))
        c->p++;
    return (size_t)(c->p - s);
}

/* A quoted-string into out (NUL-terminated). -1 if malformed or too long. */
static int au_quoted(au_cursor *c, char *out, size_t outsz)
{
    size_t n = 0;
    c->p++; /* opening quote */
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '"') {
            out[n] = '\0';
            return 0;
        }
        if (ch == '\\') {
            if (c->p == c->end)
                return -1;
            ch = (unsigned char)*c->p++;
        }
        /* qdtext / quoted-pair: HTAB, SP, VCHAR, obs-text; no controls */
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return -1;
        if (n + 1 >= outsz)
            return -1;
        out[n++] = (char)ch;
    }
    return -1; /* unterminated */
}

static int au_copy(char *out, size_t outsz, const char *s, size_t n)
{
    if (n >= outsz)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Index of a parameter sockgate uses, or -1 to parse and drop it. */
static int au_param_index(const char *name, size_t n)
{
    static const char *const names[] = {"realm", "service", "scope", "error"};
    for (int i = 0; i < 4; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
            return i;
    return -1;
}

static char *au_param_slot(sg_challenge *ch, int i, size_t *sz)
{
    switch (i) {
    case 0: *sz = sizeof ch->realm; return ch->realm;
    case 1: *sz = sizeof ch->service; return ch->service;
    case 2: *sz = sizeof ch->scope; return ch->scope;
    default: *sz = sizeof ch->error; return ch->error;
    }
}

/* One auth-param value (token or quoted-string) into dst. */
static int au_value(au_cursor *c, char *dst, size_t dsz)
{
    if (c->p < c->end && *c->p == '"')
        return au_quoted(c, dst, dsz);
    const char *v = c->p;
    size_t vn = au_token(c);
    return vn == 0 ? -1 : au_copy(dst, dsz, v, vn);
}

/*
 * The parameters of one challenge, up to the next challenge or the end.
 * After a comma, a token without "=" is the next challenge's scheme: the
 * cursor is left on it. A duplicate known parameter is malformed (a realm
 * must not be ambiguous).
 */
static int au_params(au_cursor *c, sg_challenge *ch)
{
    bool seen[4] = {false, false, false, false};
    bool sep = false; /* a comma since the last item */
    for (;;) {
        au_skip_ows(c);
        while (c->p < c->end && *c->p == ',') {
            c->p++;
            sep = true;
            au_skip_ows(c);
        }
        if (c->p == c->end)
            return 0;
        const char *name = c->p;
        size_t n = au_token(c);
        if (n == 0)
            return -1;
        au_skip_ows(c);
        if (c->p == c->end || *c->p != '=') {
            c->p = name;
            return sep ? 0 : -1;
        }
        c->p++; /* '=' */
        au_skip_ows(c);
        int i = au_param_index(name, n);
        char scratch[1024];
        size_t dsz = sizeof scratch;
        char *dst = scratch;
        if (i >= 0) {
            if (seen[i])
                return -1;
            seen[i] = true;
            dst = au_param_slot(ch, i, &dsz);
        }
        if (au_value(c, dst, dsz) != 0)
            return -1;
        au_skip_ows(c);
        if (c->p < c->end && *c->p != ',')
            return -1;
        sep = false;
    }
}

static bool au_b64char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("-._~+/", ch) != NULL);
}

/* token68 (RFC 7235 2.1): credentials-like blob after the scheme; skipped. */
static bool au_token68(au_cursor *c)
{
    const char *s = c->p;
    while (c->p < c->end && au_b64char((unsigned char)*c->p))
        c->p++;
    if (c->p == s)
        return false;
    while (c->p < c->end && *c->p == '=')
        c->p++;
    au_skip_ows(c);
    if (c->p == c->end || *c->p == ',')
        return true;
    c->p = s;
    return false;
}

int sg_www_authenticate_parse(const char *v, size_t len, sg_challenge *out)
{
    au_cursor c = {v, v + len};
    sg_challenge cur, basic;
    bool have_basic = false;
    memset(out, 0, sizeof *out);
    for (;;) {
        while (c.p < c.end && (*c.p == ',' || *c.p == ' ' || *c.p == '\t'))
            c.p++;
        if (c.p == c.end)
            break;
        const char *scheme = c.p;
        size_t n = au_token(&c);
        if (n == 0)
            return -1;
        memset(&cur, 0, sizeof cur);
        if (n == 6 && strncasecmp(scheme, "Bearer", 6) == 0)
            cur.scheme = SG_CHAL_BEARER;
        else if (n == 5 && strncasecmp(scheme, "Basic", 5) == 0)
            cur.scheme = SG_CHAL_BASIC;
        if (c.p < c.end && *c.p != ' ' && *c.p != '\t' && *c.p != ',')
            return -1;
        /* "scheme," has no parameters: what follows is the next challenge */
        bool bare = c.p < c.end && *c.p == ',';
        au_skip_ows(&c);
        if (!bare && !au_token68(&c) && au_params(&c, &cur) != 0)
            return -1;
        if (cur.scheme == SG_CHAL_BEARER && cur.realm[0]) {
            *out = cur;
            return 0;
        }
        if (cur.scheme == SG_CHAL_BASIC && !have_basic) {
            basic = cur;
            have_basic = true;
        }
    }
    if (!have_basic)
        return -1;
    *out = basic;
    return 0;
}

/* ---- base64 ----------------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long sg_base64_decode(const char *in, size_t len, unsigned char *out, size_t outsz)
{
    while (len && in[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outsz)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return -1;
    return (long)o;
}

/* ---- config.json -------------------------------------------------------- */

/* "https://index.docker.io/v1/" → "index.docker.io"; "host:5000" stays. */
static void cfg_key_host(const char *key, char *out, size_t outsz)
{
    if (strncasecmp(key, "https://", 8) == 0)
        key += 8;
    else if (strncasecmp(key, "http://", 7) == 0)
        key += 7;
    size_t n = strcspn(key, "/");
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, key, n);
    out[n] = '\0';
}

/* Docker Hub is stored under its index server's address. */
static bool cfg_key_matches(const char *key, const char *name)
{
    char host[512];
    cfg_key_host(key, host, sizeof host);
    if (strcasecmp(host, name) == 0)
        return true;
    if (strcmp(name, "docker.io") == 0)
        return strcasecmp(host, "index.docker.io") == 0 ||
               strcasecmp(host, "registry-1.docker.io") == 0;
    return false;
}

static json_t *cfg_find(json_t *map, const char *name)
{
    const char *key;
    json_t *v;
    if (!json_is_object(map))
        return NULL;
    json_object_foreach(map, key, v) {
        if (cfg_key_matches(key, name))
            return v;
    }
    return NULL;
}

static sg_cred_status cfg_entry_creds(json_t *e, const char *name, char **user, char **pass,
                                      char *why, size_t whysz)
{
    const char *auth = json_string_value(json_object_get(e, "auth"));
    const char *u = json_string_value(json_object_get(e, "username"));
    const char *p = json_string_value(json_object_get(e, "password"));
    if (auth && *auth) {
        size_t len = strlen(auth);
        unsigned char *buf = malloc(len + 1);
        long n = buf ? sg_base64_decode(auth, len, buf, len) : -1;
        char *colon = n > 0 ? memchr(buf, ':', (size_t)n) : NULL;
        if (!colon || memchr(buf, '\0', (size_t)n)) {
            free(buf);
            snprintf(why, whysz, "config.json: \"auth\" for %s is not base64 of user:password", name);
            return SG_CRED_ERROR;
        }
        buf[n] = '\0';
        *colon = '\0';
        *user = strdup((char *)buf);
        *pass = strdup(colon + 1);
        free(buf);
    } else if (u && p) {
        *user = strdup(u);
        *pass = strdup(p);
    } else {
        return SG_CRED_NONE;
    }
    if (!*user || !*pass) {
        free(*user);
        free(*pass);
        *user = *pass = NULL;
        snprintf(why, whysz, "out of memory");
        return SG_CRED_ERROR;
    }
    return SG_CRED_FOUND;
}

sg_cred_status sg_auth_config_lookup(const char *path, const char *name, char **user,
                                     char **pass, char *why, size_t whysz)
{
    *user = *pass = NULL;
    if (!path)
        return SG_CRED_NONE;
    /* A look-up runs on the thread pool: a FIFO at the path must not hold
     * a pool thread for ever (base/regfile.h). */
    char err[512];
    size_t len;
    char *text = sg_regfile_read(path, 1u << 20, &len, err, sizeof err);
    if (!text) {
        snprintf(why, whysz, "config.json %s", err);
        return SG_CRED_ERROR;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) {
        snprintf(why, whysz, "config.json %s: %s (line %d)", path, jerr.text, jerr.line);
        return SG_CRED_ERROR;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(why, whysz, "config.json %s: not a JSON object", path);
        return SG_CRED_ERROR;
    }
    sg_cred_status st = SG_CRED_NONE;
    json_t *helper = cfg_find(json_object_get(root, "credHelpers"), name);
    json_t *entry = cfg_find(json_object_get(root, "auths"), name);
    const char *store = json_string_value(json_object_get(root, "credsStore"));
    if (json_is_string(helper)) {
        snprintf(why, whysz, "config.json %s: credentials for %s are in credential helper "
                 "\"%s\" (credHelpers), which sockgate does not support; put base64 "
                 "user:password under \"auths\"", path, name, json_string_value(helper));
        st = SG_CRED_HELPER;
    } else if (entry) {
        st = cfg_entry_creds(entry, name, user, pass, why, whysz);
    }
    if (st == SG_CRED_NONE && store && *store) {
        snprintf(why, whysz, "config.json %s: credentials are in credential store \"%s\" "
                 "(credsStore), which sockgate does not support; put base64 user:password "
                 "for %s under \"auths\"", path, store, name);
        st = SG_CRED_HELPER;
    }
    json_decref(root);
    return st;
}

/* ---- token responses and cache -------------------------------------------- */

int sg_token_response_parse(const char *body, size_t len, char **token, long *expires_in)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *t = json_string_value(json_object_get(root, "token"));
    if (!t || !*t)
        t = json_string_value(json_object_get(root, "access_token"));
    if (!t || !*t) {
        json_decref(root);
        return -1;
    }
    /* A token goes into an HTTP header: no controls or spaces. */
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            json_decref(root);
            return -1;
        }
    json_t *e = json_object_get(root, "expires_in");
    /* The token spec: at least 60 seconds when absent or smaller. */
    long ex = json_is_integer(e) ? (long)json_integer_value(e) : 60;
    *expires_in = ex < 60 ? 60 : ex > 86400 ? 86400 : ex;
    *token = strdup(t);
    json_decref(root);
    return *token ? 0 : -1;
}

typedef struct au_token_entry {
    struct au_token_entry *next;
    char *key, *token;
    time_t expires;
} au_token_entry;

#define AU_CACHE_MAX 256

static pthread_mutex_t au_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static au_token_entry *au_cache;

static time_t au_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void au_entry_free(au_token_entry *e)
{
    free(e->key);
    free(e->token);
    free(e);
}

/* Drop expired entries and the one for `key`; caller holds the lock. */
static size_t au_cache_prune(const char *key, time_t now)
{
    size_t n = 0;
    for (au_token_entry **pp = &au_cache; *pp;) {
        au_token_entry *e = *pp;
        if (e->expires <= now || (key && strcmp(e->key, key) == 0)) {
            *pp = e->next;
            au_entry_free(e);
        } else {
            pp = &e->next;
            n++;
        }
    }
    return n;
}

char *sg_token_cache_get(const char *key)
{
    char *out = NULL;
    time_t now = au_now();
    pthread_mutex_lock(&au_cache_lock);
    for (au_token_entry *e = au_cache; e; e = e->next)
        if (strcmp(e->key, key) == 0 && e->expires > now) {
            out = strdup(e->token);
            break;
        }
    pthread_mutex_unlock(&au_cache_lock);
    return out;
}

void sg_token_cache_put(const char *key, const char *token, long expires_in)
{
    au_token_entry *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->key = strdup(key);
    e->token = strdup(token);
    /* A margin so a token is not used in its last seconds. */
    e->expires = au_now() + (expires_in > 20 ? expires_in - 10 : expires_in / 2);
    if (!e->key || !e->token) {
        au_entry_free(e);
        return;
    }
    pthread_mutex_lock(&au_cache_lock);
    if (au_cache_prune(key, au_now()) >= AU_CACHE_MAX) {
        /* Full of live tokens: forget them all rather than grow; they are
         * only an optimisation. */
        while (au_cache) {
            au_token_entry *d = au_cache;
            au_cache = d->next;
            au_entry_free(d);
        }
    }
    e->next = au_cache;
    au_cache = e;
    pthread_mutex_unlock(&au_cache_lock);
}

void sg_token_cache_drop(const char *key)
{
    pthread_mutex_lock(&au_cache_lock);
    au_cache_prune(key, au_now());
    pthread_mutex_unlock(&au_cache_lock);
}

void sg_token_cache_clear(void)
{
    pthread_mutex_lock(&au_cache_lock);
    while (au_cache) {
        au_token_entry *d = au_cache;
        au_cache = d->next;
        au_entry_free(d);
    }
    pthread_mutex_unlock(&au_cache_lock);
}

/* ---- plain HTTP and redirect policy --------------------------------------- */

bool sg_host_is_loopback(const char *hostport)
{
    char host[256];
    size_t n;
    if (hostport[0] == '[') {
        n = strcspn(hostport + 1, "]");
        if (hostport[1 + n] != ']' || n >= sizeof host)
            return false;
        memcpy(host, hostport + 1, n);
    } else {
        const char *colon = strchr(hostport, ':');
        /* more than one colon: a bare IPv6 address */
        n = colon && !strchr(colon + 1, ':') ? (size_t)(colon - hostport) : strlen(hostport);
        if (n >= sizeof host)
            return false;
        memcpy(host, hostport, n);
    }
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

typedef struct {
    char *scheme, *host, *port;
} au_url;

static int au_url_split(const char *url, au_url *u)
{
    memset(u, 0, sizeof *u);
    CURLU *h = curl_url();
    if (!h)
        return -1;
    int rc = -1;
    if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_HOST, &u->host, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        rc = 0;
    curl_url_cleanup(h);
    return rc;
}

static void au_url_free(au_url *u)
{
    curl_free(u->scheme);
    curl_free(u->host);
    curl_free(u->port);
}

bool sg_redirect_allowed(const char *from, const char *to, sg_insecure_fn insecure_ok,
                         void *arg, bool *same_host)
{
    au_url a, b;
    bool ok = false;
    *same_host = false;
    if (au_url_split(from, &a) != 0) {
        au_url_free(&a);
        return false;
    }
    if (au_url_split(to, &b) == 0) {
        bool b_https = strcasecmp(b.scheme, "https") == 0;
        bool b_http = strcasecmp(b.scheme, "http") == 0;
        char hp[600];
        snprintf(hp, sizeof hp, "%s:%s", b.host, b.port);
        if (b_https)
            ok = true;
        else if (b_http && strcasecmp(a.scheme, "https") != 0)
            ok = sg_host_is_loopback(b.host) || (insecure_ok && (insecure_ok(b.host, arg) ||
                                                                 insecure_ok(hp, arg)));
        *same_host = ok && strcasecmp(a.scheme, b.scheme) == 0 &&
                     strcasecmp(a.host, b.host) == 0 && strcmp(a.port, b.port) == 0;
    }
    au_url_free(&a);
    au_url_free(&b);
    return ok;
}
