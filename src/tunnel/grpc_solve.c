/*
 * grpc_solve.c — the protobuf of a BuildKit SolveRequest, read for what it
 * asks of the engine (see grpc_solve.h). Only the wire format is read: a
 * field is a varint key (number << 3 | wire type) and a value; unknown
 * fields are skipped by their wire type, as protobuf readers do, so a
 * newer BuildKit's additions pass unless they are malformed.
 */
#include "tunnel/grpc_solve.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

enum {
    SOLVE_FRONTEND_ATTRS = 7, /* map<string, string>           */
    SOLVE_ENTITLEMENTS = 9,   /* repeated string               */
};

typedef struct {
    const uint8_t *p, *end;
} pb_reader;

static bool pb_varint(pb_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* One field: its number, wire type and, for LEN, the bytes. */
typedef struct {
    uint64_t number;
    unsigned wire;
    const uint8_t *data;
    size_t len;
} pb_field;

static bool pb_next(pb_reader *r, pb_field *f)
{
    uint64_t key, v;
    if (!pb_varint(r, &key) || (key >> 3) == 0)
        return false;
    f->number = key >> 3;
    f->wire = (unsigned)(key & 7);
    switch (f->wire) {
    case WIRE_VARINT: return pb_varint(r, &v);
    case WIRE_I64:
        if (r->end - r->p < 8)
            return false;
        r->p += 8;
        return true;
    case WIRE_I32:
        if (r->end - r->p < 4)
            return false;
        r->p += 4;
        return true;
    case WIRE_LEN:
        if (!pb_varint(r, &v) || v > (uint64_t)(r->end - r->p))
            return false;
        f->data = r->p;
        f->len = (size_t)v;
        r->p += v;
        return true;
    default: return false; /* groups (3, 4) are not in BuildKit's protos */
    }
}

/* A map entry { string key = 1; string value = 2; }. */
static bool pb_map_entry(const pb_field *f, pb_field *key, pb_field *value)
{
    pb_reader r = {f->data, f->data + f->len};
    *key = (pb_field){.data = (const uint8_t *)"", .len = 0};
    *value = *key;
    pb_field x;
    while (r.p < r.end) {
        if (!pb_next(&r, &x) || (x.number <= 2 && x.wire != WIRE_LEN))
            return false;
        if (x.number == 1)
            *key = x;
        else if (x.number == 2)
            *value = x;
    }
    return true;
}

static bool span_is(const pb_field *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->data, s, f->len) == 0;
}

/* Frontend attributes that take the build out of its sandbox. */
static bool attr_refused(const pb_field *k, const pb_field *v, char *why, size_t whysz)
{
    if (span_is(k, "force-network-mode") && span_is(v, "host")) {
        snprintf(why, whysz, "builds in the host's network (--network=host) are not allowed");
        return true;
    }
    if (span_is(k, "cgroup-parent") && v->len > 0) {
        snprintf(why, whysz, "builds under a cgroup parent are not allowed (cgroup-parent=%.*s)",
                 (int)(v->len > 100 ? 100 : v->len), (const char *)v->data);
        return true;
    }
    return false;
}

sg_solve_verdict sg_solve_check(const uint8_t *msg, size_t len, char *why, size_t whysz)
{
    pb_reader r = {msg, msg + len};
    pb_field f, k, v;
    while (r.p < r.end) {
        if (!pb_next(&r, &f)) {
            snprintf(why, whysz, "the build request is not a protobuf message sockgate can read");
            return SG_SOLVE_UNREADABLE;
        }
        if (f.number == SOLVE_ENTITLEMENTS) {
            if (f.wire != WIRE_LEN)
                goto unreadable;
            snprintf(why, whysz,
                     "builds with the entitlement \"%.*s\" are not allowed (--allow)",
                     (int)(f.len > 64 ? 64 : f.len), (const char *)f.data);
            return SG_SOLVE_REFUSE;
        }
        if (f.number == SOLVE_FRONTEND_ATTRS) {
            if (f.wire != WIRE_LEN || !pb_map_entry(&f, &k, &v))
                goto unreadable;
            if (attr_refused(&k, &v, why, whysz))
                return SG_SOLVE_REFUSE;
        }
    }
    return SG_SOLVE_ALLOW;
unreadable:
    snprintf(why, whysz, "the build request's fields are not what BuildKit sends");
    return SG_SOLVE_UNREADABLE;
}
