/* test_cli.c — the real rocky-trace binary against stores written through
 * lib/store.h: run selection, formats, and every error path (message, hint,
 * exit status, never a crash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "proc.h"

#define OLD_RUN "20251125T055000.000Z-0ld0"
#define NEW_RUN "20251125T060000.000Z-5a3f"

struct ctx {
    char *dir;
    char store[4096];
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    c->dir = fx_tempdir();
    snprintf(c->store, sizeof c->store, "%s/state.db", c->dir);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    fx_rmtree(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

static void make_store(struct ctx *c, const char *scenario)
{
    char *argv[] = {TRACE_MAKE_STORE, c->store, (char *)scenario, NULL};
    struct proc_result r;
    proc_run(argv, c->dir, &r);
    if (r.exit_code != 0)
        fprintf(stderr, "make_store: %s\n", r.err);
    assert_int_equal(r.exit_code, 0);
    proc_result_free(&r);
}

/* Run rocky-trace with up to 6 arguments (NULL-terminated). */
static void trace(struct ctx *c, struct proc_result *r, ...)
{
    char *argv[16] = {ROCKY_TRACE_BIN};
    int n = 1;
    va_list ap;
    va_start(ap, r);
    char *arg;
    while ((arg = va_arg(ap, char *)) != NULL && n < 15)
        argv[n++] = arg;
    va_end(ap);
    argv[n] = NULL;
    proc_run(argv, c->dir, r);
}

static void test_cli_latest_shows_newest_run(void **state)
{
    struct ctx *c = *state;
    make_store(c, "sample");
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, "--width", "100", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "run:      " NEW_RUN "\n"));
    assert_non_null(strstr(r.out, "rpt_revenue"));
    assert_non_null(strstr(r.out, "critical path: 2.40s  raw_customers → "
                                  "stg_customers → fct_orders → rpt_revenue"));
    proc_result_free(&r);
}

static void test_cli_run_id_and_default_from_rocky_state(void **state)
{
    struct ctx *c = *state;
    make_store(c, "sample");
    struct proc_result r;
    trace(c, &r, OLD_RUN, "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "run:      " OLD_RUN "\n"));
    assert_null(strstr(r.out, "fct_orders"));
    proc_result_free(&r);
    /* No run argument means latest; ROCKY_STATE names the store. */
    setenv("ROCKY_STATE", c->store, 1);
    trace(c, &r, NULL);
    unsetenv("ROCKY_STATE");
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "run:      " NEW_RUN "\n"));
    proc_result_free(&r);
}

static void test_cli_model_filter_keeps_one_model(void **state)
{
    struct ctx *c = *state;
    make_store(c, "sample");
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, "--model=fct_orders", "--json",
          NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    cJSON *models = cJSON_GetObjectItem(doc, "models");
    assert_int_equal(cJSON_GetArraySize(models), 1);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(models, 0), "model_name")
            ->valuestring,
        "fct_orders");
    cJSON_Delete(doc);
    proc_result_free(&r);
}

static void test_cli_every_format_renders(void **state)
{
    struct ctx *c = *state;
    make_store(c, "sample");
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, "--format", "chrome", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    assert_non_null(cJSON_GetObjectItem(doc, "traceEvents"));
    cJSON_Delete(doc);
    proc_result_free(&r);
    trace(c, &r, "latest", "--state", c->store, "--format", "html", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "<svg"));
    assert_non_null(strstr(r.out, "&lt;b&gt;&quot;quoted&quot;"));
    proc_result_free(&r);
}

static void expect_error(struct proc_result *r, int code, const char *what,
                         const char *hint)
{
    if (r->exit_code != code || strstr(r->err, what) == NULL ||
        (hint && strstr(r->err, hint) == NULL))
        fprintf(stderr, "exit %d, stderr:\n%s\n", r->exit_code, r->err);
    assert_int_equal(r->exit_code, code);
    assert_non_null(strstr(r->err, what));
    if (hint != NULL)
        assert_non_null(strstr(r->err, hint));
    assert_string_equal(r->out, "");
}

static void test_cli_error_no_store(void **state)
{
    struct ctx *c = *state;
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, NULL);
    expect_error(&r, 1, "no state store at", "hint: run `rocky run`");
    proc_result_free(&r);
}

static void test_cli_error_empty_store(void **state)
{
    struct ctx *c = *state;
    make_store(c, "empty");
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, NULL);
    expect_error(&r, 1, "no runs recorded yet — run `rocky run` first", NULL);
    proc_result_free(&r);
}

static void test_cli_error_unknown_run_lists_recent_ids(void **state)
{
    struct ctx *c = *state;
    make_store(c, "sample");
    struct proc_result r;
    trace(c, &r, "20990101T000000.000Z-none", "--state", c->store, NULL);
    expect_error(&r, 1, "20990101T000000.000Z-none", "hint:");
    assert_non_null(strstr(r.err, NEW_RUN));
    assert_non_null(strstr(r.err, OLD_RUN));
    proc_result_free(&r);
}

static void test_cli_error_model_not_in_run(void **state)
{
    struct ctx *c = *state;
    make_store(c, "sample");
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, "--model", "nope", NULL);
    expect_error(&r, 1, "did not execute model 'nope'", "drop --model");
    assert_non_null(strstr(r.err, "raw_orders"));
    proc_result_free(&r);
}

static void test_cli_error_newer_schema(void **state)
{
    struct ctx *c = *state;
    make_store(c, "newer");
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, NULL);
    expect_error(&r, 1, "999", "hint: this store was written by a newer rocky");
    proc_result_free(&r);
}

static void test_cli_error_corrupt_store(void **state)
{
    struct ctx *c = *state;
    FILE *f = fopen(c->store, "wb");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        fputs("this is not a SQLite database. ", f);
    fclose(f);
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, NULL);
    expect_error(&r, 1, c->store, "hint: the file is not a rocky state store");
    proc_result_free(&r);
}

static void test_cli_error_foreign_sqlite_database(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(c->store, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t(x); INSERT INTO t "
                                  "VALUES (1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, NULL);
    expect_error(&r, 1, "not a rocky state store", "hint:");
    proc_result_free(&r);
}

static void test_cli_usage_errors_exit_2(void **state)
{
    struct ctx *c = *state;
    make_store(c, "sample");
    struct proc_result r;
    trace(c, &r, "latest", "--state", c->store, "--bogus", NULL);
    expect_error(&r, 2, "unknown option '--bogus'", "--help");
    proc_result_free(&r);
    trace(c, &r, "latest", "--state", c->store, "--width", "abc", NULL);
    expect_error(&r, 2, "--width 'abc'", NULL);
    proc_result_free(&r);
    trace(c, &r, "latest", "--state", c->store, "--format", "svg", NULL);
    expect_error(&r, 2, "unknown format 'svg'", NULL);
    proc_result_free(&r);
    trace(c, &r, "latest", "--state", c->store, "--follow", "--json", NULL);
    expect_error(&r, 2, "--follow shows the text view only", NULL);
    proc_result_free(&r);
    trace(c, &r, "a", "b", "--state", c->store, NULL);
    expect_error(&r, 2, "more than one run", NULL);
    proc_result_free(&r);
    trace(c, &r, "latest", "--state", NULL);
    expect_error(&r, 2, "--state needs a value", NULL);
    proc_result_free(&r);
    trace(c, &r, "--help", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "usage:"));
    proc_result_free(&r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_cli_latest_shows_newest_run),
        T(test_cli_run_id_and_default_from_rocky_state),
        T(test_cli_model_filter_keeps_one_model),
        T(test_cli_every_format_renders),
        T(test_cli_error_no_store),
        T(test_cli_error_empty_store),
        T(test_cli_error_unknown_run_lists_recent_ids),
        T(test_cli_error_model_not_in_run),
        T(test_cli_error_newer_schema),
        T(test_cli_error_corrupt_store),
        T(test_cli_error_foreign_sqlite_database),
        T(test_cli_usage_errors_exit_2),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
