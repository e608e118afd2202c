/*
 * test_log_writer.c — the log's bounded queue and its writer thread: lines
 * whole and in order, drops counted (audit lines on their own) when the
 * output stalls, the loss warning once the output drains (rate-limited,
 * with a last word at stop), failed writes counted, a bounded stop.
 *
 * The output is a pipe the test reads, or does not: a pipe nobody reads is
 * exactly a stalled journald.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/log_writer.h"
#include "unit.h"

typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
} capture;

static void capture_read(capture *c)
{
    for (;;) {
        if (c->cap - c->len < 65536) {
            c->cap = c->cap * 2 + 65536;
            c->buf = realloc(c->buf, c->cap + 1);
        }
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n <= 0)
            break;
        c->len += (size_t)n;
    }
    c->buf[c->len] = '\0';
}

/* Read what the writer writes until its queue is empty and the pipe has
 * been quiet for 200 ms (at most 10 s). */
static void capture_until_idle(capture *c)
{
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 50; i++) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int ready = poll(&p, 1, 200);
        capture_read(c);
        if (ready == 0 && sg_log_stats().queued_bytes == 0)
            return;
    }
}

static void *capture_thread(void *arg)
{
    capture *c = arg;
    fcntl(c->fd, F_SETFL, 0);
    capture_read(c); /* blocking, until EOF */
    return NULL;
}

/* The next line of `text` at *p (without its newline), NULL at the end.
 * Line by line, because ASan's strstr measures its whole haystack on
 * every call. */
static const char *next_line(const char **p, size_t *len)
{
    const char *line = *p, *nl = strchr(line, '\n');
    if (!nl)
        return NULL;
    *len = (size_t)(nl - line);
    *p = nl + 1;
    return line;
}

static const char *in_line(const char *line, size_t len, const char *what)
{
    return memmem(line, len, what, strlen(what));
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0, len;
    for (const char *p = text, *line; (line = next_line(&p, &len));)
        n += in_line(line, len, what) != NULL;
    return n;
}

/* Every "fill N" line whole, N strictly increasing; how many there were. */
static size_t fill_lines_in_order(const char *text)
{
    size_t n = 0, len;
    long last = -1;
    for (const char *p = text, *line, *f; (line = next_line(&p, &len));) {
        if (!(f = in_line(line, len, "info: fill ")))
            continue;
        char *end;
        long v = strtol(f + 11, &end, 10);
        CHECK(end == line + len);
        CHECK(v > last);
        last = v;
        n++;
    }
    return n;
}

/* The numbers of the index-th loss warning, -1 when there is none. */
static void warning_numbers(const char *text, int index, long *lost, long *audit)
{
    *lost = *audit = -1;
    size_t len;
    for (const char *p = text, *line, *f; (line = next_line(&p, &len));) {
        if (!in_line(line, len, "warn: log lines lost") || index-- > 0)
            continue;
        if (!(f = in_line(line, len, "lines_lost=")) ||
            sscanf(f, "lines_lost=%ld audit_lines_lost=%ld", lost, audit) != 2)
            *lost = *audit = -1;
        return;
    }
}

static void audit_line(int i)
{
    sg_log_audit(SG_LOG_INFO, "decision", json_pack("{s:i}", "n", i));
}

/* Log until the writer has dropped at least one audit line (the output is
 * not read); returns how many lines were logged. */
static int fill_until_audit_dropped(int from)
{
    uint64_t before = sg_log_stats().audit_lines_dropped;
    int i = from;
    while (i < from + 1000000 && sg_log_stats().audit_lines_dropped == before) {
        sg_info("fill %d", i++);
        if (i % 8 == 0)
            audit_line(i);
    }
    return i - from;
}

static int pipe_of(int fds[2], int size)
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    fcntl(fds[1], F_SETPIPE_SZ, size); /* smaller is quicker; not needed */
    return 0;
}

TEST(lines_in_order_and_whole)
{
    int fds[2];
    CHECK(pipe_of(fds, 65536) == 0);
    sg_log_counters before = sg_log_stats();
    CHECK(sg_log_writer_start(fds[1], SG_LOG_QUEUE_BYTES) == 0);
    CHECK(sg_log_writer_start(fds[1], SG_LOG_QUEUE_BYTES) == -1); /* one writer */
    capture c = {.fd = fds[0]};
    pthread_t reader;
    pthread_create(&reader, NULL, capture_thread, &c);
    for (int i = 0; i < 20000; i++)
        sg_info("fill %d", i);
    CHECK(sg_log_writer_stop(SG_LOG_FLUSH_MS));
    close(fds[1]);
    pthread_join(reader, NULL);
    close(fds[0]);
    sg_log_counters after = sg_log_stats();
    CHECK_INT(fill_lines_in_order(c.buf), 20000);
    CHECK_INT(count(c.buf, " sockgate["), 20000); /* no other line */
    CHECK_INT(after.lines_written - before.lines_written, 20000);
    CHECK_INT(after.lines_dropped - before.lines_dropped, 0);
    CHECK_INT(after.queued_bytes, 0);
    free(c.buf);
}

/* What is queued when the gate exits is written before stop returns, to
 * an output nobody reads yet (the pipe holds it). */
TEST(stop_flushes_the_queue)
{
    int fds[2];
    CHECK(pipe_of(fds, 65536) == 0);
    CHECK(sg_log_writer_start(fds[1], SG_LOG_QUEUE_BYTES) == 0);
    for (int i = 0; i < 100; i++)
        sg_info("fill %d", i);
    CHECK(sg_log_writer_stop(SG_LOG_FLUSH_MS));
    close(fds[1]);
    capture c = {.fd = fds[0]};
    capture_read(&c);
    close(fds[0]);
    CHECK_INT(fill_lines_in_order(c.buf), 100);
    free(c.buf);
}

TEST(stalled_output_drops_and_counts_then_warns)
{
    int fds[2];
    CHECK(pipe_of(fds, 4096) == 0);
    sg_log_counters before = sg_log_stats();
    CHECK(sg_log_writer_start(fds[1], 16384) == 0);
    int logged = fill_until_audit_dropped(0);
    sg_log_counters full = sg_log_stats();
    long dropped = (long)(full.lines_dropped - before.lines_dropped);
    long audit_dropped = (long)(full.audit_lines_dropped - before.audit_lines_dropped);
    CHECK(audit_dropped > 0 && audit_dropped <= dropped);
    CHECK(full.queued_bytes <= 16384);
    CHECK_INT(full.write_errors - before.write_errors, 0);
    /* The output drains: what was kept is written, then the warning. */
    capture c = {.fd = fds[0]};
    capture_until_idle(&c);
    long lost, audit_lost;
    warning_numbers(c.buf, 0, &lost, &audit_lost);
    CHECK_INT(lost, dropped);
    CHECK_INT(audit_lost, audit_dropped);
    warning_numbers(c.buf, 1, &lost, &audit_lost);
    CHECK_INT(lost, -1); /* only one */
    size_t kept = fill_lines_in_order(c.buf) + count(c.buf, "info: decision");
    CHECK_INT(kept, logged + logged / 8 - dropped);
    CHECK(sg_log_writer_stop(SG_LOG_FLUSH_MS));
    close(fds[0]);
    close(fds[1]);
    free(c.buf);
}

/* A second loss within 10 s of the first warning is not warned about at
 * once, but it is when the writer stops. */
TEST(loss_warnings_rate_limited_with_a_last_word)
{
    int fds[2];
    CHECK(pipe_of(fds, 4096) == 0);
    CHECK(sg_log_writer_start(fds[1], 16384) == 0);
    capture c = {.fd = fds[0]};
    fill_until_audit_dropped(0);
    capture_until_idle(&c);
    CHECK_INT(count(c.buf, "log lines lost"), 1);
    sg_log_counters before = sg_log_stats();
    fill_until_audit_dropped(1000000);
    sg_log_counters full = sg_log_stats();
    capture_until_idle(&c);
    CHECK_INT(count(c.buf, "log lines lost"), 1);
    CHECK(sg_log_writer_stop(SG_LOG_FLUSH_MS));
    capture_until_idle(&c);
    long lost, audit_lost;
    warning_numbers(c.buf, 1, &lost, &audit_lost);
    CHECK_INT(lost, (long)(full.lines_dropped - before.lines_dropped));
    CHECK_INT(audit_lost, (long)(full.audit_lines_dropped - before.audit_lines_dropped));
    close(fds[0]);
    close(fds[1]);
    free(c.buf);
}

/* EPIPE: the reader is gone. The writer's SIGPIPE is blocked, so the
 * process lives and the lines are counted as lost. */
TEST(failed_writes_count_their_lines)
{
    int fds[2];
    CHECK(pipe_of(fds, 65536) == 0);
    close(fds[0]);
    sg_log_counters before = sg_log_stats();
    CHECK(sg_log_writer_start(fds[1], SG_LOG_QUEUE_BYTES) == 0);
    sg_info("fill 1");
    audit_line(2);
    sg_info("fill 3");
    CHECK(sg_log_writer_stop(SG_LOG_FLUSH_MS));
    close(fds[1]);
    sg_log_counters after = sg_log_stats();
    CHECK_INT(after.lines_dropped - before.lines_dropped, 3);
    CHECK_INT(after.audit_lines_dropped - before.audit_lines_dropped, 1);
    CHECK(after.write_errors - before.write_errors >= 2); /* lines, then the warning */
    CHECK_INT(after.lines_written - before.lines_written, 0);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A stop while the output is stalled gives up after its wait; a later one,
 * once the output drains, ends the writer. */
TEST(stop_waits_a_bounded_time)
{
    int fds[2];
    CHECK(pipe_of(fds, 4096) == 0);
    CHECK(sg_log_writer_start(fds[1], SG_LOG_QUEUE_BYTES) == 0);
    for (int i = 0; i < 2000; i++)
        sg_info("fill %d", i);
    double t0 = now_s();
    CHECK(!sg_log_writer_stop(300));
    double waited = now_s() - t0;
    CHECK(waited >= 0.25 && waited < 5);
    sg_info("fill %d", 2000); /* still queued, not written on this thread */
    capture c = {.fd = fds[0]};
    pthread_t reader;
    pthread_create(&reader, NULL, capture_thread, &c);
    CHECK(sg_log_writer_stop(SG_LOG_FLUSH_MS));
    close(fds[1]);
    pthread_join(reader, NULL);
    close(fds[0]);
    CHECK_INT(fill_lines_in_order(c.buf), 2001);
    free(c.buf);
}

int main(void)
{
    sg_log_setup(SG_LOG_TEXT, SG_LOG_INFO);
    RUN(lines_in_order_and_whole);
    RUN(stop_flushes_the_queue);
    RUN(stalled_output_drops_and_counts_then_warns);
    RUN(loss_warnings_rate_limited_with_a_last_word);
    RUN(failed_writes_count_their_lines);
    RUN(stop_waits_a_bounded_time);
    return UNIT_DONE();
}
