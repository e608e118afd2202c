/*
 * image_ref.c — owns parsing and normalising Docker image references the way
 * dockerd does (distribution/reference v0.6: ParseNormalizedNamed, then
 * Parse, then go-digest validation), plus the string forms sockgate prints.
 *
 * The grammar is matched by hand instead of with regular expressions. That
 * is exact because the reference grammar is deterministic once split at the
 * first '/': path characters never include ':' or '@', tag characters never
 * include '@', so "path [:tag] [@digest]" splits at the first ':' / '@'.
 *
 * Where sockgate is stricter than Docker (it fails closed, never open):
 *   - digests: only sha256 (the struct's digest[80] cannot hold sha384/512);
 *   - the domain must fit in 255 characters and the whole normalised
 *     reference in SG_REF_MAX - 1 (Docker only limits the path to 255).
 */
#include "policy/image_ref.h"

#include <stdio.h>
#include <string.h>

#define REF_HUB "docker.io"
#define REF_LEGACY_HUB "index.docker.io"
#define REF_LOCALHOST "localhost"
#define REF_OFFICIAL "library/"
#define REF_OFFICIAL_LEN (sizeof(REF_OFFICIAL) - 1)
#define REF_PATH_MAX 255 /* RepositoryNameTotalLengthMax (path only) */
#define REF_TAG_MAX 128
#define REF_SHA256 "sha256:"
#define REF_SHA256_HEX 64

/* A piece of the input: not NUL-terminated. */
typedef struct {
    const char *p;
    size_t n;
} ref_span;

static ref_span ref_sub(ref_span s, size_t from, size_t to)
{
    ref_span r = { s.p + from, to - from };
    return r;
}

static bool ref_eq(ref_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Index of the first of the bytes in `set`, or s.n. */
static size_t ref_find(ref_span s, const char *set)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] != '\0' && strchr(set, s.p[i]))
            return i;
    return s.n;
}

/* Non-empty and every byte is c. */
static bool ref_all(ref_span s, char c)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] != c)
            return false;
    return s.n > 0;
}

static bool ref_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool ref_any_alnum(char c)
{
    return ref_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool ref_word(char c) /* Go's \w */
{
    return ref_any_alnum(c) || c == '_';
}

static bool ref_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool ref_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * splitDockerDomain treats the first component as a domain when Go's
 * strings.ToLower would change it. Any non-ASCII byte changes it too (case
 * mapping or invalid UTF-8 → U+FFFD); such input is rejected later anyway.
 */
static bool ref_not_lower(ref_span s)
{
    for (size_t i = 0; i < s.n; i++)
        if ((s.p[i] >= 'A' && s.p[i] <= 'Z') || (unsigned char)s.p[i] >= 0x80)
            return true;
    return false;
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*,
 * separator := [_.] | __ | [-]+ */
static bool ref_component_ok(ref_span s)
{
    size_t i = 0;
    while (i < s.n) {
        if (!ref_lower_alnum(s.p[i]))
            return false; /* empty, leading or doubled separator */
        while (i < s.n && ref_lower_alnum(s.p[i]))
            i++;
        if (i == s.n)
            return true;
        size_t sep = i;
        while (i < s.n && !ref_lower_alnum(s.p[i]))
            i++;
        ref_span run = ref_sub(s, sep, i);
        if (!(ref_eq(run, ".") || ref_eq(run, "_") || ref_eq(run, "__") ||
              ref_all(run, '-')))
            return false;
        if (i == s.n)
            return false; /* trailing separator */
    }
    return false; /* empty component */
}

/* remote-name := path-component ("/" path-component)* */
static bool ref_path_ok(ref_span s)
{
    size_t start = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i == s.n || s.p[i] == '/') {
            if (!ref_component_ok(ref_sub(s, start, i)))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool ref_label_ok(ref_span s)
{
    if (s.n == 0 || !ref_any_alnum(s.p[0]) || !ref_any_alnum(s.p[s.n - 1]))
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!ref_any_alnum(s.p[i]) && s.p[i] != '-')
            return false;
    return true;
}

/* domain-name := domain-component ("." domain-component)* */
static bool ref_domain_name_ok(ref_span s)
{
    size_t start = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i == s.n || s.p[i] == '.') {
            if (!ref_label_ok(ref_sub(s, start, i)))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* "[" [a-fA-F0-9:]+ "]" — zone ids and IPv4-mapped forms deliberately not */
static bool ref_ipv6_ok(ref_span s)
{
    if (s.n < 3 || s.p[0] != '[' || s.p[s.n - 1] != ']')
        return false;
    for (size_t i = 1; i + 1 < s.n; i++) {
        char c = s.p[i];
        if (!ref_digit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') &&
            c != ':')
            return false;
    }
    return true;
}

/* domain := (domain-name | ipv6) [":" [0-9]+] */
static bool ref_domain_ok(ref_span s)
{
    size_t host_end;
    if (s.n > 0 && s.p[0] == '[') {
        host_end = ref_find(s, "]");
        if (host_end == s.n || !ref_ipv6_ok(ref_sub(s, 0, host_end + 1)))
            return false;
        host_end++;
    } else {
        host_end = ref_find(s, ":");
        if (!ref_domain_name_ok(ref_sub(s, 0, host_end)))
            return false;
    }
    if (host_end == s.n)
        return true;
    if (s.p[host_end] != ':' || host_end + 1 == s.n)
        return false;
    for (size_t i = host_end + 1; i < s.n; i++)
        if (!ref_digit(s.p[i]))
            return false;
    return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool ref_tag_ok(ref_span s)
{
    if (s.n == 0 || s.n > REF_TAG_MAX || !ref_word(s.p[0]))
        return false;
    for (size_t i = 1; i < s.n; i++)
        if (!ref_word(s.p[i]) && s.p[i] != '.' && s.p[i] != '-')
            return false;
    return true;
}

/* go-digest accepts only registered algorithms with exact-length lowercase
 * hex; of those, sha256 is the one sockgate keeps (see top of file). */
static const char *ref_digest_check(ref_span s)
{
    size_t alg = strlen(REF_SHA256);
    if (s.n < alg || memcmp(s.p, REF_SHA256, alg) != 0) {
        size_t colon = ref_find(s, ":");
        if (colon == 0 || colon == s.n || colon + 1 == s.n)
            return "invalid digest format";
        return "unsupported digest algorithm (only sha256)";
    }
    if (s.n != alg + REF_SHA256_HEX)
        return "invalid sha256 digest length";
    for (size_t i = alg; i < s.n; i++)
        if (!ref_lower_hex(s.p[i]))
            return "invalid sha256 digest (64 lowercase hex)";
    return NULL;
}

/* The whole input is 64 lowercase hex: an image ID, never a name. */
static bool ref_is_identifier(ref_span s)
{
    if (s.n != REF_SHA256_HEX)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!ref_lower_hex(s.p[i]))
            return false;
    return true;
}

/* Result of splitDockerDomain, before the grammar is checked. */
typedef struct {
    ref_span domain;   /* literal "docker.io" or a prefix of the input  */
    bool domain_given; /* domain came from the input (may be invalid)   */
    bool official;     /* prepend "library/" to the path                */
    ref_span rest;     /* path [":" tag] ["@" digest]                   */
} ref_split;

static const ref_span ref_hub = { REF_HUB, sizeof(REF_HUB) - 1 };

/* splitDockerDomain (normalize.go). */
static ref_split ref_split_domain(ref_span s)
{
    ref_split sp = { ref_hub, false, false, s };
    size_t slash = ref_find(s, "/");
    if (slash == s.n) {
        sp.official = true; /* "ubuntu[:tag]", never "host:port" */
        return sp;
    }
    ref_span first = ref_sub(s, 0, slash);
    ref_span after = ref_sub(s, slash + 1, s.n);
    if (ref_eq(first, REF_LOCALHOST) || ref_find(first, ".:") < first.n ||
        ref_not_lower(first)) {
        sp.domain = first;
        sp.domain_given = !ref_eq(first, REF_LEGACY_HUB);
        if (!sp.domain_given)
            sp.domain = ref_hub;
        sp.rest = after;
    }
    sp.official = ref_eq(sp.domain, REF_HUB) && ref_find(sp.rest, "/") == sp.rest.n;
    return sp;
}

static void ref_copy(char *dst, ref_span s)
{
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
}

/*
 * Parse(domain + "/" + rest): a given domain that does not match the domain
 * grammar is not an error when it is a valid path component — the regexp's
 * optional domain group then matches nothing and the whole name is the path
 * (e.g. "my_reg.example/x" → domain "", path "my_reg.example/x").
 */
static const char *ref_fill_name(const ref_split *sp, ref_span path, sg_image_ref *out)
{
    if (!ref_path_ok(path))
        return path.n == 0 ? "repository name must have at least one component"
                           : "invalid repository path (lowercase [a-z0-9._-] components)";
    bool domain_is_path = sp->domain_given && !ref_domain_ok(sp->domain);
    if (domain_is_path && !ref_component_ok(sp->domain))
        return ref_not_lower(sp->domain) ? "repository name must be lowercase"
                                         : "invalid registry domain";
    size_t prefix = domain_is_path ? sp->domain.n + 1
                    : sp->official ? REF_OFFICIAL_LEN
                                   : 0;
    if (prefix + path.n > REF_PATH_MAX)
        return "repository name longer than 255 characters";
    if (domain_is_path) {
        ref_copy(out->path, sp->domain);
        out->path[sp->domain.n] = '/';
    } else {
        if (sp->domain.n >= sizeof(out->domain))
            return "registry domain longer than 255 characters";
        ref_copy(out->domain, sp->domain);
        memcpy(out->path, REF_OFFICIAL, prefix);
    }
    ref_copy(out->path + prefix, path);
    return NULL;
}

/* The name/tag/digest split of one reference (no wildcard, no ID check). */
static const char *ref_parse_span(ref_span s, sg_image_ref *out)
{
    if (s.n == 0)
        return "empty reference";
    ref_split sp = ref_split_domain(s);
    size_t path_end = ref_find(sp.rest, ":@");
    size_t tag_end = path_end;
    const char *why = ref_fill_name(&sp, ref_sub(sp.rest, 0, path_end), out);
    if (why)
        return why;
    if (path_end < sp.rest.n && sp.rest.p[path_end] == ':') {
        tag_end = path_end + 1 + ref_find(ref_sub(sp.rest, path_end + 1, sp.rest.n), "@");
        ref_span tag = ref_sub(sp.rest, path_end + 1, tag_end);
        if (!ref_tag_ok(tag))
            return "invalid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
        ref_copy(out->tag, tag);
    }
    if (tag_end < sp.rest.n) {
        ref_span digest = ref_sub(sp.rest, tag_end + 1, sp.rest.n);
        if ((why = ref_digest_check(digest)) != NULL)
            return why;
        ref_copy(out->digest, digest);
    }
    return NULL;
}

/*
 * A star as the last path component, "testcontainers/<star>:<star>" or
 * "your-registry.com/ci-tools/<star>:<star>" (Docker's current ECI
 * examples): every repository directly under a path. The name is
 * normalised with a stand-in for the last component, so that it is
 * docker.io/testcontainers/… (not library/) exactly as "testcontainers/x"
 * would be, and the stand-in is then dropped. Only
 * with the tag wildcard: each repository is still proven by its own
 * digests, which a fixed tag or digest across repositories cannot say.
 */
static const char REF_NOT_A_REPO_WILDCARD[] = "not a repository wildcard";

static const char *ref_parse_repo_wildcard(ref_span in, bool tag_wildcard, int flags,
                                           sg_image_ref *out)
{
    const char *star = memchr(in.p, '*', in.n);
    if (!(flags & SG_REF_ALLOW_WILDCARD) || !star)
        return REF_NOT_A_REPO_WILDCARD;
    if (star != in.p + in.n - 1 || in.n < 3 || in.p[in.n - 2] != '/')
        return "\"*\" may only be a whole entry, the tag (name:*) or the last path "
               "component (name/*:*)";
    if (!tag_wildcard)
        return "a repository wildcard (name/*) needs the tag wildcard: name/*:*";
    char stand_in[SG_REF_MAX];
    if (in.n >= sizeof stand_in)
        return "reference longer than SG_REF_MAX";
    memcpy(stand_in, in.p, in.n - 1);
    stand_in[in.n - 1] = 'x';
    const char *why = ref_parse_span((ref_span){stand_in, in.n}, out);
    if (why)
        return why;
    char *last = strrchr(out->path, '/');
    if (!last)
        return "a repository wildcard needs a path before \"/*\"";
    *last = '\0';
    out->path_is_wildcard = true;
    return NULL;
}

static int ref_fail(sg_image_ref *out, const char **why, const char *reason)
{
    memset(out, 0, sizeof(*out));
    if (why)
        *why = reason;
    return -1;
}

int sg_image_ref_parse(const char *s, int flags, sg_image_ref *out, const char **why)
{
    sg_image_ref scratch;
    if (!out)
        out = &scratch;
    memset(out, 0, sizeof(*out));
    if (!s)
        return ref_fail(out, why, "no reference");
    ref_span in = { s, strlen(s) };
    if (ref_eq(in, "*"))
        return ref_fail(out, why, "\"*\" (any image) is not an image reference");
    if (ref_is_identifier(in))
        return ref_fail(out, why, "64-hex string is an image ID, not a repository name");
    bool wildcard = (flags & SG_REF_ALLOW_WILDCARD) && in.n >= 2 &&
                    in.p[in.n - 2] == ':' && in.p[in.n - 1] == '*';
    if (wildcard)
        in.n -= 2;
    const char *reason = ref_parse_repo_wildcard(in, wildcard, flags, out);
    if (reason == REF_NOT_A_REPO_WILDCARD)
        reason = ref_parse_span(in, out);
    if (reason)
        return ref_fail(out, why, reason);
    if (wildcard) {
        if (out->tag[0] || out->digest[0])
            return ref_fail(out, why, "\":*\" cannot follow a tag or digest");
        strcpy(out->tag, "*");
        out->tag_is_wildcard = true;
    } else if ((flags & SG_REF_DEFAULT_TAG) && !out->tag[0] && !out->digest[0]) {
        strcpy(out->tag, "latest"); /* reference.TagNameOnly */
    }
    /* Room for ":latest" is kept whatever the flags, so that adding the
     * default tag later never turns a valid reference into a too long one. */
    char full[SG_REF_MAX];
    sg_image_ref_string(out, full, sizeof(full));
    bool bare = !out->tag[0] && !out->digest[0];
    if (!full[0] || (bare && strlen(full) + strlen(":latest") >= sizeof(full)))
        return ref_fail(out, why, "reference longer than SG_REF_MAX");
    return 0;
}

/*
 * Every printer writes "" when the result does not fit: a truncated name is
 * another, valid name ("docker.io/library/redis" → ".../redi"), and "" never
 * parses.
 */
static void ref_print(char *out, size_t outsz, const char *name_domain,
                      const char *path, const sg_image_ref *r, bool with_suffix)
{
    if (!out || outsz == 0)
        return;
    bool has_tag = with_suffix && r->tag[0];
    bool has_digest = with_suffix && r->digest[0];
    int n = snprintf(out, outsz, "%s%s%s%s%s%s%s%s", name_domain,
                     name_domain[0] ? "/" : "", path, r->path_is_wildcard ? "/*" : "",
                     has_tag ? ":" : "",
                     has_tag ? r->tag : "", has_digest ? "@" : "",
                     has_digest ? r->digest : "");
    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0';
}

void sg_image_ref_repository(const sg_image_ref *r, char *out, size_t outsz)
{
    ref_print(out, outsz, r->domain, r->path, r, false);
}

void sg_image_ref_string(const sg_image_ref *r, char *out, size_t outsz)
{
    ref_print(out, outsz, r->domain, r->path, r, true);
}

/*
 * familiarizeName: on docker.io drop the domain, and "library/" when what
 * follows has no '/'. Docker's own form is ambiguous when the first
 * remaining component looks like a domain ("docker.io/foo.bar/x" →
 * "foo.bar/x", which is registry foo.bar) or the name is 64 hex; sockgate
 * then keeps the full name so that its familiar form always parses back to
 * the same repository.
 */
void sg_image_ref_familiar(const sg_image_ref *r, char *out, size_t outsz)
{
    const char *path = r->path;
    if (strcmp(r->domain, REF_HUB) != 0) {
        ref_print(out, outsz, r->domain, path, r, true);
        return;
    }
    if (strncmp(path, REF_OFFICIAL, REF_OFFICIAL_LEN) == 0 &&
        !strchr(path + REF_OFFICIAL_LEN, '/'))
        path += REF_OFFICIAL_LEN;
    sg_image_ref back;
    if (sg_image_ref_parse(path, 0, &back, NULL) == 0 && sg_image_ref_same_repo(&back, r))
        ref_print(out, outsz, "", path, r, true);
    else
        ref_print(out, outsz, r->domain, r->path, r, true);
}

bool sg_image_ref_same_repo(const sg_image_ref *a, const sg_image_ref *b)
{
    return strcmp(a->domain, b->domain) == 0 && strcmp(a->path, b->path) == 0 &&
           a->path_is_wildcard == b->path_is_wildcard;
}

bool sg_image_ref_covers(const sg_image_ref *entry, const sg_image_ref *repo)
{
    if (!entry->path_is_wildcard || repo->path_is_wildcard)
        return sg_image_ref_same_repo(entry, repo);
    size_t n = strlen(entry->path);
    return strcmp(entry->domain, repo->domain) == 0 && strncmp(repo->path, entry->path, n) == 0 &&
           repo->path[n] == '/' && repo->path[n + 1] && !strchr(repo->path + n + 1, '/');
}

bool sg_image_ref_is_id(const char *s)
{
    if (strncmp(s, "sha256:", 7) == 0)
        s += 7;
    size_t n = 0;
    while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))
        n++;
    return n == 64 && s[n] == '\0';
}
