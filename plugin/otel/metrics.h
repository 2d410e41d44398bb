/*
 * metrics.h — the run and model instruments, aggregated in place.
 *
 * Every instrument is a set of cumulative atomic counters that the hot
 * path only ever adds to (relaxed atomics, no lock, no allocation). The
 * exporter thread takes snapshots; delta temporality is the difference of
 * two snapshots, so recording never races with a reset.
 *
 * Threads: record_* from any thread; snapshot from the exporter thread.
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

int rocky_otel_metrics_new(struct rocky_otel_metrics **out);
void rocky_otel_metrics_free(struct rocky_otel_metrics *m);

/* Record one event (RUN_START, MODEL_START/END, STATEMENT_END, RUN_END;
 * others ignored). Replayed events are not counted (they were counted when
 * they happened). A MODEL_END of a model that never started (SKIPPED,
 * started_*_ns 0, no MODEL_START before it) counts in executions{skipped}
 * only: no duration sample, no in-flight change. A live RUN_START resets
 * the run gauges. Lock-free, thread-safe. */
void rocky_otel_metrics_record(struct rocky_otel_metrics *m,
                               const struct rocky_event *ev);

/* Copy the cumulative totals. Histogram count equals the bucket sum even
 * while other threads record. Any thread. */
void rocky_otel_metrics_snapshot(const struct rocky_otel_metrics *m,
                                 struct rocky_otel_metrics_snap *out);

/* out = cur - prev for every counter and bucket (delta temporality);
 * min/max are not known for a delta and are left out. */
void rocky_otel_metrics_delta(const struct rocky_otel_metrics_snap *cur,
                              const struct rocky_otel_metrics_snap *prev,
                              struct rocky_otel_metrics_snap *out);

#endif
