/* test_run_process.c — real `rocky run` processes: failure propagation,
 * atomic materialization, SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGKILL of a
 * running run, event order under 8 threads, plugins that fail, output
 * nobody reads (a reader gone, closed stdout/stderr), usage errors.
 *
 * Every wait polls with a deadline scaled by ROCKY_TEST_TIME_SCALE; long
 * models are made long deterministically (a recursive CTE counting to two
 * billion) and signals are only sent once the events file shows the model
 * started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host_test.h"
#include "rocky/error.h"
#include "store.h"

#define SLOW_SQL                                                               \
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "    \
    "i < 2000000000) SELECT count(*) AS c FROM n"

struct fx {
    char dir[64];
    char events[128];
    char state[128];
    char target[128];
    char out[128];
    char errf[128];
};

static void nap(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL ||
        host_test_project_dir(f->dir, sizeof f->dir, "rocky-run") != 0)
        return -1;
    snprintf(f->events, sizeof f->events, "%s/events.jsonl", f->dir);
    snprintf(f->state, sizeof f->state, "%s/.rocky/state.db", f->dir);
    snprintf(f->target, sizeof f->target, "%s/.rocky/warehouse.db", f->dir);
    snprintf(f->out, sizeof f->out, "%s/stdout", f->dir);
    snprintf(f->errf, sizeof f->errf, "%s/stderr", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = host_test_remove_dir(f->dir);
    free(f);
    return rc;
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

/* How the child's standard streams are set up; zero: stdout and stderr to
 * f->out and f->errf. */
struct child_io {
    int stdout_fd; /* > 0: this fd becomes stdout (a pipe's write end) */
    int close_stdout;
    int close_stderr;
};

/* Start `rocky run <dir> <extra...>` with the events plugin recording to
 * f->events, its streams set up as `io` says (NULL: files). NULL-terminated
 * extra args. */
static pid_t start_io(const struct fx *f, const char *const *extra,
                      const struct child_io *io)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = ROCKY_BIN;
    argv[n++] = "run";
    argv[n++] = f->dir;
    argv[n++] = "--plugin";
    argv[n++] = EVENTS_PLUGIN;
    for (int i = 0; extra && extra[i] && n < 30; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("ROCKY_EVENTS_JSONL", f->events, 1);
        setenv("NO_COLOR", "1", 1);
        unsetenv("ROCKY_PLUGINS");
        unsetenv("ROCKY_STATE");
        unsetenv("TRACEPARENT");
        if (!freopen(f->out, "w", stdout) || !freopen(f->errf, "w", stderr))
            _exit(127);
        if (io != NULL && io->stdout_fd > 0 &&
            dup2(io->stdout_fd, STDOUT_FILENO) < 0)
            _exit(127);
        if (io != NULL && io->close_stdout)
            close(STDOUT_FILENO);
        if (io != NULL && io->close_stderr)
            close(STDERR_FILENO);
        /* What a shell gives it: a reader that goes away means SIGPIPE,
         * unless rocky itself ignores it. */
        signal(SIGPIPE, SIG_DFL);
        execv(ROCKY_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static pid_t start(const struct fx *f, const char *const *extra)
{
    return start_io(f, extra, NULL);
}

/* Wait for `pid` with a deadline; returns the raw wait status. */
static int finish(pid_t pid, int timeout_ms)
{
    int64_t deadline =
        host_test_now_ms() + (int64_t)timeout_ms * host_test_scale();
    for (;;) {
        int status = 0;
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return status;
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("rocky run did not finish within %d ms", timeout_ms);
        }
        nap();
    }
}

static int run_rocky(const struct fx *f, const char *const *extra)
{
    int status = finish(start(f, extra), 60000);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return strdup("");
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
        buf[0] = '\0';
    fclose(fp);
    return buf;
}

/* Events of the file, parsed (array of objects). */
static cJSON *events(const struct fx *f)
{
    char *text = slurp(f->events);
    cJSON *arr = cJSON_CreateArray();
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        /* Every line must be valid JSON: a line that does not parse is a
         * plugin bug, not something to skip. */
        cJSON *ev = cJSON_Parse(line);
        assert_non_null(ev);
        cJSON_AddItemToArray(arr, ev);
    }
    free(text);
    return arr;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int saw_event(const struct fx *f, const char *type, const char *name)
{
    cJSON *arr = events(f);
    int found = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, arr)
    {
        if (strcmp(str(ev, "type"), type) == 0 &&
            (name == NULL || strcmp(str(ev, "model"), name) == 0))
            found = 1;
    }
    cJSON_Delete(arr);
    return found;
}

static void wait_event(const struct fx *f, const char *type, const char *name,
                       pid_t pid)
{
    int64_t deadline = host_test_now_ms() + 30000LL * host_test_scale();
    while (!saw_event(f, type, name)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("rocky exited before %s %s", type, name ? name : "");
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("no %s event for %s in time", type, name ? name : "");
        }
        nap();
    }
}

static struct rocky_run_record *load_latest(const struct fx *f)
{
    struct rocky_store *s = NULL;
    char err[512] = "";
    if (rocky_store_open(f->state, ROCKY_STORE_READONLY, &s, err, sizeof err))
        fail_msg("open store: %s", err);
    struct rocky_run_record *rec = NULL;
    if (rocky_store_run_load(s, "latest", &rec, err, sizeof err))
        fail_msg("load latest: %s", err);
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

/* Rows of `sql` on the target db (a single integer), or -1 on error. */
static long long target_int(const struct fx *f, const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(f->target, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static void test_failed_model_skips_dependents_and_others_go_on(void **state)
{
    struct fx *f = *state;
    model(f, "base", "SELECT 1 AS x UNION ALL SELECT 2");
    model(f, "broken", "SELECT no_such_column FROM base");
    model(f, "downstream", "SELECT * FROM broken");
    model(f, "further", "SELECT * FROM downstream");
    model(f, "independent", "SELECT x * 10 AS y FROM base");
    const char *args[] = {"--threads", "3", NULL};
    assert_int_equal(run_rocky(f, args), 1);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_PARTIAL_FAILURE);
    assert_int_equal(rec->run.models_total, 5);
    assert_int_equal(rec->run.models_succeeded, 2);
    assert_int_equal(rec->run.models_failed, 1);
    assert_int_equal(rec->run.models_skipped, 2);
    assert_int_equal(rec->model_count, 5);
    const struct rocky_model_exec *b = find(rec, "broken");
    assert_non_null(b);
    assert_int_equal(b->status, ROCKY_MODEL_FAILED);
    assert_non_null(strstr(b->error, "no_such_column"));
    assert_int_equal(find(rec, "downstream")->status, ROCKY_MODEL_SKIPPED);
    assert_int_equal(find(rec, "further")->status, ROCKY_MODEL_SKIPPED);
    assert_int_equal(find(rec, "further")->started_wall_ns, 0);
    assert_int_equal(find(rec, "independent")->status, ROCKY_MODEL_SUCCESS);
    assert_int_equal(find(rec, "independent")->rows_affected, 2);
    assert_int_equal(find(rec, "independent")->dependency_count, 1);
    rocky_run_record_free(rec);
    assert_int_equal(target_int(f, "SELECT sum(y) FROM independent"), 30);
    char *out = slurp(f->out);
    assert_non_null(strstr(out, "FAIL broken"));
    assert_non_null(strstr(out, "partial_failure"));
    assert_null(strstr(out, "\033[")); /* NO_COLOR, and not a TTY */
    free(out);
}

static void test_all_failing_is_failure(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT * FROM a_table_that_is_not_there_at_runtime");
    char json[128];
    snprintf(json, sizeof json, "%s/rocky.json", f->dir);
    FILE *fp = fopen(json, "w");
    fputs("{\"sources\": [\"a_table_that_is_not_there_at_runtime\"]}", fp);
    fclose(fp);
    assert_int_equal(run_rocky(f, NULL), 1);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_FAILURE);
    rocky_run_record_free(rec);
}

static void test_failed_rematerialization_keeps_previous_table(void **state)
{
    struct fx *f = *state;
    model(f, "t", "SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 3");
    assert_int_equal(run_rocky(f, NULL), 0);
    assert_int_equal(target_int(f, "SELECT sum(v) FROM t"), 6);
    /* Fails at row 500, after rows were produced: a runtime error, not a
     * parse error. */
    model(f, "t",
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
          "WHERE i < 1000) SELECT CASE WHEN i = 500 THEN "
          "abs(-9223372036854775807 - 1) ELSE i END AS v FROM n");
    assert_int_equal(run_rocky(f, NULL), 1);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(find(rec, "t")->status, ROCKY_MODEL_FAILED);
    assert_non_null(strstr(find(rec, "t")->error, "overflow"));
    rocky_run_record_free(rec);
    assert_int_equal(target_int(f, "SELECT sum(v) FROM t"), 6);
    assert_int_equal(target_int(f, "SELECT count(*) FROM sqlite_master "
                                   "WHERE name LIKE 'rocky_tmp_%'"),
                     0);
    /* A non-SELECT is refused the same way. */
    model(f, "t", "DELETE FROM t");
    assert_int_equal(run_rocky(f, NULL), 1);
    assert_int_equal(target_int(f, "SELECT sum(v) FROM t"), 6);
}

static void interrupt_case(const struct fx *f, int signo, int want_exit)
{
    model(f, "quick", "SELECT 1 AS x");
    model(f, "slow", SLOW_SQL);
    model(f, "after_slow", "SELECT * FROM slow");
    const char *args[] = {"--threads", "2", NULL};
    pid_t pid = start(f, args);
    wait_event(f, "model_start", "slow", pid);
    assert_int_equal(kill(pid, signo), 0);
    int status = finish(pid, 30000);
    /* It dies by the signal after recording the run (a shell loop stops
     * on Ctrl-C), except SIGQUIT: _exit(131), no core dump. The shell sees
     * 128 + signo either way. */
    if (signo == SIGQUIT) {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), want_exit);
    } else {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(128 + WTERMSIG(status), want_exit);
    }

    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_INTERRUPTED);
    assert_true(rec->run.finished_wall_ns > 0);
    const struct rocky_model_exec *slow = find(rec, "slow");
    assert_non_null(slow);
    assert_int_equal(slow->status, ROCKY_MODEL_INTERRUPTED);
    assert_non_null(find(rec, "after_slow"));
    assert_int_equal(find(rec, "after_slow")->status, ROCKY_MODEL_SKIPPED);
    rocky_run_record_free(rec);
    /* no half-written table */
    assert_int_equal(target_int(f, "SELECT count(*) FROM sqlite_master "
                                   "WHERE name IN ('slow', 'after_slow') "
                                   "OR name LIKE 'rocky_tmp_%'"),
                     0);
    assert_true(saw_event(f, "run_end", NULL));
}

static void test_sigint_interrupts_running_statement_exit_130(void **state)
{
    interrupt_case(*state, SIGINT, 130);
}

static void test_sigterm_exits_143(void **state)
{
    interrupt_case(*state, SIGTERM, 143);
}

static void test_sighup_exits_129(void **state)
{
    interrupt_case(*state, SIGHUP, 129);
}

/* Handled like the others: no core dump (WIFEXITED in interrupt_case). */
static void test_sigquit_exits_131(void **state)
{
    interrupt_case(*state, SIGQUIT, 131);
}

static void test_sigkill_leaves_finished_models_on_record(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT 1 AS x");
    model(f, "b", "SELECT 2 AS x");
    model(f, "c", "SELECT 3 AS x");
    model(f, "slow", "-- depends_on: a\n" SLOW_SQL);
    const char *args[] = {"--threads", "4", NULL};
    pid_t pid = start(f, args);
    wait_event(f, "model_start", "slow", pid);
    /* `a` ended before `slow` could start, but its end is announced by the
     * recorder thread after the commit: wait for that too (a slow sanitizer
     * build can get here first). */
    wait_event(f, "model_end", "a", pid);
    /* And `slow`'s start is committed by the recorder after the event:
     * wait until the store shows it (bounded), or the kill could beat it. */
    int64_t deadline = host_test_now_ms() + 30000LL * host_test_scale();
    for (;;) {
        struct rocky_run_record *seen = load_latest(f);
        int on_record = find(seen, "slow") != NULL;
        rocky_run_record_free(seen);
        if (on_record)
            break;
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            finish(pid, 10000);
            fail_msg("slow's start never reached the store");
        }
        nap();
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = finish(pid, 10000);
    assert_true(WIFSIGNALED(status));

    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_CRASHED);
    /* Every model whose end was announced is on record as it ended. */
    cJSON *arr = events(f);
    int ends = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, arr)
    {
        if (strcmp(str(ev, "type"), "model_end") != 0)
            continue;
        ends++;
        const struct rocky_model_exec *m = find(rec, str(ev, "model"));
        assert_non_null(m);
        assert_int_equal(m->status, ROCKY_MODEL_SUCCESS);
        assert_true(m->finished_wall_ns > 0);
    }
    cJSON_Delete(arr);
    assert_true(ends >= 1); /* at least `a`, which `slow` waited for */
    assert_non_null(find(rec, "a"));
    /* It never finished: on record from its start, read back as stopped
     * by the runner's death, with no end (test_live.c). */
    const struct rocky_model_exec *slow = find(rec, "slow");
    assert_non_null(slow);
    assert_int_equal(slow->status, ROCKY_MODEL_INTERRUPTED);
    assert_int_equal(slow->finished_wall_ns, 0);
    rocky_run_record_free(rec);
}

static void test_events_ordered_per_model_under_8_threads(void **state)
{
    struct fx *f = *state;
    char name[32], sql[256];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "root%d", i);
        snprintf(sql, sizeof sql,
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM "
                 "n WHERE i < %d) SELECT i FROM n",
                 2000 + i * 100);
        model(f, name, sql);
    }
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof name, "mid%d", i);
        snprintf(sql, sizeof sql,
                 "SELECT a.i FROM root%d a JOIN root%d b ON a.i = b.i", i % 8,
                 (i + 3) % 8);
        model(f, name, sql);
    }
    model(f, "top",
          "SELECT (SELECT count(*) FROM mid0) + (SELECT count(*) FROM mid7) +"
          " (SELECT count(*) FROM mid31) AS c");
    const char *args[] = {"--threads", "8", NULL};
    assert_int_equal(run_rocky(f, args), 0);

    cJSON *arr = events(f);
    int n = cJSON_GetArraySize(arr);
    /* Per model: start, end, and (ABI 2.1) one statement_end for each of
     * the 9 statements a successful materialization runs: DROP temp,
     * CREATE TEMP AS, count, BEGIN, DROP main, CREATE main AS, dbstat
     * size, COMMIT, DROP temp. */
    assert_int_equal(n, 2 + (2 + 9) * 41);
    assert_string_equal(str(cJSON_GetArrayItem(arr, 0), "type"), "run_start");
    assert_string_equal(str(cJSON_GetArrayItem(arr, n - 1), "type"), "run_end");
    char run_id[64];
    snprintf(run_id, sizeof run_id, "%s",
             str(cJSON_GetArrayItem(arr, 0), "run_id"));
    const char *trace_id = str(cJSON_GetArrayItem(arr, 0), "trace_id");
    assert_int_equal(strlen(trace_id), 32);
    for (int i = 1; i < n - 1; i++) {
        const cJSON *ev = cJSON_GetArrayItem(arr, i);
        assert_string_equal(str(ev, "run_id"), run_id);
        assert_string_equal(str(ev, "trace_id"), trace_id);
        if (strcmp(str(ev, "type"), "statement_end") == 0) {
            /* after its model's start, before its end, in order, its
             * parent the model's span, a span id of its own */
            int seq = (int)cJSON_GetObjectItem(ev, "sequence")->valuedouble;
            int start = -1, end = -1, prev = -1;
            for (int j = 1; j < n - 1; j++) {
                const cJSON *o = cJSON_GetArrayItem(arr, j);
                if (strcmp(str(o, "model"), str(ev, "model")) != 0)
                    continue;
                if (strcmp(str(o, "type"), "model_start") == 0) {
                    start = j;
                    assert_string_equal(str(o, "span_id"),
                                        str(ev, "parent_span_id"));
                } else if (strcmp(str(o, "type"), "model_end") == 0) {
                    end = j;
                } else if (j < i &&
                           strcmp(str(o, "type"), "statement_end") == 0) {
                    prev = (int)cJSON_GetObjectItem(o, "sequence")->valuedouble;
                    assert_string_not_equal(str(o, "span_id"),
                                            str(ev, "span_id"));
                }
            }
            assert_true(start >= 0 && start < i && i < end);
            assert_int_equal(seq, prev + 1);
            assert_true(seq >= 0 && seq < 9);
            assert_string_equal(str(ev, "status"), "success");
            static const char *const kinds[9] = {"ddl",   "ddl",   "query",
                                                 "other", "ddl",   "ddl",
                                                 "query", "other", "ddl"};
            assert_string_equal(str(ev, "kind"), kinds[seq]);
            continue;
        }
        if (strcmp(str(ev, "type"), "model_end") != 0) {
            assert_string_equal(str(ev, "type"), "model_start");
            continue;
        }
        /* its start came earlier, with the same span id */
        int started = 0;
        for (int j = 1; j < i; j++) {
            const cJSON *s = cJSON_GetArrayItem(arr, j);
            if (strcmp(str(s, "type"), "model_start") == 0 &&
                strcmp(str(s, "model"), str(ev, "model")) == 0) {
                assert_string_equal(str(s, "span_id"), str(ev, "span_id"));
                started = 1;
            }
        }
        if (!started)
            fail_msg("model_end of %s before its model_start",
                     str(ev, "model"));
    }
    /* Workers really ran on several threads. */
    int threads_seen = 0;
    double first_thread = -1;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, arr)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "thread");
        if (strcmp(str(ev, "type"), "model_start") != 0 || !cJSON_IsNumber(t))
            continue;
        if (first_thread < 0)
            first_thread = t->valuedouble;
        else if (t->valuedouble != first_thread)
            threads_seen = 1;
    }
    assert_true(threads_seen);
    cJSON_Delete(arr);

    struct rocky_run_record *rec = load_latest(f);
    assert_string_equal(rec->run.run_id, run_id);
    assert_int_equal(rec->model_count, 41);
    assert_int_equal(rec->delivery_confirmed, 1);
    rocky_run_record_free(rec);
    char *err = slurp(f->errf);
    assert_null(strstr(err, "send them again")); /* confirmed: no hint */
    free(err);
}

static void test_traceparent_sets_the_trace(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT 1 AS x");
    setenv("TRACEPARENT",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 1);
    /* start() clears TRACEPARENT; run through the shell-free path here. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(f->out, "w", stdout))
            _exit(127);
        execl(ROCKY_BIN, ROCKY_BIN, "run", f->dir, "--json", "--trigger", "ci",
              (char *)NULL);
        _exit(127);
    }
    unsetenv("TRACEPARENT");
    int status = finish(pid, 60000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char *out = slurp(f->out);
    cJSON *doc = cJSON_Parse(out);
    free(out);
    assert_non_null(doc);
    assert_string_equal(str(doc, "trace_id"),
                        "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(str(doc, "status"), "success");
    assert_string_equal(str(doc, "trigger"), "ci");
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "models")), 1);
    cJSON_Delete(doc);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.parent_span_id[0], 0x00);
    assert_int_equal(rec->run.parent_span_id[1], 0xf0);
    assert_int_equal(rec->delivery_confirmed, -1); /* no plugin */
    rocky_run_record_free(rec);
}

static void test_failing_plugins_do_not_fail_the_run(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT 1 AS x");
    model(f, "b", "SELECT * FROM a");
    const char *args[] = {
        "--plugin", INIT_FAIL_PLUGIN,  "--plugin", EVENT_FAIL_PLUGIN,
        "--plugin", "/nonexistent.so", NULL};
    assert_int_equal(run_rocky(f, args), 0);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_SUCCESS);
    rocky_run_record_free(rec);
    char *err = slurp(f->errf);
    assert_non_null(strstr(err, "/nonexistent.so"));
    free(err);
    assert_true(saw_event(f, "run_end", NULL)); /* the good one still ran */
}

/* The runner owns the exit (its guard is armed before plugins load) and
 * says so: a plugin sees ROCKY_HOST_CAP_OWNS_EXIT and must arm nothing. */
static void test_runner_tells_plugins_it_owns_the_exit(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT 1 AS x");
    const char *args[] = {"--plugin", SERVICES_PLUGIN, NULL};
    setenv("ROCKY_LOG", "info", 1);
    int code = run_rocky(f, args);
    unsetenv("ROCKY_LOG");
    assert_int_equal(code, 0);
    char *err = slurp(f->errf);
    if (!strstr(err, "owns_exit=1"))
        fail_msg("the services fixture did not see owns_exit=1:\n%s", err);
    free(err);
}

/* The last line of `text` (without its newline), in place. */
static char *last_line(char *text)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

/* The pending fixture's stop reports one item dropped: the run is not
 * confirmed, and the runner's last word is how to send it again — a
 * command that `rocky trace` takes as printed (from another directory
 * than the project: the state path is in it). */
/* Lines of `text` holding `needle`. */
static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The run's last line names the instance that did not confirm (not the
 * one that did) with what it holds, and the command that sends it again;
 * that command, run as printed, re-creates only that instance from the
 * store and records its outcome per instance. */
static void test_undelivered_run_says_how_to_send_it_again(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT 1 AS x");
    model(f, "b", "SELECT * FROM a");
    const char *args[] = {"--plugin", PENDING_PLUGIN, NULL};
    assert_int_equal(run_rocky(f, args), 0);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_SUCCESS);
    assert_int_equal(rec->delivery_confirmed, 0);
    char run_id[64];
    snprintf(run_id, sizeof run_id, "%s", rec->run.run_id);
    rocky_run_record_free(rec);

    char *err = slurp(f->errf);
    const char *line = last_line(err);
    char want[2048];
    snprintf(want, sizeof want,
             "plugins did not confirm delivery of run %s (input/output "
             "error): pending (0 pending, 1 dropped); send them again with: ",
             run_id);
    assert_non_null(strstr(line, want));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rocky trace %s --export --state %s", run_id,
             f->state);
    size_t n = strlen(line), m = strlen(cmd);
    if (n < m || strcmp(line + n - m, cmd) != 0)
        fail_msg("last line of stderr\n  %s\ndoes not end with\n  %s", line,
                 cmd);
    free(err);

    /* The store knows both instances; only `pending` is unconfirmed. */
    struct rocky_store *s = NULL;
    char serr[512] = "";
    assert_int_equal(
        rocky_store_open(f->state, ROCKY_STORE_READONLY, &s, serr, sizeof serr),
        0);
    struct rocky_store_plugin *plugins = NULL;
    size_t np = 0;
    assert_int_equal(
        rocky_store_run_plugins(s, run_id, &plugins, &np, serr, sizeof serr),
        0);
    assert_int_equal(np, 2);
    assert_string_equal(plugins[0].instance, "events_jsonl");
    assert_int_equal(plugins[0].confirmed, 1);
    assert_string_equal(plugins[1].instance, "pending");
    assert_int_equal(plugins[1].confirmed, 0);
    assert_int_equal(plugins[1].dropped, 1);
    assert_true(plugins[1].path[0] == '/'); /* absolute: a re-send may run
                                               from anywhere */
    rocky_store_plugins_free(plugins, np);
    rocky_store_close(s);

    /* Run it as printed (no word of it needs quoting here), with this
     * build's binary standing in for `rocky`, from another directory. */
    const char *argv[16];
    int argc = 0;
    char *save = NULL;
    for (char *w = strtok_r(cmd, " ", &save); w && argc < 15;
         w = strtok_r(NULL, " ", &save)) {
        argv[argc] = argc == 0 ? ROCKY_BIN : w;
        argc++;
    }
    argv[argc] = NULL;
    char *before = slurp(f->events);
    int lines_before = count_lines_with(before, "\"type\"");
    free(before);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("ROCKY_EVENTS_JSONL", f->events, 1);
        unsetenv("ROCKY_PLUGINS");
        unsetenv("ROCKY_STATE");
        if (chdir("/") != 0 || !freopen(f->out, "w", stdout) ||
            !freopen(f->errf, "w", stderr))
            _exit(127);
        execv(ROCKY_BIN, (char *const *)argv);
        _exit(127);
    }
    int status = finish(pid, 60000);
    assert_true(WIFEXITED(status));
    /* Accepted (not a usage error, 2) and replayed through `pending` only;
     * the fixture drops again, so it is not confirmed. */
    assert_int_equal(WEXITSTATUS(status), 1);
    err = slurp(f->errf);
    snprintf(want, sizeof want,
             "run %s via plugin instance 'pending': ", run_id);
    if (strstr(err, want) == NULL)
        fail_msg("stderr\n%s\nlacks\n  %s", err, want);
    assert_non_null(strstr(err, "still marked undelivered"));
    free(err);
    char *after = slurp(f->events);
    assert_int_equal(count_lines_with(after, "\"type\""), lines_before);
    free(after);
}

static void test_select_runs_only_upstream(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT 1 AS x");
    model(f, "b", "SELECT * FROM a");
    model(f, "c", "SELECT * FROM b");
    model(f, "other", "SELECT 5 AS y");
    const char *args[] = {"--select", "+b", NULL};
    assert_int_equal(run_rocky(f, args), 0);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->model_count, 2);
    assert_non_null(find(rec, "a"));
    assert_non_null(find(rec, "b"));
    rocky_run_record_free(rec);
}

/* `n` independent models m000.. */
static void many_models(const struct fx *f, int n)
{
    char name[32], sql[64];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "m%03d", i);
        snprintf(sql, sizeof sql, "SELECT %d AS x", i);
        model(f, name, sql);
    }
}

static void assert_all_succeeded(const struct fx *f, uint32_t n)
{
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_SUCCESS);
    assert_int_equal(rec->run.models_succeeded, n);
    assert_int_equal(rec->model_count, n);
    rocky_run_record_free(rec);
    assert_true(saw_event(f, "run_end", NULL));
}

/* `rocky run | head -1`. The pipe is shrunk to its minimum and the run
 * prints more than that after the first line, so rocky is certain to write
 * after the reader closed: no sleep decides whether the test means
 * anything. */
static void test_reader_gone_after_first_line_run_goes_on(void **state)
{
    struct fx *f = *state;
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    fcntl(fds[0], F_SETPIPE_SZ, 4096); /* best effort; measured below */
    int capacity = fcntl(fds[0], F_GETPIPE_SZ);
    assert_true(capacity > 0);
    /* A model's line is over 40 bytes ("[ n/N] OK   " + a 28-wide name). */
    int n = capacity / 40 + 10;
    many_models(f, n);
    const char *args[] = {"--threads", "4", NULL};
    struct child_io io = {.stdout_fd = fds[1]};
    pid_t pid = start_io(f, args, &io);
    close(fds[1]);
    /* Read exactly the first line, byte by byte, with a deadline. */
    int64_t deadline = host_test_now_ms() + 30000LL * host_test_scale();
    char c = 0;
    size_t got = 0;
    while (c != '\n') {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int ready = poll(&pfd, 1, 10);
        if (ready == 1) {
            ssize_t r = read(fds[0], &c, 1);
            if (r != 1) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                fail_msg("rocky closed stdout before its first line (%zu "
                         "bytes)",
                         got);
            }
            got++;
        } else if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("no first line in time");
        }
    }
    close(fds[0]);
    int status = finish(pid, 60000);
    if (WIFSIGNALED(status))
        fail_msg("rocky died of signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_all_succeeded(f, (uint32_t)n);
    char *err = slurp(f->errf);
    assert_string_equal(err, ""); /* quietly: no error per line */
    free(err);
}

static void test_closed_stdout_run_goes_on(void **state)
{
    struct fx *f = *state;
    many_models(f, 30);
    struct child_io io = {.close_stdout = 1};
    int status = finish(start_io(f, NULL, &io), 60000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_all_succeeded(f, 30);
    char *err = slurp(f->errf);
    assert_string_equal(err, "");
    free(err);
}

static void test_closed_stderr_failing_model_recorded(void **state)
{
    struct fx *f = *state;
    model(f, "good", "SELECT 1 AS x");
    model(f, "bad", "SELECT no_such_column FROM good");
    model(f, "after_bad", "SELECT * FROM bad");
    struct child_io io = {.close_stderr = 1};
    int status = finish(start_io(f, NULL, &io), 60000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    struct rocky_run_record *rec = load_latest(f);
    assert_int_equal(rec->run.status, ROCKY_RUN_PARTIAL_FAILURE);
    assert_int_equal(rec->model_count, 3);
    assert_int_equal(find(rec, "bad")->status, ROCKY_MODEL_FAILED);
    assert_int_equal(find(rec, "after_bad")->status, ROCKY_MODEL_SKIPPED);
    rocky_run_record_free(rec);
    char *out = slurp(f->out);
    assert_non_null(strstr(out, "FAIL bad"));
    assert_non_null(strstr(out, "partial_failure"));
    free(out);
    assert_true(saw_event(f, "run_end", NULL));
}

static void test_usage_errors_exit_2_naming_the_argument(void **state)
{
    struct fx *f = *state;
    model(f, "a", "SELECT 1 AS x");
    const char *bad[][3] = {{"--threads", "0", NULL},
                            {"--bogus", NULL, NULL},
                            {"--trigger", "a b", NULL},
                            {"--select", "nope", NULL}};
    const char *needle[] = {"--threads", "--bogus", "--trigger", "nope"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(run_rocky(f, bad[i]), 2);
        char *err = slurp(f->errf);
        assert_non_null(strstr(err, needle[i]));
        free(err);
    }
}

static void test_missing_project_is_a_clear_error(void **state)
{
    struct fx *f = *state;
    char *argv_dir = f->dir;
    rmdir(strcat(argv_dir, "/models")); /* an empty dir: no models/ */
    argv_dir[strlen(argv_dir) - strlen("/models")] = '\0';
    assert_int_equal(run_rocky(f, NULL), 1);
    char *err = slurp(f->errf);
    assert_non_null(strstr(err, "models"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_failed_model_skips_dependents_and_others_go_on),
        T(test_all_failing_is_failure),
        T(test_failed_rematerialization_keeps_previous_table),
        T(test_sigint_interrupts_running_statement_exit_130),
        T(test_sigterm_exits_143),
        T(test_sighup_exits_129),
        T(test_sigquit_exits_131),
        T(test_runner_tells_plugins_it_owns_the_exit),
        T(test_sigkill_leaves_finished_models_on_record),
        T(test_events_ordered_per_model_under_8_threads),
        T(test_traceparent_sets_the_trace),
        T(test_failing_plugins_do_not_fail_the_run),
        T(test_undelivered_run_says_how_to_send_it_again),
        T(test_select_runs_only_upstream),
        T(test_reader_gone_after_first_line_run_goes_on),
        T(test_closed_stdout_run_goes_on),
        T(test_closed_stderr_failing_model_recorded),
        T(test_usage_errors_exit_2_naming_the_argument),
        T(test_missing_project_is_a_clear_error),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
