/* test_runs.c — `rocky-trace --list` (= `rocky runs`) and run id
 * resolution against stores of many runs (trace_make_store many N): the
 * listing and its filters, prefixes, latest~N, latest-failed, one model's
 * history, and --prune (pending runs kept, --force, --dry-run, the file
 * shrinking, the one-time VACUUM of an old store). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "cli_fixture.h"
#include "fixture.h"

/* trace_make_store's id of run `i` (0 = oldest) of `n` (make_store.c). */
static void many_id(long n, long i, char *buf, size_t size)
{
    int64_t shift_ns = (int64_t)(n - 1 - i) * 3600 * INT64_C(1000000000);
    time_t t = (time_t)((FX_BASE_NS - shift_ns) / INT64_C(1000000000));
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[24];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(buf, size, "%s.000Z-%06lx", stamp,
             (unsigned long)(0xa00000 + i * 7919));
}

static void make_many(struct cli_ctx *c, const char *n)
{
    char *argv[] = {TRACE_MAKE_STORE, c->store, "many", (char *)n, NULL};
    struct proc_result r;
    proc_run(argv, c->dir, &r);
    assert_int_equal(r.exit_code, 0);
    proc_result_free(&r);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static cJSON *json_of(struct proc_result *r)
{
    if (r->exit_code != 0)
        fprintf(stderr, "stderr: %s\n", r->err);
    assert_int_equal(r->exit_code, 0);
    cJSON *doc = cJSON_Parse(r->out);
    assert_non_null(doc);
    return doc;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static long long file_size(const char *path)
{
    struct stat sb;
    long long total = 0;
    char wal[4200];
    if (stat(path, &sb) == 0)
        total += sb.st_size;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &sb) == 0)
        total += sb.st_size;
    return total;
}

static void test_runs_lists_newest_first_with_every_column(void **state)
{
    struct cli_ctx *c = *state;
    make_many(c, "30");
    struct proc_result r;
    cli_trace(c, &r, "--list", "--state", c->store, "--width", "200", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(count_lines(r.out), 21); /* header + the default 20 */
    assert_non_null(strstr(r.out, "RUN "));
    assert_non_null(strstr(r.out, "TELEMETRY"));
    const char *row1 = strchr(r.out, '\n') + 1;
    /* newest (run 29: success, pending since 29 % 4 == 1) first */
    assert_memory_equal(row1, "20251125T06", 11);
    const char *eol = strchr(row1, '\n');
    assert_non_null(strstr(row1, "2025-11-25 06:00:00"));
    assert_true(strstr(row1, "pending") < eol);
    assert_true(strstr(row1, "2/0/0") < eol);
    assert_true(strstr(row1, "0.44s") < eol); /* 50 + 100 + 290 ms */
    /* run 28 failed one model */
    assert_true(strstr(eol + 1, "partial_failure") < strchr(eol + 1, '\n'));
    assert_true(strstr(eol + 1, "1/1/0") < strchr(eol + 1, '\n'));
    assert_non_null(strstr(r.out, "delivered"));
    assert_non_null(strstr(r.out, " none"));
    proc_result_free(&r);

    /* A narrow terminal drops columns rather than wrap. */
    cli_trace(c, &r, "--list", "--state", c->store, "--width", "40", NULL);
    assert_int_equal(r.exit_code, 0);
    for (const char *line = r.out; *line;) {
        const char *nl = strchr(line, '\n');
        assert_true(nl - line <= 40);
        line = nl + 1;
    }
    assert_non_null(strstr(r.out, "partial_failure"));
    proc_result_free(&r);
}

static void test_runs_filters_limit_status_since(void **state)
{
    struct cli_ctx *c = *state;
    make_many(c, "30");
    struct proc_result r;
    cli_trace(c, &r, "--list", "--state", c->store, "--limit", "3", NULL);
    assert_int_equal(count_lines(r.out), 4);
    proc_result_free(&r);

    /* runs 3, 8, ..., 28 failed; TraceOutput's word works too */
    const char *words[] = {"partial_failure", "crashed_failure"};
    for (int k = 0; k < 2; k++) {
        cli_trace(c, &r, "--list", "--state", c->store, "--status", words[k],
                  "--json", NULL);
        cJSON *doc = json_of(&r);
        cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
        assert_int_equal(cJSON_GetArraySize(runs), k == 0 ? 6 : 0);
        const cJSON *run;
        cJSON_ArrayForEach(run, runs)
        {
            assert_string_equal(str(run, "status"), "partial_failure");
        }
        cJSON_Delete(doc);
        proc_result_free(&r);
    }

    cli_trace(c, &r, "--list", "--state", c->store, "--since",
              "2025-11-25T03:00:00Z", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(count_lines(r.out), 5); /* 03, 04, 05, 06 */
    proc_result_free(&r);
    cli_trace(c, &r, "--list", "--state", c->store, "--since", "2025-11-25",
              NULL);
    assert_int_equal(count_lines(r.out), 8); /* 00 to 06 */
    proc_result_free(&r);
    /* relative: the store's runs are from 2025, long before "now" */
    cli_trace(c, &r, "--list", "--state", c->store, "--since", "2h", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "no runs"));
    proc_result_free(&r);

    cli_trace(c, &r, "--list", "--state", c->store, "--status", "great", NULL);
    cli_expect_error(&r, 2, "not a run status", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--list", "--state", c->store, "--since", "yesterday",
              NULL);
    cli_expect_error(&r, 2, "--since 'yesterday'", NULL);
    proc_result_free(&r);
}

/* Every listed short id is a unique prefix of at least 8 characters, and
 * `rocky trace SHORT` shows that run. */
static void test_runs_short_ids_resolve_to_their_run(void **state)
{
    struct cli_ctx *c = *state;
    make_many(c, "30");
    struct proc_result r;
    cli_trace(c, &r, "--list", "--state", c->store, "--json", "--limit", "30",
              NULL);
    cJSON *doc = json_of(&r);
    proc_result_free(&r);
    cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    assert_int_equal(cJSON_GetArraySize(runs), 30);
    const cJSON *run;
    int checked = 0;
    cJSON_ArrayForEach(run, runs)
    {
        const char *id = str(run, "run_id"), *s = str(run, "short_id");
        assert_true(strlen(s) >= 8);
        assert_memory_equal(id, s, strlen(s));
        const cJSON *other;
        cJSON_ArrayForEach(other, runs)
        {
            if (other != run)
                assert_false(strncmp(str(other, "run_id"), s, strlen(s)) == 0);
        }
        if (checked++ % 7 != 0)
            continue; /* a few through the binary */
        cli_trace(c, &r, s, "--state", c->store, "--json", NULL);
        cJSON *one = json_of(&r);
        assert_string_equal(str(one, "run_id"), id);
        cJSON_Delete(one);
        proc_result_free(&r);
    }
    cJSON_Delete(doc);
}

static void expect_run(struct cli_ctx *c, const char *ref, const char *want)
{
    struct proc_result r;
    cli_trace(c, &r, ref, "--state", c->store, "--json", NULL);
    cJSON *doc = json_of(&r);
    assert_string_equal(str(doc, "run_id"), want);
    cJSON_Delete(doc);
    proc_result_free(&r);
}

static void test_run_refs_latest_n_failed_ambiguous_unknown(void **state)
{
    struct cli_ctx *c = *state;
    make_many(c, "30");
    char id[64];
    many_id(30, 27, id, sizeof id);
    expect_run(c, "latest~2", id);
    many_id(30, 29, id, sizeof id);
    expect_run(c, "latest~0", id);
    many_id(30, 28, id, sizeof id); /* the newest with i % 5 == 3 */
    expect_run(c, "latest-failed", id);
    many_id(30, 12, id, sizeof id);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%.15s", id); /* date and hour: unique */
    expect_run(c, prefix, id);

    struct proc_result r;
    cli_trace(c, &r, "20251125T0", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "ambiguous", "give more characters");
    many_id(30, 23, id, sizeof id); /* 20251125T00: the first candidate */
    assert_non_null(strstr(r.err, id));
    proc_result_free(&r);
    /* --export resolves the same way (and refuses the same way) */
    cli_trace(c, &r, "20251125T0", "--export", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "ambiguous", NULL);
    proc_result_free(&r);

    cli_trace(c, &r, "zzz", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "no run 'zzz'", "recent run ids");
    many_id(30, 29, id, sizeof id);
    assert_non_null(strstr(r.err, id));
    proc_result_free(&r);
    cli_trace(c, &r, "latest~30", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "fewer than 31 runs", NULL);
    proc_result_free(&r);

    /* a store with no runs at all */
    snprintf(c->store, sizeof c->store, "%s/empty.db", c->dir);
    cli_make_store(c, "empty");
    cli_trace(c, &r, "latest-failed", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "no runs", NULL);
    proc_result_free(&r);
}

static void test_runs_model_history_with_sparkline(void **state)
{
    struct cli_ctx *c = *state;
    make_many(c, "30");
    struct proc_result r;
    unsetenv("LC_ALL");
    unsetenv("LC_CTYPE");
    setenv("LANG", "C.UTF-8", 1);
    cli_trace(c, &r, "--list", "--model", "orders", "--limit", "8", "--state",
              c->store, "--width", "100", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "model orders: 8 executions"));
    assert_non_null(strstr(r.out, "failed")); /* run 28 */
    /* durations rise run after run: the blocks rise, oldest to newest */
    assert_non_null(strstr(r.out, "trend ▁▂▃▄▅▆▇█  0.32s..0.39s"));
    proc_result_free(&r);
    setenv("LANG", "C", 1);
    cli_trace(c, &r, "--list", "--model", "orders", "--limit", "8", "--state",
              c->store, NULL);
    assert_non_null(strstr(r.out, "trend _.-=+*#@  "));
    assert_null(strstr(r.out, "█"));
    proc_result_free(&r);
    unsetenv("LANG");

    cli_trace(c, &r, "--list", "--model", "orders", "--state", c->store,
              "--status", "failed", "--json", NULL);
    cJSON *doc = json_of(&r);
    proc_result_free(&r);
    assert_string_equal(str(doc, "kind"), "model_history");
    cJSON *ex = cJSON_GetObjectItemCaseSensitive(doc, "executions");
    assert_int_equal(cJSON_GetArraySize(ex), 6);
    cJSON *first = cJSON_GetArrayItem(ex, 0);
    char id[64];
    many_id(30, 28, id, sizeof id);
    assert_string_equal(str(first, "run_id"), id);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(first, "duration_ms")->valueint, 380);
    cJSON_Delete(doc);

    /* every line fits a narrow terminal */
    setenv("LANG", "C.UTF-8", 1);
    cli_trace(c, &r, "--list", "--model", "orders", "--state", c->store,
              "--width", "40", NULL);
    unsetenv("LANG");
    assert_int_equal(r.exit_code, 0);
    for (const char *line = r.out; *line;) {
        const char *nl = strchr(line, '\n');
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)(nl - line), line);
        size_t cols = 0; /* UTF-8: count the non-continuation bytes */
        for (const char *p = one; *p; p++)
            cols += ((unsigned char)*p & 0xc0) != 0x80;
        if (cols > 40)
            fail_msg("wider than 40 columns: '%s'", one);
        line = nl + 1;
    }
    proc_result_free(&r);

    cli_trace(c, &r, "--list", "--model", "nosuch", "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "no executions of model 'nosuch'"));
    proc_result_free(&r);
}

static size_t listed(struct cli_ctx *c)
{
    struct proc_result r;
    cli_trace(c, &r, "--list", "--state", c->store, "--json", "--limit", "1000",
              NULL);
    cJSON *doc = json_of(&r);
    size_t n = (size_t)cJSON_GetArraySize(
        cJSON_GetObjectItemCaseSensitive(doc, "runs"));
    cJSON_Delete(doc);
    proc_result_free(&r);
    return n;
}

static void test_prune_keeps_pending_until_forced(void **state)
{
    struct cli_ctx *c = *state;
    make_many(c, "40");
    struct proc_result r;
    cli_trace(c, &r, "--list", "--prune", "--keep-runs", "5", "--dry-run",
              "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    /* 35 beyond the 5 newest; 9 of them pending (i % 4 == 1, i < 35) */
    assert_non_null(strstr(r.out, "would prune 26 runs of 40"));
    assert_non_null(strstr(r.out, "kept 9 runs awaiting telemetry"));
    proc_result_free(&r);
    assert_int_equal(listed(c), 40);

    cli_trace(c, &r, "--list", "--prune", "--keep-runs", "5", "--state",
              c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "pruned 26 runs (52 model records), 14 "
                                  "left"));
    assert_non_null(strstr(r.out, "kept 9 runs awaiting telemetry delivery"));
    proc_result_free(&r);
    assert_int_equal(listed(c), 14);
    /* model rows went with their runs, and nothing else did */
    assert_int_equal(sql_int(c->store, "SELECT count(*) FROM model_execs"), 28);
    assert_int_equal(sql_int(c->store,
                             "SELECT count(*) FROM model_execs WHERE run_id "
                             "NOT IN (SELECT run_id FROM runs)"),
                     0);
    assert_int_equal(sql_int(c->store, "SELECT count(*) FROM runs WHERE "
                                       "delivery_confirmed = 0"),
                     10);

    /* keep_days keeps everything younger: these runs are from 2025 */
    cli_trace(c, &r, "--list", "--prune", "--keep-days", "100000", "--state",
              c->store, NULL);
    assert_non_null(strstr(r.out, "pruned 0 runs"));
    proc_result_free(&r);

    cli_trace(c, &r, "--list", "--prune", "--keep-runs", "5", "--force",
              "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "pruned 9 runs"));
    assert_null(strstr(r.out, "awaiting"));
    proc_result_free(&r);
    assert_int_equal(listed(c), 5);

    cli_trace(c, &r, "--list", "--prune", "--state", c->store, NULL);
    cli_expect_error(&r, 2, "--prune needs a rule", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--list", "--keep-runs", "3", "--state", c->store, NULL);
    cli_expect_error(&r, 2, "go with --prune", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--list", "--prune", "--keep-runs", "0", "--state",
              c->store, NULL);
    cli_expect_error(&r, 2, "--keep-runs '0'", NULL);
    proc_result_free(&r);
}

/* A store from before schema 4 (auto_vacuum off) is compacted once by a
 * VACUUM, with a message; then prunes shrink the file incrementally. */
static void test_prune_shrinks_the_file(void **state)
{
    struct cli_ctx *c = *state;
    make_many(c, "400");
    assert_int_equal(sql_int(c->store, "PRAGMA auto_vacuum"), 2);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(c->store, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA auto_vacuum=NONE; VACUUM", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sql_int(c->store, "PRAGMA auto_vacuum"), 0);

    long long before = file_size(c->store);
    struct proc_result r;
    cli_trace(c, &r, "--list", "--prune", "--keep-runs", "200", "--force",
              "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "compacted"));
    assert_non_null(strstr(r.out, "pruned 200 runs"));
    proc_result_free(&r);
    long long middle = file_size(c->store);
    assert_true(middle < before * 3 / 4);
    assert_int_equal(sql_int(c->store, "PRAGMA auto_vacuum"), 2);

    cli_trace(c, &r, "--list", "--prune", "--keep-runs", "2", "--force",
              "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_null(strstr(r.out, "compacted"));
    assert_non_null(strstr(r.out, "bytes freed"));
    proc_result_free(&r);
    assert_true(file_size(c->store) < middle / 4);
    assert_int_equal(listed(c), 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, cli_setup, cli_teardown)
    const struct CMUnitTest tests[] = {
        T(test_runs_lists_newest_first_with_every_column),
        T(test_runs_filters_limit_status_since),
        T(test_runs_short_ids_resolve_to_their_run),
        T(test_run_refs_latest_n_failed_ambiguous_unknown),
        T(test_runs_model_history_with_sparkline),
        T(test_prune_keeps_pending_until_forced),
        T(test_prune_shrinks_the_file),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
