/* test_critical_path.c — the dependency chain that bounded a run
 * (trace/critical_path.c), on hand-built DAGs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "critical_path.h"
#include "fixture.h"
#include "trace.h"

static void assert_path(const struct rocky_trace *t,
                        const char *const *expected)
{
    size_t n = 0;
    while (expected[n] != NULL)
        n++;
    assert_int_equal(t->critical_count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(t->critical_path[i]->model_name, expected[i]);
}

/*
 *  src_a [0,100)  -> stg_a [100,200) ----\
 *                 -> side  [100,950)      > join [500,900) -> report [900,1000)
 *  src_b [0,300)  -> stg_b [300,500) ----/
 *
 * report finished last; join waited on stg_b (finished last before join
 * started), which waited on src_b. `side` is long but bounded nothing.
 */
static struct rocky_run_record *dag(void)
{
    static const char *const on_src_a[] = {"src_a", NULL};
    static const char *const on_src_b[] = {"src_b", NULL};
    static const char *const on_stg[] = {"stg_a", "stg_b", NULL};
    static const char *const on_join[] = {"join", NULL};
    struct rocky_run_record *rec = fx_record("dag", 1000, ROCKY_RUN_SUCCESS);
    fx_model(rec, "src_a", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "src_b", 0, 300, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "stg_a", 100, 200, ROCKY_MODEL_SUCCESS, on_src_a);
    fx_model(rec, "side", 100, 950, ROCKY_MODEL_SUCCESS, on_src_a);
    fx_model(rec, "stg_b", 300, 500, ROCKY_MODEL_SUCCESS, on_src_b);
    fx_model(rec, "join", 500, 900, ROCKY_MODEL_SUCCESS, on_stg);
    fx_model(rec, "report", 900, 1000, ROCKY_MODEL_SUCCESS, on_join);
    return rec;
}

static void test_critical_path_follows_last_finishing_dependency(void **state)
{
    struct rocky_run_record *rec = dag();
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, NULL, 0, &t, NULL, 0), 0);
    static const char *const want[] = {"src_b", "stg_b", "join", "report",
                                       NULL};
    assert_path(&t, want);
    assert_int_equal(rocky_trace_ms(t.critical_ns), 1000);
    for (size_t i = 0; i < t.count; i++) {
        const char *n = t.entries[i].exec->model_name;
        int expected = strcmp(n, "src_b") == 0 || strcmp(n, "stg_b") == 0 ||
                       strcmp(n, "join") == 0 || strcmp(n, "report") == 0;
        assert_int_equal(t.entries[i].on_critical_path, expected);
    }
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

static void test_critical_path_survives_model_filter(void **state)
{
    struct rocky_run_record *rec = dag();
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, "join", 0, &t, NULL, 0), 0);
    assert_int_equal(t.count, 1);
    assert_true(t.entries[0].on_critical_path);
    assert_int_equal(t.critical_count, 4);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

static void test_critical_path_ignores_missing_and_unfinished(void **state)
{
    static const char *const deps[] = {"not_in_run", "skipped", NULL};
    struct rocky_run_record *rec = fx_record("x", 500, ROCKY_RUN_SUCCESS);
    fx_model(rec, "skipped", -1, -1, ROCKY_MODEL_SKIPPED, NULL);
    fx_model(rec, "last", 100, 500, ROCKY_MODEL_SUCCESS, deps);
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, NULL, 0, &t, NULL, 0), 0);
    static const char *const want[] = {"last", NULL};
    assert_path(&t, want);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

static void test_critical_path_stops_on_dependency_cycle(void **state)
{
    /* Corrupt input: zero-length models depending on each other. */
    static const char *const on_b[] = {"b", NULL};
    static const char *const on_a[] = {"a", NULL};
    struct rocky_run_record *rec = fx_record("cyc", 10, ROCKY_RUN_SUCCESS);
    fx_model(rec, "a", 10, 10, ROCKY_MODEL_SUCCESS, on_b);
    fx_model(rec, "b", 10, 10, ROCKY_MODEL_SUCCESS, on_a);
    const struct rocky_model_exec **path;
    size_t len;
    assert_int_equal(
        rocky_critical_path(rec->models, rec->model_count, &path, &len), 0);
    assert_int_equal(len, 2);
    free((void *)path);
    rocky_run_record_free(rec);
}

static void test_critical_path_uses_latest_attempt_of_retried_model(void **st)
{
    static const char *const on_a[] = {"a", NULL};
    struct rocky_run_record *rec = fx_record("retry", 900, ROCKY_RUN_SUCCESS);
    fx_model(rec, "a", 0, 100, ROCKY_MODEL_FAILED, NULL);
    fx_model(rec, "a", 100, 400, ROCKY_MODEL_SUCCESS, NULL);
    rec->models[1].attempt = 2;
    fx_model(rec, "b", 400, 900, ROCKY_MODEL_SUCCESS, on_a);
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, NULL, 0, &t, NULL, 0), 0);
    assert_int_equal(t.critical_count, 2);
    assert_int_equal(t.critical_path[0]->attempt, 2);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

static void test_critical_path_empty_run_has_none(void **state)
{
    struct rocky_run_record *rec = fx_record("e", 5, ROCKY_RUN_SUCCESS);
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, NULL, 0, &t, NULL, 0), 0);
    assert_int_equal(t.critical_count, 0);
    assert_int_equal(t.lane_count, 0);
    assert_true(t.parallelism == 0.0);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_critical_path_follows_last_finishing_dependency),
        cmocka_unit_test(test_critical_path_survives_model_filter),
        cmocka_unit_test(test_critical_path_ignores_missing_and_unfinished),
        cmocka_unit_test(test_critical_path_stops_on_dependency_cycle),
        cmocka_unit_test(
            test_critical_path_uses_latest_attempt_of_retried_model),
        cmocka_unit_test(test_critical_path_empty_run_has_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
