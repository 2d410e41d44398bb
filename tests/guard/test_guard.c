/*
 * test_guard — every exit path of the exit guard, watched from outside.
 *
 * Each test runs guard_helper (a small host linking guard.c) in a fresh
 * process, ends it one way, and asserts the exit status, the time it took
 * and what the drain wrote into a marker file.
 *
 *   test_guard HELPER [TEST_NAME]
 *
 * Every wait is bounded and multiplied by ROCKY_TEST_TIME_SCALE.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rocky/error.h"

static const char *helper;
static double scale = 1.0;
static char dir[64];
static char marker[128];
static pid_t grandchild; /* helper run under sh: killed too on timeout */
static pid_t live;       /* the process this test started and has not reaped */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t scaled(int64_t ms)
{
    return (int64_t)((double)ms * scale);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/rocky-guard-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(marker, sizeof marker, "%s/marker", dir);
    grandchild = 0;
    live = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* A test that failed half-way leaves nothing running. */
    if (grandchild > 0)
        kill(grandchild, SIGKILL);
    if (live > 0) {
        kill(live, SIGKILL);
        waitpid(live, NULL, 0);
        live = 0;
    }
    unlink(marker);
    char go[160];
    snprintf(go, sizeof go, "%s.go", marker);
    unlink(go);
    rmdir(dir);
    return 0;
}

/* Start argv (NULL-terminated) with stdout/stderr inherited. */
static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Whatever ran us (a background job ignores SIGINT), the helper
         * starts with default SIGINT/SIGTERM, unblocked. */
        int stops[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
        sigset_t set;
        sigemptyset(&set);
        for (size_t i = 0; i < sizeof stops / sizeof *stops; i++) {
            signal(stops[i], SIG_DFL);
            sigaddset(&set, stops[i]);
        }
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        /* A death by SIGQUIT must not leave a core file behind. */
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        execv(argv[0], argv);
        fprintf(stderr, "test_guard: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    live = pid;
    return pid;
}

/* Wait for pid at most limit_ms; on timeout kill it and fail the test. */
static int wait_bounded(pid_t pid, int64_t limit_ms)
{
    int64_t end = now_ms() + limit_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (pid == live)
                live = 0;
            return status;
        }
        assert_true(r == 0);
        if (now_ms() > end) {
            if (grandchild > 0)
                kill(grandchild, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            if (pid == live)
                live = 0;
            fail_msg("process %d still running after %lld ms", (int)pid,
                     (long long)limit_ms);
        }
        sleep_ms(2);
    }
}

/* The marker's contents ("" when it does not exist yet). */
static void read_marker(char *buf, size_t size)
{
    buf[0] = '\0';
    int fd = open(marker, O_RDONLY);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
}

/* How many lines start with "word " (exactly that word). */
static int count_lines(const char *word)
{
    char buf[8192];
    read_marker(buf, sizeof buf);
    int count = 0;
    size_t len = strlen(word);
    for (const char *line = buf; *line;) {
        if (strncmp(line, word, len) == 0 && line[len] == ' ')
            count++;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return count;
}

/* The number after the first "word " line, or -1. */
static long value_of(const char *word)
{
    char buf[8192];
    read_marker(buf, sizeof buf);
    size_t len = strlen(word);
    for (const char *line = buf; *line;) {
        if (strncmp(line, word, len) == 0 && line[len] == ' ')
            return atol(line + len + 1);
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return -1;
}

/* Poll until a "word" line exists; return its value. */
static long await_line(const char *word, int64_t limit_ms)
{
    int64_t end = now_ms() + scaled(limit_ms);
    while (now_ms() <= end) {
        long v = value_of(word);
        if (v >= 0)
            return v;
        sleep_ms(2);
    }
    fail_msg("no '%s' line in %s after %lld ms", word, marker,
             (long long)scaled(limit_ms));
    return -1;
}

struct run {
    int status;
    int64_t elapsed_ms;
};

/* Run the helper to completion (bounded). */
static struct run run_helper(const char *mode, const char *timeout_ms,
                             const char *drain, const char *arg,
                             const char *arg2)
{
    char *argv[] = {(char *)helper,     (char *)mode,  marker,
                    (char *)timeout_ms, (char *)drain, (char *)arg,
                    (char *)arg2,       NULL};
    int64_t start = now_ms();
    pid_t pid = spawn(argv);
    struct run r;
    r.status = wait_bounded(pid, scaled(20000));
    r.elapsed_ms = now_ms() - start;
    return r;
}

static void assert_exited(int status, int code)
{
    if (!WIFEXITED(status))
        fail_msg("expected exit status %d, got %s %d", code,
                 WIFSIGNALED(status) ? "signal" : "status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : status);
    assert_int_equal(WEXITSTATUS(status), code);
}

static void assert_killed_by(int status, int signo)
{
    if (!WIFSIGNALED(status))
        fail_msg("expected death by signal %d, got exit status %d", signo,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_int_equal(WTERMSIG(status), signo);
}

/* ---- exit paths without signals --------------------------------------- */

static void test_return_from_main_drains_once_and_keeps_status(void **state)
{
    struct run r = run_helper("return", "5000", "instant", "4", NULL);
    assert_exited(r.status, 4);
    assert_int_equal(count_lines("drain"), 1);
    assert_int_equal(value_of("drain"), value_of("ready"));
}

static void test_exit_from_worker_thread_drains_and_keeps_status_3(void **s)
{
    struct run r = run_helper("exit-worker", "5000", "instant", "3", NULL);
    assert_exited(r.status, 3);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_error_exit_drains_and_keeps_status_2(void **state)
{
    struct run r = run_helper("error", "5000", "instant", NULL, NULL);
    assert_exited(r.status, 2);
    assert_int_equal(count_lines("drain"), 1);
}

/* ---- signals with the default disposition ----------------------------- */

/* Run the helper under sh, signal it, return the shell's exit code: what a
 * user or a CI job actually sees. */
static int shell_status_after_signal(int signo, const char *drain)
{
    char *argv[] = {
        "/bin/sh", "-c",   "\"$@\"; exit $?", "sh", (char *)helper, "wait",
        marker,    "5000", (char *)drain,     NULL};
    pid_t sh = spawn(argv);
    long pid = await_line("ready", 10000);
    assert_true(pid > 0);
    grandchild = (pid_t)pid;
    assert_int_equal(kill((pid_t)pid, signo), 0);
    int status = wait_bounded(sh, scaled(20000));
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_sigint_drains_then_shell_sees_130(void **state)
{
    assert_int_equal(shell_status_after_signal(SIGINT, "instant"), 130);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_sigterm_drains_then_shell_sees_143(void **state)
{
    assert_int_equal(shell_status_after_signal(SIGTERM, "instant"), 143);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_sigterm_drain_finishes_before_death(void **state)
{
    /* A drain taking 300 ms is waited for: its end line is written. */
    char *argv[] = {(char *)helper, "wait", marker, "5000", "slow:300", NULL};
    pid_t pid = spawn(argv);
    await_line("ready", 10000);
    kill(pid, SIGTERM);
    int status = wait_bounded(pid, scaled(20000));
    assert_killed_by(status, SIGTERM);
    assert_int_equal(count_lines("drain-start"), 1);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_second_sigint_while_draining_ends_at_once(void **state)
{
    char *argv[] = {(char *)helper, "wait", marker, "60000", "hang", NULL};
    pid_t pid = spawn(argv);
    await_line("ready", 10000);
    kill(pid, SIGINT);
    await_line("drain-start", 10000);
    int64_t start = now_ms();
    kill(pid, SIGINT);
    int status = wait_bounded(pid, scaled(5000));
    assert_killed_by(status, SIGINT);
    assert_true(now_ms() - start < scaled(2000));
}

static void test_sighup_drains_then_shell_sees_129(void **state)
{
    /* A closed terminal or a lost ssh session: flushed like Ctrl-C. */
    assert_int_equal(shell_status_after_signal(SIGHUP, "instant"), 129);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_sigquit_drains_then_dies_by_it(void **state)
{
    char *argv[] = {(char *)helper, "wait", marker, "5000", "instant", NULL};
    pid_t pid = spawn(argv);
    await_line("ready", 10000);
    kill(pid, SIGQUIT);
    assert_killed_by(wait_bounded(pid, scaled(20000)), SIGQUIT);
    assert_int_equal(count_lines("drain"), 1);
}

/* ---- owner mode (the runner's guard) ----------------------------------- */

static pid_t start_owner(const char *timeout_ms, const char *drain,
                         const char *arg)
{
    char *argv[] = {(char *)helper, "owner",     marker, (char *)timeout_ms,
                    (char *)drain,  (char *)arg, NULL};
    pid_t pid = spawn(argv);
    await_line("ready", 10000);
    return pid;
}

static void release_owner(void)
{
    char go[160];
    snprintf(go, sizeof go, "%s.go", marker);
    int fd = open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
}

static void test_owner_signal_stops_then_drains_then_dies_by_it(void **s)
{
    pid_t pid = start_owner("5000", "instant", "0");
    kill(pid, SIGINT);
    assert_killed_by(wait_bounded(pid, scaled(20000)), SIGINT);
    assert_int_equal(value_of("on-stop"), SIGINT);
    assert_int_equal(count_lines("drain"), 1);
    assert_int_equal(value_of("drain-now"), 0);
    char buf[8192];
    read_marker(buf, sizeof buf);
    assert_true(strstr(buf, "on-stop ") < strstr(buf, "\ndrain "));
}

static void test_owner_second_signal_during_drain_ends_at_once(void **s)
{
    pid_t pid = start_owner("60000", "hang", "0");
    kill(pid, SIGINT);
    await_line("drain-start", 10000);
    int64_t start = now_ms();
    kill(pid, SIGINT);
    assert_killed_by(wait_bounded(pid, scaled(5000)), SIGINT);
    assert_true(now_ms() - start < scaled(1000));
    assert_int_equal(count_lines("log-exiting-now"), 1);
    assert_int_equal(count_lines("log-note"), 1); /* says what to do */
    assert_int_equal(count_lines("drain-now"), 0);
}

static void test_owner_second_signal_before_drain_abandons_it(void **s)
{
    pid_t pid = start_owner("5000", "instant", "hold");
    kill(pid, SIGTERM);
    await_line("on-stop", 10000);
    kill(pid, SIGTERM);
    await_line("log-abandon", 10000);
    release_owner();
    /* Dies by the first signal, having drained nothing. */
    assert_killed_by(wait_bounded(pid, scaled(20000)), SIGTERM);
    assert_int_equal(value_of("drain-now"), ROCKY_EINTERRUPTED);
    assert_int_equal(count_lines("drain"), 0);
}

static void test_owner_third_signal_ends_at_once(void **s)
{
    pid_t pid = start_owner("5000", "instant", "hold");
    kill(pid, SIGHUP);
    await_line("on-stop", 10000);
    kill(pid, SIGINT);
    await_line("log-abandon", 10000);
    int64_t start = now_ms();
    kill(pid, SIGINT);
    /* The first signal decides the status, wherever the owner was. */
    assert_killed_by(wait_bounded(pid, scaled(5000)), SIGHUP);
    assert_true(now_ms() - start < scaled(1000));
    assert_int_equal(count_lines("drain-now"), 0);
}

static void test_owner_sigquit_exits_131_without_core(void **s)
{
    pid_t pid = start_owner("5000", "instant", "0");
    kill(pid, SIGQUIT);
    assert_exited(wait_bounded(pid, scaled(20000)), 131);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_owner_hanging_drain_gives_up_after_deadline_and_grace(void **s)
{
    pid_t pid = start_owner("300", "hang", "0");
    int64_t start = now_ms();
    kill(pid, SIGTERM);
    assert_killed_by(wait_bounded(pid, scaled(20000)), SIGTERM);
    int64_t took = now_ms() - start;
    assert_int_equal(value_of("drain-now"), ROCKY_ETIMEDOUT);
    /* deadline 300 ms + grace 250 ms, and a second for a slow machine */
    assert_true(took >= 300);
    assert_true(took < scaled(300 + 250 + 1000));
}

static void test_owner_return_drains_once_at_exit(void **s)
{
    struct run r = run_helper("owner-return", "5000", "instant", "5", NULL);
    assert_exited(r.status, 5);
    assert_int_equal(count_lines("drain"), 1);
    assert_int_equal(count_lines("on-stop"), 0);
}

/* ---- a host with its own handlers ------------------------------------- */

static void host_handler_case(const char *kind, const char *then, int signo,
                              const char *expect_line)
{
    char *argv[] = {(char *)helper, "host-handler", marker,       "5000",
                    "instant",      (char *)kind,   (char *)then, NULL};
    pid_t pid = spawn(argv);
    await_line("ready", 10000);
    kill(pid, signo);
    int status = wait_bounded(pid, scaled(20000));
    assert_int_equal(count_lines(expect_line), 1);
    if (strcmp(then, "disarm") == 0) {
        /* The host decided: explicit shutdown, exit 128+signo; the guard
         * neither drained nor terminated anything. */
        assert_exited(status, 128 + signo);
        assert_int_equal(count_lines("explicit-flush"), 1);
        assert_int_equal(count_lines("drain"), 0);
    } else {
        /* The host exits 7 without explicit shutdown: the atexit path
         * drains once, after the host's handler ran. */
        assert_exited(status, 7);
        assert_int_equal(count_lines("drain"), 1);
        char buf[8192];
        read_marker(buf, sizeof buf);
        assert_true(strstr(buf, expect_line) < strstr(buf, "\ndrain "));
    }
}

static void test_host_sigterm_handler_runs_and_host_decides_status(void **s)
{
    host_handler_case("plain", "disarm", SIGTERM, "host-handler");
}

static void test_host_sigint_handler_runs_and_host_decides_status(void **s)
{
    host_handler_case("plain", "disarm", SIGINT, "host-handler");
}

static void test_host_siginfo_handler_gets_siginfo_and_exit_drains(void **s)
{
    host_handler_case("siginfo", "exit", SIGTERM, "host-handler-siginfo");
}

static void test_ignored_sigint_stays_ignored(void **state)
{
    struct run r = run_helper("ignore", "5000", "instant", NULL, NULL);
    assert_exited(r.status, 0);
    assert_int_equal(count_lines("still-ignored"), 1);
    assert_int_equal(count_lines("alive"), 1);
    assert_int_equal(count_lines("drain"), 1);
}

/* ---- a drain that never returns --------------------------------------- */

static void test_hanging_drain_return_exits_within_timeout_plus_1s(void **s)
{
    const int64_t timeout = 300;
    struct run r = run_helper("return", "300", "hang", "0", NULL);
    assert_exited(r.status, 0);
    assert_int_equal(count_lines("drain-start"), 1);
    assert_int_equal(count_lines("drain"), 0);
    /* It did wait for the deadline, and not much longer. */
    assert_true(r.elapsed_ms >= timeout);
    if (r.elapsed_ms > scaled(timeout + 1000))
        fail_msg("exit took %lld ms, bound %lld ms", (long long)r.elapsed_ms,
                 (long long)scaled(timeout + 1000));
}

static void test_hanging_drain_sigterm_dies_within_timeout_plus_1s(void **s)
{
    const int64_t timeout = 300;
    char *argv[] = {(char *)helper, "wait", marker, "300", "hang", NULL};
    pid_t pid = spawn(argv);
    await_line("ready", 10000);
    int64_t start = now_ms();
    kill(pid, SIGTERM);
    int status = wait_bounded(pid, scaled(20000));
    int64_t elapsed = now_ms() - start;
    assert_killed_by(status, SIGTERM);
    assert_int_equal(count_lines("drain-start"), 1);
    assert_true(elapsed >= timeout);
    if (elapsed > scaled(timeout + 1000))
        fail_msg("death took %lld ms, bound %lld ms", (long long)elapsed,
                 (long long)scaled(timeout + 1000));
}

/* ---- at most once ------------------------------------------------------ */

static void test_signal_and_exit_together_drain_exactly_once(void **state)
{
    /* SIGTERM starts a 200 ms drain; exit(5) happens while it runs. */
    struct run r =
        run_helper("signal-then-exit", "5000", "slow:200", "5", NULL);
    assert_true((WIFEXITED(r.status) && WEXITSTATUS(r.status) == 5) ||
                (WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM));
    assert_int_equal(count_lines("drain-start"), 1);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_disarm_skips_drain_and_restores_handlers(void **state)
{
    struct run r = run_helper("disarm", "5000", "instant", "0", NULL);
    assert_exited(r.status, 0);
    assert_int_equal(count_lines("restored"), 1);
    assert_int_equal(count_lines("drain"), 0);
}

static void test_sigterm_after_disarm_dies_without_drain(void **state)
{
    struct run r = run_helper("disarm", "5000", "instant", "term", NULL);
    assert_killed_by(r.status, SIGTERM);
    assert_int_equal(count_lines("drain"), 0);
}

static void test_drain_calling_disarm_does_not_deadlock(void **state)
{
    struct run r = run_helper("return", "5000", "disarm", "0", NULL);
    assert_exited(r.status, 0);
    assert_int_equal(count_lines("drain"), 1);
    assert_true(r.elapsed_ms < scaled(4000));
}

static void test_install_rejects_bad_config_and_second_install(void **s)
{
    struct run r = run_helper("api", "5000", "instant", NULL, NULL);
    assert_exited(r.status, 0);
    assert_int_equal(value_of("second-install"), -13); /* ROCKY_EEXIST */
    assert_int_equal(count_lines("reinstalled"), 1);
    assert_int_equal(count_lines("drain"), 1);
}

/* ---- fork -------------------------------------------------------------- */

static void test_fork_child_exits_without_drain_parent_drains(void **state)
{
    /* A long timeout: a child that wrongly tried to drain (with no drain
     * thread there) would sit out 30 s, and the parent reports it stuck. */
    struct run r = run_helper("fork", "30000", "instant", NULL, NULL);
    assert_exited(r.status, 0);
    long parent = value_of("ready");
    assert_int_equal(count_lines("after-fork-child"), 4);
    assert_int_equal(count_lines("child-restored"), 4);
    assert_int_equal(count_lines("child-exit"), 2);
    assert_int_equal(count_lines("child-signal"), 2);
    assert_int_equal(value_of("child-signal"), SIGTERM);
    assert_int_equal(count_lines("child-stuck"), 0);
    assert_int_equal(count_lines("drain"), 1);
    assert_int_equal(value_of("drain"), parent);
}

/* ---- PID 1 ------------------------------------------------------------- */

static void test_pid1_sigterm_exits_143_instead_of_ignoring(void **state)
{
    char *probe[] = {"/usr/bin/unshare", "--pid",     "--fork",
                     "--map-root-user",  "/bin/true", NULL};
    if (access(probe[0], X_OK) != 0) {
        print_message("skip: /usr/bin/unshare not installed\n");
        skip();
    }
    int pst = wait_bounded(spawn(probe), scaled(10000));
    if (!WIFEXITED(pst) || WEXITSTATUS(pst) != 0) {
        print_message("skip: unshare --pid --map-root-user not permitted "
                      "here (user namespaces disabled?)\n");
        skip();
    }
    char *argv[] = {"/usr/bin/unshare", "--pid",    "--fork", "--map-root-user",
                    (char *)helper,     "selfterm", marker,   "5000",
                    "instant",          NULL};
    int status = wait_bounded(spawn(argv), scaled(20000));
    assert_int_equal(value_of("pid"), 1);
    /* As init, a re-raised SIGTERM would be ignored and the process would
     * hang; the guard exits 128 + 15 instead. */
    assert_exited(status, 143);
    assert_int_equal(count_lines("drain"), 1);
}

static void test_owner_pid1_sigterm_exits_143(void **state)
{
    char *probe[] = {"/usr/bin/unshare", "--pid",     "--fork",
                     "--map-root-user",  "/bin/true", NULL};
    if (access(probe[0], X_OK) != 0 ||
        !WIFEXITED(wait_bounded(spawn(probe), scaled(10000)))) {
        print_message("skip: unshare --pid --map-root-user unavailable\n");
        skip();
    }
    char *argv[] = {
        "/usr/bin/unshare", "--pid",      "--fork", "--map-root-user",
        (char *)helper,     "owner-pid1", marker,   "5000",
        "instant",          "selfterm",   NULL};
    int status = wait_bounded(spawn(argv), scaled(20000));
    if (value_of("pid") != 1) {
        print_message("skip: unshare did not make the helper PID 1\n");
        skip();
    }
    /* The owner drained and, as init, exited 128 + 15 instead of
     * re-raising a signal init would ignore. */
    assert_exited(status, 143);
    assert_int_equal(value_of("drain-now"), 0);
    assert_int_equal(count_lines("drain"), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_guard GUARD_HELPER [TEST_NAME]\n");
        return 2;
    }
    helper = argv[1];
    const char *env = getenv("ROCKY_TEST_TIME_SCALE");
    if (env && atof(env) >= 1.0)
        scale = atof(env);
    const struct CMUnitTest tests[] = {
        T(test_return_from_main_drains_once_and_keeps_status),
        T(test_exit_from_worker_thread_drains_and_keeps_status_3),
        T(test_error_exit_drains_and_keeps_status_2),
        T(test_sigint_drains_then_shell_sees_130),
        T(test_sigterm_drains_then_shell_sees_143),
        T(test_sigterm_drain_finishes_before_death),
        T(test_second_sigint_while_draining_ends_at_once),
        T(test_host_sigterm_handler_runs_and_host_decides_status),
        T(test_host_sigint_handler_runs_and_host_decides_status),
        T(test_host_siginfo_handler_gets_siginfo_and_exit_drains),
        T(test_ignored_sigint_stays_ignored),
        T(test_hanging_drain_return_exits_within_timeout_plus_1s),
        T(test_hanging_drain_sigterm_dies_within_timeout_plus_1s),
        T(test_signal_and_exit_together_drain_exactly_once),
        T(test_disarm_skips_drain_and_restores_handlers),
        T(test_sigterm_after_disarm_dies_without_drain),
        T(test_drain_calling_disarm_does_not_deadlock),
        T(test_install_rejects_bad_config_and_second_install),
        T(test_fork_child_exits_without_drain_parent_drains),
        T(test_pid1_sigterm_exits_143_instead_of_ignoring),
        T(test_sighup_drains_then_shell_sees_129),
        T(test_sigquit_drains_then_dies_by_it),
        T(test_owner_signal_stops_then_drains_then_dies_by_it),
        T(test_owner_second_signal_during_drain_ends_at_once),
        T(test_owner_second_signal_before_drain_abandons_it),
        T(test_owner_third_signal_ends_at_once),
        T(test_owner_sigquit_exits_131_without_core),
        T(test_owner_hanging_drain_gives_up_after_deadline_and_grace),
        T(test_owner_return_drains_once_at_exit),
        T(test_owner_pid1_sigterm_exits_143),
    };
    if (argc > 2)
        cmocka_set_test_filter(argv[2]);
    return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
