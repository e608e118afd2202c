/*
 * test_h2_inspect.c — BuildKit's /grpc tunnel read as HTTP/2 (tunnel/):
 * which requests pass unchanged, which are refused, what dockerd and the
 * client then receive, whatever way the bytes are cut.
 */
#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/grpc_solve.h"
#include "tunnel/h2_inspect.h"
#include "unit.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

typedef struct {
    uint8_t d[1 << 16];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void frame(bytes *b, uint8_t type, uint8_t flags, uint32_t stream, const void *p,
                  size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
                    (uint8_t)stream};
    put(b, h, 9);
    put(b, p, n);
}

/* A request's HEADERS, encoded by nghttp2's own deflater (one per test
 * connection, so that its dynamic table is used as a client's would be). */
static void headers_id(bytes *b, nghttp2_hd_deflater *def, uint32_t stream, const char *path,
                       uint8_t flags, const char *buildid)
{
    nghttp2_nv nv[] = {
        {(uint8_t *)":method", (uint8_t *)"POST", 7, 4, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)":path", (uint8_t *)path, 5, strlen(path), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)":authority", (uint8_t *)"docker", 10, 6, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16,
         NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"buildkit-controlapi-buildid", (uint8_t *)buildid, 27,
         buildid ? strlen(buildid) : 0, NGHTTP2_NV_FLAG_NONE},
    };
    uint8_t block[1024];
    ssize_t n = nghttp2_hd_deflate_hd(def, block, sizeof block, nv, buildid ? 6 : 5);
    CHECK(n > 0);
    frame(b, 1, (uint8_t)(0x4 | flags), stream, block, (size_t)n);
}

static void headers(bytes *b, nghttp2_hd_deflater *def, uint32_t stream, const char *path,
                    uint8_t flags)
{
    headers_id(b, def, stream, path, flags, NULL);
}

/* protobuf: a string field, a map<string,string> entry. */
static size_t pb_str(uint8_t *o, unsigned field, const char *s)
{
    size_t n = strlen(s);
    o[0] = (uint8_t)(field << 3 | 2);
    o[1] = (uint8_t)n;
    memcpy(o + 2, s, n);
    return n + 2;
}

static size_t pb_map(uint8_t *o, unsigned field, const char *k, const char *v)
{
    uint8_t e[256];
    size_t n = pb_str(e, 1, k);
    n += pb_str(e + n, 2, v);
    o[0] = (uint8_t)(field << 3 | 2);
    o[1] = (uint8_t)n;
    memcpy(o + 2, e, n);
    return n + 2;
}

/* The gRPC message of a SolveRequest, in DATA frames of at most `cut`
 * bytes, the last with END_STREAM. */
static void solve_data(bytes *b, uint32_t stream, const uint8_t *pb, size_t n, size_t cut)
{
    uint8_t msg[2048] = {0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                         (uint8_t)n};
    memcpy(msg + 5, pb, n);
    size_t total = n + 5;
    for (size_t off = 0; off < total; off += cut) {
        size_t k = total - off < cut ? total - off : cut;
        frame(b, 0, off + k == total ? 0x1 : 0, stream, msg + off, k);
    }
}

typedef struct {
    sg_h2_buf engine, client;
    int rc;
} result;

/* Feed client bytes in pieces of `step` (0: at once). */
static result run(const bytes *in, size_t step)
{
    result r = {0};
    sg_h2_inspect *h = sg_h2_inspect_new("; tail");
    /* dockerd's SETTINGS first: the gate answers only after it */
    static const uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    sg_h2_buf ignored = {0};
    sg_h2_from_engine(h, settings, sizeof settings, &ignored);
    sg_h2_buf_free(&ignored);
    size_t step_ = step ? step : in->n;
    for (size_t off = 0; off < in->n && r.rc == 0; off += step_) {
        size_t k = in->n - off < step_ ? in->n - off : step_;
        r.rc = sg_h2_from_client(h, in->d + off, k, &r.engine, &r.client);
    }
    sg_h2_inspect_free(h);
    return r;
}

static void result_free(result *r)
{
    sg_h2_buf_free(&r->engine);
    sg_h2_buf_free(&r->client);
}

/* The frames of buf, as (type, flags, stream, length) in order. */
typedef struct {
    uint8_t type, flags;
    uint32_t stream;
    size_t len;
    const uint8_t *payload;
} frame_info;

static size_t frames_of(const uint8_t *p, size_t n, bool preface, frame_info *out, size_t max)
{
    size_t off = preface ? 24 : 0, k = 0;
    while (off + 9 <= n && k < max) {
        const uint8_t *h = p + off;
        frame_info f = {h[3], h[4], (uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 |
                                        (uint32_t)h[7] << 8 | h[8],
                        (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2], h + 9};
        out[k++] = f;
        off += 9 + f.len;
    }
    return off == n ? k : (size_t)-1;
}

/* grpc-status and grpc-message of a trailers-only answer. */
static void answer_of(const frame_info *f, char *status, char *message)
{
    nghttp2_hd_inflater *inf;
    nghttp2_hd_inflate_new(&inf);
    const uint8_t *in = f->payload;
    size_t left = f->len;
    status[0] = message[0] = '\0';
    for (;;) {
        nghttp2_nv nv;
        int fl = 0;
        ssize_t rv = nghttp2_hd_inflate_hd2(inf, &nv, &fl, in, left, 1);
        if (rv < 0)
            break;
        in += rv;
        left -= (size_t)rv;
        if ((fl & NGHTTP2_HD_INFLATE_EMIT) && nv.namelen == 11 &&
            memcmp(nv.name, "grpc-status", 11) == 0)
            snprintf(status, 8, "%.*s", (int)nv.valuelen, nv.value);
        if ((fl & NGHTTP2_HD_INFLATE_EMIT) && nv.namelen == 12 &&
            memcmp(nv.name, "grpc-message", 12) == 0)
            snprintf(message, 1600, "%.*s", (int)nv.valuelen, nv.value);
        if (fl & NGHTTP2_HD_INFLATE_FINAL)
            break;
    }
    nghttp2_hd_inflate_del(inf);
}

/* Only the HEADERS frames (the gate's answers) of frames f[0..k): moved to
 * the front; returns how many. WINDOW_UPDATEs crediting dropped bytes are
 * checked on their own. */
static size_t answers_only(frame_info *f, size_t k)
{
    size_t m = 0;
    for (size_t i = 0; i < k && k != (size_t)-1; i++)
        if (f[i].type == 1)
            f[m++] = f[i];
    return m;
}

static bytes conn(nghttp2_hd_deflater **def)
{
    bytes b = {.n = 0};
    nghttp2_hd_deflate_new(def, 4096);
    put(&b, PREFACE, 24);
    frame(&b, 4, 0, 0, "", 0); /* SETTINGS */
    return b;
}

TEST(plain_solve_passes_with_its_last_byte_held_then_sent)
{
    nghttp2_hd_deflater *def;
    bytes b = conn(&def);
    headers(&b, def, 1, "/moby.buildkit.v1.Control/Solve", 0);
    uint8_t pb[512];
    size_t n = pb_str(pb, 1, "ref-1");
    n += pb_map(pb + n, 7, "filename", "Dockerfile");
    n += pb_str(pb + n, 6, "dockerfile.v0");
    solve_data(&b, 1, pb, n, 10);
    for (size_t step = 0; step < 40; step += 7) {
        result r = run(&b, step);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.client.len, 0);
        /* the same bytes of every frame reach dockerd, the DATA re-cut */
        frame_info f[32];
        size_t k = frames_of(r.engine.data, r.engine.len, true, f, 32);
        CHECK(k != (size_t)-1 && k >= 4);
        size_t data = 0;
        bool end = false;
        for (size_t i = 0; i < k; i++)
            if (f[i].type == 0) {
                data += f[i].len;
                end = f[i].flags & 1;
                CHECK(f[i].stream == 1);
            } else {
                CHECK(f[i].type != 3); /* no RST_STREAM */
            }
        CHECK_INT(data, n + 5);
        CHECK(end);
        CHECK(f[k - 1].type == 0 && f[k - 1].len == 1);
        result_free(&r);
    }
    nghttp2_hd_deflate_del(def);
}

TEST(solve_with_an_entitlement_is_refused_whatever_the_cut)
{
    static const char *const ents[] = {"network.host", "security.insecure", "device"};
    for (size_t e = 0; e < sizeof ents / sizeof *ents; e++) {
        nghttp2_hd_deflater *def;
        bytes b = conn(&def);
        headers(&b, def, 1, "/moby.buildkit.v1.Control/Status", 0x1);
        headers(&b, def, 3, "/moby.buildkit.v1.Control/Solve", 0);
        uint8_t pb[512];
        size_t n = pb_str(pb, 1, "ref-2");
        n += pb_str(pb + n, 9, ents[e]);
        solve_data(&b, 3, pb, n, 4);
        for (size_t step = 0; step < 30; step += 5) {
            result r = run(&b, step);
            CHECK_INT(r.rc, 0);
            frame_info f[64], a[4];
            size_t k = frames_of(r.engine.data, r.engine.len, true, f, 64);
            CHECK(k != (size_t)-1 && f[k - 1].type == 3 && f[k - 1].stream == 3);
            size_t data = 0;
            for (size_t i = 0; i < k; i++)
                data += f[i].type == 0 ? f[i].len : 0;
            CHECK_INT(data, n + 4); /* never the message's last byte */
            size_t na = answers_only(a, frames_of(r.client.data, r.client.len, false, a, 4));
            CHECK_INT(na, 1);
            for (size_t j = 0; j < na && na != 1; j++) {
                char st[8], m[1600];
                answer_of(&a[j], st, m);
                fprintf(stderr, "    answer %zu on %u: %s %s\n", j, a[j].stream, st, m);
            }
            CHECK(a[0].type == 1 && a[0].stream == 3 && a[0].flags == 0x5);
            char status[8], msg[1600];
            answer_of(&a[0], status, msg);
            CHECK_STR(status, "7");
            CHECK(strstr(msg, "enhanced container isolation: builds with the entitlement") &&
                  strstr(msg, ents[e]) && strstr(msg, "; tail"));
            result_free(&r);
        }
        nghttp2_hd_deflate_del(def);
    }
}

TEST(host_network_and_cgroup_parent_refused)
{
    static const char *const attrs[][2] = {{"force-network-mode", "host"},
                                           {"cgroup-parent", "/x"}};
    for (size_t i = 0; i < 2; i++) {
        uint8_t pb[256];
        size_t n = pb_map(pb, 7, attrs[i][0], attrs[i][1]);
        char why[300];
        CHECK_INT(sg_solve_check(pb, n, why, sizeof why), SG_SOLVE_REFUSE);
    }
    uint8_t pb[256];
    size_t n = pb_map(pb, 7, "force-network-mode", "none");
    char why[300];
    CHECK_INT(sg_solve_check(pb, n, why, sizeof why), SG_SOLVE_ALLOW);
    /* truncated, or a field with a wire type it cannot have */
    CHECK_INT(sg_solve_check(pb, n - 1, why, sizeof why), SG_SOLVE_UNREADABLE);
    uint8_t bad[] = {9 << 3 | 0, 1};
    CHECK_INT(sg_solve_check(bad, sizeof bad, why, sizeof why), SG_SOLVE_UNREADABLE);
}

TEST(unknown_method_and_compressed_solve_refused)
{
    nghttp2_hd_deflater *def;
    bytes b = conn(&def);
    headers(&b, def, 1, "/evil.Service/Grant", 0);
    uint8_t pb[8] = {0};
    solve_data(&b, 1, pb, 0, 100);
    headers(&b, def, 3, "/moby.buildkit.v1.Control/Solve", 0);
    uint8_t z[] = {1, 0, 0, 0, 2, 0xaa, 0xbb}; /* compressed flag */
    frame(&b, 0, 1, 3, z, sizeof z);
    result r = run(&b, 0);
    CHECK_INT(r.rc, 0);
    frame_info f[16];
    size_t k = answers_only(f, frames_of(r.client.data, r.client.len, false, f, 16));
    CHECK_INT(k, 2);
    char status[8], msg[1600];
    answer_of(&f[0], status, msg);
    CHECK(strstr(msg, "/evil.Service/Grant") != NULL);
    answer_of(&f[1], status, msg);
    CHECK(strstr(msg, "compressed") != NULL);
    result_free(&r);
    nghttp2_hd_deflate_del(def);
}

TEST(answers_wait_for_a_frame_boundary_from_dockerd)
{
    nghttp2_hd_deflater *def;
    bytes b = conn(&def);
    headers(&b, def, 1, "/x.Y/Z", 0x1);
    sg_h2_inspect *h = sg_h2_inspect_new("");
    sg_h2_buf e = {0}, c = {0};
    uint8_t settings[9 + 6] = {0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100};
    CHECK_INT(sg_h2_from_engine(h, settings, 12, &c), 0); /* mid-frame */
    CHECK_INT(sg_h2_from_client(h, b.d, b.n, &e, &c), 0);
    CHECK_INT(c.len, 12); /* the answer waits */
    CHECK_INT(sg_h2_from_engine(h, settings + 12, 3, &c), 0);
    CHECK(c.len > 15 && memcmp(c.data, settings, 15) == 0 && c.data[15 + 3] == 1);
    sg_h2_buf_free(&e);
    sg_h2_buf_free(&c);
    sg_h2_inspect_free(h);
    nghttp2_hd_deflate_del(def);
}

TEST(what_cannot_be_followed_ends_the_connection)
{
    result r;
    bytes b = {.n = 0};
    put(&b, "GET / HTTP/1.1\r\n\r\n", 18);
    r = run(&b, 0);
    CHECK_INT(r.rc, -1);
    result_free(&r);
    b.n = 0;
    put(&b, PREFACE, 24);
    uint8_t junk[] = {0xff, 0xff, 0xff};
    frame(&b, 1, 0x4, 1, junk, sizeof junk); /* not HPACK */
    r = run(&b, 0);
    CHECK_INT(r.rc, -1);
    result_free(&r);
    b.n = 0;
    put(&b, PREFACE, 24);
    frame(&b, 1, 0, 1, "", 0);   /* a block left open … */
    frame(&b, 0, 0, 1, "x", 1); /* … interrupted */
    r = run(&b, 0);
    CHECK_INT(r.rc, -1);
    result_free(&r);
}

/* Issue 18 review: dockerd routes by the decoded path, so a path that is
 * not a plain method name is refused, not passed as "some other call". */
TEST(paths_that_are_not_plain_method_names_refused)
{
    static const char *const paths[] = {"/moby.buildkit.v1.Control/%53olve",
                                        "/moby.buildkit.v1.Control/Solve?x=1",
                                        "/moby.buildkit.v1.Control/ListenBuildHistory",
                                        "/moby.buildkit.v1.Control/UpdateBuildHistory",
                                        "moby.buildkit.v1.Control/Solve"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        nghttp2_hd_deflater *def;
        bytes b = conn(&def);
        headers(&b, def, 1, paths[i], 0);
        uint8_t pb[64];
        size_t n = pb_str(pb, 9, "network.host");
        solve_data(&b, 1, pb, n, 100);
        result r = run(&b, 0);
        CHECK_INT(r.rc, 0);
        frame_info f[16];
        size_t k = frames_of(r.engine.data, r.engine.len, true, f, 16);
        size_t data = 0;
        for (size_t j = 0; j < k && k != (size_t)-1; j++)
            data += f[j].type == 0 ? f[j].len : 0;
        CHECK_INT(data, 0); /* the message never reaches dockerd */
        k = frames_of(r.client.data, r.client.len, false, f, 16);
        CHECK(k >= 1 && f[0].type == 1 && f[0].stream == 1);
        result_free(&r);
        nghttp2_hd_deflate_del(def);
    }
}

/* buildx solves through the frontend gateway, its attributes in FrontendOpt
 * (field 3), its steps as LLB: both read. */
TEST(gateway_solve_and_llb_steps_read)
{
    /* LLBBridge/Solve with FrontendOpt cgroup-parent */
    uint8_t pb[512];
    size_t n = pb_map(pb, 3, "cgroup-parent", "/evil");
    char why[300];
    CHECK_INT(sg_gateway_solve_check(pb, n, why, sizeof why), SG_SOLVE_REFUSE);
    CHECK_INT(sg_solve_check(pb, n, why, sizeof why), SG_SOLVE_ALLOW); /* field 3: a string there */
    /* an ExecOp in a Definition: network HOST (3 = 1), security INSECURE,
     * a cgroup parent in its Meta (10) */
    static const uint8_t exec_host[] = {3 << 3 | 0, 1};
    static const uint8_t exec_insecure[] = {4 << 3 | 0, 1};
    static const uint8_t exec_cgroup[] = {1 << 3 | 2, 4, 10 << 3 | 2, 2, '/', 'x'};
    static const uint8_t exec_fine[] = {3 << 3 | 0, 2, 1 << 3 | 2, 2, 1 << 3 | 2, 0};
    const struct {
        const uint8_t *e;
        size_t n;
        sg_solve_verdict want;
    } cases[] = {{exec_host, sizeof exec_host, SG_SOLVE_REFUSE},
                 {exec_insecure, sizeof exec_insecure, SG_SOLVE_REFUSE},
                 {exec_cgroup, sizeof exec_cgroup, SG_SOLVE_REFUSE},
                 {exec_fine, sizeof exec_fine, SG_SOLVE_ALLOW}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t op[64], def[80], req[96];
        op[0] = 2 << 3 | 2; /* Op.exec */
        op[1] = (uint8_t)cases[i].n;
        memcpy(op + 2, cases[i].e, cases[i].n);
        def[0] = 1 << 3 | 2; /* Definition.def */
        def[1] = (uint8_t)(cases[i].n + 2);
        memcpy(def + 2, op, cases[i].n + 2);
        size_t dn = cases[i].n + 4;
        /* Control/Solve: Definition is field 2; the gateway's: field 1 */
        req[0] = 2 << 3 | 2;
        req[1] = (uint8_t)dn;
        memcpy(req + 2, def, dn);
        CHECK_INT(sg_solve_check(req, dn + 2, why, sizeof why), cases[i].want);
        req[0] = 1 << 3 | 2;
        CHECK_INT(sg_gateway_solve_check(req, dn + 2, why, sizeof why), cases[i].want);
    }
}

/* Bytes the client sent that dockerd never sees are credited back, or the
 * connection's window would shrink with every refusal. */
TEST(dropped_bytes_credited_to_the_client)
{
    nghttp2_hd_deflater *def;
    bytes b = conn(&def);
    headers(&b, def, 1, "/x.Y/Z", 0);
    frame(&b, 0, 0, 1, "0123456789", 10);
    frame(&b, 0, 1, 1, "abc", 3);
    result r = run(&b, 0);
    CHECK_INT(r.rc, 0);
    frame_info f[16];
    size_t k = frames_of(r.client.data, r.client.len, false, f, 16);
    uint32_t credited = 0;
    for (size_t i = 0; i < k && k != (size_t)-1; i++)
        if (f[i].type == 8 && f[i].stream == 0)
            credited += (uint32_t)f[i].payload[0] << 24 | (uint32_t)f[i].payload[1] << 16 |
                        (uint32_t)f[i].payload[2] << 8 | f[i].payload[3];
    CHECK_INT(credited, 13);
    result_free(&r);
    nghttp2_hd_deflate_del(def);
}

/* The data bytes of each stream in buf (what dockerd received). */
static size_t data_on(const sg_h2_buf *e, uint32_t stream)
{
    frame_info f[64];
    size_t k = frames_of(e->data, e->len, true, f, 64), n = 0;
    for (size_t i = 0; i < k && k != (size_t)-1; i++)
        n += f[i].type == 0 && f[i].stream == stream ? f[i].len : 0;
    return n;
}

/* Issue 18 review: a gateway call acts inside the build it names, so only
 * a build this connection started and the gate allowed — whichever of the
 * two arrives first. */
TEST(gateway_calls_bound_to_this_connections_builds)
{
    uint8_t solve_ok[64], ping[8] = {0};
    size_t ok = pb_str(solve_ok, 1, "build-A");
    uint8_t solve_bad[64];
    size_t bad = pb_str(solve_bad, 1, "build-B");
    bad += pb_str(solve_bad + bad, 9, "network.host");
    const char *ping_path = "/moby.buildkit.v1.frontend.LLBBridge/Ping";
    for (int order = 0; order < 2; order++) {
        nghttp2_hd_deflater *def;
        bytes b = conn(&def);
        if (order == 1) { /* the gateway's call first: it waits for its build */
            headers_id(&b, def, 1, ping_path, 0, "build-A");
            solve_data(&b, 1, ping, 0, 100);
        }
        headers(&b, def, 3, "/moby.buildkit.v1.Control/Solve", 0);
        solve_data(&b, 3, solve_ok, ok, 100);
        if (order == 0) {
            headers_id(&b, def, 1 + 4, ping_path, 0, "build-A");
            solve_data(&b, 5, ping, 0, 100);
        }
        /* someone else's build, one that was refused, and none at all */
        headers_id(&b, def, 7, ping_path, 0, "build-of-someone-else");
        solve_data(&b, 7, ping, 0, 100);
        headers(&b, def, 9, "/moby.buildkit.v1.Control/Solve", 0);
        solve_data(&b, 9, solve_bad, bad, 100);
        headers_id(&b, def, 11, ping_path, 0, "build-B");
        solve_data(&b, 11, ping, 0, 100);
        headers(&b, def, 13, ping_path, 0);
        solve_data(&b, 13, ping, 0, 100);
        result r = run(&b, order ? 3 : 0);
        CHECK_INT(r.rc, 0);
        CHECK_INT(data_on(&r.engine, order ? 1 : 5), 5); /* released whole */
        CHECK_INT(data_on(&r.engine, 3), ok + 5);
        CHECK(data_on(&r.engine, 7) < 5);  /* held: never whole at dockerd */
        CHECK(data_on(&r.engine, 11) < 5);
        CHECK(data_on(&r.engine, 13) < 5);
        frame_info f[32];
        size_t k = answers_only(f, frames_of(r.client.data, r.client.len, false, f, 32));
        bool refused[16] = {false};
        for (size_t i = 0; i < k; i++)
            refused[f[i].stream & 15] = true;
        CHECK(refused[9] && refused[11] && refused[13]);
        CHECK(!refused[7] && !refused[1] && !refused[3] && !refused[5]);
        result_free(&r);
        nghttp2_hd_deflate_del(def);
    }
}

TEST(prior_knowledge_told_and_answered_http_1_1_required)
{
    const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    CHECK(sg_h2_prior_knowledge(preface, sizeof preface - 1));
    CHECK(sg_h2_prior_knowledge(preface, 18));       /* the head is enough */
    CHECK(!sg_h2_prior_knowledge(preface, 17));
    CHECK(!sg_h2_prior_knowledge("GET /_ping HTTP/2.0\r\n\r\n", 24));
    CHECK(!sg_h2_prior_knowledge("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", 24));

    sg_h2_buf out = {0};
    CHECK_INT(sg_h2_refuse_connection(&out, "why"), 0);
    static const uint8_t want[] = {
        0, 0, 0, 4, 0, 0, 0, 0, 0,                 /* SETTINGS, empty, stream 0 */
        0, 0, 11, 7, 0, 0, 0, 0, 0,                /* GOAWAY, 8 + 3 bytes */
        0, 0, 0, 0, 0, 0, 0, 0xd, 'w', 'h', 'y'};  /* last stream 0, HTTP_1_1_REQUIRED */
    CHECK_INT(out.len, sizeof want);
    CHECK(out.len == sizeof want && memcmp(out.data, want, sizeof want) == 0);
    sg_h2_buf_free(&out);
}

int main(void)
{
    RUN(plain_solve_passes_with_its_last_byte_held_then_sent);
    RUN(solve_with_an_entitlement_is_refused_whatever_the_cut);
    RUN(host_network_and_cgroup_parent_refused);
    RUN(unknown_method_and_compressed_solve_refused);
    RUN(answers_wait_for_a_frame_boundary_from_dockerd);
    RUN(what_cannot_be_followed_ends_the_connection);
    RUN(paths_that_are_not_plain_method_names_refused);
    RUN(gateway_solve_and_llb_steps_read);
    RUN(dropped_bytes_credited_to_the_client);
    RUN(gateway_calls_bound_to_this_connections_builds);
    RUN(prior_knowledge_told_and_answered_http_1_1_required);
    return UNIT_DONE();
}
