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
#include "cli_fixture.h"

static void test_cli_latest_shows_newest_run(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, "--width", "100", NULL);
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
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    struct proc_result r;
    cli_trace(c, &r, OLD_RUN, "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "run:      " OLD_RUN "\n"));
    assert_null(strstr(r.out, "fct_orders"));
    proc_result_free(&r);
    /* No run argument means latest; ROCKY_STATE names the store. */
    setenv("ROCKY_STATE", c->store, 1);
    cli_trace(c, &r, NULL);
    unsetenv("ROCKY_STATE");
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "run:      " NEW_RUN "\n"));
    proc_result_free(&r);
}

static void test_cli_model_filter_keeps_one_model(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, "--model=fct_orders",
              "--json", NULL);
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
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, "--format", "chrome", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    assert_non_null(cJSON_GetObjectItem(doc, "traceEvents"));
    cJSON_Delete(doc);
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--state", c->store, "--format", "html", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "<svg"));
    assert_non_null(strstr(r.out, "&lt;b&gt;&quot;quoted&quot;"));
    proc_result_free(&r);
}

/* A 0-byte store is an empty one: "no runs yet" with a hint that says
 * something (it printed an empty "hint: "). */
static void test_cli_zero_byte_store_gets_a_real_hint(void **state)
{
    struct cli_ctx *c = *state;
    FILE *fp = fopen(c->store, "w");
    assert_non_null(fp);
    fclose(fp);
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "no runs recorded yet",
                     "hint: `rocky run` in the project records a run here");
    proc_result_free(&r);
}

static void test_cli_error_no_store(void **state)
{
    struct cli_ctx *c = *state;
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "no state store at", "hint: run `rocky run`");
    proc_result_free(&r);
}

static void test_cli_error_empty_store(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "empty");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "no runs recorded yet — run `rocky run` first",
                     NULL);
    proc_result_free(&r);
}

static void test_cli_error_unknown_run_lists_recent_ids(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    struct proc_result r;
    cli_trace(c, &r, "20990101T000000.000Z-none", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "20990101T000000.000Z-none", "hint:");
    assert_non_null(strstr(r.err, NEW_RUN));
    assert_non_null(strstr(r.err, OLD_RUN));
    proc_result_free(&r);
}

static void test_cli_error_model_not_in_run(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, "--model", "nope", NULL);
    cli_expect_error(&r, 1, "did not execute model 'nope'", "drop --model");
    assert_non_null(strstr(r.err, "raw_orders"));
    proc_result_free(&r);
}

static void test_cli_error_newer_schema(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "newer");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "999",
                     "hint: this store was written by a newer rocky");
    proc_result_free(&r);
}

static void test_cli_error_corrupt_store(void **state)
{
    struct cli_ctx *c = *state;
    FILE *f = fopen(c->store, "wb");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        fputs("this is not a SQLite database. ", f);
    fclose(f);
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, NULL);
    cli_expect_error(&r, 1, c->store,
                     "hint: the file is not a rocky state store");
    proc_result_free(&r);
}

static void test_cli_error_foreign_sqlite_database(void **state)
{
    struct cli_ctx *c = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(c->store, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t(x); INSERT INTO t "
                                  "VALUES (1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "not a rocky state store", "hint:");
    proc_result_free(&r);
}

static void test_cli_usage_errors_exit_2(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--state", c->store, "--bogus", NULL);
    cli_expect_error(&r, 2, "unknown option '--bogus'", "--help");
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--state", c->store, "--width", "abc", NULL);
    cli_expect_error(&r, 2, "--width 'abc'", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--state", c->store, "--format", "svg", NULL);
    cli_expect_error(&r, 2, "unknown format 'svg'", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--state", c->store, "--follow", "--json", NULL);
    cli_expect_error(&r, 2, "--follow shows the text view only", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "a", "b", "--state", c->store, NULL);
    cli_expect_error(&r, 2, "more than one run", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--state", NULL);
    cli_expect_error(&r, 2, "--state needs a value", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--help", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "usage:"));
    proc_result_free(&r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, cli_setup, cli_teardown)
    const struct CMUnitTest tests[] = {
        T(test_cli_latest_shows_newest_run),
        T(test_cli_run_id_and_default_from_rocky_state),
        T(test_cli_model_filter_keeps_one_model),
        T(test_cli_every_format_renders),
        T(test_cli_error_no_store),
        T(test_cli_zero_byte_store_gets_a_real_hint),
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
