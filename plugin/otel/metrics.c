/*
 * metrics.c — lock-free aggregation of the run/model instruments.
 */
#include "metrics.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rocky/error.h"

const double rocky_otel_hist_bounds_ms[ROCKY_OTEL_HIST_BOUNDS] = {
    0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000};

/* Durations are kept in integer nanoseconds: atomics on doubles would need
 * CAS loops on the hot path. */
struct hist {
    _Atomic uint64_t buckets[ROCKY_OTEL_HIST_BUCKETS];
    _Atomic uint64_t sum_ns;
    _Atomic int64_t min_ns; /* INT64_MAX until the first value */
    _Atomic int64_t max_ns; /* -1 until the first value */
};

struct rocky_otel_metrics {
    _Atomic uint64_t executions[ROCKY_OTEL_MODEL_STATUSES];
    _Atomic uint64_t rows;
    _Atomic uint64_t bytes;
    _Atomic uint64_t runs;
    _Atomic int64_t in_flight;
    /* The current run's gauges (struct rocky_otel_run_gauges). */
    _Atomic uint64_t tables_processed, tables_failed, statements_executed;
    _Atomic uint64_t retries_attempted, retries_succeeded;
    struct hist model_duration;
    struct hist run_duration;
    struct hist query_duration;
};

double rocky_otel_error_rate_pct(const struct rocky_otel_run_gauges *g)
{
    uint64_t ended = g->tables_processed + g->tables_failed;
    if (ended == 0)
        return 0;
    /* round(100 * failed / ended), half away from zero, in integers */
    return (double)((g->tables_failed * 200 + ended) / (2 * ended));
}

const char *rocky_otel_drop_reason_name(int reason)
{
    switch (reason) {
    case ROCKY_OTEL_DROP_QUEUE_FULL: return "queue_full";
    case ROCKY_OTEL_DROP_EXPORT_FAILED: return "export_failed";
    case ROCKY_OTEL_DROP_REJECTED: return "rejected";
    case ROCKY_OTEL_DROP_SHUTDOWN: return "shutdown";
    case ROCKY_OTEL_DROP_TOO_LARGE: return "too_large";
    default: return "unknown";
    }
}

static void hist_init(struct hist *h)
{
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++)
        atomic_init(&h->buckets[i], 0);
    atomic_init(&h->sum_ns, 0);
    atomic_init(&h->min_ns, INT64_MAX);
    atomic_init(&h->max_ns, -1);
}

int rocky_otel_metrics_new(struct rocky_otel_metrics **out)
{
    struct rocky_otel_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return ROCKY_ENOMEM;
    hist_init(&m->model_duration);
    hist_init(&m->run_duration);
    hist_init(&m->query_duration);
    *out = m;
    return 0;
}

void rocky_otel_metrics_free(struct rocky_otel_metrics *m)
{
    free(m);
}

static void hist_record(struct hist *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    /* Bucket i holds (bound[i-1], bound[i]]: the OTLP convention. */
    int b = 0;
    while (b < ROCKY_OTEL_HIST_BOUNDS &&
           (double)ns > rocky_otel_hist_bounds_ms[b] * 1e6)
        b++;
    atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)ns, memory_order_relaxed);
    int64_t cur = atomic_load_explicit(&h->min_ns, memory_order_relaxed);
    while (ns < cur && !atomic_compare_exchange_weak_explicit(
                           &h->min_ns, &cur, ns, memory_order_relaxed,
                           memory_order_relaxed)) {
    }
    cur = atomic_load_explicit(&h->max_ns, memory_order_relaxed);
    while (ns > cur && !atomic_compare_exchange_weak_explicit(
                           &h->max_ns, &cur, ns, memory_order_relaxed,
                           memory_order_relaxed)) {
    }
}

/* Duration from the monotonic clock when both ends have it (live runs),
 * else from the wall clock. */
static int64_t duration_ns(int64_t s_mono, int64_t e_mono, int64_t s_wall,
                           int64_t e_wall)
{
    if (s_mono && e_mono)
        return e_mono - s_mono;
    if (s_wall && e_wall)
        return e_wall - s_wall;
    return -1;
}

#define ADD(field, n)                                                          \
    atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)

void rocky_otel_metrics_record(struct rocky_otel_metrics *m,
                               const struct rocky_event *ev)
{
    if (ev->flags & ROCKY_EVENT_FLAG_REPLAY)
        return;
    const struct rocky_model_exec *x = ev->model;
    switch (ev->type) {
    case ROCKY_EVENT_RUN_START:
        /* A new run: the gauges say what this one does. (Models of a run
         * only come after its RUN_START.) */
        atomic_store_explicit(&m->tables_processed, 0, memory_order_relaxed);
        atomic_store_explicit(&m->tables_failed, 0, memory_order_relaxed);
        atomic_store_explicit(&m->statements_executed, 0, memory_order_relaxed);
        atomic_store_explicit(&m->retries_attempted, 0, memory_order_relaxed);
        atomic_store_explicit(&m->retries_succeeded, 0, memory_order_relaxed);
        break;
    case ROCKY_EVENT_MODEL_START: ADD(m->in_flight, 1); break;
    case ROCKY_EVENT_STATEMENT_END: {
        const struct rocky_statement *st =
            ROCKY_STRUCT_HAS(ev, struct rocky_event, statement) ? ev->statement
                                                                : NULL;
        if (!st)
            return;
        ADD(m->statements_executed, 1);
        if (st->attempt > 1) {
            ADD(m->retries_attempted, st->attempt - 1);
            if (st->status == ROCKY_MODEL_SUCCESS)
                ADD(m->retries_succeeded, 1);
        }
        int64_t d = duration_ns(st->started_mono_ns, st->finished_mono_ns,
                                st->started_wall_ns, st->finished_wall_ns);
        if (d >= 0)
            hist_record(&m->query_duration, d);
        break;
    }
    case ROCKY_EVENT_MODEL_END: {
        if (!x)
            return;
        /* A skipped model never started, so it was never in flight. */
        if (x->started_wall_ns || x->started_mono_ns)
            ADD(m->in_flight, -1);
        if (x->status < ROCKY_OTEL_MODEL_STATUSES)
            ADD(m->executions[x->status], 1);
        if (x->status == ROCKY_MODEL_SUCCESS)
            ADD(m->tables_processed, 1);
        if (x->status == ROCKY_MODEL_FAILED)
            ADD(m->tables_failed, 1);
        if (x->attempt > 1) { /* the model itself was run again */
            ADD(m->retries_attempted, x->attempt - 1);
            if (x->status == ROCKY_MODEL_SUCCESS)
                ADD(m->retries_succeeded, 1);
        }
        if (x->status == ROCKY_MODEL_SKIPPED)
            break;
        if (x->rows_affected > 0)
            ADD(m->rows, (uint64_t)x->rows_affected);
        if (x->bytes_written > 0)
            ADD(m->bytes, (uint64_t)x->bytes_written);
        int64_t end_mono =
            x->finished_mono_ns ? x->finished_mono_ns : ev->mono_ns;
        int64_t end_wall =
            x->finished_wall_ns ? x->finished_wall_ns : ev->wall_ns;
        int64_t d = duration_ns(x->started_mono_ns, end_mono,
                                x->started_wall_ns, end_wall);
        if (d >= 0)
            hist_record(&m->model_duration, d);
        break;
    }
    case ROCKY_EVENT_RUN_END: {
        const struct rocky_run *r = ev->run;
        ADD(m->runs, 1);
        int64_t end_mono =
            r->finished_mono_ns ? r->finished_mono_ns : ev->mono_ns;
        int64_t end_wall =
            r->finished_wall_ns ? r->finished_wall_ns : ev->wall_ns;
        int64_t d = duration_ns(r->started_mono_ns, end_mono,
                                r->started_wall_ns, end_wall);
        if (d >= 0)
            hist_record(&m->run_duration, d);
        break;
    }
    default: break;
    }
}

#define LOAD(field) atomic_load_explicit(&(field), memory_order_relaxed)

static void hist_snap(const struct hist *h, struct rocky_otel_hist_snap *o)
{
    o->count = 0;
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++) {
        o->buckets[i] = LOAD(h->buckets[i]);
        o->count += o->buckets[i];
    }
    o->sum_ms = (double)LOAD(h->sum_ns) / 1e6;
    int64_t mn = LOAD(h->min_ns), mx = LOAD(h->max_ns);
    o->has_min_max = o->count > 0 && mn != INT64_MAX && mx >= 0;
    o->min_ms = o->has_min_max ? (double)mn / 1e6 : 0;
    o->max_ms = o->has_min_max ? (double)mx / 1e6 : 0;
    /* A recorder may have bumped a bucket but not yet the sum/min/max:
     * keep the point self-consistent (min <= max, sum >= 0). */
    if (o->has_min_max && o->min_ms > o->max_ms)
        o->has_min_max = 0;
}

void rocky_otel_metrics_snapshot(const struct rocky_otel_metrics *m,
                                 struct rocky_otel_metrics_snap *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < ROCKY_OTEL_MODEL_STATUSES; i++)
        o->executions[i] = LOAD(m->executions[i]);
    o->run.tables_processed = LOAD(m->tables_processed);
    o->run.tables_failed = LOAD(m->tables_failed);
    o->run.statements_executed = LOAD(m->statements_executed);
    o->run.retries_attempted = LOAD(m->retries_attempted);
    o->run.retries_succeeded = LOAD(m->retries_succeeded);
    o->rows = LOAD(m->rows);
    o->bytes = LOAD(m->bytes);
    o->runs = LOAD(m->runs);
    o->in_flight = LOAD(m->in_flight);
    hist_snap(&m->model_duration, &o->model_duration);
    hist_snap(&m->run_duration, &o->run_duration);
    hist_snap(&m->query_duration, &o->query_duration);
}

static uint64_t sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static void hist_delta(const struct rocky_otel_hist_snap *c,
                       const struct rocky_otel_hist_snap *p,
                       struct rocky_otel_hist_snap *o)
{
    o->count = 0;
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++) {
        o->buckets[i] = sub(c->buckets[i], p->buckets[i]);
        o->count += o->buckets[i];
    }
    o->sum_ms = c->sum_ms > p->sum_ms ? c->sum_ms - p->sum_ms : 0;
    o->has_min_max = 0;
    o->min_ms = o->max_ms = 0;
}

void rocky_otel_metrics_delta(const struct rocky_otel_metrics_snap *c,
                              const struct rocky_otel_metrics_snap *p,
                              struct rocky_otel_metrics_snap *o)
{
    for (int i = 0; i < ROCKY_OTEL_MODEL_STATUSES; i++)
        o->executions[i] = sub(c->executions[i], p->executions[i]);
    o->run = c->run; /* gauges: the current value, never a difference */
    o->rows = sub(c->rows, p->rows);
    o->bytes = sub(c->bytes, p->bytes);
    o->runs = sub(c->runs, p->runs);
    o->in_flight = c->in_flight - p->in_flight;
    hist_delta(&c->model_duration, &p->model_duration, &o->model_duration);
    hist_delta(&c->run_duration, &p->run_duration, &o->run_duration);
    hist_delta(&c->query_duration, &p->query_duration, &o->query_duration);
    o->spans_queued = sub(c->spans_queued, p->spans_queued);
    o->spans_exported = sub(c->spans_exported, p->spans_exported);
    for (int i = 0; i < ROCKY_OTEL_DROP_REASONS; i++)
        o->spans_dropped[i] = sub(c->spans_dropped[i], p->spans_dropped[i]);
    o->exports_failed = sub(c->exports_failed, p->exports_failed);
}
