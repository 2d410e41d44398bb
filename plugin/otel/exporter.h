/*
 * exporter.h — the OTLP exporter: bounded span queue, metrics, and the one
 * background thread that batches, encodes and sends them.
 *
 * Lifecycle: new (starts the thread, opens channels lazily through gRPC) ->
 * on_event* -> flush* / drain* -> shutdown (joins the thread) -> free.
 *
 * Threads: on_event from any number of threads (lock-free, no allocation
 * for model spans); flush/drain/shutdown from one thread at a time; the
 * exporter thread owns the transports and the encoders. No lock is ever
 * held across I/O.
 */
#ifndef ROCKY_OTEL_EXPORTER_H
#define ROCKY_OTEL_EXPORTER_H

#include <stdint.h>

#include "metrics.h"
#include "otel_config.h"
#include "rocky/plugin.h"

struct rocky_otel_exporter; /* opaque */

/* Log sink: level is enum rocky_log_level. Thread-safe. */
typedef void (*rocky_otel_log_fn)(void *ctx, int level, const char *message);

/*
 * Create the exporter for `cfg` (copied; the caller may free it) and start
 * its thread. `service_version` is the runner's version (may be NULL). On
 * failure writes one line into `err` and returns a negative code; nothing
 * is left running.
 */
int rocky_otel_exporter_new(const struct rocky_otel_config *cfg,
                            const char *service_version, rocky_otel_log_fn log,
                            void *log_ctx, struct rocky_otel_exporter **out,
                            char *err, size_t err_size);

/* The hot path. Records metrics and queues the span of an end event.
 * Returns 0, or ROCKY_EAGAIN when the queue was full (dropped, counted). */
int rocky_otel_exporter_on_event(struct rocky_otel_exporter *e,
                                 const struct rocky_event *ev);

/*
 * Send everything queued so far and wait for it, until `deadline_mono_ns`.
 * With `with_metrics`, also export the metrics once. Fills `report` (may be
 * NULL). Returns 0 when nothing is pending, ROCKY_ETIMEDOUT otherwise.
 */
int rocky_otel_exporter_flush(struct rocky_otel_exporter *e,
                              int64_t deadline_mono_ns, int with_metrics,
                              struct rocky_delivery_report *report);

/*
 * Final flush (spans, then metrics once more) by the deadline, then stop
 * and join the thread. Spans still queued at the deadline are counted as
 * dropped (reason "shutdown"), and one warning says what was delivered and
 * dropped, by reason. Idempotent: later calls repeat the first report.
 */
int rocky_otel_exporter_shutdown(struct rocky_otel_exporter *e,
                                 int64_t deadline_mono_ns,
                                 struct rocky_delivery_report *report);

/* Free after shutdown. NULL ok. */
void rocky_otel_exporter_free(struct rocky_otel_exporter *e);

/* Exit-path drain for the guard: flush spans and metrics by the deadline.
 * `ctx` is the exporter. */
void rocky_otel_exporter_drain(void *ctx, int64_t deadline_mono_ns);

/* The guard's fork hook: in a fork child, mark the exporter dead (one
 * atomic store): events are ignored and flush/shutdown touch nothing. */
void rocky_otel_exporter_after_fork_child(void *ctx);

/* Counters since creation (any thread). */
struct rocky_otel_exporter_stats {
    uint64_t accepted;
    uint64_t delivered;
    uint64_t dropped[ROCKY_OTEL_DROP_REASONS];
    uint64_t exports_failed;
    uint64_t requests_sent;
    uint64_t metric_exports;
};
void rocky_otel_exporter_stats(struct rocky_otel_exporter *e,
                               struct rocky_otel_exporter_stats *out);

#endif
