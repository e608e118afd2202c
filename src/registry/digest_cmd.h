/*
 * digest_cmd.h — `sockgate digest`: ask a registry which digest it serves
 * for an image reference (the look-up the gate makes, from the shell).
 */
#ifndef SG_DIGEST_CMD_H
#define SG_DIGEST_CMD_H

/* argv[0] is "digest"; options and the IMAGE follow. Exit status: 0 found,
 * 1 look-up failed, 2 usage. */
int sg_cmd_digest(int argc, char **argv);

#endif
