/*
 * guard_exit_delay — how much later a process ends because of the exit
 * guard, with an instant drain and with a drain that never returns.
 *
 *   guard_exit_delay [ITERATIONS [HANG_TIMEOUT_MS]]   (defaults 30, 1000)
 *
 * Each sample forks a child that (optionally) installs the guard and then
 * ends: by exit(0), or by SIGTERM sent from the parent. The delay is from
 * the child's last instruction before exit (its CLOCK_MONOTONIC time, sent
 * through a pipe) or from the parent's kill(), to waitpid() returning.
 * Prints one JSON object; never fails because the machine is slow.
 */
#include "exit_guard.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum drain_kind { NO_GUARD, INSTANT, HANG };

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void drain_instant(void *ctx, int64_t deadline_mono_ns)
{
    (void)ctx;
    (void)deadline_mono_ns;
}

static void drain_hang(void *ctx, int64_t deadline_mono_ns)
{
    (void)ctx;
    (void)deadline_mono_ns;
    for (;;)
        pause();
}

static void child(enum drain_kind kind, int64_t timeout_ms, int by_signal,
                  int fd)
{
    if (kind != NO_GUARD) {
        struct rocky_guard_config cfg = {
            .drain = kind == HANG ? drain_hang : drain_instant,
            .timeout_ms = timeout_ms,
        };
        if (rocky_guard_install(&cfg) != 0)
            _exit(99);
    }
    int64_t t0 = now_ns();
    if (write(fd, &t0, sizeof t0) != (ssize_t)sizeof t0)
        _exit(98);
    if (by_signal)
        for (;;)
            pause();
    exit(0);
}

/* One sample in nanoseconds, or -1 if the child misbehaved. */
static int64_t sample(enum drain_kind kind, int64_t timeout_ms, int by_signal)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        signal(SIGTERM, SIG_DFL);
        child(kind, timeout_ms, by_signal, fds[1]);
    }
    close(fds[1]);
    int64_t t0 = 0;
    ssize_t n = read(fds[0], &t0, sizeof t0);
    close(fds[0]);
    if (by_signal) {
        t0 = now_ns();
        kill(pid, SIGTERM);
    }
    int status;
    waitpid(pid, &status, 0);
    int64_t t1 = now_ns();
    if (n != (ssize_t)sizeof t0)
        return -1;
    return t1 - t0;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

struct stats {
    double median_us, min_us, max_us;
    int failures;
};

static struct stats measure(enum drain_kind kind, int64_t timeout_ms,
                            int by_signal, int iterations)
{
    int64_t *v = calloc((size_t)iterations, sizeof *v);
    struct stats st = {0};
    int n = 0;
    for (int i = 0; i < iterations && v; i++) {
        int64_t d = sample(kind, timeout_ms, by_signal);
        if (d < 0)
            st.failures++;
        else
            v[n++] = d;
    }
    if (n > 0) {
        qsort(v, (size_t)n, sizeof *v, cmp);
        st.median_us = (double)v[n / 2] / 1e3;
        st.min_us = (double)v[0] / 1e3;
        st.max_us = (double)v[n - 1] / 1e3;
    }
    free(v);
    return st;
}

static void print_stats(const char *name, struct stats st, int last)
{
    printf("    \"%s\": {\"median_us\": %.1f, \"min_us\": %.1f, "
           "\"max_us\": %.1f, \"failures\": %d}%s\n",
           name, st.median_us, st.min_us, st.max_us, st.failures,
           last ? "" : ",");
}

int main(int argc, char **argv)
{
    int iterations = argc > 1 ? atoi(argv[1]) : 30;
    int64_t hang_ms = argc > 2 ? atoll(argv[2]) : 1000;
    if (iterations < 1 || iterations > 100000 || hang_ms < 0) {
        fprintf(stderr, "guard_exit_delay: usage: guard_exit_delay "
                        "[ITERATIONS 1..100000 [HANG_TIMEOUT_MS >= 0]]\n");
        return 2;
    }
    /* A hanging drain costs the whole timeout per sample: few samples. */
    int hang_iterations = iterations < 3 ? iterations : 3;

    struct stats exit_base = measure(NO_GUARD, 0, 0, iterations);
    struct stats exit_instant = measure(INSTANT, 10000, 0, iterations);
    struct stats exit_hang = measure(HANG, hang_ms, 0, hang_iterations);
    struct stats term_base = measure(NO_GUARD, 0, 1, iterations);
    struct stats term_instant = measure(INSTANT, 10000, 1, iterations);
    struct stats term_hang = measure(HANG, hang_ms, 1, hang_iterations);

    printf("{\n  \"bench\": \"guard_exit_delay\",\n");
    printf("  \"iterations\": %d,\n  \"hang_iterations\": %d,\n", iterations,
           hang_iterations);
    printf("  \"hang_timeout_ms\": %lld,\n", (long long)hang_ms);
    printf("  \"exit\": {\n");
    print_stats("no_guard", exit_base, 0);
    print_stats("instant_drain", exit_instant, 0);
    print_stats("hanging_drain", exit_hang, 1);
    printf("  },\n  \"sigterm\": {\n");
    print_stats("no_guard", term_base, 0);
    print_stats("instant_drain", term_instant, 0);
    print_stats("hanging_drain", term_hang, 1);
    printf("  },\n  \"added_median_us\": {\"exit_instant\": %.1f, "
           "\"exit_hanging_minus_timeout\": %.1f, \"sigterm_instant\": %.1f, "
           "\"sigterm_hanging_minus_timeout\": %.1f}\n}\n",
           exit_instant.median_us - exit_base.median_us,
           exit_hang.median_us - exit_base.median_us - (double)hang_ms * 1e3,
           term_instant.median_us - term_base.median_us,
           term_hang.median_us - term_base.median_us - (double)hang_ms * 1e3);
    return 0;
}
