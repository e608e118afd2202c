/*
 * grpc_solve.h — what a BuildKit build asks of dockerd, read from the
 * protobuf of its Control/Solve request (moby/buildkit
 * api/services/control/control.proto, message SolveRequest).
 *
 * dockerd's BuildKit grants an entitlement only when the Solve request
 * lists it (Entitlements, field 9): network.host for RUN --network=host,
 * security.insecure, device (Docker 29) and whatever BuildKit adds later.
 * A build-wide host network is the frontend attribute force-network-mode
 * (FrontendAttrs, field 7, a map; FrontendOpt in the gateway's request).
 * Build steps are LLB: an ExecOp asks for the host network, insecure mode,
 * CDI devices or a cgroup parent in its own fields (solver/pb/ops.proto).
 * For isolated callers every entitlement, the host network, insecure
 * steps, devices and a cgroup parent are refused, however they are asked
 * for; a message the reader cannot read whole is refused too.
 */
#ifndef SG_GRPC_SOLVE_H
#define SG_GRPC_SOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SG_SOLVE_ALLOW,
    SG_SOLVE_REFUSE,     /* why: what it asks for                         */
    SG_SOLVE_UNREADABLE, /* why: what could not be read                   */
} sg_solve_verdict;

/* msg[0..len): one Control/Solve SolveRequest, without the gRPC message
 * prefix: its Entitlements, FrontendAttrs, Definition and FrontendInputs. */
sg_solve_verdict sg_solve_check(const uint8_t *msg, size_t len, char *why, size_t whysz);
/* One LLBBridge/Solve request of the frontend gateway (buildx runs the
 * frontend on the client and solves through it, its attributes in
 * FrontendOpt): FrontendOpt, Definition and FrontendInputs. */
sg_solve_verdict sg_gateway_solve_check(const uint8_t *msg, size_t len, char *why,
                                        size_t whysz);

/* The build a Control/Solve starts (Ref, field 1): the ID its frontend
 * gateway calls then name. false if absent, unreadable or too long. */
bool sg_solve_ref(const uint8_t *msg, size_t len, char *ref, size_t refsz);

#endif
