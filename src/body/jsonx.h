/*
 * jsonx.h — typed reads of a request body tree (from gojson), with Go's
 * decoding rules and sockgate's refusals.
 *
 * dockerd decodes bodies into typed Go structs: a key matches its field
 * case-insensitively (gojson's fold), JSON null leaves the zero value, and a
 * value of the wrong type fails the whole request. These accessors read the
 * same way and record the first problem in an sg_jx reader, so that a body
 * dockerd would refuse is refused here too, with the key path in the
 * message, instead of being half-read.
 *
 * One refusal goes further than Go: a string that contains U+0000 is an
 * error. Go passes such a string on (and the kernel later refuses the path),
 * but C code would see it cut at the NUL, check the short string and forward
 * the long one: "/run/docker.sock\u0000:/x" must never look like a mount of
 * nothing.
 */
#ifndef SG_JSONX_H
#define SG_JSONX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool failed;
    char err[320]; /* the first problem: "HostConfig.Binds[2] must be a string" */
} sg_jx;

/*
 * Each reads member `key` of obj (matched like Go matches a struct field)
 * and names it `where.key` in errors. obj may be NULL or not an object: the
 * member is then absent. After a failure, further calls still work but the
 * first error is kept.
 */
/* A string: NULL when absent or null. */
const char *sg_jx_str(sg_jx *r, const json_t *obj, const char *where, const char *key);
/* A bool: false when absent or null. */
bool sg_jx_bool(sg_jx *r, const json_t *obj, const char *where, const char *key);
/* An array / object: NULL when absent or null. */
json_t *sg_jx_array(sg_jx *r, const json_t *obj, const char *where, const char *key);
json_t *sg_jx_object(sg_jx *r, const json_t *obj, const char *where, const char *key);
/* An integer (Go int64); `dflt` when absent or null. */
long long sg_jx_int(sg_jx *r, const json_t *obj, const char *where, const char *key,
                    long long dflt);

/* Element i of a []string: "" for null, error for another type or a NUL. */
const char *sg_jx_item_str(sg_jx *r, const json_t *arr, size_t i, const char *where);

/* A value that must be a NUL-free string (or null: ""); for map values. */
const char *sg_jx_value_str(sg_jx *r, const json_t *v, const char *where);

/* Record a problem of the caller's own (keeps the first one). */
void sg_jx_fail(sg_jx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Is v a JSON string that holds U+0000? */
bool sg_jx_has_nul(const json_t *v);

#endif
