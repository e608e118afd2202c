/*
 * log_writer.h — where log lines go once formatted (log.c formats them).
 *
 * Without a writer, each line is written at once with one system call:
 * what the short-lived commands (check, explain, status, digest) and the
 * unit tests do. `sockgate serve` starts the writer: lines then go into a
 * bounded queue in memory, and one thread of their own writes them, so
 * the event loop never waits for the log. stderr is often a pipe (journald,
 * `| logger`); with nobody draining it, a blocking write on the loop
 * stopped every client after 64 KiB of log.
 *
 * Drop, not spill: when the queue is full a line is dropped and counted
 * (decision lines, the audit trail, also on their own), and so are the
 * lines of a write that fails (EPIPE, ENOSPC, EIO). Once it can write
 * again the writer says in the log itself how many lines were lost since
 * it last said so, at most once every 10 s and once more when it stops;
 * `sockgate status` shows the counters. Lines stay whole and in order.
 */
#ifndef SG_LOG_WRITER_H
#define SG_LOG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The queue's bound. A line is 200-400 bytes, so this is 10,000 or more
 * lines: enough to ride out a journald restart or a slow disk at the
 * heaviest decision rates, and small beside the gate's connection
 * buffers. A log stalled for longer costs lines, never the gate. */
#define SG_LOG_QUEUE_BYTES (4 * 1024 * 1024)

/* How long stopping waits for the queue to be written: a log that cannot
 * take what is left in 2 s is stalled, and exiting must not wait on it
 * (systemd's stop timeout would end in SIGKILL). */
#define SG_LOG_FLUSH_MS 2000

typedef struct {
    uint64_t lines_written;
    uint64_t lines_dropped;       /* queue full, or lost with a failed write */
    uint64_t audit_lines_dropped; /* of those, decision (audit) lines        */
    uint64_t write_errors;        /* write calls that failed                 */
    size_t queued_bytes;          /* waiting or being written, bookkeeping in */
} sg_log_counters;

/* One line, `len` bytes without its newline; copied. From any thread. */
void sg_log_put(const char *text, size_t len, bool audit);

/*
 * Start the writer thread: from now on lines are queued (at most
 * `max_queued` bytes) and written to `fd` (STDERR_FILENO; tests give a
 * pipe). 0, or -1 if a writer runs already or no thread can be made.
 */
int sg_log_writer_start(int fd, size_t max_queued);

/*
 * Write what is queued, then end the writer; waits at most `wait_ms`.
 * true when the writer has ended (lines are then written at once, to
 * stderr); false if it is still stuck in a write: it is left to finish,
 * lines go on being queued, and a later call may end it.
 */
bool sg_log_writer_stop(unsigned wait_ms);

/* Totals since the process started. */
sg_log_counters sg_log_stats(void);

#endif
