/* test_lanes.c — lane assignment (trace/lanes.c) and the timeline built on
 * it (trace/trace_build.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lanes.h"
#include "rocky/error.h"
#include "trace.h"

/* Peak number of intervals open at one instant, by brute force. */
static size_t peak(const int64_t *s, const int64_t *e, size_t n)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        size_t open = 0;
        for (size_t j = 0; j < n; j++)
            open += s[j] <= s[i] && s[i] < e[j];
        if (open > best)
            best = open;
    }
    return best;
}

static void assert_no_overlap_within_lanes(const int64_t *s, const int64_t *e,
                                           const size_t *lane, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (lane[i] == lane[j])
                assert_true(e[i] <= s[j] || e[j] <= s[i]);
}

static void test_lanes_sequential_get_one_lane(void **state)
{
    int64_t s[] = {0, 100, 250, 900};
    int64_t e[] = {90, 200, 800, 1000};
    size_t lane[4], count = 99;
    assert_int_equal(rocky_lanes_assign(s, e, 4, lane, &count), 0);
    assert_int_equal(count, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(lane[i], 0);
}

static void test_lanes_overlap_get_distinct_lanes(void **state)
{
    int64_t s[] = {0, 500};
    int64_t e[] = {2000, 2500};
    size_t lane[2], count;
    assert_int_equal(rocky_lanes_assign(s, e, 2, lane, &count), 0);
    assert_int_equal(count, 2);
    assert_int_not_equal(lane[0], lane[1]);
}

static void test_lanes_touching_entries_share_a_lane(void **state)
{
    /* b starts exactly when a ends; c exactly when b ends. */
    int64_t s[] = {0, 100, 200};
    int64_t e[] = {100, 200, 300};
    size_t lane[3], count;
    assert_int_equal(rocky_lanes_assign(s, e, 3, lane, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(lane[1], lane[0]);
    assert_int_equal(lane[2], lane[0]);
}

static void test_lanes_first_fit_reuses_lowest_free_lane(void **state)
{
    /* Lanes 0,1,2 busy; lanes 2 then 0 free up; the next entry must take
     * lane 0 (lowest free), not lane 2 (earliest freed). */
    int64_t s[] = {0, 0, 0, 60};
    int64_t e[] = {50, 100, 40, 70};
    size_t lane[4], count;
    assert_int_equal(rocky_lanes_assign(s, e, 4, lane, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(lane[3], 0);
}

static void test_lanes_count_equals_peak_concurrency_random(void **state)
{
    enum { N = 400 };
    int64_t s[N], e[N];
    size_t lane[N];
    srand(12345);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            s[i] = rand() % 10000;
            e[i] = s[i] + rand() % (round % 2 ? 50 : 2000);
        }
        size_t count;
        assert_int_equal(rocky_lanes_assign(s, e, N, lane, &count), 0);
        assert_int_equal(count, peak(s, e, N));
        assert_no_overlap_within_lanes(s, e, lane, N);
        for (int i = 0; i < N; i++)
            assert_true(lane[i] < count);
    }
}

static void test_lanes_empty_input_has_no_lanes(void **state)
{
    size_t count = 7;
    assert_int_equal(rocky_lanes_assign(NULL, NULL, 0, NULL, &count), 0);
    assert_int_equal(count, 0);
}

static void test_trace_offsets_durations_and_lanes_from_record(void **state)
{
    struct rocky_run_record *rec =
        fx_record("r1", 1000, ROCKY_RUN_PARTIAL_FAILURE);
    fx_model(rec, "a", 0, 400, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "b", 100, 600, ROCKY_MODEL_FAILED, NULL);
    fx_model(rec, "c", 400, 900, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "never", -1, -1, ROCKY_MODEL_SKIPPED, NULL);
    struct rocky_trace t;
    char err[256];
    assert_int_equal(rocky_trace_build(rec, NULL, 0, &t, err, sizeof err), 0);
    assert_int_equal(t.count, 4);
    assert_int_equal(t.lane_count, 2);
    assert_int_equal(t.run_duration_ns, 1000 * 1000000LL);
    assert_string_equal(t.entries[1].exec->model_name, "b");
    assert_int_equal(rocky_trace_ms(t.entries[1].start_offset_ns), 100);
    assert_int_equal(rocky_trace_ms(t.entries[1].duration_ns), 500);
    /* c starts when a ends: a's lane is free again. */
    assert_int_equal(t.entries[2].lane, t.entries[0].lane);
    assert_int_not_equal(t.entries[1].lane, t.entries[0].lane);
    /* The model that never ran comes last and takes no time. */
    assert_string_equal(t.entries[3].exec->model_name, "never");
    assert_false(t.entries[3].started);
    assert_int_equal(t.entries[3].duration_ns, 0);
    /* busy 400+500+500 over 2 lanes x 1000 ms */
    assert_true(t.parallelism > 0.699 && t.parallelism < 0.701);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

static void test_trace_offset_never_negative(void **state)
{
    /* A model stamped before the run start (clock step) starts at 0. */
    struct rocky_run_record *rec = fx_record("r1", 100, ROCKY_RUN_SUCCESS);
    fx_model(rec, "early", -1, -1, ROCKY_MODEL_SUCCESS, NULL);
    rec->models[0].started_wall_ns = FX_MS(0) - 5000000;
    rec->models[0].finished_wall_ns = FX_MS(50);
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, NULL, 0, &t, NULL, 0), 0);
    assert_int_equal(t.entries[0].start_offset_ns, 0);
    assert_true(t.entries[0].started);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

static void test_trace_model_filter_unknown_model_is_not_found(void **state)
{
    struct rocky_run_record *rec = fx_record("r9", 100, ROCKY_RUN_SUCCESS);
    fx_model(rec, "orders", 0, 50, ROCKY_MODEL_SUCCESS, NULL);
    struct rocky_trace t;
    char err[256] = "";
    assert_int_equal(rocky_trace_build(rec, "nope", 0, &t, err, sizeof err),
                     ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "nope"));
    assert_non_null(strstr(err, "orders"));
    assert_int_equal(rocky_trace_build(rec, "orders", 0, &t, err, sizeof err),
                     0);
    assert_int_equal(t.count, 1);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

static void test_trace_running_model_extends_to_now(void **state)
{
    struct rocky_run_record *rec = fx_record("live", -1, ROCKY_RUN_RUNNING);
    fx_model(rec, "slow", 100, -1, ROCKY_MODEL_RUNNING, NULL);
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, NULL, FX_MS(700), &t, NULL, 0), 0);
    assert_int_equal(rocky_trace_ms(t.run_duration_ns), 700);
    assert_int_equal(rocky_trace_ms(t.entries[0].duration_ns), 600);
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lanes_sequential_get_one_lane),
        cmocka_unit_test(test_lanes_overlap_get_distinct_lanes),
        cmocka_unit_test(test_lanes_touching_entries_share_a_lane),
        cmocka_unit_test(test_lanes_first_fit_reuses_lowest_free_lane),
        cmocka_unit_test(test_lanes_count_equals_peak_concurrency_random),
        cmocka_unit_test(test_lanes_empty_input_has_no_lanes),
        cmocka_unit_test(test_trace_offsets_durations_and_lanes_from_record),
        cmocka_unit_test(test_trace_offset_never_negative),
        cmocka_unit_test(test_trace_model_filter_unknown_model_is_not_found),
        cmocka_unit_test(test_trace_running_model_extends_to_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
