/*
 * test_bulk.c — large streams (gate/bulk.c) on real socket pairs: a splice
 * lane moves exactly its limit and not a byte past it, holds what a full
 * destination cannot take and passes it on later, reports its source's end
 * and a destination that is gone, and is refused past the server's bound;
 * a widened send buffer is bounded in number and set back; the request body
 * batch (gate/forward.c) re-frames pieces as chunks in one write.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gate/gate.h"
#include "unit.h"

#define MIB (1024 * 1024)

static void pair(int sv[2])
{
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

static void close_pairs(int a[2], int b[2])
{
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
}

/* Write n bytes of a counting pattern to fd (blocking until taken). */
static void put_pattern(int fd, size_t n, size_t from)
{
    char buf[65536];
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = (char)((from + i) % 251);
        ssize_t w = write(fd, buf, k);
        if (w < 0) {
            usleep(1000);
            continue;
        }
        n -= (size_t)w;
        from += (size_t)w;
    }
}

/* Read everything fd has now; checks the pattern from `from`. */
static size_t take_pattern(int fd, size_t from, bool *ok)
{
    char buf[65536];
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != (char)((from + got + (size_t)i) % 251))
                *ok = false;
        got += (size_t)r;
    }
    return got;
}

/* Run a lane until its source has nothing more now; the destination's
 * reader takes everything as it comes. */
static size_t pump_all(sg_lane *l, int dst_reader, size_t from, bool *ok)
{
    size_t got = 0;
    for (int spins = 0; spins < 100000; spins++) {
        sg_lane_fill(l);
        got += take_pattern(dst_reader, from + got, ok);
        sg_lane_drain(l);
        got += take_pattern(dst_reader, from + got, ok);
        if (l->held == 0 && (l->limit == 0 || l->src_eof || l->error))
            break;
    }
    return got;
}

TEST(a_lane_moves_exactly_its_limit)
{
    sg_server srv = {0};
    int src[2], dst[2];
    pair(src);
    pair(dst);
    sg_lane l = {0};
    const size_t limit = 3 * MIB + 5;
    CHECK(sg_lane_start(&srv, &l, src[0], dst[0], limit));
    CHECK_INT((int)srv.n_lanes, 1);
    /* More than the limit waits at the source: the next message's bytes. */
    pid_t writer = fork();
    if (writer == 0) {
        put_pattern(src[1], limit + 100, 0);
        _exit(0);
    }
    bool ok = true;
    size_t got = 0;
    while (got < limit && !l.error)
        got += pump_all(&l, dst[1], got, &ok);
    CHECK(ok);
    CHECK_INT((long)got, (long)limit);
    CHECK_INT((long)sg_lane_take_moved(&l), (long)limit);
    CHECK_INT((long)sg_lane_take_moved(&l), 0);
    CHECK(l.limit == 0);
    usleep(100 * 1000);
    char rest[200];
    CHECK_INT((int)read(src[0], rest, sizeof rest), 100); /* left where it was */
    waitpid(writer, NULL, 0);
    sg_lane_free(&srv, &l);
    CHECK_INT((int)srv.n_lanes, 0);
    CHECK(!l.piped && !l.active);
    close_pairs(src, dst);
}

TEST(a_full_destination_leaves_bytes_held_until_it_has_room)
{
    sg_server srv = {0};
    int src[2], dst[2];
    pair(src);
    pair(dst);
    int small = 4096;
    setsockopt(dst[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    sg_lane l = {0};
    CHECK(sg_lane_start(&srv, &l, src[0], dst[0], SG_LANE_UNLIMITED));
    put_pattern(src[1], 128 * 1024, 0);
    sg_lane_fill(&l);
    CHECK(l.held > 0); /* nobody reads dst yet */
    size_t held = l.held;
    sg_lane_fill(&l);   /* does not take more while bytes are held */
    CHECK_INT((long)l.held, (long)held);
    bool ok = true;
    size_t got = 0;
    for (int i = 0; i < 10000 && got < 128 * 1024; i++) {
        got += take_pattern(dst[1], got, &ok);
        sg_lane_drain(&l);
        sg_lane_fill(&l);
    }
    got += take_pattern(dst[1], got, &ok);
    CHECK(ok);
    CHECK_INT((long)got, 128 * 1024);
    CHECK_INT((long)l.held, 0);
    sg_lane_free(&srv, &l);
    close_pairs(src, dst);
}

TEST(the_sources_end_and_a_vanished_destination_are_reported)
{
    sg_server srv = {0};
    int src[2], dst[2];
    pair(src);
    pair(dst);
    sg_lane l = {0};
    CHECK(sg_lane_start(&srv, &l, src[0], dst[0], SG_LANE_UNLIMITED));
    put_pattern(src[1], 1000, 0);
    shutdown(src[1], SHUT_WR);
    bool ok = true;
    CHECK_INT((long)pump_all(&l, dst[1], 0, &ok), 1000);
    CHECK(ok);
    CHECK(l.src_eof);
    CHECK_INT(l.error, 0);
    sg_lane_free(&srv, &l);

    CHECK(sg_lane_start(&srv, &l, dst[0], src[0], SG_LANE_UNLIMITED));
    close(src[1]); /* the destination's reader is gone */
    put_pattern(dst[1], 1000, 0);
    sg_lane_fill(&l);
    CHECK(l.error < 0);
    sg_lane_free(&srv, &l);
    close(src[0]);
    close(dst[0]);
    close(dst[1]);
}

TEST(lanes_are_bounded_server_wide)
{
    sg_server srv = {.n_lanes = SG_BULK_MAX_LANES};
    sg_lane l = {0};
    CHECK(!sg_lane_start(&srv, &l, 0, 1, 10));
    CHECK(!l.active && !l.piped);
    srv.n_lanes = SG_BULK_MAX_LANES - 1;
    CHECK(sg_lane_start(&srv, &l, 0, 1, 10));
    CHECK_INT((int)srv.n_lanes, SG_BULK_MAX_LANES);
    /* A stopped lane keeps its pipe and starts again without a new one. */
    sg_lane_stop(&l);
    CHECK(sg_lane_start(&srv, &l, 0, 1, 10));
    CHECK_INT((int)srv.n_lanes, SG_BULK_MAX_LANES);
    sg_lane_free(&srv, &l);
    CHECK_INT((int)srv.n_lanes, SG_BULK_MAX_LANES - 1);
}

static int sndbuf_of(uv_pipe_t *p)
{
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t *)p, &fd);
    int v = 0;
    socklen_t len = sizeof v;
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len);
    return v;
}

TEST(a_widened_send_buffer_is_bounded_and_set_back)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sg_server srv = {.loop = &loop};
    int sv[2];
    pair(sv);
    uv_pipe_t p;
    uv_pipe_init(&loop, &p, 0);
    CHECK_INT(uv_pipe_open(&p, sv[0]), 0);
    int before = sndbuf_of(&p);
    sg_sndbuf sb = {0};
    uint64_t carried = 0;
    sg_bulk_count(&srv, (uv_stream_t *)&p, &sb, &carried, SG_BULK_MIN - 1);
    CHECK(!sb.wide); /* not large yet */
    sg_bulk_count(&srv, (uv_stream_t *)&p, &sb, &carried, 1);
    if (sb.wide) { /* the kernel may cap it (wmem_max, no CAP_NET_ADMIN) */
        CHECK(sndbuf_of(&p) >= 2 * SG_BULK_SNDBUF);
        CHECK_INT((int)srv.n_wide, 1);
    }
    sg_bulk_narrow(&srv, (uv_stream_t *)&p, &sb);
    CHECK(!sb.wide);
    CHECK_INT(sndbuf_of(&p), before);
    CHECK_INT((int)srv.n_wide, 0);
    srv.n_wide = SG_BULK_MAX_WIDE; /* the bound: no more */
    sg_bulk_widen(&srv, (uv_stream_t *)&p, &sb);
    CHECK(!sb.wide);
    CHECK_INT(sndbuf_of(&p), before);
    uv_close((uv_handle_t *)&p, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    close(sv[1]);
    CHECK_INT(uv_loop_close(&loop), 0);
}

/* The bytes a batch would write, joined. */
static size_t batch_bytes(const sg_forward_batch *b, char *out)
{
    size_t n = 0;
    for (unsigned i = 0; i < b->n_bufs; i++) {
        memcpy(out + n, b->bufs[i].base, b->bufs[i].len);
        n += b->bufs[i].len;
    }
    return n;
}

TEST(a_chunked_body_batch_reframes_every_piece)
{
    sg_forward_batch b;
    char out[256];
    sg_forward_batch_init(&b, HTTP_BODY_CHUNKED);
    sg_forward_batch_add(&b, "hello", 5);
    sg_forward_batch_add(&b, "", 0); /* framing only: nothing */
    sg_forward_batch_add(&b, "0123456789abcdefg", 17);
    sg_forward_batch_end(&b);
    size_t n = batch_bytes(&b, out);
    const char *want = "5\r\nhello\r\n11\r\n0123456789abcdefg\r\n0\r\n\r\n";
    CHECK_INT((long)n, (long)strlen(want));
    CHECK(memcmp(out, want, n) == 0);
    CHECK_INT((long)b.bytes, 22);

    sg_forward_batch_init(&b, HTTP_BODY_LENGTH);
    sg_forward_batch_add(&b, "abc", 3);
    sg_forward_batch_add(&b, "de", 2);
    sg_forward_batch_end(&b); /* nothing for a length */
    n = batch_bytes(&b, out);
    CHECK_INT((long)n, 5);
    CHECK(memcmp(out, "abcde", 5) == 0);
}

TEST(a_full_batch_takes_no_more)
{
    sg_forward_batch b;
    sg_forward_batch_init(&b, HTTP_BODY_CHUNKED);
    for (int i = 0; i < SG_FORWARD_BATCH; i++)
        sg_forward_batch_add(&b, "x", 1);
    CHECK(sg_forward_batch_full(&b));
    sg_forward_batch_add(&b, "y", 1);
    CHECK_INT((int)b.n_pieces, SG_FORWARD_BATCH);
    CHECK_INT((long)b.bytes, SG_FORWARD_BATCH);
    sg_forward_batch_end(&b);
    CHECK_INT((int)b.n_bufs, 3 * SG_FORWARD_BATCH + 1); /* the last chunk fits */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as sockgate does: a gone peer is an error, not a signal */
    RUN(a_lane_moves_exactly_its_limit);
    RUN(a_full_destination_leaves_bytes_held_until_it_has_room);
    RUN(the_sources_end_and_a_vanished_destination_are_reported);
    RUN(lanes_are_bounded_server_wide);
    RUN(a_widened_send_buffer_is_bounded_and_set_back);
    RUN(a_chunked_body_batch_reframes_every_piece);
    RUN(a_full_batch_takes_no_more);
    return UNIT_DONE();
}
