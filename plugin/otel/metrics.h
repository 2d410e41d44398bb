/*
 * metrics.h — the run and model instruments, aggregated in place.
 *
 * Every instrument is a set of cumulative counters kept per recording
 * thread: each thread that records into an object gets its own shard,
 * which only it writes (an atomic load and store: no read-modify-write, no
 * lock-prefixed instruction, no cache line shared with another recorder).
 * A snapshot sums the shards; delta temporality is the difference of two
 * snapshots, so recording never races with a reset. The per-run gauges
 * are totals minus a base taken at the last live RUN_START.
 *
 * Threads: record from any thread; snapshot from any thread (the exporter
 * thread in the plugin). new/free from one thread while no other uses the
 * object.
 *
 * Costs: a thread finds its shard by its thread pointer in a small table
 * in the object (no TLS call), falling back to a per-thread cache of four
 * objects (a pthread key: the plugin has no _Thread_local, see metrics.c). When
 * neither has it (the thread's first event for the object, or both entries
 * taken by other threads or objects) the event takes the object's mutex and,
 * the first time, allocates the thread's shard (under 1 KiB). After that
 * MODEL_START, MODEL_END and STATEMENT_END take no lock and allocate
 * nothing. A live RUN_START and a snapshot take the mutex and
 * read every shard. Shards stay until the object is freed, so a thread that
 * ends loses none of its counts; an object holds one shard per thread that
 * ever recorded into it.
 */
#ifndef ROCKY_OTEL_METRICS_H
#define ROCKY_OTEL_METRICS_H

#include <stdint.h>

#include "rocky/plugin.h"

/* Explicit histogram bounds in milliseconds (the OTel SDK defaults). */
#define ROCKY_OTEL_HIST_BOUNDS  15
#define ROCKY_OTEL_HIST_BUCKETS (ROCKY_OTEL_HIST_BOUNDS + 1)
extern const double rocky_otel_hist_bounds_ms[ROCKY_OTEL_HIST_BOUNDS];

/* Model statuses we count executions for: index = rocky_model_status. */
#define ROCKY_OTEL_MODEL_STATUSES 6

/* Reasons a span is dropped (rocky.otel.spans_dropped{reason}). */
enum rocky_otel_drop_reason {
    /* Refused because the queue was full (on_event returned ROCKY_EAGAIN);
     * a replay offers it again. Never accepted, so never in a delivery
     * report: the host counts it there. */
    ROCKY_OTEL_DROP_QUEUE_FULL = 0,
    ROCKY_OTEL_DROP_EXPORT_FAILED = 1, /* the collector refused or failed */
    ROCKY_OTEL_DROP_REJECTED = 2,      /* partial_success rejected spans  */
    ROCKY_OTEL_DROP_SHUTDOWN = 3,      /* still queued at the deadline    */
    ROCKY_OTEL_DROP_TOO_LARGE = 4,     /* encoding over its size bound: left
                                          out of the request by the encoder */
    ROCKY_OTEL_DROP_REASONS = 5
};
const char *rocky_otel_drop_reason_name(int reason);

struct rocky_otel_hist_snap {
    uint64_t buckets[ROCKY_OTEL_HIST_BUCKETS];
    uint64_t count; /* always the sum of buckets                       */
    double sum_ms;
    double min_ms, max_ms; /* valid when count > 0 and has_min_max      */
    int has_min_max;
};

/* Upstream rocky's per-run figures, exported as gauges (last value wins):
 * what the current (latest live) run did so far. Reset by a live
 * RUN_START. */
struct rocky_otel_run_gauges {
    uint64_t tables_processed;    /* models that succeeded                */
    uint64_t tables_failed;       /* models that failed (not interrupted) */
    uint64_t statements_executed; /* SQL statements run (STATEMENT_END)   */
    uint64_t retries_attempted;   /* retries fired, statements and models */
    uint64_t retries_succeeded;   /* retried ones that then succeeded     */
};

/* Upstream's error rate: failed / (processed + failed) * 100, rounded to
 * a whole percent (half away from zero); 0 when nothing ended. */
double rocky_otel_error_rate_pct(const struct rocky_otel_run_gauges *g);

/* A point-in-time copy of every instrument. */
struct rocky_otel_metrics_snap {
    uint64_t executions[ROCKY_OTEL_MODEL_STATUSES]; /* model.executions */
    uint64_t rows;
    uint64_t bytes;
    uint64_t runs;
    int64_t in_flight;
    struct rocky_otel_run_gauges run; /* gauges: never a delta          */
    struct rocky_otel_hist_snap model_duration;
    struct rocky_otel_hist_snap run_duration;
    struct rocky_otel_hist_snap query_duration; /* statements          */
    /* The exporter's health, filled by the exporter. */
    uint64_t spans_queued;
    uint64_t spans_exported;
    uint64_t spans_dropped[ROCKY_OTEL_DROP_REASONS];
    uint64_t exports_failed;
};

struct rocky_otel_metrics; /* opaque */

/* A new, empty set of instruments in *out: 0, or ROCKY_ENOMEM. Each object
 * gets a process-unique id, so threads' cached shards of a freed object are
 * never used for one allocated later at the same address. */
int rocky_otel_metrics_new(struct rocky_otel_metrics **out);
/* Frees m and every thread's shard of it. No thread may record into or
 * snapshot m meanwhile or afterwards. NULL is a no-op. */
void rocky_otel_metrics_free(struct rocky_otel_metrics *m);

/* Record one event (RUN_START, MODEL_START/END, STATEMENT_END, RUN_END;
 * others ignored). Replayed events are not counted (they were counted when
 * they happened). A MODEL_END of a model that never started (SKIPPED,
 * started_*_ns 0, no MODEL_START before it) counts in executions{skipped}
 * only: no duration sample, no in-flight change. A live RUN_START resets
 * the run gauges: what happened before it (in the happens-before sense:
 * e.g. models of the previous run, on any thread) no longer counts in
 * them, what happens after it does.
 *
 * Any thread, concurrently. MODEL_START/END and STATEMENT_END take no lock
 * once the calling thread has its shard (see Costs above); RUN_START takes
 * the object's mutex. If a thread's shard cannot be allocated (out of
 * memory) its events are still counted, under the mutex. */
void rocky_otel_metrics_record(struct rocky_otel_metrics *m,
                               const struct rocky_event *ev);

/* rocky_otel_metrics_record for an event the caller knows to be a
 * MODEL_START (ev->type must be ROCKY_EVENT_MODEL_START; returns 0) or a
 * MODEL_END (ROCKY_EVENT_MODEL_END): the same counts, without the dispatch
 * on the type. The exporter's hot path. model_end returns whether the
 * model ran: 0 when ev->model is SKIPPED, else 1 (also for a replayed
 * event, which is not counted), so that the exporter, which gives a
 * skipped model no span, need not load the status again. */
int rocky_otel_metrics_model_start(struct rocky_otel_metrics *m,
                                   const struct rocky_event *ev);
int rocky_otel_metrics_model_end(struct rocky_otel_metrics *m,
                                 const struct rocky_event *ev);

/* Copy the cumulative totals (the sum of every thread's shard). Histogram
 * count equals the bucket sum even while other threads record; each
 * counter is never lower than in an earlier snapshot. Each thread's part
 * of in_flight is read at one instant: with every model started and ended
 * on one thread, in_flight is between 0 and the number of threads running
 * a model; a model started on one thread and ended on another can be seen
 * ended but not started (or the reverse) while a snapshot reads. Any
 * thread; takes the object's mutex. */
void rocky_otel_metrics_snapshot(const struct rocky_otel_metrics *m,
                                 struct rocky_otel_metrics_snap *out);

/* out = cur - prev for every counter and bucket (delta temporality);
 * min/max are not known for a delta and are left out. */
void rocky_otel_metrics_delta(const struct rocky_otel_metrics_snap *cur,
                              const struct rocky_otel_metrics_snap *prev,
                              struct rocky_otel_metrics_snap *out);

#endif
