/*
 * daemon_json.h — what dockerd's own configuration means for the gate,
 * for `sockgate check`: the builder's entitlements, the image store, user
 * namespaces, and any listener that is a way around sockgate.
 */
#ifndef SG_DAEMON_JSON_H
#define SG_DAEMON_JSON_H

#include <stdio.h>

/* Read path (a regular file of at most 1 MiB; missing means dockerd's
 * defaults) and print a report to out. Returns the number of findings that
 * need the administrator (a TCP listener), or -1 when the file is there
 * but cannot be read or is not a JSON object. */
int sg_daemon_json_report(const char *path, FILE *out);

#endif
