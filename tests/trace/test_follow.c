/* test_follow.c — `rocky-trace latest --follow` on a run in progress: the
 * test writes the run through lib/store.h while the real binary follows it,
 * and checks each model shows up while the run is still going, the writer is
 * never blocked, and the follower exits 0 when the run ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"
#include "proc.h"
#include "store.h"

#define RUN_ID "20261125T060000.000Z-f011"

/* Wait (bounded) until the follower's output contains `needle`. */
static int wait_for_output(const char *dir, const char *needle, int ms)
{
    int64_t deadline = rocky_deadline_after_ms((int64_t)ms * proc_time_scale());
    struct timespec tick = {0, 20 * 1000000L};
    while (rocky_clock_mono_ns() < deadline) {
        char *out = proc_peek_stdout(dir);
        int found = out != NULL && strstr(out, needle) != NULL;
        free(out);
        if (found)
            return 1;
        nanosleep(&tick, NULL);
    }
    return 0;
}

static void record_model(struct rocky_store *store, const char *name,
                         uint32_t status)
{
    struct rocky_model_exec m = {0};
    m.struct_size = sizeof m;
    m.status = status;
    m.model_name = name;
    m.finished_wall_ns = rocky_clock_wall_ns();
    m.started_wall_ns = m.finished_wall_ns - 50 * 1000000LL;
    m.rows_affected = 7;
    m.bytes_written = -1;
    m.attempt = 1;
    m.span_id[0] = 1;
    char err[512] = "";
    int64_t t0 = rocky_clock_mono_ns();
    assert_int_equal(
        rocky_store_model_record(store, RUN_ID, &m, err, sizeof err), 0);
    /* The reader must never hold the writer up. */
    assert_true(rocky_clock_mono_ns() - t0 < 1000000000LL * proc_time_scale());
}

/* A writable store at `path` with one run RUN_ID, running, begun `age_ns`
 * ago and planning `models` models (*run: the record to finish it with). */
static struct rocky_store *begin_running_run(const char *path, int64_t age_ns,
                                             uint32_t models,
                                             struct rocky_run *run)
{
    struct rocky_store *store = NULL;
    char err[512] = "";
    assert_int_equal(
        rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err, sizeof err),
        0);
    memset(run, 0, sizeof *run);
    run->struct_size = sizeof *run;
    run->status = ROCKY_RUN_RUNNING;
    run->run_id = RUN_ID;
    run->project = "follow";
    run->trigger = "manual";
    run->started_wall_ns = rocky_clock_wall_ns() - age_ns;
    run->started_mono_ns = rocky_clock_mono_ns();
    run->models_total = models;
    run->trace_id[0] = 1;
    assert_int_equal(rocky_store_run_begin(store, run, err, sizeof err), 0);
    return store;
}

static void test_follow_prints_models_as_they_finish_and_exits(void **state)
{
    char *dir = fx_tempdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/state.db", dir);
    char err[512] = "";
    struct rocky_run run;
    struct rocky_store *store = begin_running_run(path, 0, 3, &run);
    record_model(store, "first_model", ROCKY_MODEL_SUCCESS);

    char *argv[] = {ROCKY_TRACE_BIN, "latest", "--follow", "--state", path,
                    "--width",       "80",     NULL};
    pid_t pid = proc_start(argv, dir);
    assert_true(pid > 0);

    assert_true(wait_for_output(dir, "first_model", 5000));
    record_model(store, "second_model", ROCKY_MODEL_FAILED);
    assert_true(wait_for_output(dir, "second_model", 5000));
    record_model(store, "third_model", ROCKY_MODEL_SUCCESS);
    assert_true(wait_for_output(dir, "third_model", 5000));
    /* Still following: no summary while the run is going. */
    char *so_far = proc_peek_stdout(dir);
    assert_null(strstr(so_far, "summary:"));
    free(so_far);

    run.status = ROCKY_RUN_PARTIAL_FAILURE;
    run.finished_wall_ns = rocky_clock_wall_ns();
    run.finished_mono_ns = rocky_clock_mono_ns();
    run.models_succeeded = 2;
    run.models_failed = 1;
    assert_int_equal(rocky_store_run_finish(store, &run, err, sizeof err), 0);

    struct proc_result r;
    proc_wait(pid, dir, 10000, &r);
    if (r.exit_code != 0)
        fprintf(stderr, "stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "run:      " RUN_ID));
    /* Each model exactly once, in the order they finished. */
    const char *a = strstr(r.out, "first_model");
    const char *b = strstr(r.out, "second_model");
    const char *c = strstr(r.out, "third_model");
    assert_true(a && b && c && a < b && b < c);
    assert_null(strstr(a + 1, "first_model  "));
    assert_non_null(strstr(r.out, "summary:  3 models (2 succeeded, 1 failed"));
    proc_result_free(&r);
    rocky_store_close(store);
    fx_rmtree(dir);
    free(dir);
}

static void test_follow_finished_run_prints_once_and_exits(void **state)
{
    char *dir = fx_tempdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/state.db", dir);
    struct rocky_run_record *rec = fx_record("done", 100, ROCKY_RUN_SUCCESS);
    fx_model(rec, "only", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    assert_int_equal(fx_write_store(path, rec), 0);
    rocky_run_record_free(rec);
    char *argv[] = {ROCKY_TRACE_BIN, "done", "--follow", "--state", path, NULL};
    struct proc_result r;
    proc_run(argv, dir, &r);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "only"));
    assert_non_null(strstr(r.out, "summary:  1 model ("));
    proc_result_free(&r);
    fx_rmtree(dir);
    free(dir);
}

/* Output of a child on a pseudo-terminal, accumulated. */
struct pty_out {
    int fd;
    char buf[1 << 16];
    size_t len;
};

/* Read from the pty until `needle` shows up or the deadline passes. */
static int pty_wait_for(struct pty_out *p, const char *needle, int ms)
{
    int64_t deadline = rocky_deadline_after_ms((int64_t)ms * proc_time_scale());
    for (;;) {
        p->buf[p->len] = '\0';
        if (strstr(p->buf, needle) != NULL)
            return 1;
        int64_t left = (deadline - rocky_clock_mono_ns()) / 1000000;
        if (left <= 0)
            return 0;
        struct pollfd pfd = {p->fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(left > 100 ? 100 : left)) <= 0)
            continue;
        ssize_t n = read(p->fd, p->buf + p->len, sizeof p->buf - 1 - p->len);
        if (n <= 0)
            return strstr(p->buf, needle) != NULL; /* child closed the pty */
        p->len += (size_t)n;
    }
}

static void test_follow_on_a_terminal_redraws_until_the_run_ends(void **st)
{
    char *dir = fx_tempdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/state.db", dir);
    char err[512] = "";
    struct rocky_run run;
    struct rocky_store *store = begin_running_run(path, 0, 0, &run);
    record_model(store, "first_model", ROCKY_MODEL_SUCCESS);

    struct pty_out *p = calloc(1, sizeof *p);
    struct winsize ws = {.ws_row = 40, .ws_col = 72};
    fflush(NULL);
    pid_t pid = forkpty(&p->fd, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {ROCKY_TRACE_BIN, "latest", "--follow",
                        "--state",       path,     NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    assert_true(pty_wait_for(p, "first_model", 5000));
    record_model(store, "second_model", ROCKY_MODEL_SUCCESS);
    assert_true(pty_wait_for(p, "second_model", 5000));
    run.status = ROCKY_RUN_SUCCESS;
    run.finished_wall_ns = rocky_clock_wall_ns();
    run.finished_mono_ns = rocky_clock_mono_ns();
    assert_int_equal(rocky_store_run_finish(store, &run, err, sizeof err), 0);
    assert_true(pty_wait_for(p, "summary:  2 models", 5000));

    /* It exits 0 on its own once the run has ended. */
    int status = -1;
    int64_t deadline = rocky_deadline_after_ms(5000LL * proc_time_scale());
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (rocky_clock_mono_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("follower did not exit after the run ended");
        }
        pty_wait_for(p, "\x01never", 20); /* keep draining the pty */
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* Redrawn (screen cleared) more than once, at the terminal's width. */
    size_t clears = 0;
    for (const char *c = p->buf; (c = strstr(c, "\033[H\033[2J")); c++)
        clears++;
    assert_true(clears >= 2);
    assert_non_null(strstr(p->buf, "lanes:"));
    close(p->fd);
    free(p);
    rocky_store_close(store);
    fx_rmtree(dir);
    free(dir);
}

/* A model on record from its start (rocky_store_model_start): the live
 * view on a terminal shows it while it runs, its bar `=` (running), and
 * its end updates that row (never a second one). */
static void test_follow_on_a_terminal_shows_a_model_while_it_runs(void **st)
{
    char *dir = fx_tempdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/state.db", dir);
    char err[512] = "";
    struct rocky_run run;
    struct rocky_store *store = begin_running_run(path, 2000000000LL, 1, &run);
    struct rocky_model_exec m = {0};
    m.struct_size = sizeof m;
    m.status = ROCKY_MODEL_RUNNING;
    m.model_name = "inflight_model";
    m.started_wall_ns = run.started_wall_ns + 1000000000LL;
    m.rows_affected = m.bytes_written = -1;
    m.attempt = 1;
    m.span_id[0] = 7;
    assert_int_equal(
        rocky_store_model_start(store, RUN_ID, &m, err, sizeof err), 0);

    struct pty_out *p = calloc(1, sizeof *p);
    struct winsize ws = {.ws_row = 40, .ws_col = 80};
    fflush(NULL);
    pid_t pid = forkpty(&p->fd, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {ROCKY_TRACE_BIN, "latest", "--follow",
                        "--state",       path,     NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    assert_true(pty_wait_for(p, "inflight_model", 5000));
    assert_true(pty_wait_for(p, "running", 5000));
    /* Its row, as drawn: a running bar. */
    char *row = strstr(p->buf, "inflight_model");
    char *eol = row ? strchr(row, '\n') : NULL;
    assert_non_null(eol);
    char *bar = strndup(row, (size_t)(eol - row));
    assert_non_null(strchr(bar, '='));
    assert_null(strchr(bar, '#'));
    free(bar);

    m.status = ROCKY_MODEL_SUCCESS;
    m.finished_wall_ns = rocky_clock_wall_ns();
    m.rows_affected = 3;
    assert_int_equal(
        rocky_store_model_record(store, RUN_ID, &m, err, sizeof err), 0);
    run.status = ROCKY_RUN_SUCCESS;
    run.finished_wall_ns = rocky_clock_wall_ns();
    run.models_succeeded = 1;
    assert_int_equal(rocky_store_run_finish(store, &run, err, sizeof err), 0);
    assert_true(pty_wait_for(p, "summary:  1 model", 5000));
    int status = -1;
    int64_t deadline = rocky_deadline_after_ms(5000LL * proc_time_scale());
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (rocky_clock_mono_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("follower did not exit after the run ended");
        }
        pty_wait_for(p, "\x01never", 20);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(p->fd);
    free(p);

    /* The end updated the start's row: one execution, one row. */
    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(store, RUN_ID, &rec, err, sizeof err),
                     0);
    assert_int_equal(rec->model_count, 1);
    assert_int_equal(rec->models[0].status, ROCKY_MODEL_SUCCESS);
    assert_int_equal(rec->models[0].rows_affected, 3);
    assert_int_equal(rec->run.status, ROCKY_RUN_SUCCESS);
    rocky_run_record_free(rec);
    rocky_store_close(store);
    fx_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow_prints_models_as_they_finish_and_exits),
        cmocka_unit_test(test_follow_finished_run_prints_once_and_exits),
        cmocka_unit_test(test_follow_on_a_terminal_redraws_until_the_run_ends),
        cmocka_unit_test(test_follow_on_a_terminal_shows_a_model_while_it_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
