/*
 * exporter.h — the OTLP exporter: bounded span queue, metrics, and the one
 * background thread that batches, encodes and sends them.
 *
 * Lifecycle: new (starts the thread, opens channels lazily through gRPC) ->
 * on_event* -> flush* / flush_start+flush_wait* -> shutdown (once; joins
 * the thread) -> free (never blocks).
 *
 * Threads: on_event from any number of threads (lock-free, no allocation
 * for model spans); flush/shutdown from one thread at a time, plus the exit
 * guard's drain (flush_start/flush_wait) from the guard's thread; the
 * exporter thread owns the transports and the encoders. No lock is ever
 * held across I/O.
 *
 * Counting (what flush and shutdown report, rocky/plugin.h section 8):
 * accepted = spans the queue took in; each ends delivered or dropped
 * (export_failed, rejected, shutdown), or is still pending. A span the
 * queue refused (ROCKY_EAGAIN) is in none of these: the host counts it. It
 * is still counted in rocky.otel.spans_dropped{reason="queue_full"}, which
 * therefore means "refused because the queue was full; a replay offers it
 * again".
 *
 * Fork: a fork child's copy of an exporter has no thread. Every exporter
 * notices it was forked (a pthread_atfork child handler, installed once per
 * process, bumps a generation) and then ignores events, and flush,
 * shutdown and free touch nothing of it (it is leaked in the child).
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

/*
 * The hot path. Records the event in the metrics (live events only, even
 * when the span is then refused: a live host never offers an event again,
 * and a replayed one is not counted in metrics) and queues the span of a
 * RUN_END or of a MODEL_END whose model ran; a skipped model (status
 * SKIPPED, it never started) is counted in the metrics but gets no span.
 * Returns 0, or ROCKY_EAGAIN when the queue was full: the span was not
 * taken and is not in any report.
 */
int rocky_otel_exporter_on_event(struct rocky_otel_exporter *e,
                                 const struct rocky_event *ev);

/*
 * Send everything queued so far and wait for it, until `deadline_mono_ns`.
 * With `with_metrics`, also export the metrics once. Fills `report` (may be
 * NULL) through rocky_delivery_report_write. Returns 0 when nothing is
 * pending, ROCKY_ETIMEDOUT otherwise.
 */
int rocky_otel_exporter_flush(struct rocky_otel_exporter *e,
                              int64_t deadline_mono_ns, int with_metrics,
                              struct rocky_delivery_report *report);

/*
 * The two halves of flush, so one caller can flush several exporters in
 * parallel within one deadline (the exit guard's drain): start asks the
 * exporter thread to flush by the deadline and returns a ticket at once;
 * wait waits for that ticket until the deadline. Wait returns 0 when the
 * flush finished, ROCKY_ETIMEDOUT when the deadline came first.
 */
uint64_t rocky_otel_exporter_flush_start(struct rocky_otel_exporter *e,
                                         int64_t deadline_mono_ns,
                                         int with_metrics);
int rocky_otel_exporter_flush_wait(struct rocky_otel_exporter *e,
                                   uint64_t ticket, int64_t deadline_mono_ns);

/*
 * The process is ending by `deadline_mono_ns` (the exit guard's drain): from
 * then on the exporter starts no call, and a call in flight is cancelled
 * within one 20 ms poll slice, so its thread is out of gRPC soon after the
 * deadline however long the call's own OTLP timeout was (the order of
 * deadlines is stated in lib/exit_guard/exit_guard.h). An earlier abort
 * deadline already set is kept. Any thread.
 */
void rocky_otel_exporter_abort_at(struct rocky_otel_exporter *e,
                                  int64_t deadline_mono_ns);

/*
 * Final flush (spans, then metrics once more) by the deadline, then stop
 * and join the thread (an in-flight call is cancelled at the deadline, so
 * the join is bounded). Spans still queued at the deadline are counted as
 * dropped (reason "shutdown"). When any span was dropped, one warning says
 * what was delivered and dropped, by reason; its queue_full is the count of
 * refusals, which are not in its dropped total (the host counts them). Returns
 * 0, ROCKY_ETIMEDOUT when spans were dropped at the deadline, or
 * ROCKY_ESHUTDOWN (nothing written) when called again.
 */
int rocky_otel_exporter_shutdown(struct rocky_otel_exporter *e,
                                 int64_t deadline_mono_ns,
                                 struct rocky_delivery_report *report);

/* Free. Never blocks: after shutdown it frees everything; without a
 * shutdown (a caller error) it tells the thread to stop and leaks the
 * exporter to it, so the thread's log sink must outlive it. In a fork
 * child it leaks (see above). NULL ok. */
void rocky_otel_exporter_free(struct rocky_otel_exporter *e);

/* True in a fork child of the process that created `e`. Any thread. */
int rocky_otel_exporter_forked(const struct rocky_otel_exporter *e);

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
