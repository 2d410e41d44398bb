/*
 * guard_helper — a tiny "host" that links guard.c directly and ends in the
 * way its first argument names, so test_guard can watch each exit path from
 * outside (status, time, and the marker file the drain writes).
 *
 *   guard_helper MODE MARKER TIMEOUT_MS DRAIN [ARG]
 *
 * MODE owner[-return|-pid1] runs the guard in owner mode (as the runner
 * does): stop signals blocked, on_stop marks "on-stop <signo>", then the
 * helper "records" (ARG "hold": waits for the file MARKER.go first) and
 * calls rocky_guard_drain_now ("drain-now <rc>") and rocky_guard_die.
 *
 * DRAIN: instant  -> appends "drain <pid>"
 *        hang     -> appends "drain-start <pid>", never returns
 *        slow:MS  -> "drain-start <pid>", sleeps MS, then "drain <pid>"
 *        disarm   -> calls rocky_guard_disarm() from inside, then "drain"
 * Every line the helper writes is one write(2) with O_APPEND, so lines from
 * different processes never interleave. Exit status 90+ means the helper
 * itself found something wrong (named on stderr).
 */
#include "exit_guard.h"
#include "rocky/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *marker;
static pid_t main_pid;
static const char *drain_kind = "instant";
static atomic_int drain_started;
static int host_fd = -1; /* pre-opened for the host's signal handler */
static volatile sig_atomic_t host_signal;

/*
 * LeakSanitizer (gcc 12's libasan) can deadlock at exit in the child of a
 * multithreaded fork: its allocator lock may have been copied held. The
 * fork test is about the guard, so the child skips the leak check; the
 * parent keeps it. LSan calls this hook if the program defines it.
 */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return getpid() != main_pid;
}

/* Only write(2) and integer formatting: usable in a fork child. */
static void put_line(int fd, const char *word, long value)
{
    char buf[96];
    size_t n = strlen(word);
    if (n > 60)
        n = 60;
    memcpy(buf, word, n);
    buf[n++] = ' ';
    char digits[24];
    int d = 0;
    unsigned long v = value < 0 ? (unsigned long)-value : (unsigned long)value;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (value < 0)
        buf[n++] = '-';
    while (d)
        buf[n++] = digits[--d];
    buf[n++] = '\n';
    ssize_t w = write(fd, buf, n);
    (void)w;
}

static void mark(const char *word, long value)
{
    int fd = open(marker, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "guard_helper: cannot open marker %s: %s\n", marker,
                strerror(errno));
        _exit(91);
    }
    put_line(fd, word, value);
    close(fd);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void drain(void *ctx, int64_t deadline_mono_ns)
{
    (void)ctx;
    (void)deadline_mono_ns;
    atomic_store(&drain_started, 1);
    if (strcmp(drain_kind, "hang") == 0) {
        mark("drain-start", getpid());
        for (;;)
            sleep_ms(1000);
    }
    if (strncmp(drain_kind, "slow:", 5) == 0) {
        mark("drain-start", getpid());
        sleep_ms(atol(drain_kind + 5));
    }
    if (strcmp(drain_kind, "disarm") == 0)
        rocky_guard_disarm();
    mark("drain", getpid());
}

static void after_fork_child(void *ctx)
{
    (void)ctx;
    mark("after-fork-child", getpid());
}

static void log_line(void *ctx, int level, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "guard_helper: guard[%d]: %s\n", level, msg);
    /* What the tests wait for or check, as marker lines. */
    if (strstr(msg, "will not be flushed"))
        mark("log-abandon", level);
    if (strstr(msg, "exiting now"))
        mark("log-exiting-now", level);
    if (strncmp(msg, "note:", 5) == 0)
        mark("log-note", level);
}

static atomic_int owner_signal;

static void owner_on_stop(void *ctx, int signo)
{
    (void)ctx;
    mark("on-stop", signo);
    atomic_store(&owner_signal, signo);
}

/* What the runner does (host/run.c): block the stop signals everywhere but
 * the guard's watcher, own the exit, wind down on the first signal, drain,
 * die by it. */
static int run_owner(const char *mode, int64_t t, const char *arg)
{
    sigset_t set;
    rocky_guard_stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct rocky_guard_config cfg = {.drain = drain,
                                     .timeout_ms = t,
                                     .log = log_line,
                                     .on_stop = owner_on_stop,
                                     .quit_without_core = 1};
    int rc = rocky_guard_install(&cfg);
    if (rc != 0) {
        fprintf(stderr, "guard_helper: owner install: %d\n", rc);
        return 92;
    }
    rocky_guard_set_abandon_note("note: the run stays pending");
    mark(strcmp(mode, "owner-pid1") == 0 ? "pid" : "ready", getpid());
    if (strcmp(mode, "owner-return") == 0)
        return atoi(arg); /* no signal: the atexit path drains once */
    if (strcmp(arg, "selfterm") == 0)
        kill(getpid(), SIGTERM); /* process-directed: reaches the watcher */
    while (!atomic_load(&owner_signal))
        sleep_ms(2);
    if (strcmp(arg, "hold") == 0) { /* "recording the run" until told */
        char go[512];
        snprintf(go, sizeof go, "%s.go", marker);
        while (access(go, F_OK) != 0)
            sleep_ms(2);
    }
    mark("drain-now", rocky_guard_drain_now());
    if (rocky_guard_stop_signal() != atomic_load(&owner_signal))
        return 98;
    rocky_guard_die(atomic_load(&owner_signal));
}

static void install(int64_t timeout_ms)
{
    struct rocky_guard_config cfg = {
        .drain = drain,
        .timeout_ms = timeout_ms,
        .log = log_line,
        .after_fork_child = after_fork_child,
    };
    int rc = rocky_guard_install(&cfg);
    if (rc != 0) {
        fprintf(stderr, "guard_helper: rocky_guard_install: %d\n", rc);
        exit(92);
    }
}

static void *exit_from_worker(void *arg)
{
    exit((int)(intptr_t)arg);
}

static void host_plain(int signo)
{
    host_signal = signo;
    put_line(host_fd, "host-handler", signo);
}

static void host_siginfo(int signo, siginfo_t *info, void *uctx)
{
    (void)uctx;
    host_signal = signo;
    if (info && info->si_signo == signo)
        put_line(host_fd, "host-handler-siginfo", signo);
    else
        put_line(host_fd, "host-handler-bad-siginfo", signo);
}

static int disposition_is(int signo, void (*want)(int))
{
    struct sigaction cur;
    sigaction(signo, NULL, &cur);
    return !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == want;
}

/* The host's idle loop. Not pause(): TSan defers a signal that lands just
 * before a blocking call until the thread's next intercepted call, which
 * pause() would never make. */
static void wait_forever(void)
{
    for (;;)
        sleep_ms(10);
}

/* The host's SIGTERM/SIGINT handler, installed before the guard. */
static int run_host_handler(const char *kind, const char *then, int64_t t)
{
    host_fd = open(marker, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (host_fd < 0)
        return 93;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (strcmp(kind, "siginfo") == 0) {
        sa.sa_sigaction = host_siginfo;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = host_plain;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    install(t);
    mark("ready", getpid());
    while (!host_signal)
        sleep_ms(5);
    if (strcmp(then, "disarm") == 0) {
        /* What the rocky runner does: explicit shutdown, its own status. */
        rocky_guard_disarm();
        mark("explicit-flush", getpid());
        exit(128 + host_signal);
    }
    exit(7); /* a host that just exits: the atexit path drains */
}

static int run_fork(int64_t t)
{
    install(t);
    mark("ready", getpid());
    for (int i = 0; i < 4; i++) {
        pid_t child = fork();
        if (child < 0)
            return 94;
        if (child == 0) {
            if (disposition_is(SIGTERM, SIG_DFL) &&
                disposition_is(SIGINT, SIG_DFL))
                mark("child-restored", getpid());
            if (i % 2)
                raise(SIGTERM); /* default action again: dies, no drain */
            exit(0);            /* atexit must not drain in the child */
        }
        int status = 0;
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
            pid_t r = waitpid(child, &status, WNOHANG);
            if (r == child)
                break;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec > 20) {
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
                mark("child-stuck", child);
                return 95;
            }
            sleep_ms(2);
        }
        if (WIFEXITED(status))
            mark("child-exit", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            mark("child-signal", WTERMSIG(status));
    }
    return 0;
}

static int run_api(int64_t t)
{
    if (rocky_guard_install(NULL) != ROCKY_EINVAL)
        return 96;
    struct rocky_guard_config bad = {.drain = NULL, .timeout_ms = 10};
    if (rocky_guard_install(&bad) != ROCKY_EINVAL)
        return 96;
    bad.drain = drain;
    bad.timeout_ms = -1;
    if (rocky_guard_install(&bad) != ROCKY_EINVAL)
        return 96;
    rocky_guard_disarm(); /* before install: a no-op */
    install(t);
    struct rocky_guard_config again = {.drain = drain, .timeout_ms = t};
    mark("second-install", rocky_guard_install(&again));
    rocky_guard_disarm();
    rocky_guard_disarm(); /* twice: a no-op */
    install(t);           /* after disarm: allowed again */
    mark("reinstalled", 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: guard_helper MODE MARKER TIMEOUT_MS DRAIN "
                        "[ARG]\n");
        return 90;
    }
    const char *mode = argv[1];
    main_pid = getpid();
    marker = argv[2];
    int64_t t = atoll(argv[3]);
    drain_kind = argv[4];
    const char *arg = argc > 5 ? argv[5] : "0";

    if (strcmp(mode, "return") == 0) {
        install(t);
        mark("ready", getpid());
        return atoi(arg);
    }
    if (strcmp(mode, "exit-worker") == 0) {
        install(t);
        mark("ready", getpid());
        pthread_t th;
        pthread_create(&th, NULL, exit_from_worker,
                       (void *)(intptr_t)atoi(arg));
        pthread_join(th, NULL);
        return 97; /* unreachable: exit() in the worker ends us */
    }
    if (strcmp(mode, "error") == 0) {
        install(t);
        mark("ready", getpid());
        if (access("/nonexistent/rocky/project", R_OK) != 0) {
            fprintf(stderr, "guard_helper: cannot read project: %s\n",
                    strerror(errno));
            exit(2);
        }
        return 0;
    }
    if (strcmp(mode, "wait") == 0) {
        install(t);
        mark("ready", getpid());
        wait_forever();
    }
    if (strcmp(mode, "selfterm") == 0) {
        install(t);
        mark("pid", getpid());
        kill(getpid(), SIGTERM);
        wait_forever();
    }
    if (strcmp(mode, "host-handler") == 0)
        return run_host_handler(arg, argc > 6 ? argv[6] : "exit", t);
    if (strcmp(mode, "ignore") == 0) {
        signal(SIGINT, SIG_IGN);
        install(t);
        raise(SIGINT);
        kill(getpid(), SIGINT);
        if (disposition_is(SIGINT, SIG_IGN))
            mark("still-ignored", getpid());
        mark("alive", getpid());
        return 0;
    }
    if (strcmp(mode, "signal-then-exit") == 0) {
        install(t);
        kill(getpid(), SIGTERM);
        while (!atomic_load(&drain_started))
            sleep_ms(1);
        exit(atoi(arg));
    }
    if (strcmp(mode, "fork") == 0)
        return run_fork(t);
    if (strcmp(mode, "disarm") == 0) {
        install(t);
        rocky_guard_disarm();
        if (disposition_is(SIGTERM, SIG_DFL) && disposition_is(SIGINT, SIG_DFL))
            mark("restored", getpid());
        if (strcmp(arg, "term") == 0)
            raise(SIGTERM);
        return 0;
    }
    if (strcmp(mode, "api") == 0)
        return run_api(t);
    if (strncmp(mode, "owner", 5) == 0)
        return run_owner(mode, t, arg);
    fprintf(stderr, "guard_helper: unknown mode '%s'\n", mode);
    return 90;
}
