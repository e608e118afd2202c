/*
 * digest_driver.c — a stand-in for `sockgate digest` until main.c dispatches
 * to sg_cmd_digest: `digest_driver digest [options] IMAGE`. Built by the
 * registry tests (conftest.py) only when build/sockgate lacks the command.
 */
#include "registry/digest_cmd.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: digest_driver digest [options] IMAGE\n");
        return 2;
    }
    return sg_cmd_digest(argc - 1, argv + 1);
}
