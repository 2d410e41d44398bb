/* test_retention.c — the real `rocky` binary: rocky.json's "retention"
 * applied at the end of a run (never the run just made, never a run
 * awaiting delivery), `rocky runs` listing what is left, `rocky -c …
 * runs --prune` taking its rules from rocky.json, and bad "retention"
 * values refused with a clear message. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "host_test.h"
#include "store.h"

struct fx {
    char dir[64];
    char state[128];
    char config[128];
    char out[128];
    char errf[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL ||
        host_test_project_dir(f->dir, sizeof f->dir, "rocky-retention") != 0)
        return -1;
    snprintf(f->state, sizeof f->state, "%s/.rocky/state.db", f->dir);
    snprintf(f->config, sizeof f->config, "%s/rocky.json", f->dir);
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

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
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

/* Run `rocky ARGS...` (NULL-terminated) with stdout/stderr to f->out and
 * f->errf, bounded in time; returns its exit status. */
static int rocky(const struct fx *f, ...)
{
    const char *argv[24] = {ROCKY_BIN};
    int n = 1;
    va_list ap;
    va_start(ap, f);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 23)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("NO_COLOR", "1", 1);
        unsetenv("ROCKY_PLUGINS");
        unsetenv("ROCKY_STATE");
        unsetenv("ROCKY_LOG");
        if (!freopen(f->out, "w", stdout) || !freopen(f->errf, "w", stderr))
            _exit(127);
        execv(ROCKY_BIN, (char *const *)argv);
        _exit(127);
    }
    int64_t deadline = host_test_now_ms() + 60000 * host_test_scale();
    for (;;) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            assert_true(WIFEXITED(status));
            return WEXITSTATUS(status);
        }
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("rocky did not finish within 60 s");
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Run ids in the store, newest first. */
static size_t run_ids(const struct fx *f, char **ids, size_t max)
{
    struct rocky_store *s = NULL;
    char err[512] = "";
    if (rocky_store_open(f->state, ROCKY_STORE_READONLY, &s, err, sizeof err))
        fail_msg("open store: %s", err);
    size_t n = 0;
    assert_int_equal(rocky_store_recent_run_ids(s, ids, max, &n), 0);
    rocky_store_close(s);
    return n;
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
}

static void test_retention_at_run_end_keeps_pending_and_newest(void **state)
{
    struct fx *f = *state;
    char model[160];
    snprintf(model, sizeof model, "%s/models/a.sql", f->dir);
    write_file(model, "SELECT 1 AS x");
    write_file(f->config, "{\"retention\": {\"keep_runs\": 2}}");

    /* run 1: its telemetry stays pending (the fixture drops an item) */
    assert_int_equal(rocky(f, "run", f->dir, "--plugin", PENDING_PLUGIN, NULL),
                     0);
    char *ids[8];
    assert_int_equal(run_ids(f, ids, 8), 1);
    char pending_id[64];
    snprintf(pending_id, sizeof pending_id, "%s", ids[0]);
    free_ids(ids, 1);

    assert_int_equal(rocky(f, "run", f->dir, NULL), 0);
    assert_int_equal(rocky(f, "run", f->dir, NULL), 0);
    /* 3 runs, 2 kept by the rule, the pending one kept for delivery */
    char *err = slurp(f->errf);
    assert_non_null(strstr(err, "kept 1 awaiting telemetry delivery"));
    free(err);
    assert_int_equal(run_ids(f, ids, 8), 3);
    char second[64];
    snprintf(second, sizeof second, "%s", ids[1]);
    free_ids(ids, 3);

    assert_int_equal(rocky(f, "run", f->dir, NULL), 0);
    err = slurp(f->errf);
    assert_non_null(strstr(err, "retention: pruned 1 run (1 model record)"));
    free(err);
    size_t n = run_ids(f, ids, 8);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(ids[i], second);
    assert_string_equal(ids[2], pending_id);
    free_ids(ids, n);

    /* `rocky runs` lists what is left, newest first */
    assert_int_equal(
        rocky(f, "runs", "--state", f->state, "--width", "120", NULL), 0);
    char *out = slurp(f->out);
    size_t lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 4);
    assert_non_null(strstr(out, "pending"));
    free(out);

    /* on demand, rules from rocky.json (-c): --force takes the pending */
    assert_int_equal(rocky(f, "-c", f->config, "runs", "--prune", NULL), 0);
    out = slurp(f->out);
    assert_non_null(strstr(out, "pruned 0 runs"));
    assert_non_null(strstr(out, "kept 1 run awaiting telemetry delivery"));
    free(out);
    assert_int_equal(
        rocky(f, "-c", f->config, "runs", "--prune", "--force", NULL), 0);
    out = slurp(f->out);
    assert_non_null(strstr(out, "pruned 1 run (1 model record), 2 left"));
    free(out);
    assert_int_equal(run_ids(f, ids, 8), 2);
    free_ids(ids, 2);

    /* a run id prefix works for `rocky trace` */
    assert_int_equal(rocky(f, "trace", "latest~1", "--state", f->state, NULL),
                     0);
}

static void test_bad_retention_is_refused_clearly(void **state)
{
    struct fx *f = *state;
    char model[160];
    snprintf(model, sizeof model, "%s/models/a.sql", f->dir);
    write_file(model, "SELECT 1 AS x");
    static const struct {
        const char *json, *says;
    } cases[] = {
        {"{\"retention\": {\"keep_run\": 2}}",
         "\"retention\": unknown key \"keep_run\" (known: keep_runs, "
         "keep_days)"},
        {"{\"retention\": {\"keep_runs\": 0}}",
         "\"keep_runs\" must be an integer of 1 or more"},
        {"{\"retention\": {\"keep_days\": 1.5}}",
         "\"keep_days\" must be an integer of 1 or more"},
        {"{\"retention\": 30}", "\"retention\" must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_file(f->config, cases[i].json);
        assert_int_not_equal(rocky(f, "run", f->dir, NULL), 0);
        char *err = slurp(f->errf);
        if (strstr(err, cases[i].says) == NULL)
            fail_msg("%s: stderr lacks\n  %s\nit says\n  %s", cases[i].json,
                     cases[i].says, err);
        free(err);
        assert_int_equal(rocky(f, "-c", f->config, "runs", "--prune", NULL), 1);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_retention_at_run_end_keeps_pending_and_newest),
        T(test_bad_retention_is_refused_clearly),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
