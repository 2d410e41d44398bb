/*
 * exporter.c — the background thread: batching, size splitting, retries,
 * metric intervals, flush and shutdown handshakes.
 *
 * State ownership: everything under `mu` is the handshake between the
 * host's thread (flush/shutdown) and the exporter thread; the counters are
 * atomics any thread may read; transports, encoders and the metric
 * "previous snapshot" belong to the exporter thread alone.
 */
#include "exporter.h"

#include "cacheline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "encode_metrics.h"
#include "encode_trace.h"
#include "grpc_transport.h"
#include "queue.h"
#include "resource.h"
#include "span_view.h"

#define RUN_BATCH 64
/* Room left under the 4 MiB cap for the resource, scope and framing. */
#define REQUEST_BUDGET (ROCKY_OTEL_MAX_REQUEST_BYTES - 64 * 1024)

struct rocky_otel_exporter {
    struct rocky_otel_config cfg;
    rocky_otel_log_fn log;
    void *log_ctx;
    struct rocky_otel_queue *queue;
    struct rocky_otel_metrics *metrics;
    struct rocky_otel_resource resource;
    struct rocky_otel_transport *traces, *metrics_tx;
    int64_t start_wall_ns;

    /* Counters (any thread; written by the exporter thread, with release
     * so that a report reading them before the queue's `pushed` never sees
     * more outcomes than spans: see fill_report). Accepted spans are the
     * queue's `pushed`, counted on the producers' cache line. */
    ROCKY_OTEL_OWN_LINE _Atomic uint64_t delivered, exports_failed,
        requests_sent;
    _Atomic uint64_t metric_exports;
    /* queue_full is the queue's `refused`: never a report's dropped. */
    _Atomic uint64_t dropped[ROCKY_OTEL_DROP_REASONS];
    _Atomic int wake_pending; /* a batch-full wakeup already signalled */
    unsigned fork_generation; /* the process generation we were made in */
    /* A shutdown deadline an in-flight call must not outlive; 0 = none. */
    _Atomic int64_t abort_at;

    /* Handshake, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t wake; /* to the exporter thread */
    pthread_cond_t done; /* to flush/shutdown waiters */
    uint64_t flush_req, flush_done;
    int64_t flush_deadline;
    int flush_metrics;
    int stop;
    int64_t stop_deadline;
    int stopped; /* thread finished its final drain */

    pthread_t thread;
    int thread_started;
    int shut; /* shutdown was called (host's thread only) */

    /* Exporter thread only. */
    struct rocky_otel_metrics_snap prev; /* last exported (delta base) */
    int64_t prev_wall_ns;
    int warned_export_failure, warned_partial, warned_metrics_failure;
    int warned_too_large;
    /* The failure last warned about ("target: STATUS: details"): when
     * metrics fail exactly as spans did (one collector, one cause), one
     * line says it for both. */
    char last_failure[800];
    unsigned rng;
    struct rocky_otel_encode_scratch scratch;
    /* The batch being sent: views of the run spans below and of model
     * spans where they lie in the queue (valid until the release that
     * follows the send). */
    const struct rocky_otel_span_view **batch;
    struct rocky_otel_span runs[RUN_BATCH];
    struct rocky_otel_span_view run_views[RUN_BATCH];
};

static void logf_(struct rocky_otel_exporter *e, int level, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));
#include <stdarg.h>
static void logf_(struct rocky_otel_exporter *e, int level, const char *fmt,
                  ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (e->log)
        e->log(e->log_ctx, level, line);
}

#define LOAD(x)   atomic_load_explicit(&(x), memory_order_relaxed)
#define ADD(x, n) atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)
/* An outcome of accepted spans (delivered, dropped): see fill_report. */
#define ADD_OUTCOME(x, n)                                                      \
    atomic_fetch_add_explicit(&(x), (n), memory_order_release)

/* ---- fork ------------------------------------------------------------
 * Process-wide, because fork is: a child handler registered once per
 * process (pthread_atfork cannot be undone; -z nodelete keeps it mapped)
 * bumps the generation, and an exporter made in an older generation is a
 * fork child's copy. One relaxed load on the hot path. */
static _Atomic unsigned fork_generation;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static void register_fork_handler(void)
{
    /* Without it a fork child could hang joining a thread it does not
     * have; nothing better to do than go on if it cannot be registered. */
    (void)pthread_atfork(NULL, NULL, on_fork_child);
}

int rocky_otel_exporter_forked(const struct rocky_otel_exporter *e)
{
    return atomic_load_explicit(&fork_generation, memory_order_relaxed) !=
           e->fork_generation;
}

/* Spans dropped for good, by reason; queue_full (refusals) is filled in
 * `by` for the self-metrics but is not part of the total. */
static uint64_t dropped_total(struct rocky_otel_exporter *e, uint64_t *by)
{
    uint64_t total = 0;
    for (int i = 0; i < ROCKY_OTEL_DROP_REASONS; i++) {
        if (i == ROCKY_OTEL_DROP_QUEUE_FULL) {
            if (by)
                by[i] = rocky_otel_queue_refused(e->queue);
            continue;
        }
        uint64_t v = atomic_load_explicit(&e->dropped[i], memory_order_acquire);
        if (by)
            by[i] = v;
        total += v;
    }
    return total;
}

void rocky_otel_exporter_stats(struct rocky_otel_exporter *e,
                               struct rocky_otel_exporter_stats *o)
{
    memset(o, 0, sizeof *o);
    o->accepted = rocky_otel_queue_pushed(e->queue);
    o->delivered = LOAD(e->delivered);
    dropped_total(e, o->dropped);
    o->exports_failed = LOAD(e->exports_failed);
    o->requests_sent = LOAD(e->requests_sent);
    o->metric_exports = LOAD(e->metric_exports);
}

/*
 * The counts as of now, in our own full-size report (the caller writes it
 * into the host's with rocky_delivery_report_write). The outcomes are read
 * first and `accepted` last, each outcome added with release after the
 * span was pushed: so delivered + dropped <= accepted even while the
 * exporter thread works, and pending is never negative. Once the producers
 * are quiet (the ABI never runs flush or stop during on_event) the counts
 * are exact: pending = accepted - delivered - dropped.
 */
static void fill_report(struct rocky_otel_exporter *e,
                        struct rocky_delivery_report *r)
{
    memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
    r->delivered = atomic_load_explicit(&e->delivered, memory_order_acquire);
    r->dropped = dropped_total(e, NULL);
    r->accepted = rocky_otel_queue_pushed(e->queue);
    uint64_t done = r->delivered + r->dropped;
    r->pending = r->accepted > done ? r->accepted - done : 0;
}

/* ---- the exporter thread ------------------------------------------- */

static int64_t backoff_ms(struct rocky_otel_exporter *e, int attempt)
{
    int64_t base = 100LL << (attempt < 6 ? attempt : 6); /* cap 6.4 s */
    if (base > 5000)
        base = 5000;
    /* Full jitter in [base/2, base]. */
    return base / 2 + (int64_t)(rand_r(&e->rng) % (unsigned)(base / 2 + 1));
}

/* True when a stop arrived whose deadline comes no later than `until`: a
 * pause that long must not outlast it. Exporter thread, e->mu held. */
static int stop_before(const struct rocky_otel_exporter *e, int64_t until)
{
    return e->stop && e->stop_deadline <= until;
}

/* Wait until `until` (mono ns) unless such a stop arrives. Exporter
 * thread. */
static void nap_until(struct rocky_otel_exporter *e, int64_t until)
{
    pthread_mutex_lock(&e->mu);
    while (rocky_clock_mono_ns() < until && !stop_before(e, until)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t left = until - rocky_clock_mono_ns();
        if (left <= 0)
            break;
        if (left > 50000000)
            left = 50000000;
        ts.tv_sec += left / 1000000000;
        ts.tv_nsec += left % 1000000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&e->wake, &e->mu, &ts);
    }
    pthread_mutex_unlock(&e->mu);
}

/* The pause between retries. A channel that is connected (the server itself
 * refused, perhaps with RetryInfo) waits the full pause. One that is not
 * keeps its reconnect going meanwhile (see rocky_otel_transport_wait_ready)
 * and the pause ends as soon as it connects. Exporter thread. */
static void nap_reconnecting(struct rocky_otel_exporter *e,
                             struct rocky_otel_transport *t, int64_t until)
{
    if (rocky_otel_transport_wait_ready(t, 0)) {
        nap_until(e, until);
        return;
    }
    for (;;) {
        int64_t now = rocky_clock_mono_ns();
        pthread_mutex_lock(&e->mu);
        int stop = stop_before(e, until);
        pthread_mutex_unlock(&e->mu);
        if (stop || now >= until)
            return;
        /* Slices of 50 ms: a stop is seen that soon. */
        int64_t slice = now + 50000000 < until ? now + 50000000 : until;
        if (rocky_otel_transport_wait_ready(t, slice))
            return;
    }
}

/* The deadline the current work must respect. */
static int64_t work_deadline(struct rocky_otel_exporter *e, int64_t dflt)
{
    int64_t d = dflt;
    pthread_mutex_lock(&e->mu);
    if (e->stop && e->stop_deadline < d)
        d = e->stop_deadline;
    pthread_mutex_unlock(&e->mu);
    int64_t ab = atomic_load(&e->abort_at);
    if (ab && ab < d)
        d = ab;
    return d;
}

/* One request with retries (exponential backoff with jitter, RetryInfo
 * honoured, never past `deadline`). Returns 0 when delivered; fills res. */
static int send_with_retry(struct rocky_otel_exporter *e,
                           struct rocky_otel_transport *t, const uint8_t *buf,
                           size_t len, struct rocky_otel_reqbuf *owner,
                           int64_t deadline, struct rocky_otel_call_result *res)
{
    for (int attempt = 0;; attempt++) {
        deadline = work_deadline(e, deadline);
        ADD(e->requests_sent, 1);
        rocky_otel_transport_send(t, buf, len, owner, deadline, &e->abort_at,
                                  res);
        if (res->status == ROCKY_GRPC_OK)
            return 0;
        if (!rocky_otel_status_retryable(res))
            return -1;
        int64_t wait = res->retry_delay_ms >= 0 ? res->retry_delay_ms
                                                : backoff_ms(e, attempt);
        /* Compared in ms before any multiplication: the delay is the
         * collector's choice and wait * 10^6 may not fit. */
        int64_t now = rocky_clock_mono_ns();
        int64_t left_ms = (work_deadline(e, deadline) - now) / 1000000;
        if (wait >= left_ms)
            return -1;
        nap_reconnecting(e, t, now + wait * 1000000);
    }
}

static const char *status_text(int code)
{
    static const char *names[] = {"OK",
                                  "CANCELLED",
                                  "UNKNOWN",
                                  "INVALID_ARGUMENT",
                                  "DEADLINE_EXCEEDED",
                                  "NOT_FOUND",
                                  "ALREADY_EXISTS",
                                  "PERMISSION_DENIED",
                                  "RESOURCE_EXHAUSTED",
                                  "FAILED_PRECONDITION",
                                  "ABORTED",
                                  "OUT_OF_RANGE",
                                  "UNIMPLEMENTED",
                                  "INTERNAL",
                                  "UNAVAILABLE",
                                  "DATA_LOSS",
                                  "UNAUTHENTICATED"};
    return code >= 0 && code <= 16 ? names[code] : "UNKNOWN";
}

/* What to do about a failure that looks like TLS (gRPC's status details
 * carry the handshake's reason; gRPC's own per-attempt lines are withheld,
 * grpc_log_filter.h), or "". */
static const char *tls_hint(const struct rocky_otel_signal_config *sig,
                            const struct rocky_otel_call_result *res)
{
    if (!sig->tls || !(strcasestr(res->message, "handshake") ||
                       strcasestr(res->message, "certificate") ||
                       strcasestr(res->message, "ssl")))
        return "";
    return " (TLS failed: if the collector is plaintext, use http:// or "
           "insecure=true; if its certificate is from a private CA, name the "
           "CA in OTEL_EXPORTER_OTLP_CERTIFICATE or config key certificate)";
}

/* Remember the failure being warned about; 1 when it is the one warned
 * about last (same target, status and details: say it once). */
static int same_failure(struct rocky_otel_exporter *e,
                        const struct rocky_otel_signal_config *sig,
                        const struct rocky_otel_call_result *res)
{
    char now[sizeof e->last_failure];
    snprintf(now, sizeof now, "%s: %d: %s", sig->target, res->status,
             res->message);
    int same = strcmp(now, e->last_failure) == 0;
    memcpy(e->last_failure, now, sizeof now);
    return same;
}

/* Encode and send `n` spans, splitting in halves if a request would be
 * over the 4 MiB limit anyway. Counts the outcome. */
static void send_spans(struct rocky_otel_exporter *e,
                       const struct rocky_otel_span_view *const *spans,
                       size_t n, int64_t deadline)
{
    uint8_t *buf = NULL;
    size_t len = 0, left_out = 0;
    int erc = rocky_otel_encode_trace_views(&e->resource, spans, n,
                                            e->cfg.attr_value_length_limit,
                                            &e->scratch, &buf, &len, &left_out);
    if (erc != 0) {
        ADD_OUTCOME(e->dropped[ROCKY_OTEL_DROP_EXPORT_FAILED], n);
        ADD(e->exports_failed, 1);
        logf_(e, ROCKY_LOG_WARN, "%s encoding %zu spans; dropped",
              erc == ROCKY_ENOMEM ? "out of memory" : "internal error", n);
        return;
    }
    if (len > ROCKY_OTEL_MAX_REQUEST_BYTES && n > 1) {
        send_spans(e, spans, n / 2, deadline);
        send_spans(e, spans + n / 2, n - n / 2, deadline);
        return;
    }
    if (left_out > 0) {
        /* Spans the encoder could not fit in the room their size bound
         * reserved: dropped and counted, said once, the rest goes on. */
        ADD_OUTCOME(e->dropped[ROCKY_OTEL_DROP_TOO_LARGE], left_out);
        if (!e->warned_too_large) {
            e->warned_too_large = 1;
            logf_(e, ROCKY_LOG_WARN,
                  "%zu of %zu spans encode larger than their size bound; "
                  "dropped (counted in rocky.otel.spans_dropped, reason "
                  "too_large): a rocky_otel bug, please report it",
                  left_out, n);
        }
        n -= left_out;
        if (n == 0)
            return;
    }
    struct rocky_otel_call_result res;
    int rc =
        send_with_retry(e, e->traces, buf, len, e->scratch.req, deadline, &res);
    if (rc == 0) {
        e->warned_export_failure = 0;
        uint64_t rejected = res.rejected > 0 ? (uint64_t)res.rejected : 0;
        if (rejected > n)
            rejected = n;
        ADD_OUTCOME(e->delivered, n - rejected);
        if (rejected) {
            ADD_OUTCOME(e->dropped[ROCKY_OTEL_DROP_REJECTED], rejected);
            if (!e->warned_partial++)
                logf_(e, ROCKY_LOG_WARN,
                      "collector rejected %llu of %zu spans: %s",
                      (unsigned long long)rejected, n,
                      res.partial_message[0] ? res.partial_message
                                             : "(no message)");
        }
        return;
    }
    ADD_OUTCOME(e->dropped[ROCKY_OTEL_DROP_EXPORT_FAILED], n);
    ADD(e->exports_failed, 1);
    /* One warning per failure streak, not one per batch. */
    if (!e->warned_export_failure) {
        e->warned_export_failure = 1;
        same_failure(e, &e->cfg.traces, &res);
        logf_(e, ROCKY_LOG_WARN,
              "exporting %zu spans to %s failed: %s%s%s; counting them as "
              "dropped%s",
              n, e->cfg.traces.target, status_text(res.status),
              res.message[0] ? ": " : "", res.message,
              tls_hint(&e->cfg.traces, &res));
    }
}

/* Send every span queued now (runs first: children are only useful with
 * their root). Returns when the queue is empty or the deadline passed.
 * `producing`: spans may still come (not the stop), so the ring's pages
 * ahead are worth making resident. */
static void export_spans(struct rocky_otel_exporter *e, int64_t deadline,
                         int producing)
{
    const struct rocky_otel_span_view **batch = e->batch;
    size_t max = e->cfg.bsp_max_export_batch;
    /* With the default batch (512) even spans at their largest fit one
     * request: then no batch is ever cut, and no bound is added up. */
    int cut = (max + RUN_BATCH) * rocky_otel_span_bound_max() > REQUEST_BUDGET;
    for (;;) {
        if (rocky_clock_mono_ns() >= work_deadline(e, deadline))
            break;
        /* Page faults of the ring ahead are this thread's, not the
         * runner's: once per batch, while producers fill it. (Not during
         * the stop: no span comes any more, and the exit deadline is
         * better spent sending.) */
        if (producing)
            rocky_otel_queue_populate_ahead(e->queue);
        size_t runs = rocky_otel_queue_take_runs(e->queue, e->runs, RUN_BATCH);
        size_t n = 0, bytes = 0;
        for (size_t i = 0; i < runs; i++) {
            rocky_otel_span_view_of(&e->runs[i], &e->run_views[i]);
            batch[n++] = &e->run_views[i];
            bytes += rocky_otel_span_view_bound(&e->run_views[i]);
        }
        size_t models = 0;
        const struct rocky_otel_span_view *s;
        while (models < max &&
               (s = rocky_otel_queue_peek_view(e->queue, models))) {
            if (cut) {
                size_t b = rocky_otel_span_view_bound(s);
                if (n > 0 && bytes + b > REQUEST_BUDGET)
                    break;
                bytes += b;
            }
            batch[n++] = s;
            models++;
        }
        if (n == 0)
            break;
        send_spans(e, batch, n, deadline);
        rocky_otel_queue_release(e->queue, models);
    }
}

static void export_metrics(struct rocky_otel_exporter *e, int64_t deadline)
{
    if (!e->metrics_tx)
        return;
    struct rocky_otel_metrics_snap cur, del;
    rocky_otel_metrics_snapshot(e->metrics, &cur);
    cur.spans_queued = rocky_otel_queue_pushed(e->queue);
    cur.spans_exported = LOAD(e->delivered);
    dropped_total(e, cur.spans_dropped);
    cur.exports_failed = LOAD(e->exports_failed);
    rocky_otel_metrics_delta(&cur, &e->prev, &del);
    int64_t now = rocky_clock_wall_ns();
    struct rocky_otel_metrics_encode_opts o = {
        .delta_sums = e->cfg.temporality != ROCKY_OTEL_CUMULATIVE,
        .delta_updown = e->cfg.temporality == ROCKY_OTEL_DELTA,
        .cumulative_start_wall_ns = e->start_wall_ns,
        .delta_start_wall_ns = e->prev_wall_ns,
        .now_wall_ns = now > e->prev_wall_ns ? now : e->prev_wall_ns + 1};
    uint8_t *buf;
    size_t len;
    if (rocky_otel_encode_metrics(&e->resource, &cur, &del, &o, &buf, &len))
        return;
    struct rocky_otel_call_result res;
    int rc = send_with_retry(e, e->metrics_tx, buf, len, NULL, deadline, &res);
    free(buf);
    if (rc == 0) {
        /* The delta base moves only when the collector has the data, so a
         * failed export's counts are carried into the next delta. */
        e->prev = cur;
        e->prev_wall_ns = o.now_wall_ns;
        ADD(e->metric_exports, 1);
        e->warned_metrics_failure = 0;
    } else {
        ADD(e->exports_failed, 1);
        /* Once per failure streak, and not at all when the spans' warning
         * just said the same (one TLS failure is one line, not two). */
        if (!e->warned_metrics_failure++ &&
            !same_failure(e, &e->cfg.metrics, &res))
            logf_(e, ROCKY_LOG_WARN, "exporting metrics to %s failed: %s%s%s%s",
                  e->cfg.metrics.target, status_text(res.status),
                  res.message[0] ? ": " : "", res.message,
                  tls_hint(&e->cfg.metrics, &res));
    }
}

static void timespec_at(int64_t mono_ns, struct timespec *ts)
{
    ts->tv_sec = mono_ns / 1000000000;
    ts->tv_nsec = mono_ns % 1000000000;
}

static void *run(void *arg)
{
    struct rocky_otel_exporter *e = arg;
    pthread_setname_np(pthread_self(), "rocky-otel");
    int64_t now = rocky_clock_mono_ns();
    int64_t next_batch = now + e->cfg.bsp_schedule_delay_ms * 1000000;
    int64_t next_metrics = now + e->cfg.metric_export_interval_ms * 1000000;

    pthread_mutex_lock(&e->mu);
    for (;;) {
        int64_t wake_at = next_batch < next_metrics ? next_batch : next_metrics;
        while (!e->stop && e->flush_req == e->flush_done &&
               !atomic_load(&e->wake_pending) &&
               rocky_clock_mono_ns() < wake_at) {
            struct timespec ts;
            timespec_at(wake_at, &ts);
            pthread_cond_timedwait(&e->wake, &e->mu, &ts);
        }
        int stop = e->stop;
        uint64_t target = e->flush_req;
        int flushing = target != e->flush_done;
        int64_t deadline = flushing
                               ? e->flush_deadline
                               : rocky_clock_mono_ns() +
                                     e->cfg.bsp_export_timeout_ms * 1000000;
        int with_metrics = flushing && e->flush_metrics;
        if (stop)
            deadline = e->stop_deadline;
        pthread_mutex_unlock(&e->mu);
        atomic_store(&e->wake_pending, 0);

        now = rocky_clock_mono_ns();
        if (e->traces)
            export_spans(e, deadline, !stop);
        if (now >= next_batch)
            next_batch = now + e->cfg.bsp_schedule_delay_ms * 1000000;
        if (stop || with_metrics || now >= next_metrics) {
            export_metrics(e, stop ? deadline
                                   : now + e->cfg.metric_export_timeout_ms *
                                               1000000);
            next_metrics = rocky_clock_mono_ns() +
                           e->cfg.metric_export_interval_ms * 1000000;
        }

        pthread_mutex_lock(&e->mu);
        if (flushing)
            e->flush_done = target;
        pthread_cond_broadcast(&e->done);
        if (stop)
            break;
    }
    e->stopped = 1;
    pthread_cond_broadcast(&e->done);
    pthread_mutex_unlock(&e->mu);
    rocky_otel_encode_scratch_free(&e->scratch);
    return NULL;
}

/* ---- the host's side ----------------------------------------------- */

int rocky_otel_exporter_new(const struct rocky_otel_config *cfg,
                            const char *service_version, rocky_otel_log_fn log,
                            void *log_ctx, struct rocky_otel_exporter **out,
                            char *err, size_t err_size)
{
    struct rocky_otel_exporter *e = rocky_otel_zalloc_lines(sizeof *e);
    if (!e) {
        snprintf(err, err_size, "out of memory");
        return ROCKY_ENOMEM;
    }
    /* Only what the thread needs after init: transports copy headers. */
    e->cfg = *cfg;
    e->cfg.resource_attr_count = 0;
    e->cfg.traces.header_count = e->cfg.metrics.header_count = 0;
    e->log = log;
    e->log_ctx = log_ctx;
    e->start_wall_ns = rocky_clock_wall_ns();
    e->prev_wall_ns = e->start_wall_ns;
    e->rng = (unsigned)rocky_clock_mono_ns();
    pthread_once(&fork_once, register_fork_handler);
    e->fork_generation =
        atomic_load_explicit(&fork_generation, memory_order_relaxed);
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &ca);
    pthread_cond_init(&e->done, &ca);
    pthread_condattr_destroy(&ca);

    e->batch =
        malloc((cfg->bsp_max_export_batch + RUN_BATCH) * sizeof *e->batch);
    int rc = e->batch ? rocky_otel_queue_new(cfg->bsp_max_queue_size, &e->queue)
                      : ROCKY_ENOMEM;
    if (!rc)
        rc = rocky_otel_metrics_new(&e->metrics);
    if (!rc)
        rc = rocky_otel_resource_init(&e->resource, cfg, service_version);
    if (rc) {
        snprintf(err, err_size, "out of memory");
        rocky_otel_exporter_free(e);
        return rc;
    }
    rocky_otel_grpc_acquire();
    if (cfg->traces.enabled)
        rc = rocky_otel_transport_new(&cfg->traces, ROCKY_OTEL_TRACE_METHOD,
                                      &e->traces, err, err_size);
    if (!rc && cfg->metrics.enabled)
        rc = rocky_otel_transport_new(&cfg->metrics, ROCKY_OTEL_METRICS_METHOD,
                                      &e->metrics_tx, err, err_size);
    if (!rc && pthread_create(&e->thread, NULL, run, e) != 0) {
        snprintf(err, err_size, "cannot start the exporter thread");
        rc = ROCKY_EINTERNAL;
    }
    if (rc) {
        rocky_otel_transport_free(e->traces);
        rocky_otel_transport_free(e->metrics_tx);
        e->traces = e->metrics_tx = NULL;
        rocky_otel_grpc_release();
        rocky_otel_exporter_free(e);
        return rc;
    }
    e->thread_started = 1;
    *out = e;
    return 0;
}

/* The batch-full wakeup: once per batch, so out of the hot path. */
static __attribute__((noinline, cold)) void
wake_for_batch(struct rocky_otel_exporter *e)
{
    if (!atomic_exchange(&e->wake_pending, 1))
        pthread_cond_signal(&e->wake);
}

/* Queue the event's span; wake the thread when a batch is full. */
static inline int push_span(struct rocky_otel_exporter *e,
                            const struct rocky_event *ev)
{
    size_t queued = 0;
    int rc = rocky_otel_queue_push(e->queue, ev, &queued);
    /* Wake the thread once per full batch, not per span: a signal costs a
     * syscall. A missed wakeup only delays sending to the schedule. A
     * refusal means the queue is full, which is at least a batch. The
     * plain load first: while a wakeup is pending (every push once a
     * batch is waiting) no read-modify-write bounces the line. */
    if ((rc == 0 ? queued >= e->cfg.bsp_max_export_batch
                 : rc == ROCKY_EAGAIN) &&
        !atomic_load_explicit(&e->wake_pending, memory_order_relaxed))
        wake_for_batch(e);
    return rc;
}

/* The events that are not MODEL_START, each in a function of its own so
 * that MODEL_START pays none of the registers they save. */
static __attribute__((noinline)) int on_model_end(struct rocky_otel_exporter *e,
                                                  const struct rocky_event *ev)
{
    /* A skipped model never ran: metrics only, no span (and so nothing
     * accepted for it). */
    if (!rocky_otel_metrics_model_end(e->metrics, ev) || !e->traces)
        return 0;
    return push_span(e, ev);
}

static __attribute__((noinline)) int
on_other_event(struct rocky_otel_exporter *e, const struct rocky_event *ev)
{
    rocky_otel_metrics_record(e->metrics, ev);
    uint32_t type = ev->type;
    if (!e->traces ||
        (type != ROCKY_EVENT_RUN_END && type != ROCKY_EVENT_STATEMENT_END))
        return 0;
    return push_span(e, ev);
}

int rocky_otel_exporter_on_event(struct rocky_otel_exporter *e,
                                 const struct rocky_event *ev)
{
    if (__builtin_expect(rocky_otel_exporter_forked(e), 0))
        return 0;
    uint32_t type = ev->type;
    /* Half of all events, and never a span: the in-flight count by a tail
     * call, nothing else. */
    if (type == ROCKY_EVENT_MODEL_START)
        return rocky_otel_metrics_model_start(e->metrics, ev);
    if (type == ROCKY_EVENT_MODEL_END)
        return on_model_end(e, ev);
    return on_other_event(e, ev);
}

/* A fork child's copy: the parent delivers these, so nothing here. */
static int forked_report(struct rocky_delivery_report *report)
{
    struct rocky_delivery_report zero = {.struct_size = sizeof zero};
    rocky_delivery_report_write(report, &zero);
    return 0;
}

uint64_t rocky_otel_exporter_flush_start(struct rocky_otel_exporter *e,
                                         int64_t deadline_mono_ns,
                                         int with_metrics)
{
    if (rocky_otel_exporter_forked(e))
        return 0;
    pthread_mutex_lock(&e->mu);
    uint64_t mine = ++e->flush_req;
    e->flush_deadline = deadline_mono_ns;
    e->flush_metrics = with_metrics;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->mu);
    return mine;
}

int rocky_otel_exporter_flush_wait(struct rocky_otel_exporter *e,
                                   uint64_t ticket, int64_t deadline_mono_ns)
{
    if (rocky_otel_exporter_forked(e))
        return 0;
    struct timespec ts;
    timespec_at(deadline_mono_ns, &ts);
    pthread_mutex_lock(&e->mu);
    while (e->flush_done < ticket && !e->stopped &&
           rocky_clock_mono_ns() < deadline_mono_ns)
        pthread_cond_timedwait(&e->done, &e->mu, &ts);
    int done = e->flush_done >= ticket || e->stopped;
    pthread_mutex_unlock(&e->mu);
    return done ? 0 : ROCKY_ETIMEDOUT;
}

int rocky_otel_exporter_flush(struct rocky_otel_exporter *e,
                              int64_t deadline_mono_ns, int with_metrics,
                              struct rocky_delivery_report *report)
{
    if (rocky_otel_exporter_forked(e))
        return forked_report(report);
    pthread_mutex_lock(&e->mu);
    int stopped = e->stopped;
    pthread_mutex_unlock(&e->mu);
    if (!stopped) {
        uint64_t ticket =
            rocky_otel_exporter_flush_start(e, deadline_mono_ns, with_metrics);
        rocky_otel_exporter_flush_wait(e, ticket, deadline_mono_ns);
    }
    struct rocky_delivery_report r;
    fill_report(e, &r);
    rocky_delivery_report_write(report, &r);
    return r.pending ? ROCKY_ETIMEDOUT : 0;
}

void rocky_otel_exporter_abort_at(struct rocky_otel_exporter *e,
                                  int64_t deadline_mono_ns)
{
    int64_t cur = atomic_load(&e->abort_at);
    while ((cur == 0 || deadline_mono_ns < cur) &&
           !atomic_compare_exchange_weak(&e->abort_at, &cur, deadline_mono_ns))
        ;
}

int rocky_otel_exporter_shutdown(struct rocky_otel_exporter *e,
                                 int64_t deadline_mono_ns,
                                 struct rocky_delivery_report *report)
{
    if (e->shut)
        return ROCKY_ESHUTDOWN;
    e->shut = 1;
    if (rocky_otel_exporter_forked(e)) {
        /* A fork child: the thread and gRPC's state belong to the parent.
         * Touch nothing (joining or freeing would deadlock or double-send). */
        e->thread_started = 0;
        return forked_report(report);
    }
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    e->stop_deadline = deadline_mono_ns;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->mu);
    rocky_otel_exporter_abort_at(e, deadline_mono_ns);
    if (e->thread_started)
        pthread_join(e->thread, NULL);
    e->thread_started = 0;

    /* What is still queued missed the deadline: dropped, reason shutdown.
     * The thread is gone and the host sends no events during stop, so the
     * counts are final. */
    struct rocky_delivery_report r;
    fill_report(e, &r);
    if (r.pending) {
        ADD_OUTCOME(e->dropped[ROCKY_OTEL_DROP_SHUTDOWN], r.pending);
        fill_report(e, &r);
    }
    /* The summary warns about what we dropped (the report's dropped). A
     * refusal is not among them: the host re-offered it (a replay: it may
     * well have been delivered since) or counted it as dropped itself and
     * said so. queue_full is shown for the record, as in the self-metric. */
    uint64_t by[ROCKY_OTEL_DROP_REASONS];
    uint64_t dropped = dropped_total(e, by);
    uint64_t refused = by[ROCKY_OTEL_DROP_QUEUE_FULL];
    char too_large[48] = ""; /* only when there are any: rare by design */
    if (by[ROCKY_OTEL_DROP_TOO_LARGE])
        snprintf(too_large, sizeof too_large, ", too_large %llu",
                 (unsigned long long)by[ROCKY_OTEL_DROP_TOO_LARGE]);
    if (dropped)
        logf_(e, ROCKY_LOG_WARN,
              "spans: %llu delivered, %llu dropped (queue_full %llu, "
              "export_failed %llu, rejected %llu, shutdown %llu%s)",
              (unsigned long long)r.delivered, (unsigned long long)dropped,
              (unsigned long long)refused,
              (unsigned long long)by[ROCKY_OTEL_DROP_EXPORT_FAILED],
              (unsigned long long)by[ROCKY_OTEL_DROP_REJECTED],
              (unsigned long long)by[ROCKY_OTEL_DROP_SHUTDOWN], too_large);
    else if (refused)
        logf_(e, ROCKY_LOG_DEBUG,
              "spans: %llu delivered, none dropped, %llu refused while the "
              "queue was full",
              (unsigned long long)r.delivered, (unsigned long long)refused);
    else
        logf_(e, ROCKY_LOG_DEBUG, "spans: %llu delivered, none dropped",
              (unsigned long long)r.delivered);

    rocky_otel_transport_free(e->traces);
    rocky_otel_transport_free(e->metrics_tx);
    e->traces = e->metrics_tx = NULL;
    rocky_otel_grpc_release();

    rocky_delivery_report_write(report, &r);
    /* ABI: 0 when nothing is pending; what missed the deadline was
     * counted as dropped above, so say so with ETIMEDOUT. */
    return by[ROCKY_OTEL_DROP_SHUTDOWN] ? ROCKY_ETIMEDOUT : 0;
}

void rocky_otel_exporter_free(struct rocky_otel_exporter *e)
{
    if (!e)
        return;
    /* A fork child leaks the exporter on purpose: the parent's exporter
     * thread was waiting on `wake` when the fork happened, and glibc's
     * pthread_cond_destroy waits for waiters that no longer exist in the
     * child (it hung forever). The child is on its way out anyway. */
    if (rocky_otel_exporter_forked(e))
        return;
    if (e->thread_started) {
        /* No shutdown (a caller error): joining could block, so tell the
         * thread to stop now and leave the exporter to it. */
        pthread_mutex_lock(&e->mu);
        e->stop = 1;
        e->stop_deadline = rocky_clock_mono_ns();
        pthread_cond_signal(&e->wake);
        pthread_mutex_unlock(&e->mu);
        atomic_store(&e->abort_at, e->stop_deadline);
        pthread_detach(e->thread);
        return;
    }
    rocky_otel_queue_free(e->queue);
    free(e->batch);
    rocky_otel_metrics_free(e->metrics);
    rocky_otel_resource_free(&e->resource);
    pthread_cond_destroy(&e->wake);
    pthread_cond_destroy(&e->done);
    pthread_mutex_destroy(&e->mu);
    free(e);
}
