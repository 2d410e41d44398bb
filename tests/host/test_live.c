/* test_live.c — a run seen while it runs, with the real `rocky` binary:
 *
 *   - a model is on record from its start (status running, start time,
 *     span id), `rocky trace -o json` shows it running in a running run,
 *     and its end updates that row (never a second one);
 *   - a SIGKILL leaves the running model on record, read back as
 *     interrupted in a crashed run;
 *   - on a pseudo-terminal `rocky run` draws a live display (done/total,
 *     the running model and for how long, an estimate from the previous
 *     run) cut to the terminal's width and erased at the end; NO_COLOR
 *     means no colour; --no-progress means none of it; off a terminal no
 *     escape sequence is written.
 *
 * Every wait polls observable state (the store, the pty's bytes) with a
 * deadline scaled by ROCKY_TEST_TIME_SCALE; the slow model counts to two
 * billion, so it only ends by our SIGINT/SIGKILL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host_test.h"
#include "store.h"

#define SLOW_SQL                                                               \
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "    \
    "i < 2000000000) SELECT count(*) AS c FROM n"
#define SLOW_NAME "slow_model_with_a_name_longer_than_the_terminal"

struct fx {
    pid_t pid; /* the rocky child running now, killed by teardown */
    char dir[64];
    char state[128];
    char out[128], errf[128];
};

static void nap(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static void model(const struct fx *f, const char *name, const char *sql)
{
    char path[256];
    snprintf(path, sizeof path, "%s/models/%s.sql", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(sql, fp);
    fclose(fp);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL ||
        host_test_project_dir(f->dir, sizeof f->dir, "rocky-live") != 0)
        return -1;
    snprintf(f->state, sizeof f->state, "%s/.rocky/state.db", f->dir);
    snprintf(f->out, sizeof f->out, "%s/stdout", f->dir);
    snprintf(f->errf, sizeof f->errf, "%s/stderr", f->dir);
    model(f, "fast", "SELECT 1 AS x");
    model(f, SLOW_NAME, "-- depends_on: fast\n" SLOW_SQL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->pid > 0 && kill(f->pid, SIGKILL) == 0) /* a failed test's */
        waitpid(f->pid, NULL, 0);
    int rc = host_test_remove_dir(f->dir);
    free(f);
    return rc;
}

static void child_env(void)
{
    setenv("NO_COLOR", "1", 1);
    unsetenv("ROCKY_PLUGINS");
    unsetenv("ROCKY_STATE");
    unsetenv("TRACEPARENT");
}

/* `rocky run DIR [extra]` with stdout and stderr to files (not a tty). */
static pid_t start_files(struct fx *f, const char *extra)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_env();
        if (!freopen(f->out, "w", stdout) || !freopen(f->errf, "w", stderr))
            _exit(127);
        execl(ROCKY_BIN, "rocky", "run", f->dir, "--threads", "2", extra,
              (char *)NULL);
        _exit(127);
    }
    f->pid = pid;
    return pid;
}

/* Raw wait status of `pid`, killed (and the test failed) after `ms`. */
/* Stopped by SIGINT: it dies by the signal after recording the run (what
 * a shell expects), 130 either way. */
static int stopped_by_sigint(int status)
{
    return (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) ||
           (WIFEXITED(status) && WEXITSTATUS(status) == 130);
}

static int finish(pid_t pid, int ms)
{
    int64_t deadline = host_test_now_ms() + (int64_t)ms * host_test_scale();
    for (;;) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("rocky run did not finish within %d ms", ms);
        }
        nap();
    }
}

/* The latest run's record, or NULL while there is none readable. */
static struct rocky_run_record *load_latest(const struct fx *f)
{
    struct rocky_store *s = NULL;
    struct rocky_run_record *rec = NULL;
    char err[512];
    if (rocky_store_open(f->state, ROCKY_STORE_READONLY, &s, err, sizeof err))
        return NULL;
    if (rocky_store_run_load(s, "latest", &rec, err, sizeof err) != 0)
        rec = NULL;
    rocky_store_close(s);
    return rec;
}

static const struct rocky_model_exec *find(const struct rocky_run_record *rec,
                                           const char *name)
{
    for (size_t i = 0; i < rec->model_count; i++)
        if (strcmp(rec->models[i].model_name, name) == 0)
            return &rec->models[i];
    return NULL;
}

/* Wait until a reader of the store sees the slow model running. */
static void wait_running(const struct fx *f, pid_t pid)
{
    int64_t deadline = host_test_now_ms() + 30000LL * host_test_scale();
    for (;;) {
        struct rocky_run_record *rec = load_latest(f);
        const struct rocky_model_exec *m = rec ? find(rec, SLOW_NAME) : NULL;
        int running = m != NULL && m->status == ROCKY_MODEL_RUNNING;
        if (running) {
            assert_int_equal(rec->run.status, ROCKY_RUN_RUNNING);
            assert_true(m->started_wall_ns > 0);
            assert_int_equal(m->finished_wall_ns, 0);
            uint8_t zero[ROCKY_SPAN_ID_SIZE] = {0};
            assert_memory_not_equal(m->span_id, zero, sizeof zero);
        }
        rocky_run_record_free(rec);
        if (running)
            return;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("rocky exited before the slow model was on record");
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("the running model never showed up in the store");
        }
        nap();
    }
}

/* stdout of `rocky trace latest --state STATE ARGS`, owned. */
static char *trace_output(const struct fx *f, const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' trace latest --state '%s' %s", ROCKY_BIN,
             f->state, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - 1 - len, p)) > 0)
        len += n;
    buf[len] = '\0';
    pclose(p);
    return buf;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static long long rows_named(const struct fx *f, const char *name)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    assert_int_equal(sqlite3_open_v2(f->state, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM model_execs WHERE "
                           "model_name = ?1",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_start_is_on_record_and_its_end_updates_the_row(void **state)
{
    struct fx *f = *state;
    pid_t pid = start_files(f, NULL);
    wait_running(f, pid);

    /* TraceOutput of the running run: the model is in flight. */
    char *json = trace_output(f, "-o json");
    assert_non_null(strstr(json, "\"status\": \"running\""));
    assert_non_null(strstr(json, "\"finished_at\": \"")); /* now: a time */
    char *at = strstr(json, "\"model_name\": \"" SLOW_NAME "\"");
    assert_non_null(at);
    char *st = strstr(at, "\"status\": ");
    assert_non_null(st);
    assert_int_equal(strncmp(st, "\"status\": \"running\"", 19), 0);
    free(json);
    /* The text view draws its bar as running. */
    char *text = trace_output(f, "--width 100");
    char *row = strstr(text, "slow_model_with"); /* the name is cut */
    assert_non_null(row);
    char *eol = strchr(row, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_non_null(strchr(row, '='));
    free(text);

    assert_int_equal(kill(pid, SIGINT), 0);
    int status = finish(pid, 30000);
    f->pid = 0;
    assert_true(stopped_by_sigint(status));
    /* One row per execution: the end updated the start. */
    assert_int_equal(rows_named(f, SLOW_NAME), 1);
    assert_int_equal(rows_named(f, "fast"), 1);
    struct rocky_run_record *rec = load_latest(f);
    assert_non_null(rec);
    assert_int_equal(rec->run.status, ROCKY_RUN_INTERRUPTED);
    const struct rocky_model_exec *m = find(rec, SLOW_NAME);
    assert_non_null(m);
    assert_int_equal(m->status, ROCKY_MODEL_INTERRUPTED);
    assert_true(m->finished_wall_ns >= m->started_wall_ns);
    rocky_run_record_free(rec);
    /* Off a terminal: the lines of old, and not one escape sequence. */
    char *out = slurp(f->out);
    assert_non_null(strstr(out, "[ 1/2] OK   fast"));
    assert_non_null(strstr(out, "INTR " SLOW_NAME));
    assert_null(strchr(out, '\033'));
    assert_null(strstr(out, "running,"));
    free(out);
}

static void test_sigkill_leaves_the_running_model_interrupted(void **state)
{
    struct fx *f = *state;
    pid_t pid = start_files(f, NULL);
    wait_running(f, pid);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = finish(pid, 10000);
    f->pid = 0;
    assert_true(WIFSIGNALED(status));

    struct rocky_run_record *rec = load_latest(f);
    assert_non_null(rec);
    assert_int_equal(rec->run.status, ROCKY_RUN_CRASHED);
    const struct rocky_model_exec *m = find(rec, SLOW_NAME);
    assert_non_null(m);
    assert_int_equal(m->status, ROCKY_MODEL_INTERRUPTED);
    assert_int_equal(m->finished_wall_ns, 0); /* nobody knows when */
    assert_non_null(m->error);
    assert_non_null(strstr(m->error, "runner died"));
    const struct rocky_model_exec *fast = find(rec, "fast");
    assert_non_null(fast);
    assert_int_equal(fast->status, ROCKY_MODEL_SUCCESS);
    rocky_run_record_free(rec);

    char *json = trace_output(f, "-o json");
    assert_non_null(strstr(json, "\"status\": \"crashed_failure\""));
    char *at = strstr(json, "\"model_name\": \"" SLOW_NAME "\"");
    assert_non_null(at);
    assert_non_null(strstr(at, "\"status\": \"interrupted_failure\""));
    free(json);
}

/* A child on a pseudo-terminal of `cols` columns, its output gathered. */
struct pty_child {
    pid_t pid;
    int fd;
    char buf[1 << 18];
    size_t len;
    int eof;
};

static void pty_start(struct pty_child *c, struct fx *f, int cols,
                      const char *extra)
{
    struct winsize ws = {.ws_row = 24, .ws_col = (unsigned short)cols};
    fflush(NULL);
    c->len = 0;
    c->eof = 0;
    c->pid = forkpty(&c->fd, NULL, NULL, &ws);
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        child_env();
        execl(ROCKY_BIN, "rocky", "run", f->dir, "--threads", "2", extra,
              (char *)NULL);
        _exit(127);
    }
    f->pid = c->pid;
}

/* Read what is there within `ms` (0: just poll once). */
static void pty_read(struct pty_child *c, int ms)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    if (c->eof || poll(&pfd, 1, ms) <= 0)
        return;
    ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
    if (n <= 0)
        c->eof = 1; /* EIO: the child closed the pty */
    else
        c->len += (size_t)n;
    c->buf[c->len] = '\0';
}

static int pty_wait_for(struct pty_child *c, const char *needle, int ms)
{
    int64_t deadline = host_test_now_ms() + (int64_t)ms * host_test_scale();
    while (strstr(c->buf, needle) == NULL) {
        if (c->eof || host_test_now_ms() > deadline)
            return 0;
        pty_read(c, 50);
    }
    return 1;
}

/* SIGINT the child, read the pty to its end, return the exit status. */
static int pty_stop(struct fx *f, struct pty_child *c)
{
    assert_int_equal(kill(c->pid, SIGINT), 0);
    int64_t deadline = host_test_now_ms() + 30000LL * host_test_scale();
    while (!c->eof && host_test_now_ms() < deadline)
        pty_read(c, 50);
    int status = finish(c->pid, 10000);
    f->pid = 0;
    close(c->fd);
    return status;
}

/* Columns of the longest display line: the text between line starts
 * (\r, \n), CSI sequences left out, each UTF-8 code point one column. */
static size_t longest_display_line(const char *s, const char *mark,
                                   const char * not )
{
    size_t best = 0;
    while (*s) {
        size_t cols = 0;
        const char *start = s;
        while (*s && *s != '\r' && *s != '\n') {
            if (*s == '\033' && s[1] == '[') {
                s += 2;
                while (*s && !(*s >= 0x40 && *s <= 0x7e))
                    s++;
                if (*s)
                    s++;
                continue;
            }
            if (((unsigned char)*s & 0xc0) != 0x80)
                cols++;
            s++;
        }
        /* Only the display's lines: the model lines are not ours here. */
        size_t n = (size_t)(s - start);
        char *line = strndup(start, n);
        if (line && strstr(line, mark) != NULL &&
            (not == NULL || strstr(line, not ) == NULL) && cols > best)
            best = cols;
        free(line);
        if (*s)
            s++;
    }
    return best;
}

static void test_progress_display_on_a_terminal(void **state)
{
    struct fx *f = *state;
    static struct pty_child c; /* large buffer: not on the stack */
    const size_t cols = 40;

    /* First run: no history, so no estimate yet. */
    pty_start(&c, f, (int)cols, NULL);
    assert_true(pty_wait_for(&c, "[1/2] 1 running", 30000));
    assert_true(pty_wait_for(&c, "slow_model_with", 10000));
    assert_null(strstr(c.buf, "left"));
    int status = pty_stop(f, &c);
    assert_true(stopped_by_sigint(status));
    /* Cut to the width (one column spare), marked as cut: never wraps. */
    assert_true(longest_display_line(c.buf, "slow_model_with", "INTR") > 0);
    assert_true(longest_display_line(c.buf, "slow_model_with", "INTR") <=
                cols - 1);
    assert_true(longest_display_line(c.buf, "running,", NULL) <= cols - 1);
    assert_non_null(strstr(c.buf, "\xe2\x80\xa6"));
    /* NO_COLOR: the display erases itself, but never colours. */
    assert_non_null(strstr(c.buf, "\033[J"));
    assert_null(strstr(c.buf, "\033[1m"));
    assert_null(strstr(c.buf, "\033[2m"));
    /* Erased at the end: after the last erase, only what a run prints off
     * a terminal (the model lines and the summary). */
    const char *last = c.buf, *p = c.buf;
    while ((p = strstr(p, "\033[J")) != NULL)
        last = p++;
    assert_null(strstr(last, "running,"));
    assert_non_null(strstr(last, "interrupted"));
    assert_non_null(strstr(c.buf, "[ 1/2] OK   fast"));

    /* Second run: the first one's durations give an estimate. */
    pty_start(&c, f, 100, NULL);
    assert_true(pty_wait_for(&c, " left", 30000));
    status = pty_stop(f, &c);
    assert_true(stopped_by_sigint(status));
}

static void test_no_progress_on_a_terminal_draws_nothing(void **state)
{
    struct fx *f = *state;
    static struct pty_child c;
    pty_start(&c, f, 80, "--no-progress");
    /* The display would be drawn from the run's start; the slow model
     * running (seen in the store) means it had every chance. */
    wait_running(f, c.pid);
    assert_true(pty_wait_for(&c, "[ 1/2] OK   fast", 10000));
    int status = pty_stop(f, &c);
    assert_true(stopped_by_sigint(status));
    assert_null(strstr(c.buf, "running,"));
    assert_null(strchr(c.buf, '\033')); /* NO_COLOR and no display */
    assert_non_null(strstr(c.buf, "interrupted"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_start_is_on_record_and_its_end_updates_the_row),
        T(test_sigkill_leaves_the_running_model_interrupted),
        T(test_progress_display_on_a_terminal),
        T(test_no_progress_on_a_terminal_draws_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
