/*
 * fuzz_grpc_solve.c — the SolveRequest protobuf reader (tunnel/
 * grpc_solve.c) on arbitrary bytes. Invariants: no crash; a verdict is one
 * of the three, with a reason unless it allows; a message with an
 * Entitlements field (9, length-delimited) at its top level is never
 * allowed — checked by appending one to every input that reads whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/grpc_solve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512] = "";
    sg_solve_verdict v = sg_solve_check(data, size, why, sizeof why);
    if (v != SG_SOLVE_ALLOW && v != SG_SOLVE_REFUSE && v != SG_SOLVE_UNREADABLE)
        abort();
    if (v != SG_SOLVE_ALLOW && !why[0])
        abort();
    if (v == SG_SOLVE_ALLOW && size < 4096) {
        uint8_t more[4096 + 16];
        memcpy(more, data, size);
        static const uint8_t ent[] = {9 << 3 | 2, 12, 'n', 'e', 't', 'w', 'o', 'r',
                                      'k', '.', 'h', 'o', 's', 't'};
        memcpy(more + size, ent, sizeof ent);
        if (sg_solve_check(more, size + sizeof ent, why, sizeof why) != SG_SOLVE_REFUSE)
            abort();
    }
    return 0;
}
