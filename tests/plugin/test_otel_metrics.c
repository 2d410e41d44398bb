/* Unit tests: metric aggregation in per-thread shards, snapshots and
 * deltas, from one thread and from several. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

/* More live threads than the object's thread-pointer table has slots (64),
 * so some share a slot: each still writes only its own shard (a thread
 * that took another's shard would lose counts to their racing load+store
 * pairs, or see the other's in_flight), and every event is counted. The
 * barrier keeps them all alive at once: no two share a thread pointer.
 * (A stress test: the lost counts of a shared shard show only when its two
 * writers really run at once; without the tp check it failed about one
 * run in three on two cores.) */
#define MANY_THREADS    80
#define MANY_PER_THREAD 2000
static pthread_barrier_t many_barrier;

static void *many_recorder(void *arg)
{
    (void)arg;
    struct test_run t;
    test_run_init(&t);
    pthread_barrier_wait(&many_barrier);
    for (int i = 0; i < MANY_PER_THREAD; i++)
        end_model(shared, &t, ROCKY_MODEL_SUCCESS, 1000);
    pthread_barrier_wait(&many_barrier);
    return NULL;
}

static void test_more_threads_than_table_slots_count_every_event(void **state)
{
    assert_int_equal(rocky_otel_metrics_new(&shared), 0);
    pthread_barrier_init(&many_barrier, NULL, MANY_THREADS);
    pthread_t th[MANY_THREADS];
    for (int i = 0; i < MANY_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, many_recorder, NULL), 0);
    for (int i = 0; i < MANY_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&many_barrier);
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(shared, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS],
                     MANY_THREADS * MANY_PER_THREAD);
    assert_int_equal(s.model_duration.count, MANY_THREADS * MANY_PER_THREAD);
    assert_int_equal(s.in_flight, 0);
    rocky_otel_metrics_free(shared);
}

/* Out of memory for a shard, on demand: this definition takes the place of
 * libc's for the whole test program (metrics.c allocates its objects and
 * shards with aligned_alloc), so the failure path can be tested. */
static atomic_int fail_aligned_alloc;
static atomic_int aligned_allocs_failed; /* how many it refused */

void *aligned_alloc(size_t alignment, size_t size)
{
    void *p = NULL;
    if (atomic_load(&fail_aligned_alloc)) {
        atomic_fetch_add(&aligned_allocs_failed, 1);
        return NULL;
    }
    return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

/* The bucket one duration lands in, in a fresh object. */
static int bucket_of_duration(int64_t ns)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    end_model(m, &t, ROCKY_MODEL_SUCCESS, ns);
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    rocky_otel_metrics_free(m);
    assert_int_equal(s.model_duration.count, 1);
    for (int b = 0; b < ROCKY_OTEL_HIST_BUCKETS; b++)
        if (s.model_duration.buckets[b])
            return b;
    fail_msg("no bucket for %lld ns", (long long)ns);
    return -1;
}

/* Bucket i holds (bound[i-1], bound[i]]: checked on both sides of every
 * bound, and at the far ends. */
static void test_histogram_bucket_on_each_side_of_every_bound(void **state)
{
    for (int i = 0; i < ROCKY_OTEL_HIST_BOUNDS; i++) {
        int64_t ns = (int64_t)(rocky_otel_hist_bounds_ms[i] * 1e6);
        if (ns > 0)
            assert_int_equal(bucket_of_duration(ns - 1), i);
        assert_int_equal(bucket_of_duration(ns), i);
        assert_int_equal(bucket_of_duration(ns + 1), i + 1);
    }
    assert_int_equal(bucket_of_duration(1), 1);
    assert_int_equal(bucket_of_duration(INT64_MAX - 1000),
                     ROCKY_OTEL_HIST_BUCKETS - 1);
}

/* The exporter's entries (rocky_otel_metrics_model_start/_end) count
 * exactly what rocky_otel_metrics_record counts, on the usual way inline
 * and on every other, and model_end says whether the model ran. */
struct model_case {
    uint32_t status, attempt, flags;
    int64_t started_mono, finished_mono, started_wall, finished_wall;
    int64_t rows, bytes;
    int no_model, no_start_event;
};

static void apply_case(struct test_run *t, const struct model_case *c)
{
    test_run_init(t);
    t->model.status = c->status;
    t->model.attempt = c->attempt;
    t->model.started_mono_ns = c->started_mono;
    t->model.finished_mono_ns = c->finished_mono;
    t->model.started_wall_ns = c->started_wall;
    t->model.finished_wall_ns = c->finished_wall;
    t->model.rows_affected = c->rows;
    t->model.bytes_written = c->bytes;
}

static const struct rocky_event *
case_event(struct test_run *t, const struct model_case *c, uint32_t type)
{
    const struct rocky_event *ev = test_event(t, type);
    t->ev.flags = c->flags;
    if (c->no_model)
        t->ev.model = NULL;
    return ev;
}

static void assert_hist_equal(const struct rocky_otel_hist_snap *a,
                              const struct rocky_otel_hist_snap *b)
{
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++)
        assert_int_equal(a->buckets[i], b->buckets[i]);
    assert_int_equal(a->count, b->count);
    assert_true(a->sum_ms == b->sum_ms);
    assert_int_equal(a->has_min_max, b->has_min_max);
    assert_true(a->min_ms == b->min_ms);
    assert_true(a->max_ms == b->max_ms);
}

static void assert_snap_equal(const struct rocky_otel_metrics_snap *a,
                              const struct rocky_otel_metrics_snap *b)
{
    for (int i = 0; i < ROCKY_OTEL_MODEL_STATUSES; i++)
        assert_int_equal(a->executions[i], b->executions[i]);
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->bytes, b->bytes);
    assert_int_equal(a->runs, b->runs);
    assert_int_equal(a->in_flight, b->in_flight);
    assert_int_equal(a->run.tables_processed, b->run.tables_processed);
    assert_int_equal(a->run.tables_failed, b->run.tables_failed);
    assert_int_equal(a->run.statements_executed, b->run.statements_executed);
    assert_int_equal(a->run.retries_attempted, b->run.retries_attempted);
    assert_int_equal(a->run.retries_succeeded, b->run.retries_succeeded);
    assert_hist_equal(&a->model_duration, &b->model_duration);
    assert_hist_equal(&a->run_duration, &b->run_duration);
    assert_hist_equal(&a->query_duration, &b->query_duration);
}

static void test_model_entries_count_as_record_does(void **state)
{
    const int64_t W = 1700000000000000000LL; /* a wall clock start */
    static const struct model_case base = {.status = ROCKY_MODEL_SUCCESS,
                                           .attempt = 1,
                                           .started_mono = 100,
                                           .finished_mono = 100000100,
                                           .started_wall = W,
                                           .finished_wall = W + 100000000,
                                           .rows = 42,
                                           .bytes = 4096};
    struct model_case cases[64];
    int n = 0;
    /* Each status, in range and out of it. */
    for (uint32_t st = 0; st <= ROCKY_OTEL_MODEL_STATUSES + 1; st++) {
        cases[n] = base;
        cases[n++].status = st;
    }
    /* A skipped model that never started, and one that (wrongly) did. */
    cases[n] = base;
    cases[n].status = ROCKY_MODEL_SKIPPED;
    cases[n].started_mono = cases[n].started_wall = 0;
    cases[n++].no_start_event = 1;
    /* Retried, succeeded and failed. */
    cases[n] = base;
    cases[n++].attempt = 3;
    cases[n] = base;
    cases[n].attempt = 2;
    cases[n++].status = ROCKY_MODEL_FAILED;
    /* Durations: zero, negative, each side of every bound, the far end. */
    cases[n] = base;
    cases[n++].finished_mono = base.started_mono;
    cases[n] = base;
    cases[n++].finished_mono = base.started_mono - 1;
    for (int i = 0; i < ROCKY_OTEL_HIST_BOUNDS; i++) {
        int64_t ns = (int64_t)(rocky_otel_hist_bounds_ms[i] * 1e6);
        for (int64_t dd = -1; dd <= 1; dd++) {
            if (ns + dd <= 0)
                continue;
            cases[n] = base;
            cases[n++].finished_mono = base.started_mono + ns + dd;
        }
    }
    cases[n] = base;
    cases[n++].finished_mono = INT64_MAX;
    /* Clocks missing: wall only, no monotonic end (the event's time), a
     * negative monotonic start, none at all. */
    cases[n] = base;
    cases[n].started_mono = cases[n].finished_mono = 0;
    n++;
    cases[n] = base;
    cases[n++].finished_mono = 0;
    cases[n] = base;
    cases[n++].started_mono = -5;
    cases[n] = base;
    cases[n].started_mono = cases[n].finished_mono = 0;
    cases[n].started_wall = cases[n].finished_wall = 0;
    n++;
    /* Unknown rows and bytes; replayed; no model. */
    cases[n] = base;
    cases[n].rows = cases[n].bytes = -1;
    n++;
    cases[n] = base;
    cases[n++].flags = ROCKY_EVENT_FLAG_REPLAY;
    cases[n] = base;
    cases[n++].no_model = 1;
    assert_true(n <= (int)(sizeof cases / sizeof cases[0]));

    for (int i = 0; i < n; i++) {
        const struct model_case *c = &cases[i];
        struct rocky_otel_metrics *by_record, *by_entries;
        assert_int_equal(rocky_otel_metrics_new(&by_record), 0);
        assert_int_equal(rocky_otel_metrics_new(&by_entries), 0);
        struct test_run t;
        /* Twice: the first events find no shard yet (the slow way), the
         * second find it by the thread pointer. */
        for (int round = 0; round < 2; round++) {
            apply_case(&t, c);
            if (!c->no_start_event) {
                rocky_otel_metrics_record(
                    by_record, case_event(&t, c, ROCKY_EVENT_MODEL_START));
                assert_int_equal(
                    rocky_otel_metrics_model_start(
                        by_entries, case_event(&t, c, ROCKY_EVENT_MODEL_START)),
                    0);
            }
            rocky_otel_metrics_record(by_record,
                                      case_event(&t, c, ROCKY_EVENT_MODEL_END));
            int ran = rocky_otel_metrics_model_end(
                by_entries, case_event(&t, c, ROCKY_EVENT_MODEL_END));
            assert_int_equal(ran,
                             c->no_model || c->status != ROCKY_MODEL_SKIPPED);
        }
        struct rocky_otel_metrics_snap a, b;
        rocky_otel_metrics_snapshot(by_record, &a);
        rocky_otel_metrics_snapshot(by_entries, &b);
        print_message("case %d\n", i);
        assert_snap_equal(&a, &b);
        rocky_otel_metrics_free(by_record);
        rocky_otel_metrics_free(by_entries);
    }
}

/* A thread's shard of a freed object must never serve the next object,
 * even at the same address: counts start from zero each time (and ASan
 * would see a write into the freed shard). */
static void test_new_object_never_uses_a_freed_objects_shard(void **state)
{
    struct test_run t;
    test_run_init(&t);
    for (int round = 0; round < 12; round++) {
        struct rocky_otel_metrics *m;
        assert_int_equal(rocky_otel_metrics_new(&m), 0);
        struct rocky_otel_metrics_snap s;
        rocky_otel_metrics_snapshot(m, &s);
        assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 0);
        for (int i = 0; i <= round; i++)
            end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000);
        rocky_otel_metrics_snapshot(m, &s);
        assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], round + 1);
        assert_int_equal(s.model_duration.count, round + 1);
        rocky_otel_metrics_free(m);
    }
}

/* One thread feeding more objects than its cache has slots (several plugin
 * instances): each keeps exactly its own counts, through evictions. */
#define OBJECTS 6
static void test_one_thread_feeds_several_objects(void **state)
{
    struct rocky_otel_metrics *m[OBJECTS];
    for (int i = 0; i < OBJECTS; i++)
        assert_int_equal(rocky_otel_metrics_new(&m[i]), 0);
    struct test_run t;
    test_run_init(&t);
    for (int round = 0; round < 50; round++)
        for (int i = 0; i < OBJECTS; i++)
            for (int k = 0; k <= i; k++) /* object i: i + 1 per round */
                end_model(m[i], &t, ROCKY_MODEL_SUCCESS, 1000);
    /* the last one alone, then the first again: hits and a re-lookup */
    end_model(m[OBJECTS - 1], &t, ROCKY_MODEL_FAILED, 1000);
    end_model(m[0], &t, ROCKY_MODEL_FAILED, 1000);
    for (int i = 0; i < OBJECTS; i++) {
        struct rocky_otel_metrics_snap s;
        rocky_otel_metrics_snapshot(m[i], &s);
        assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 50 * (i + 1));
        assert_int_equal(s.executions[ROCKY_MODEL_FAILED],
                         i == 0 || i == OBJECTS - 1);
        assert_int_equal(s.rows, 42 * s.model_duration.count);
        assert_int_equal(s.in_flight, 0);
        rocky_otel_metrics_free(m[i]);
    }
}

struct starter {
    struct rocky_otel_metrics *m;
    uint32_t type;
    int n;
};

static void *record_n(void *arg)
{
    struct starter *a = arg;
    struct test_run t;
    test_run_init(&t);
    for (int i = 0; i < a->n; i++)
        rocky_otel_metrics_record(a->m, test_event(&t, a->type));
    return NULL;
}

/* Models started on one thread and ended on another (which began after the
 * first ended) leave nothing in flight; a thread that ended keeps its
 * counts. */
static void test_in_flight_across_threads(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct starter a = {m, ROCKY_EVENT_MODEL_START, 7};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, record_n, &a), 0);
    pthread_join(th, NULL);
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.in_flight, 7);
    a.type = ROCKY_EVENT_MODEL_END;
    a.n = 5;
    assert_int_equal(pthread_create(&th, NULL, record_n, &a), 0);
    pthread_join(th, NULL);
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.in_flight, 2);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 5);
    rocky_otel_metrics_free(m);
}

/* A thread whose shard cannot be allocated still has every event counted
 * (under the object's mutex), and gets its shard once memory is back. */
static void test_events_count_when_a_shard_cannot_be_allocated(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    atomic_store(&fail_aligned_alloc, 1);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_START));
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000);
    end_model(m, &t, ROCKY_MODEL_FAILED, 1000);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_STATEMENT_END));
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_START));
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_END));
    atomic_store(&fail_aligned_alloc, 0);
    /* the shard was asked for (and refused), so the counts below came
     * through the spill path */
    assert_true(atomic_load(&aligned_allocs_failed) > 0);
    struct rocky_otel_metrics_snap s;
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 1);
    assert_int_equal(s.executions[ROCKY_MODEL_FAILED], 1);
    assert_int_equal(s.run.tables_processed, 1);
    assert_int_equal(s.run.statements_executed, 1);
    assert_int_equal(s.in_flight, 1);
    assert_int_equal(s.runs, 1);
    assert_int_equal(s.model_duration.count, 2);
    end_model(m, &t, ROCKY_MODEL_SUCCESS, 1000); /* now in its own shard */
    rocky_otel_metrics_snapshot(m, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS], 2);
    assert_int_equal(s.in_flight, 1);
    rocky_otel_metrics_free(m);
}

/* Several threads record a known mix while the main thread snapshots:
 * every snapshot is consistent and no counter ever goes back; the last
 * one (after every thread ended) is exact. */
#define MIX_THREADS 4
#define MIX_MODELS  5000

struct mix_expect {
    uint64_t success, failed, rows, bytes, statements, retries;
    uint64_t retries_succeeded;
    uint64_t model_sum_ns, query_sum_ns;
    int64_t model_max_ns;
};

/* Model i of thread w: what it records. */
static void mix_model(struct test_run *t, int w, int i)
{
    t->model.status = i % 10 == 3 ? ROCKY_MODEL_FAILED : ROCKY_MODEL_SUCCESS;
    t->model.attempt = i % 7 == 0 ? 2 : 1;
    t->model.rows_affected = i % 5;
    t->model.bytes_written = 100 + w;
    t->model.started_mono_ns = 1000;
    t->model.finished_mono_ns = 1000 + (int64_t)(i % 300) * 1000000 + w;
}

static void mix_expected(struct mix_expect *e)
{
    memset(e, 0, sizeof *e);
    struct test_run t;
    test_run_init(&t);
    for (int w = 0; w < MIX_THREADS; w++)
        for (int i = 0; i < MIX_MODELS; i++) {
            mix_model(&t, w, i);
            if (t.model.status == ROCKY_MODEL_SUCCESS)
                e->success++;
            else
                e->failed++;
            e->rows += (uint64_t)t.model.rows_affected;
            e->bytes += (uint64_t)t.model.bytes_written;
            e->retries += t.model.attempt - 1;
            e->retries_succeeded +=
                t.model.attempt > 1 && t.model.status == ROCKY_MODEL_SUCCESS;
            int64_t d = t.model.finished_mono_ns - t.model.started_mono_ns;
            e->model_sum_ns += (uint64_t)d;
            if (d > e->model_max_ns)
                e->model_max_ns = d;
            e->statements++;
            e->query_sum_ns +=
                (uint64_t)(t.stmt.finished_mono_ns - t.stmt.started_mono_ns);
        }
}

static struct rocky_otel_metrics *mix;
static atomic_int mix_done;

static void *mix_recorder(void *arg)
{
    int w = (int)(intptr_t)arg;
    struct test_run t;
    test_run_init(&t);
    for (int i = 0; i < MIX_MODELS; i++) {
        mix_model(&t, w, i);
        rocky_otel_metrics_record(mix, test_event(&t, ROCKY_EVENT_MODEL_START));
        rocky_otel_metrics_record(mix,
                                  test_event(&t, ROCKY_EVENT_STATEMENT_END));
        rocky_otel_metrics_record(mix, test_event(&t, ROCKY_EVENT_MODEL_END));
    }
    atomic_fetch_add(&mix_done, 1);
    return NULL;
}

static void assert_hist_consistent(const struct rocky_otel_hist_snap *h)
{
    uint64_t sum = 0;
    for (int b = 0; b < ROCKY_OTEL_HIST_BUCKETS; b++)
        sum += h->buckets[b];
    assert_int_equal(sum, h->count);
    if (h->has_min_max)
        assert_true(h->min_ms <= h->max_ms);
}

/* b never below a, counter by counter. */
static void assert_not_back(const struct rocky_otel_metrics_snap *a,
                            const struct rocky_otel_metrics_snap *b)
{
    for (int i = 0; i < ROCKY_OTEL_MODEL_STATUSES; i++)
        assert_true(b->executions[i] >= a->executions[i]);
    assert_true(b->rows >= a->rows);
    assert_true(b->bytes >= a->bytes);
    assert_true(b->run.tables_processed >= a->run.tables_processed);
    assert_true(b->run.statements_executed >= a->run.statements_executed);
    assert_true(b->run.retries_attempted >= a->run.retries_attempted);
    assert_true(b->model_duration.sum_ms >= a->model_duration.sum_ms);
    assert_true(b->query_duration.sum_ms >= a->query_duration.sum_ms);
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++) {
        assert_true(b->model_duration.buckets[i] >=
                    a->model_duration.buckets[i]);
        assert_true(b->query_duration.buckets[i] >=
                    a->query_duration.buckets[i]);
    }
}

static void
test_snapshots_while_threads_record_are_monotone_and_exact(void **state)
{
    struct mix_expect e;
    mix_expected(&e);
    assert_int_equal(rocky_otel_metrics_new(&mix), 0);
    atomic_store(&mix_done, 0);
    pthread_t th[MIX_THREADS];
    for (int w = 0; w < MIX_THREADS; w++)
        assert_int_equal(
            pthread_create(&th[w], NULL, mix_recorder, (void *)(intptr_t)w), 0);
    struct rocky_otel_metrics_snap prev, cur;
    rocky_otel_metrics_snapshot(mix, &prev);
    long snapshots = 0;
    int done;
    do { /* until every recorder has finished: no sleeping on a guess */
        done = atomic_load(&mix_done);
        rocky_otel_metrics_snapshot(mix, &cur);
        assert_not_back(&prev, &cur);
        assert_hist_consistent(&cur.model_duration);
        assert_hist_consistent(&cur.query_duration);
        /* each recorder has at most one model between START and END */
        assert_true(cur.in_flight >= 0 && cur.in_flight <= MIX_THREADS);
        prev = cur;
        snapshots++;
    } while (done < MIX_THREADS);
    for (int w = 0; w < MIX_THREADS; w++)
        pthread_join(th[w], NULL);
    rocky_otel_metrics_snapshot(mix, &cur);
    assert_not_back(&prev, &cur);
    assert_int_equal(cur.executions[ROCKY_MODEL_SUCCESS], e.success);
    assert_int_equal(cur.executions[ROCKY_MODEL_FAILED], e.failed);
    assert_int_equal(cur.run.tables_processed, e.success);
    assert_int_equal(cur.run.tables_failed, e.failed);
    assert_int_equal(cur.run.statements_executed, e.statements);
    assert_int_equal(cur.run.retries_attempted, e.retries);
    assert_int_equal(cur.run.retries_succeeded, e.retries_succeeded);
    assert_int_equal(cur.rows, e.rows);
    assert_int_equal(cur.bytes, e.bytes);
    assert_int_equal(cur.in_flight, 0);
    assert_int_equal(cur.model_duration.count, MIX_THREADS * MIX_MODELS);
    assert_true(cur.model_duration.sum_ms == (double)e.model_sum_ns / 1e6);
    assert_true(cur.model_duration.has_min_max);
    assert_true(cur.model_duration.min_ms == 0.0);
    assert_true(cur.model_duration.max_ms == (double)e.model_max_ns / 1e6);
    assert_int_equal(cur.query_duration.count, e.statements);
    assert_true(cur.query_duration.sum_ms == (double)e.query_sum_ns / 1e6);
    assert_true(snapshots >= 1);
    rocky_otel_metrics_free(mix);
}

/* A live RUN_START on one thread resets the run gauges that other threads
 * feed: what they recorded before it (ordered by a barrier) no longer
 * counts, what they record after it does; cumulative counters go on. Then
 * RUN_STARTs racing the recorders: the gauges never exceed the totals. */
#define RUN_THREADS 3
#define RUN_BEFORE  700
#define RUN_AFTER   900

static struct rocky_otel_metrics *runm;
static pthread_barrier_t run_barrier;

static void run_models(struct test_run *t, int n)
{
    for (int i = 0; i < n; i++) {
        t->model.attempt = i % 3 == 0 ? 3 : 1;
        t->stmt.attempt = i % 4 == 0 ? 2 : 1;
        rocky_otel_metrics_record(runm, test_event(t, ROCKY_EVENT_MODEL_START));
        rocky_otel_metrics_record(runm,
                                  test_event(t, ROCKY_EVENT_STATEMENT_END));
        t->model.status = i % 9 == 0 ? ROCKY_MODEL_FAILED : ROCKY_MODEL_SUCCESS;
        rocky_otel_metrics_record(runm, test_event(t, ROCKY_EVENT_MODEL_END));
    }
}

/* What run_models(n) adds to each gauge. */
static struct rocky_otel_run_gauges run_gauges_of(int n)
{
    struct rocky_otel_run_gauges g = {0};
    for (int i = 0; i < n; i++) {
        int failed = i % 9 == 0;
        g.tables_processed += !failed;
        g.tables_failed += failed;
        g.statements_executed++;
        g.retries_attempted += (i % 3 == 0 ? 2 : 0) + (i % 4 == 0 ? 1 : 0);
        /* a retried model or statement that then succeeded */
        g.retries_succeeded += (i % 3 == 0 && !failed) + (i % 4 == 0);
    }
    return g;
}

static void *run_recorder(void *arg)
{
    (void)arg;
    struct test_run t;
    test_run_init(&t);
    run_models(&t, RUN_BEFORE);
    pthread_barrier_wait(&run_barrier); /* main: RUN_START */
    pthread_barrier_wait(&run_barrier);
    run_models(&t, RUN_AFTER);
    pthread_barrier_wait(&run_barrier); /* main: checks */
    pthread_barrier_wait(&run_barrier);
    run_models(&t, RUN_AFTER); /* while main fires RUN_STARTs */
    atomic_fetch_add(&mix_done, 1);
    return NULL;
}

static void assert_gauges(const struct rocky_otel_run_gauges *got,
                          struct rocky_otel_run_gauges want, int times)
{
    assert_int_equal(got->tables_processed, want.tables_processed * times);
    assert_int_equal(got->tables_failed, want.tables_failed * times);
    assert_int_equal(got->statements_executed,
                     want.statements_executed * times);
    assert_int_equal(got->retries_attempted, want.retries_attempted * times);
    assert_int_equal(got->retries_succeeded, want.retries_succeeded * times);
}

static void test_run_start_resets_gauges_fed_by_other_threads(void **state)
{
    assert_int_equal(rocky_otel_metrics_new(&runm), 0);
    assert_int_equal(pthread_barrier_init(&run_barrier, NULL, RUN_THREADS + 1),
                     0);
    atomic_store(&mix_done, 0);
    pthread_t th[RUN_THREADS];
    for (int i = 0; i < RUN_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_recorder, NULL), 0);
    struct test_run t;
    test_run_init(&t);
    struct rocky_otel_metrics_snap s;

    pthread_barrier_wait(&run_barrier); /* the first run is recorded */
    rocky_otel_metrics_snapshot(runm, &s);
    assert_gauges(&s.run, run_gauges_of(RUN_BEFORE), RUN_THREADS);
    /* this thread never recorded a model: the reset is of the others' */
    rocky_otel_metrics_record(runm, test_event(&t, ROCKY_EVENT_RUN_START));
    rocky_otel_metrics_snapshot(runm, &s);
    assert_gauges(&s.run, run_gauges_of(0), RUN_THREADS);
    pthread_barrier_wait(&run_barrier);

    pthread_barrier_wait(&run_barrier); /* the second run is recorded */
    rocky_otel_metrics_snapshot(runm, &s);
    assert_gauges(&s.run, run_gauges_of(RUN_AFTER), RUN_THREADS);
    uint64_t all = (uint64_t)RUN_THREADS * (RUN_BEFORE + RUN_AFTER);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS] +
                         s.executions[ROCKY_MODEL_FAILED],
                     all);
    assert_int_equal(s.query_duration.count, all);
    pthread_barrier_wait(&run_barrier);

    /* RUN_STARTs racing the recorders: each snapshot's gauges are what
     * happened since some RUN_START, never more than everything. */
    uint64_t success_before = s.executions[ROCKY_MODEL_SUCCESS];
    int done;
    do {
        done = atomic_load(&mix_done);
        rocky_otel_metrics_record(runm, test_event(&t, ROCKY_EVENT_RUN_START));
        rocky_otel_metrics_snapshot(runm, &s);
        assert_true(s.run.tables_processed <=
                    s.executions[ROCKY_MODEL_SUCCESS] - success_before);
        assert_true(s.run.statements_executed <= s.query_duration.count);
    } while (done < RUN_THREADS);
    for (int i = 0; i < RUN_THREADS; i++)
        pthread_join(th[i], NULL);
    rocky_otel_metrics_snapshot(runm, &s);
    assert_int_equal(s.executions[ROCKY_MODEL_SUCCESS] +
                         s.executions[ROCKY_MODEL_FAILED],
                     all + (uint64_t)RUN_THREADS * RUN_AFTER);
    assert_int_equal(s.in_flight, 0);
    pthread_barrier_destroy(&run_barrier);
    rocky_otel_metrics_free(runm);
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
        cmocka_unit_test(test_more_threads_than_table_slots_count_every_event),
        cmocka_unit_test(test_histogram_bucket_on_each_side_of_every_bound),
        cmocka_unit_test(test_model_entries_count_as_record_does),
        cmocka_unit_test(test_new_object_never_uses_a_freed_objects_shard),
        cmocka_unit_test(test_one_thread_feeds_several_objects),
        cmocka_unit_test(test_in_flight_across_threads),
        cmocka_unit_test(test_events_count_when_a_shard_cannot_be_allocated),
        cmocka_unit_test(
            test_snapshots_while_threads_record_are_monotone_and_exact),
        cmocka_unit_test(test_run_start_resets_gauges_fed_by_other_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
