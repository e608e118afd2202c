/*
 * fuzz_cgroup.c — libFuzzer target for sg_cgroup_container_id().
 *
 * Input: the text of /proc/PID/cgroup (a privileged container can name its
 * own cgroups). Invariants: an ID found is 64 lowercase hex digits and
 * appears in the input; no read outside it (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide/peer_container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[SG_CONTAINER_ID_LEN + 1];
    if (!sg_cgroup_container_id((const char *)data, size, id))
        return 0;
    if (strlen(id) != SG_CONTAINER_ID_LEN)
        abort();
    for (size_t i = 0; i < SG_CONTAINER_ID_LEN; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            abort();
    if (!memmem(data, size, id, SG_CONTAINER_ID_LEN))
        abort();
    return 0;
}
