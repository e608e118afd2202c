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
    uint64_t value;      /* VARINT */
    const uint8_t *data; /* LEN */
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
    case WIRE_VARINT: return pb_varint(r, &f->value);
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

/* ---- LLB: what a build step asks for ------------------------------------- */

/* solver/pb/ops.proto: Definition.def (1, repeated marshalled Op);
 * Op.exec (2); ExecOp.meta (1), network (3, HOST = 1), security (4,
 * INSECURE = 1), cdiDevices (6); Meta.cgroupParent (10). */
enum { DEF_OPS = 1, OP_EXEC = 2, EXEC_META = 1, EXEC_NETWORK = 3, EXEC_SECURITY = 4,
       EXEC_CDI_DEVICES = 6, META_CGROUP_PARENT = 10 };

typedef enum { CHECK_OK, CHECK_REFUSE, CHECK_UNREADABLE } check;

static check exec_op(const pb_field *e, char *why, size_t whysz)
{
    pb_reader r = {e->data, e->data + e->len};
    pb_field f;
    while (r.p < r.end) {
        if (!pb_next(&r, &f))
            return CHECK_UNREADABLE;
        if (f.wire == WIRE_VARINT && (f.number == EXEC_NETWORK || f.number == EXEC_SECURITY)) {
            if (f.value == 1) {
                snprintf(why, whysz, f.number == EXEC_NETWORK
                                         ? "build steps in the host's network are not allowed"
                                         : "insecure build steps are not allowed");
                return CHECK_REFUSE;
            }
        } else if (f.number == EXEC_CDI_DEVICES) {
            snprintf(why, whysz, "host devices in build steps are not allowed");
            return CHECK_REFUSE;
        } else if (f.number == EXEC_META && f.wire == WIRE_LEN) {
            pb_reader m = {f.data, f.data + f.len};
            pb_field mf;
            while (m.p < m.end) {
                if (!pb_next(&m, &mf))
                    return CHECK_UNREADABLE;
                if (mf.number == META_CGROUP_PARENT && mf.wire == WIRE_LEN && mf.len > 0) {
                    snprintf(why, whysz, "build steps under a cgroup parent are not allowed");
                    return CHECK_REFUSE;
                }
            }
        }
    }
    return CHECK_OK;
}

/* A pb.Definition: every marshalled Op that is an ExecOp. */
static check definition(const uint8_t *p, size_t n, char *why, size_t whysz)
{
    pb_reader r = {p, p + n};
    pb_field f, o;
    while (r.p < r.end) {
        if (!pb_next(&r, &f))
            return CHECK_UNREADABLE;
        if (f.number != DEF_OPS)
            continue;
        if (f.wire != WIRE_LEN)
            return CHECK_UNREADABLE;
        pb_reader op = {f.data, f.data + f.len};
        while (op.p < op.end) {
            if (!pb_next(&op, &o))
                return CHECK_UNREADABLE;
            check c = o.number == OP_EXEC && o.wire == WIRE_LEN ? exec_op(&o, why, whysz)
                      : o.number == OP_EXEC                   ? CHECK_UNREADABLE
                                                              : CHECK_OK;
            if (c != CHECK_OK)
                return c;
        }
    }
    return CHECK_OK;
}

/* ---- the two requests that solve ---------------------------------------------- */

/* Where a request keeps what is read: its attributes map, its definition,
 * its map of input definitions, and (Control only) its entitlements. */
typedef struct {
    uint64_t attrs, def, inputs, entitlements; /* 0: the request has none */
} solve_shape;

static const solve_shape control_solve = {SOLVE_FRONTEND_ATTRS, 2, 10, SOLVE_ENTITLEMENTS};
/* frontend/gateway/pb/gateway.proto, message SolveRequest (LLBBridge). */
static const solve_shape gateway_solve = {3, 1, 13, 0};

static sg_solve_verdict verdict_of(check c, char *why, size_t whysz)
{
    if (c == CHECK_UNREADABLE)
        snprintf(why, whysz, "the build request's fields are not what BuildKit sends");
    return c == CHECK_OK ? SG_SOLVE_ALLOW : c == CHECK_REFUSE ? SG_SOLVE_REFUSE
                                                              : SG_SOLVE_UNREADABLE;
}

static sg_solve_verdict solve_read(const solve_shape *sh, const uint8_t *msg, size_t len,
                                   char *why, size_t whysz)
{
    pb_reader r = {msg, msg + len};
    pb_field f, k, v;
    while (r.p < r.end) {
        if (!pb_next(&r, &f)) {
            snprintf(why, whysz, "the build request is not a protobuf message sockgate can read");
            return SG_SOLVE_UNREADABLE;
        }
        bool len_field = f.wire == WIRE_LEN;
        if (sh->entitlements && f.number == sh->entitlements) {
            if (!len_field)
                return verdict_of(CHECK_UNREADABLE, why, whysz);
            snprintf(why, whysz,
                     "builds with the entitlement \"%.*s\" are not allowed (--allow)",
                     (int)(f.len > 64 ? 64 : f.len), (const char *)f.data);
            return SG_SOLVE_REFUSE;
        }
        if (f.number == sh->attrs) {
            if (!len_field || !pb_map_entry(&f, &k, &v))
                return verdict_of(CHECK_UNREADABLE, why, whysz);
            if (attr_refused(&k, &v, why, whysz))
                return SG_SOLVE_REFUSE;
        } else if (f.number == sh->def) {
            check c = len_field ? definition(f.data, f.len, why, whysz) : CHECK_UNREADABLE;
            if (c != CHECK_OK)
                return verdict_of(c, why, whysz);
        } else if (f.number == sh->inputs) {
            if (!len_field || !pb_map_entry(&f, &k, &v))
                return verdict_of(CHECK_UNREADABLE, why, whysz);
            check c = definition(v.data, v.len, why, whysz);
            if (c != CHECK_OK)
                return verdict_of(c, why, whysz);
        }
    }
    return SG_SOLVE_ALLOW;
}

sg_solve_verdict sg_solve_check(const uint8_t *msg, size_t len, char *why, size_t whysz)
{
    return solve_read(&control_solve, msg, len, why, whysz);
}

sg_solve_verdict sg_gateway_solve_check(const uint8_t *msg, size_t len, char *why,
                                        size_t whysz)
{
    return solve_read(&gateway_solve, msg, len, why, whysz);
}

bool sg_solve_ref(const uint8_t *msg, size_t len, char *ref, size_t refsz)
{
    pb_reader r = {msg, msg + len};
    pb_field f;
    ref[0] = '\0';
    while (r.p < r.end) {
        if (!pb_next(&r, &f))
            return false;
        if (f.number == 1 && f.wire == WIRE_LEN) { /* the last one wins, as in Go */
            if (f.len >= refsz)
                return false;
            memcpy(ref, f.data, f.len);
            ref[f.len] = '\0';
        }
    }
    return ref[0] != '\0';
}
