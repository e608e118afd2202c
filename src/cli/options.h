/*
 * options.h — command-line parsing for `sockgate serve`.
 */
#ifndef SG_OPTIONS_H
#define SG_OPTIONS_H

#include "base/log.h"
#include "gate/gate.h"

typedef struct {
    sg_server_config server;
    sg_log_format log_format;
    sg_log_level log_level;
} sg_serve_options;

/* Returns 0 to run, 1 on a usage error (already reported), 2 if help was
 * printed. */
int sg_serve_options_parse(int argc, char **argv, sg_serve_options *out);
void sg_serve_usage(FILE *to);

#endif
