/*
 * h2_inspect.h — BuildKit's /grpc tunnel read as HTTP/2, for isolated
 * callers (docs/DESIGN.md section 8).
 *
 * After dockerd confirms the upgrade of POST /grpc, the connection carries
 * HTTP/2 with gRPC on it: BuildKit's Control service, whose Solve request
 * lists the entitlements a build wants. The relay (gate/relay.c) passes
 * both directions through one inspector:
 *
 *   client → dockerd  frames are read (9-byte headers, payloads streamed);
 *                     header blocks are decoded with HPACK (nghttp2's
 *                     inflater, so the dynamic table stays in step with
 *                     dockerd's) to learn each request's method; a Solve
 *                     request's message is collected, and its last byte
 *                     held back until grpc_solve.c has read it — dockerd's
 *                     gRPC server does not start a unary call before its
 *                     message is whole, so nothing runs undecided, while
 *                     flow control goes on for every byte before it;
 *   dockerd → client  bytes pass as they are; only frame boundaries are
 *                     tracked, so that an answer of the gate's own can be
 *                     put between two frames.
 *
 * A refused request gets RST_STREAM (CANCEL) towards dockerd and, towards
 * the client, a gRPC error in a trailers-only response whose message is
 * the usual "enhanced container isolation: …" text (PermissionDenied), so
 * `docker buildx build` prints it. Refused: a Solve that asks for any
 * entitlement, the host network or a cgroup parent; a Solve message that
 * is compressed, padded, or cannot be read; a method outside the services
 * BuildKit's clients use. A header block that cannot be decoded, or a
 * stream the gate cannot follow, ends the connection (sg_h2_*() < 0).
 */
#ifndef SG_H2_INSPECT_H
#define SG_H2_INSPECT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes to write, in order. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} sg_h2_buf;

void sg_h2_buf_free(sg_h2_buf *b);

typedef struct sg_h2_inspect sg_h2_inspect;

/* tail: appended to every refusal (who could be exempt, and how). */
sg_h2_inspect *sg_h2_inspect_new(const char *tail);
void sg_h2_inspect_free(sg_h2_inspect *h);

/*
 * Client bytes in[0..n): what to forward to dockerd is appended to
 * to_engine, answers of the gate's own that can go now to to_client.
 * -1: the connection must end (sg_h2_error says why).
 */
int sg_h2_from_client(sg_h2_inspect *h, const uint8_t *in, size_t n, sg_h2_buf *to_engine,
                      sg_h2_buf *to_client);
/* dockerd's bytes in[0..n): appended to to_client, with the gate's own
 * answers put in at frame boundaries. -1: the connection must end. */
int sg_h2_from_engine(sg_h2_inspect *h, const uint8_t *in, size_t n, sg_h2_buf *to_client);

const char *sg_h2_error(const sg_h2_inspect *h);

/*
 * HTTP/2 with prior knowledge on a fresh connection (Engine API 1.53 serves
 * gRPC that way) is not served: the gate reads HTTP/2 only inside a /grpc
 * upgrade that dockerd has confirmed. sg_h2_prior_knowledge() says whether
 * in[0..n) starts with the client preface's request line;
 * sg_h2_refuse_connection() appends the answer a prior-knowledge client
 * understands: the server preface (an empty SETTINGS) and GOAWAY with
 * HTTP_1_1_REQUIRED, why as its debug data. Clients then fall back to
 * POST /grpc, which the gate reads. -1: out of memory.
 */
int sg_h2_prior_knowledge(const char *in, size_t n);
int sg_h2_refuse_connection(sg_h2_buf *out, const char *why);
/* The refusals so far, and the last one's message (for the log). */
unsigned sg_h2_refusals(const sg_h2_inspect *h);
const char *sg_h2_last_refusal(const sg_h2_inspect *h);

#endif
