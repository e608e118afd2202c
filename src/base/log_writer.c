/*
 * log_writer.c — the log's queue and its writer thread (see log_writer.h).
 *
 * Callers format a line on their own thread and queue a copy under the
 * lock; the writer takes the whole queue at once and writes it without
 * the lock, several whole lines per writev, so a caller never waits for
 * more than the queue's bookkeeping. Lines being written still count
 * against the bound: the memory is bounded, not just the queue.
 */
#include "base/log_writer.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

/* At most one loss warning per this many seconds: a log that keeps
 * overflowing must not fill itself with warnings about overflowing. */
#define LOG_WARN_EVERY_S 10
/* Lines per writev: a backlog drains in few system calls. */
#define LOG_BATCH_LINES 64

typedef struct log_line {
    struct log_line *next;
    size_t len; /* with its '\n' */
    bool audit;
    char text[];
} log_line;

/* What one round of writing did; added to the counters under the lock. */
typedef struct {
    uint64_t written, lost, audit_lost, errors;
    size_t bytes; /* queue bytes given back */
} log_tally;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* the writer's: a line queued, or stop asked  */
    pthread_cond_t finished; /* the stopper's: the writer has ended         */
    int fd;
    bool running;            /* a writer thread exists (until joined)       */
    bool stopping, done;
    pthread_t thread;
    log_line *head, **tail;
    size_t queued, max_queued;
    sg_log_counters n;
    uint64_t lost, audit_lost; /* since the last loss warning               */
    bool warned;
    struct timespec last_warning;
    /* A line was cut short by a failed write: the next write starts with
     * a newline, so the line after it is not glued to the stump. Touched
     * only by whoever writes: the writer, or callers under the lock when
     * none runs. */
    bool torn;
} lw = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = STDERR_FILENO};

static log_line *log_line_new(const char *text, size_t len, bool audit)
{
    log_line *l = malloc(sizeof *l + len + 1);
    if (!l)
        return NULL;
    l->next = NULL;
    l->len = len + 1;
    l->audit = audit;
    memcpy(l->text, text, len);
    l->text[len] = '\n';
    return l;
}

static size_t log_line_cost(size_t len) { return sizeof(log_line) + len + 1; }

/* Every byte of iov[0..n), resuming short writes; -1 and errno on a
 * failure, *done the bytes written either way. */
static int log_writev_all(int fd, struct iovec *iov, int n, size_t *done)
{
    *done = 0;
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) { /* someone made the fd non-blocking */
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, -1);
            continue;
        }
        if (w <= 0)
            return -1;
        *done += (size_t)w;
        for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
            w -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Lines written whole count as written; the rest of the chunk is lost. */
static void log_account(log_line *first, log_line *end, size_t done, log_tally *t)
{
    for (log_line *l = first, *next; l != end; l = next) {
        next = l->next;
        if (done >= l->len) {
            done -= l->len;
            t->written++;
        } else {
            lw.torn = lw.torn || done > 0;
            done = 0;
            t->lost++;
            t->audit_lost += l->audit;
        }
        t->bytes += log_line_cost(l->len - 1);
        free(l);
    }
}

/* Writes up to LOG_BATCH_LINES lines from *lp, frees them, and moves *lp
 * past them. */
static void log_write_chunk(log_line **lp, log_tally *t)
{
    static char newline[] = "\n";
    struct iovec iov[LOG_BATCH_LINES + 1];
    int n = 0;
    bool torn = lw.torn;
    if (torn)
        iov[n++] = (struct iovec){.iov_base = newline, .iov_len = 1};
    log_line *l = *lp;
    for (; l && n < LOG_BATCH_LINES + (int)torn; l = l->next)
        iov[n++] = (struct iovec){.iov_base = l->text, .iov_len = l->len};
    size_t done;
    if (log_writev_all(lw.fd, iov, n, &done) != 0)
        t->errors++;
    if (torn && done > 0) {
        lw.torn = false;
        done--;
    }
    log_account(*lp, l, done, t);
    *lp = l;
}

static void log_write_lines(log_line *l, log_tally *t)
{
    while (l)
        log_write_chunk(&l, t);
}

/* Counters take what a round did; the caller holds the lock. */
static void log_tally_add(const log_tally *t)
{
    lw.n.lines_written += t->written;
    lw.n.lines_dropped += t->lost;
    lw.n.audit_lines_dropped += t->audit_lost;
    lw.n.write_errors += t->errors;
    lw.lost += t->lost;
    lw.audit_lost += t->audit_lost;
}

/* Without a writer: at once, on the caller's thread, under the lock so
 * that lines from two threads cannot interleave. */
static void log_put_now(log_line *l)
{
    log_tally t = {0};
    log_write_lines(l, &t);
    log_tally_add(&t);
}

static void log_drop_locked(bool audit)
{
    log_tally t = {.lost = 1, .audit_lost = audit ? 1 : 0};
    log_tally_add(&t);
}

void sg_log_put(const char *text, size_t len, bool audit)
{
    pthread_mutex_lock(&lw.lock);
    bool queued = lw.running && !lw.done;
    if (queued && lw.queued + log_line_cost(len) > lw.max_queued) {
        log_drop_locked(audit);
        pthread_mutex_unlock(&lw.lock);
        return;
    }
    log_line *l = log_line_new(text, len, audit);
    if (!l) {
        log_drop_locked(audit);
    } else if (!queued) {
        log_put_now(l);
    } else {
        *lw.tail = l;
        lw.tail = &l->next;
        lw.queued += log_line_cost(len);
        pthread_cond_signal(&lw.wake);
    }
    pthread_mutex_unlock(&lw.lock);
}

/* ---- the loss warning --------------------------------------------------- */

static double log_since_warning(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - lw.last_warning.tv_sec) +
           (double)(now.tv_nsec - lw.last_warning.tv_nsec) / 1e9;
}

static bool log_warning_due_locked(void)
{
    return lw.lost > 0 && (!lw.warned || log_since_warning() >= LOG_WARN_EVERY_S);
}

/* Write the warning for what was lost since the last one. Called with the
 * lock, which it drops while writing; if the warning itself cannot be
 * written, its numbers wait for the next one. */
static void log_warn_losses_locked(void)
{
    uint64_t lost = lw.lost, audit_lost = lw.audit_lost;
    lw.lost = lw.audit_lost = 0;
    lw.warned = true;
    clock_gettime(CLOCK_MONOTONIC, &lw.last_warning);
    pthread_mutex_unlock(&lw.lock);
    json_t *f = json_pack("{s:I,s:I,s:s}", "lines_lost", (json_int_t)lost, "audit_lines_lost",
                          (json_int_t)audit_lost, "why",
                          "the log output was stalled, full or failing; see sockgate status");
    char *text = sg_log_format_line(SG_LOG_WARN, "log lines lost", f);
    json_decref(f);
    log_line *l = text ? log_line_new(text, strlen(text), false) : NULL;
    free(text);
    log_tally t = {0};
    if (l)
        log_write_lines(l, &t);
    pthread_mutex_lock(&lw.lock);
    lw.n.lines_written += t.written;
    lw.n.write_errors += t.errors;
    if (t.written == 0) {
        lw.lost += lost;
        lw.audit_lost += audit_lost;
    }
}

/* ---- the writer thread -------------------------------------------------- */

/* Until a line is queued, stop is asked, or a pending warning is due. */
static void log_wait_locked(void)
{
    if (lw.lost == 0) {
        pthread_cond_wait(&lw.wake, &lw.lock);
        return;
    }
    struct timespec due = lw.last_warning;
    due.tv_sec += LOG_WARN_EVERY_S;
    pthread_cond_timedwait(&lw.wake, &lw.lock, &due);
}

/* Takes the whole queue, writes it without the lock, then counts. */
static void log_write_queue_locked(void)
{
    log_line *batch = lw.head;
    lw.head = NULL;
    lw.tail = &lw.head;
    pthread_mutex_unlock(&lw.lock);
    log_tally t = {0};
    log_write_lines(batch, &t);
    pthread_mutex_lock(&lw.lock);
    log_tally_add(&t);
    lw.queued -= t.bytes;
}

static void *log_writer_main(void *arg)
{
    bool last_word = false; /* the final loss warning, whatever the rate limit */
    pthread_mutex_lock(&lw.lock);
    for (;;) {
        if (log_warning_due_locked())
            log_warn_losses_locked();
        else if (lw.head)
            log_write_queue_locked();
        else if (!lw.stopping)
            log_wait_locked();
        else if (lw.lost > 0 && !last_word) {
            last_word = true;
            log_warn_losses_locked();
        } else
            break;
    }
    lw.done = true;
    pthread_cond_broadcast(&lw.finished);
    pthread_mutex_unlock(&lw.lock);
    return NULL;
}

static void log_conds_init(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&lw.wake, &a);
    pthread_cond_init(&lw.finished, &a);
    pthread_condattr_destroy(&a);
}

static void log_conds_destroy(void)
{
    pthread_cond_destroy(&lw.wake);
    pthread_cond_destroy(&lw.finished);
}

/* The writer blocks every signal: a SIGPIPE from a write to a closed pipe
 * stays pending on it (the write fails with EPIPE and is counted), and
 * SIGTERM or SIGHUP go to the loop's thread. */
static int log_thread_create(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&lw.thread, NULL, log_writer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int sg_log_writer_start(int fd, size_t max_queued)
{
    pthread_mutex_lock(&lw.lock);
    if (lw.running) {
        pthread_mutex_unlock(&lw.lock);
        return -1;
    }
    log_conds_init();
    lw.fd = fd;
    lw.max_queued = max_queued;
    lw.head = NULL;
    lw.tail = &lw.head;
    lw.stopping = lw.done = lw.warned = lw.torn = false;
    lw.lost = lw.audit_lost = 0;
    int rc = log_thread_create();
    if (rc != 0) {
        log_conds_destroy();
        lw.fd = STDERR_FILENO;
    }
    lw.running = rc == 0;
    pthread_mutex_unlock(&lw.lock);
    return rc == 0 ? 0 : -1;
}

static struct timespec log_deadline(unsigned wait_ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += wait_ms / 1000;
    t.tv_nsec += (long)(wait_ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

bool sg_log_writer_stop(unsigned wait_ms)
{
    struct timespec deadline = log_deadline(wait_ms);
    pthread_mutex_lock(&lw.lock);
    if (!lw.running) {
        pthread_mutex_unlock(&lw.lock);
        return true;
    }
    lw.stopping = true;
    pthread_cond_signal(&lw.wake);
    while (!lw.done && pthread_cond_timedwait(&lw.finished, &lw.lock, &deadline) != ETIMEDOUT)
        ;
    bool done = lw.done;
    pthread_mutex_unlock(&lw.lock);
    if (!done)
        return false;
    pthread_join(lw.thread, NULL);
    pthread_mutex_lock(&lw.lock);
    log_conds_destroy();
    lw.running = false;
    lw.fd = STDERR_FILENO;
    pthread_mutex_unlock(&lw.lock);
    return true;
}

sg_log_counters sg_log_stats(void)
{
    pthread_mutex_lock(&lw.lock);
    sg_log_counters c = lw.n;
    c.queued_bytes = lw.queued;
    pthread_mutex_unlock(&lw.lock);
    return c;
}
