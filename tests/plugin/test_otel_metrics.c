/* Unit tests: lock-free metric aggregation, snapshots and deltas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "metrics.h"
#include "otel_test_events.h"

static void end_model(struct rocky_otel_metrics *m, struct test_run *t,
                      uint32_t status, int64_t duration_ns)
{
    t->model.status = status;
    t->model.started_mono_ns = 1000;
    t->model.finished_mono_ns = 1000 + duration_ns;
    rocky_otel_metrics_record(m, test_event(t, ROCKY_EVENT_MODEL_START));
    rocky_otel_metrics_record(m, test_event(t, ROCKY_EVENT_MODEL_END));
}

static void test_histogram_buckets_follow_upper_inclusive_bounds(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 0);           /* (-inf, 0]   */
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 5000000);     /* (0, 5]      */
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 5000001);     /* (5, 10]     */
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 20000000000); /* > 10000 ms */
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.model_duration.buckets[0], 1);
    assert_int_equal(s.model_duration.buckets[1], 1);
    assert_int_equal(s.model_duration.buckets[2], 1);
    assert_int_equal(s.model_duration.buckets[ROCKY_OTEL_HIST_BUCKETS - 1], 1);
    assert_int_equal(s.model_duration.count, 4);
    assert_true(s.model_duration.has_min_max);
    assert_true(s.model_duration.min_ms == 0.0);
    assert_true(s.model_duration.max_ms == 20000.0);
    rocky_otel_metrics_free(m);
}

static void test_counters_by_status_rows_bytes_in_flight(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000);
    end_model(m, &t, ROCKY_MODEL_FAILED, 1000);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_START));
    /* A skipped model never started: no START event, no in-flight change. */
    t.model.status = ROCKY_MODEL_SKIPPED;
    t.model.started_wall_ns = t.model.started_mono_ns = 0;
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_END));
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_END));
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 1);
    assert_int_equal(s.executions[ROCKY_MODEL_FAILED], 1);
    assert_int_equal(s.executions[ROCKY_MODEL_SKIPPED], 1);
    assert_int_equal(s.run.tables_failed, 1);
    assert_int_equal(s.run.tables_processed, 1);
    assert_int_equal(s.rows, 84);
    assert_int_equal(s.bytes, 8192);
    assert_int_equal(s.in_flight, 1); /* one START without END */
    assert_int_equal(s.runs, 1);
    assert_int_equal(s.run_duration.count, 1);
    assert_int_equal(s.run_duration.buckets[11], 1); /* 2000 ms: (1000, 2500] */
    rocky_otel_metrics_free(m);
}

static void test_skipped_model_end_counts_the_execution_only(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    /* ABI 2.0: a model that never started arrives as MODEL_END only, with
     * status SKIPPED and started_*_ns 0 (finished times may be set). */
    t.model.status = ROCKY_MODEL_SKIPPED;
    t.model.started_wall_ns = t.model.started_mono_ns = 0;
    t.model.rows_affected = 5; /* ignored for a model that did not run */
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_END));
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SKIPPED], 1);
    assert_int_equal(s.run.statements_executed, 0);
    assert_int_equal(s.rows, 0);
    assert_int_equal(s.model_duration.count, 0);
    assert_int_equal(s.in_flight, 0);
    assert_int_equal(s.run.tables_failed, 0);
    assert_int_equal(s.run.tables_processed, 0);
    rocky_otel_metrics_free(m);
}

static void test_replayed_events_are_not_counted(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    t.ev.flags = ROCKY_EVENT_FLAG_REPLAY;
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000);
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 0);
    assert_int_equal(s.model_duration.count, 0);
    rocky_otel_metrics_free(m);
}

static void test_delta_is_the_difference_and_counts_match_buckets(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000);
    struct rocky_otel_metrics_snap a, b, d;
    rocky_otel_metrics_snapshot(m, &a);
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000);
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 60000000);
    rocky_otel_metrics_snapshot(m, &b);
    rocky_otel_metrics_delta(&b, &a, &d);
    assert_int_equal(d.executions[ROCKY_MODEL_SUCCESS], 2);
    assert_int_equal(d.model_duration.count, 2);
    uint64_t sum = 0;
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++)
        sum += d.model_duration.buckets[i];
    assert_int_equal(sum, d.model_duration.count);
    assert_false(d.model_duration.has_min_max);
    rocky_otel_metrics_free(m);
}

/* Upstream's gauges: successes only in tables_processed (no attribute),
 * failures (not interrupted, not skipped) in tables_failed, its error rate
 * formula, and a new live run starting them again. */
static void test_run_gauges_are_upstreams_and_reset_per_run(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_START));
    for (int i = 0; i < 18; i++)
        end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000);
    end_model(m, &t, ROCKY_MODEL_FAILED, 1000);
    end_model(m, &t, ROCKY_MODEL_INTERRUPTED, 1000);
    t.model.status = ROCKY_MODEL_SKIPPED;
    t.model.started_wall_ns = t.model.started_mono_ns = 0;
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_END));
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.run.tables_processed, 18);
    assert_int_equal(s.run.tables_failed, 1);
    /* 1 / 19 * 100 = 5.26 -> 5, as upstream rounds */
    assert_true(rocky_otel_error_rate_pct(&s.run) == 5.0);
    /* ours still has every status */
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 18);
    assert_int_equal(s.executions[ROCKY_MODEL_INTERRUPTED], 1);
    assert_int_equal(s.executions[ROCKY_MODEL_SKIPPED], 1);

    struct rocky_otel_run_gauges g = {.tables_processed = 1,
                                      .tables_failed = 1};
    assert_true(rocky_otel_error_rate_pct(&g) == 50.0);
    g.tables_processed = 0;
    assert_true(rocky_otel_error_rate_pct(&g) == 100.0);
    g.tables_failed = 0;
    assert_true(rocky_otel_error_rate_pct(&g) == 0.0);
    g.tables_processed = 7;
    g.tables_failed = 1; /* 12.5 -> 13: half away from zero */
    assert_true(rocky_otel_error_rate_pct(&g) == 13.0);

    /* A delta snapshot carries the gauges' current values. */
    struct rocky_otel_metrics_snap d;
    rocky_otel_metrics_delta(&s, &s, &d);
    assert_int_equal(d.run.tables_processed, 18);

    /* The next live run starts from zero; a replayed one changes nothing. */
    t.ev.flags = ROCKY_EVENT_FLAG_REPLAY;
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_START));
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.run.tables_processed, 18);
    t.ev.flags = 0;
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_START));
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.run.tables_processed, 0);
    assert_int_equal(s.run.tables_failed, 0);
    rocky_otel_metrics_free(m);
}

/* STATEMENT_END (ABI 2.1): statements_executed, query_duration_ms from the
 * statement's own times, and retries from its attempt count. */
static void test_statements_feed_query_duration_and_retries(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_START));
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_STATEMENT_END));
    t.stmt.attempt = 4; /* three retries, then it went through */
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_STATEMENT_END));
    t.stmt.attempt = 2; /* one retry, then it failed */
    t.stmt.status = ROCKY_MODEL_FAILED;
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_STATEMENT_END));
    /* an event of a 2.0 host: no statement field, not counted */
    t.ev.struct_size = (uint32_t)offsetof(struct rocky_event, statement);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_STATEMENT_END));
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.run.statements_executed, 3);
    assert_int_equal(s.run.retries_attempted, 4);
    assert_int_equal(s.run.retries_succeeded, 1);
    assert_int_equal(s.query_duration.count, 3);
    assert_int_equal(s.query_duration.buckets[3], 3); /* 20 ms: (10, 25] */
    assert_int_equal(s.model_duration.count, 0);
    rocky_otel_metrics_free(m);
}

#define THREADS    4
#define PER_THREAD 20000

static struct rocky_otel_metrics *shared;

static void *recorder(void *arg)
{
    (void)arg;
    struct test_run t;
    test_run_init(&t);
    for (int i = 0; i < PER_THREAD; i++)
        end_model(shared, &t, ROCKY_MODEL_SUCCESS,
                  (int64_t)(i % 100) * 1000000);
    return NULL;
}

static void test_concurrent_recording_counts_every_event(void **state)
{
    assert_int_equal(rocky_otel_metrics_new(&shared), 0);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, recorder, NULL);
    struct rocky_otel_metrics_snap s;
    for (int i = 0; i < 50; i++) { /* snapshots while recording stay valid */
        rocky_otel_metrics_snapshot(shared, &s);
        uint64_t sum = 0;
        for (int b = 0; b < ROCKY_OTEL_HIST_BUCKETS; b++)
            sum += s.model_duration.buckets[b];
        assert_int_equal(sum, s.model_duration.count);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    rocky_otel_metrics_snapshot(shared, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], THREADS * PER_THREAD);
    assert_int_equal(s.model_duration.count, THREADS * PER_THREAD);
    assert_int_equal(s.in_flight, 0);
    assert_true(s.model_duration.max_ms == 99.0);
    rocky_otel_metrics_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_buckets_follow_upper_inclusive_bounds),
        cmocka_unit_test(test_counters_by_status_rows_bytes_in_flight),
        cmocka_unit_test(test_skipped_model_end_counts_the_execution_only),
        cmocka_unit_test(test_replayed_events_are_not_counted),
        cmocka_unit_test(test_run_gauges_are_upstreams_and_reset_per_run),
        cmocka_unit_test(test_statements_feed_query_duration_and_retries),
        cmocka_unit_test(test_delta_is_the_difference_and_counts_match_buckets),
        cmocka_unit_test(test_concurrent_recording_counts_every_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
