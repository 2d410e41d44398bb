/* test_store_history.c — run history and retention in lib/store.h:
 * rocky_store_prune never takes a running run, the run it is told to spare,
 * or (without force) one awaiting delivery, and takes plugin rows with
 * their run; keep_days counts from `now`; listing and id resolution work on
 * a schema-3 store opened read-only (no runs_by_start index). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rocky/error.h"
#include "store.h"

#define DAY_NS (INT64_C(86400) * INT64_C(1000000000))

struct fx {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rocky-store-history-XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/state.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd) == 0 ? 0 : -1;
    free(f);
    return rc;
}

static struct rocky_store *open_store(const char *path, int flags)
{
    struct rocky_store *s = NULL;
    char err[512] = "";
    if (rocky_store_open(path, flags, &s, err, sizeof err) != 0)
        fail_msg("open %s: %s", path, err);
    return s;
}

/* A run of one model started at `start`; finished unless `running`. */
static void add_run(struct rocky_store *s, const char *id, int64_t start,
                    int running)
{
    struct rocky_run run;
    memset(&run, 0, sizeof run);
    run.struct_size = sizeof run;
    run.run_id = id;
    run.project = "p";
    run.trigger = "ci";
    run.started_wall_ns = start;
    run.models_total = 1;
    char err[512] = "";
    assert_int_equal(rocky_store_run_begin(s, &run, err, sizeof err), 0);
    struct rocky_model_exec m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    m.model_name = "a";
    m.status = ROCKY_MODEL_SUCCESS;
    m.started_wall_ns = start;
    m.finished_wall_ns = start + 1000;
    m.attempt = 1;
    assert_int_equal(rocky_store_model_record(s, id, &m, err, sizeof err), 0);
    if (running)
        return;
    run.status = ROCKY_RUN_SUCCESS;
    run.finished_wall_ns = start + 2000;
    run.models_succeeded = 1;
    assert_int_equal(rocky_store_run_finish(s, &run, err, sizeof err), 0);
}

static long long count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_prune_spares_running_current_and_pending(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_store(f->path, ROCKY_STORE_READWRITE);
    add_run(s, "r0-running", 1000, 1); /* owned by this live process */
    add_run(s, "r1-pending", 2000, 0);
    struct rocky_store_plugin p = {.instance = "otel", .path = "/x.so"};
    char err[512] = "";
    assert_int_equal(
        rocky_store_plugins_record(s, "r1-pending", &p, 1, err, sizeof err), 0);
    add_run(s, "r2", 3000, 0);
    add_run(s, "r3", 4000, 0);
    add_run(s, "r4-current", 5000, 0);
    add_run(s, "r5", 6000, 0);

    struct rocky_store_prune_opts o = {
        .keep_runs = 1, .now_wall_ns = 7000, .except_run_id = "r4-current"};
    struct rocky_store_prune_report r;
    assert_int_equal(rocky_store_prune(s, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.runs_pruned, 2); /* r2, r3 */
    assert_int_equal(r.models_pruned, 2);
    assert_int_equal(r.kept_running, 1);
    assert_int_equal(r.kept_pending, 1);
    assert_int_equal(r.runs_left, 4);

    o.force = 1; /* the pending run goes, with its plugin row */
    assert_int_equal(rocky_store_prune(s, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.runs_pruned, 1);
    assert_int_equal(r.kept_running, 1);
    rocky_store_close(s);
    assert_int_equal(count(f->path, "SELECT count(*) FROM run_plugins"), 0);
    assert_int_equal(count(f->path, "SELECT count(*) FROM runs"), 3);
    assert_int_equal(count(f->path, "SELECT count(*) FROM runs WHERE run_id IN "
                                    "('r0-running', 'r4-current', 'r5')"),
                     3);
}

static void test_keep_days_counts_from_now_and_rules_combine(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_store(f->path, ROCKY_STORE_READWRITE);
    int64_t now = 100 * DAY_NS;
    add_run(s, "old-30d", now - 30 * DAY_NS, 0);
    add_run(s, "old-10d", now - 10 * DAY_NS, 0);
    add_run(s, "new-1d", now - 1 * DAY_NS, 0);
    struct rocky_store_prune_opts o = {
        .keep_days = 5, .now_wall_ns = now, .dry_run = 1};
    struct rocky_store_prune_report r;
    char err[512] = "";
    assert_int_equal(rocky_store_prune(s, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.runs_pruned, 2);
    /* either rule keeps a run: 2 newest or younger than 5 days */
    o.keep_runs = 2;
    assert_int_equal(rocky_store_prune(s, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.runs_pruned, 1);
    /* a dry run changed nothing; no rule at all is refused */
    assert_int_equal(count(f->path, "SELECT count(*) FROM runs"), 3);
    o.keep_runs = o.keep_days = 0;
    assert_int_equal(rocky_store_prune(s, &o, &r, err, sizeof err),
                     ROCKY_EINVAL);
    assert_non_null(strstr(err, "no retention rule"));
    rocky_store_close(s);
}

/* A store written by the previous schema, read by this rocky without
 * migrating it: no runs_by_start index, same answers. */
static void test_history_reads_a_schema_3_store(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_store(f->path, ROCKY_STORE_READWRITE);
    add_run(s, "20261125T060000.000Z-aaa111", 1000, 0);
    add_run(s, "20261125T060000.000Z-aab222", 2000, 0);
    add_run(s, "20261125T070000.000Z-ccc333", 3000, 0);
    rocky_store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX runs_by_start; "
                                  "PRAGMA user_version = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    s = open_store(f->path, ROCKY_STORE_READONLY);
    struct rocky_store_run_summary *runs = NULL;
    size_t n = 0;
    char err[512] = "";
    assert_int_equal(rocky_store_runs_list(s, NULL, &runs, &n, err, sizeof err),
                     0);
    assert_int_equal(n, 3);
    assert_string_equal(runs[0].run_id, "20261125T070000.000Z-ccc333");
    /* one past the longest prefix shared with any other id */
    assert_int_equal(runs[0].short_len, 11); /* "20261125T0" shared */
    assert_int_equal(runs[1].short_len, 24); /* "...000Z-aa" shared */
    rocky_store_runs_free(runs, n);

    char *id = NULL;
    assert_int_equal(rocky_store_resolve_run_id(s, "20261125T060000.000Z-aab",
                                                &id, err, sizeof err),
                     0);
    assert_string_equal(id, "20261125T060000.000Z-aab222");
    free(id);
    assert_int_equal(
        rocky_store_resolve_run_id(s, "20261125T06", &id, err, sizeof err),
        ROCKY_EEXIST);
    assert_null(id);
    assert_non_null(strstr(err, "20261125T060000.000Z-aaa111, "
                                "20261125T060000.000Z-aab222"));
    assert_int_equal(rocky_store_resolve_run_id(s, "", &id, err, sizeof err),
                     ROCKY_EINVAL);
    assert_int_equal(
        rocky_store_resolve_run_id(s, "latest~x", &id, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_int_equal(
        rocky_store_resolve_run_id(s, "latest~2", &id, err, sizeof err), 0);
    assert_string_equal(id, "20261125T060000.000Z-aaa111");
    free(id);

    /* read-only: a dry run may look, a prune may not write */
    struct rocky_store_prune_opts o = {.keep_runs = 1, .dry_run = 1};
    struct rocky_store_prune_report r;
    assert_int_equal(rocky_store_prune(s, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.runs_pruned, 2);
    o.dry_run = 0;
    assert_int_equal(rocky_store_prune(s, &o, &r, err, sizeof err),
                     ROCKY_EINVAL);
    rocky_store_close(s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_prune_spares_running_current_and_pending),
        T(test_keep_days_counts_from_now_and_rules_combine),
        T(test_history_reads_a_schema_3_store),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
