/* test_export.c — `rocky-trace --export` / `--export-pending` against the
 * real binary: the replay reaches a plugin (events_jsonl.so, built from the
 * public headers alone) with the stored ids, times and the REPLAY flag; the
 * store records delivery only when the plugins confirm it; every misuse is
 * a clear error. */
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

#include "cli_fixture.h"

/* Every event line events_jsonl wrote, as a JSON array (caller frees). */
static cJSON *read_events(const char *path)
{
    cJSON *all = cJSON_CreateArray();
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return all;
    char line[8192];
    while (fgets(line, sizeof line, f) != NULL) {
        cJSON *ev = cJSON_Parse(line);
        assert_non_null(ev);
        cJSON_AddItemToArray(all, ev);
    }
    fclose(f);
    return all;
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* delivery_confirmed of `run_id` straight from the file. */
static int delivery_of(const char *store, const char *run_id)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -99;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(
                         db,
                         "SELECT delivery_confirmed FROM runs WHERE run_id=?1",
                         -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Both sample runs awaiting delivery, as a runner with plugins leaves them. */
static void mark_all_pending(const char *store)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(store, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE runs SET delivery_confirmed=0",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void set_events_file(struct cli_ctx *c, char *path, size_t size)
{
    snprintf(path, size, "%s/events.jsonl", c->dir);
    setenv("ROCKY_EVENTS_JSONL", path, 1);
}

static void test_export_replays_stored_ids_times_and_flag(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    char events[4200];
    set_events_file(c, events, sizeof events);
    struct proc_result r;
    cli_trace(c, &r, NEW_RUN, "--export", "--state", c->store, "--plugin",
              EVENTS_JSONL_PLUGIN, NULL);
    if (r.exit_code != 0)
        fprintf(stderr, "%s\n", r.err);
    assert_int_equal(r.exit_code, 0);
    /* 1 run start + 8 started models x 2 + 1 skipped model's end (the ABI:
     * every planned model ends once) + 1 run end = 19 events. */
    assert_non_null(strstr(r.out, "exported run " NEW_RUN ": 19 spans"));
    proc_result_free(&r);
    assert_int_equal(delivery_of(c->store, NEW_RUN), 1);

    /* What the store says, as the JSON view shows it. */
    cli_trace(c, &r, NEW_RUN, "--json", "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    proc_result_free(&r);

    cJSON *all = read_events(events);
    int starts = 0, ends = 0, run_start = 0, run_end = 0, skipped_ends = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, all)
    {
        assert_string_equal(str(ev, "run_id"), NEW_RUN);
        assert_string_equal(str(ev, "trace_id"), str(doc, "trace_id"));
        assert_int_equal((int)num(ev, "flags"), 1); /* REPLAY */
        assert_int_equal((int)num(ev, "mono_ns"), 0);
        const char *type = str(ev, "type");
        if (strcmp(type, "model_start") == 0)
            starts++;
        if (strcmp(type, "run_start") == 0)
            run_start++;
        if (strcmp(type, "run_end") == 0) {
            run_end++;
            assert_string_equal(str(ev, "status"), "partial_failure");
        }
        if (strcmp(type, "model_end") != 0)
            continue;
        ends++;
        /* The model's stored span id, status and times. */
        const cJSON *m;
        int found = 0;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "models"))
        {
            if (strcmp(str(m, "model_name"), str(ev, "model")) != 0)
                continue;
            found = 1;
            assert_string_equal(str(ev, "span_id"), str(m, "span_id"));
            assert_string_equal(str(ev, "status"), str(m, "status"));
        }
        assert_true(found);
        skipped_ends += strcmp(str(ev, "status"), "skipped") == 0;
    }
    assert_int_equal(run_start, 1);
    assert_int_equal(run_end, 1);
    assert_int_equal(starts, 8);
    assert_int_equal(ends, 9);
    assert_int_equal(skipped_ends, 1); /* rpt_churn, never started */
    /* The run end comes last, the run start first. */
    int n = cJSON_GetArraySize(all);
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "type"), "run_start");
    assert_string_equal(str(cJSON_GetArrayItem(all, n - 1), "type"), "run_end");
    cJSON_Delete(all);
    cJSON_Delete(doc);
    unsetenv("ROCKY_EVENTS_JSONL");
}

static void test_export_pending_sends_unconfirmed_runs_oldest_first(void **s)
{
    struct cli_ctx *c = *s;
    cli_make_store(c, "sample");
    mark_all_pending(c->store);
    char events[4200];
    set_events_file(c, events, sizeof events);
    struct proc_result r;
    setenv("ROCKY_PLUGINS", EVENTS_JSONL_PLUGIN, 1);
    cli_trace(c, &r, "--export-pending", "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "2 of 2 pending runs exported"));
    proc_result_free(&r);
    assert_int_equal(delivery_of(c->store, OLD_RUN), 1);
    assert_int_equal(delivery_of(c->store, NEW_RUN), 1);
    cJSON *all = read_events(events);
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "run_id"), OLD_RUN);
    assert_string_equal(
        str(cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1), "run_id"),
        NEW_RUN);
    cJSON_Delete(all);
    /* Nothing left: a second call sends nothing and says so. */
    cli_trace(c, &r, "--export-pending", "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "no runs awaiting delivery"));
    proc_result_free(&r);
    unsetenv("ROCKY_PLUGINS");
    unsetenv("ROCKY_EVENTS_JSONL");
}

static void test_export_crashed_run_ends_with_its_last_model(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "running"); /* the newest run's owner is gone */
    char events[4200];
    set_events_file(c, events, sizeof events);
    struct proc_result r;
    cli_trace(c, &r, "latest", "--export", "--state", c->store, "--plugin",
              EVENTS_JSONL_PLUGIN, NULL);
    if (r.exit_code != 0)
        fprintf(stderr, "%s\n", r.err);
    assert_int_equal(r.exit_code, 0);
    proc_result_free(&r);
    cJSON *all = read_events(events);
    int n = cJSON_GetArraySize(all);
    assert_true(n >= 2);
    const cJSON *end = cJSON_GetArrayItem(all, n - 1);
    assert_string_equal(str(end, "type"), "run_end");
    assert_string_equal(str(end, "status"), "crashed");
    /* Not 1970 and not before any model's end. */
    double last_model_end = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, all)
    {
        if (strcmp(str(ev, "type"), "model_end") == 0 &&
            num(ev, "wall_ns") > last_model_end)
            last_model_end = num(ev, "wall_ns");
    }
    assert_true(num(end, "wall_ns") > 1e18);
    assert_true(num(end, "wall_ns") >= last_model_end);
    cJSON_Delete(all);
    unsetenv("ROCKY_EVENTS_JSONL");
}

static void test_export_through_an_inert_exporter_confirms_nothing(void **s)
{
    struct cli_ctx *c = *s;
    cli_make_store(c, "sample");
    mark_all_pending(c->store);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    struct proc_result r;
    cli_trace(c, &r, NEW_RUN, "--export", "--state", c->store, "--plugin",
              OTEL_PLUGIN, NULL);
    cli_expect_error(&r, 1, "still marked undelivered",
                     "OTEL_EXPORTER_OTLP_ENDPOINT");
    proc_result_free(&r);
    assert_int_equal(delivery_of(c->store, NEW_RUN), 0);
}

static void test_export_misuse_is_a_clear_error(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    unsetenv("ROCKY_PLUGINS");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--export", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "has no plugins on record", "--plugin");
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--export", "--state", c->store, "--plugin",
              "/nonexistent/x.so", NULL);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.err, "/nonexistent/x.so"));
    assert_non_null(strstr(r.err, "none of the plugins loaded"));
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--export", "--json", "--state", c->store, NULL);
    cli_expect_error(&r, 2, "takes no --follow, --model, --json", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, NEW_RUN, "--export-pending", "--state", c->store, NULL);
    cli_expect_error(&r, 2, "drop the run id", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--export", "--export-pending", NULL);
    cli_expect_error(&r, 2, "exclude each other", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--plugin", EVENTS_JSONL_PLUGIN, NULL);
    cli_expect_error(&r, 2, "only used with --export", NULL);
    proc_result_free(&r);
    /* A missing store is not created by --export. */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/none.db", c->dir);
    cli_trace(c, &r, "latest", "--export", "--state", missing, "--plugin",
              EVENTS_JSONL_PLUGIN, NULL);
    cli_expect_error(&r, 1, "no state store at", NULL);
    proc_result_free(&r);
    FILE *f = fopen(missing, "r");
    assert_null(f);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, cli_setup, cli_teardown)
    const struct CMUnitTest tests[] = {
        T(test_export_replays_stored_ids_times_and_flag),
        T(test_export_pending_sends_unconfirmed_runs_oldest_first),
        T(test_export_crashed_run_ends_with_its_last_model),
        T(test_export_through_an_inert_exporter_confirms_nothing),
        T(test_export_misuse_is_a_clear_error),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
