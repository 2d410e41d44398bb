/*
 * export.h — `rocky trace --export` / `--export-pending`: replay stored runs
 * through plugins, so telemetry that never arrived (collector down, queue
 * overflow, runner killed) reaches the backend after the fact.
 *
 * A replay is the same ABI the runner speaks (rocky/plugin.h): RUN_START,
 * MODEL_START + MODEL_END for every model that started, RUN_END, each with
 * ROCKY_EVENT_FLAG_REPLAY, the stored trace and span ids and the original
 * wall-clock times (monotonic times 0). Skipped and never-started models get
 * a MODEL_END alone (status SKIPPED), as in a live run. A replay emits far
 * faster than any exporter sends; it is paced by the ABI's backpressure: a
 * plugin answering ROCKY_EAGAIN is flushed and offered the event again
 * (rocky_plugin_set_emit_paced). Delivery is at least once: a backend may
 * see a span twice if the first delivery did arrive but was not confirmed.
 *
 * A run is marked delivered in the store only when the plugins confirm that
 * every span accepted for it was delivered (none dropped, none pending) and
 * that they accepted at least one (an inert exporter, e.g. one with no
 * OTEL_EXPORTER_OTLP_ENDPOINT, confirms nothing).
 */
#ifndef ROCKY_TRACE_EXPORT_H
#define ROCKY_TRACE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "plugin_host.h"
#include "run_record.h"

/* How long the plugins get to deliver each step of a replay (the runner
 * gives its plugins the same budget at exit). */
#define ROCKY_EXPORT_DEADLINE_MS 15000

/* Outcome of replaying one run. */
struct rocky_export_result {
    uint64_t accepted;  /* spans the plugins took for this run     */
    uint64_t delivered; /* of which confirmed delivered            */
    uint64_t dropped;   /* given up on                             */
    uint64_t pending;   /* still queued when the deadline passed   */
    int confirmed;      /* 1: every accepted span delivered, >= 1  */
};

/*
 * Replay the finished (or crashed/interrupted) run `rec` through `set`,
 * then flush. A plugin that stays full for `step_timeout_ms` ends the
 * replay early (the run stays unconfirmed); the final flush is bounded by
 * it too. A crashed run's end is its
 * last model's end and its counters are recomputed from its models.
 * Returns 0 and fills *result (the report's deltas since the previous call
 * on the same set), or ROCKY_EREFUSED with a message in `err` when the run
 * is still running. `rec` is only read.
 */
int rocky_export_run(struct rocky_plugin_set *set,
                     const struct rocky_run_record *rec,
                     int64_t step_timeout_ms,
                     struct rocky_export_result *result, char *err,
                     size_t err_size);

#endif
