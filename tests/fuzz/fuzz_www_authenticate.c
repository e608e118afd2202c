/*
 * fuzz_www_authenticate.c — libFuzzer target for the WWW-Authenticate
 * challenge parser (registry answers are untrusted bytes).
 *
 * Per input: a result is either a refusal or a usable challenge (Bearer with
 * a realm, or Basic) whose values are NUL-terminated inside their buffers and
 * free of control characters; parsing is deterministic; and a challenge
 * written back out with quoted, escaped values parses to the same values.
 */
#include "registry/auth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ASSERT(cond)                                                      \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond,         \
                    __FILE__, __LINE__);                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

static void fz_check_value(const char *v, size_t cap)
{
    size_t n = strnlen(v, cap);
    FZ_ASSERT(n < cap);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        FZ_ASSERT(c >= 0x20 || c == '\t');
        FZ_ASSERT(c != 0x7f);
    }
}

/* name="value" with '"' and '\' escaped; returns the new length. */
static size_t fz_put(char *out, size_t at, const char *name, const char *v)
{
    if (!v[0])
        return at;
    at += (size_t)sprintf(out + at, "%s%s=\"", at && out[at - 1] != ' ' ? "," : "", name);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            out[at++] = '\\';
        out[at++] = *v;
    }
    out[at++] = '"';
    out[at] = '\0';
    return at;
}

static void fz_roundtrip(const sg_challenge *c)
{
    /* every value at most doubles when escaped */
    size_t cap = 2 * (sizeof c->realm + sizeof c->service + sizeof c->scope + sizeof c->error) + 64;
    char *buf = malloc(cap);
    FZ_ASSERT(buf != NULL);
    size_t n = (size_t)sprintf(buf, "%s ", c->scheme == SG_CHAL_BEARER ? "Bearer" : "Basic");
    n = fz_put(buf, n, "realm", c->realm);
    n = fz_put(buf, n, "service", c->service);
    n = fz_put(buf, n, "scope", c->scope);
    n = fz_put(buf, n, "error", c->error);
    sg_challenge again;
    FZ_ASSERT(sg_www_authenticate_parse(buf, n, &again) == 0);
    FZ_ASSERT(again.scheme == c->scheme);
    FZ_ASSERT(strcmp(again.realm, c->realm) == 0);
    FZ_ASSERT(strcmp(again.service, c->service) == 0);
    FZ_ASSERT(strcmp(again.scope, c->scope) == 0);
    FZ_ASSERT(strcmp(again.error, c->error) == 0);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy so ASan sees any read past the end */
    char *in = malloc(size ? size : 1);
    FZ_ASSERT(in != NULL);
    memcpy(in, data, size);
    sg_challenge c, d;
    int rc = sg_www_authenticate_parse(in, size, &c);
    FZ_ASSERT(rc == 0 || rc == -1);
    FZ_ASSERT(sg_www_authenticate_parse(in, size, &d) == rc);
    if (rc == 0) {
        FZ_ASSERT(memcmp(&c, &d, sizeof c) == 0);
        FZ_ASSERT(c.scheme == SG_CHAL_BEARER || c.scheme == SG_CHAL_BASIC);
        if (c.scheme == SG_CHAL_BEARER)
            FZ_ASSERT(c.realm[0] != '\0');
        fz_check_value(c.realm, sizeof c.realm);
        fz_check_value(c.service, sizeof c.service);
        fz_check_value(c.scope, sizeof c.scope);
        fz_check_value(c.error, sizeof c.error);
        fz_roundtrip(&c);
    }
    free(in);
    return 0;
}
