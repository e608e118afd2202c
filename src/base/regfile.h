/*
 * regfile.h — reading a file that must be a regular file, without ever
 * blocking on what sits at its path.
 *
 * The settings file is read on the event loop (at start, on SIGHUP, when it
 * changes). fopen(3) of a FIFO blocks until a writer appears, and reading a
 * device may never end, so either would stop the gate for every client.
 * This reader opens without blocking, refuses anything but a regular file
 * and reads at most a given size.
 */
#ifndef SG_REGFILE_H
#define SG_REGFILE_H

#include <stddef.h>

/*
 * The whole of the regular file at `path`, NUL-terminated, its length in
 * *len; NULL with a message in err that starts with the path: the open or
 * read error, "not a regular file (a FIFO)" and the like, or "larger than
 * N bytes" when it holds more than `max` bytes. The caller frees the text.
 */
char *sg_regfile_read(const char *path, size_t max, size_t *len, char *err, size_t errsz);

#endif
