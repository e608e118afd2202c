/*
 * bench/timeit.c — the wall time of a command, measured where it runs.
 *
 *   timeit [-n N] CMD [ARG...]
 *
 * Runs CMD N times (default 1), one after the other, its standard output
 * sent to /dev/null and its standard error kept, and prints the wall time of
 * each run in microseconds (CLOCK_MONOTONIC, from just before fork to the
 * end of waitpid), one per line. Exits 1 as soon as a run does not exit 0.
 *
 * bench/run builds it static and copies it into the CI-job containers of the
 * tenants section, whose busybox has no clock finer than 10 ms: timed there,
 * what `docker exec` itself costs stays outside the figure. Not part of
 * sockgate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    int n = 1, first = 1;
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        char *end = NULL;
        long v = strtol(argv[2], &end, 10);
        if (!end || *end || v < 1 || v > 100000) {
            fprintf(stderr, "timeit: bad -n %s\n", argv[2]);
            return 2;
        }
        n = (int)v;
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: timeit [-n N] CMD [ARG...]\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        long long t0 = now_us();
        pid_t pid = fork();
        if (pid < 0) {
            perror("timeit: fork");
            return 1;
        }
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
                _exit(127);
            execvp(argv[first], argv + first);
            fprintf(stderr, "timeit: %s: %s\n", argv[first], strerror(errno));
            _exit(127);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0) {
            if (errno != EINTR) {
                perror("timeit: waitpid");
                return 1;
            }
        }
        long long t1 = now_us();
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "timeit: %s exited %d\n", argv[first],
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            return 1;
        }
        printf("%lld\n", t1 - t0);
        fflush(stdout);
    }
    return 0;
}
