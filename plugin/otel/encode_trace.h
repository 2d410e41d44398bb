/*
 * encode_trace.h — spans -> one serialized ExportTraceServiceRequest.
 *
 * Span names and attributes (the README's span table says what each means);
 * upstream rocky's names first, ours beside them:
 *   run                run_id; rocky.run.id, rocky.project, rocky.run.trigger,
 *                      rocky.run.status, rocky.run.models_total,
 *                      rocky.run.models_succeeded, rocky.run.models_failed,
 *                      rocky.run.models_skipped, rocky.version
 *   materialize.table  rocky.model.fqn, rocky.model.kind,
 *                      rocky.warehouse.table_ref; rocky.model.name,
 *                      rocky.model.materialization, rocky.model.status,
 *                      rocky.model.rows_affected, rocky.model.bytes_written,
 *                      rocky.model.sql_hash, rocky.model.attempt,
 *                      rocky.adapter.name, rocky.run.id
 *                      events: materialize_error + exception (failed),
 *                      materialize_retry (attempt > 1)
 *   statement.execute  rocky.adapter.name, rocky.statement.kind,
 *                      rocky.retry.attempt, rocky.warehouse.table_ref,
 *                      db.system.name; rocky.model.name,
 *                      rocky.statement.sequence, rocky.statement.status,
 *                      rocky.statement.rows_affected, rocky.run.id
 *                      event: statement_retry (attempt > 1)
 * Status ERROR (message = error text, or the run status) for failed and
 * interrupted models and statements and for runs that did not succeed;
 * UNSET otherwise.
 */
#ifndef ROCKY_OTEL_ENCODE_TRACE_H
#define ROCKY_OTEL_ENCODE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "resource.h"
#include "reqbuf.h"
#include "span_build.h"

/* The largest request a default collector accepts (gRPC's default max
 * receive size); batches are split to stay under it. */
#define ROCKY_OTEL_MAX_REQUEST_BYTES (4u * 1024u * 1024u)

/* An upper bound of the bytes the span viewed by `view` (span_view.h)
 * adds to a request (its field header included): cheap (string lengths, no
 * UTF-8 scan), so the exporter cuts batches of views with it before
 * encoding, and the encoder leaves out a span whose exact size would
 * exceed it. Exporter thread (it reads the record). */
struct rocky_otel_span_view;
size_t rocky_otel_span_view_bound(const struct rocky_otel_span_view *view);

/* The largest bound any span can have (every string as long as its field
 * allows): when a whole batch at this size fits a request, the exporter
 * need not add up the batch's bounds. */
size_t rocky_otel_span_bound_max(void);

/* The encoder's memory across requests (zero-initialise; free with
 * _scratch_free). `req` is the buffer of the last request encoded with it,
 * one reference held here; the transport takes its own for gRPC
 * (reqbuf.h), so the next request may go to another buffer of `pool` while
 * gRPC still holds this one. Bounded by the batch, not by the queue. */
struct rocky_otel_encode_scratch {
    struct rocky_otel_bufpool *pool; /* made on first use */
    struct rocky_otel_reqbuf *req;
    /* The resource and scope never change: packed once by protobuf-c (on
     * first use, for the resource at `packed_for`) and copied from here. */
    const struct rocky_otel_resource *packed_for;
    uint8_t *packed; /* resource, then scope */
    size_t res_len, scope_len;
    size_t
        span_hint; /* bytes per span to reserve: last request's, a bit more */
};
void rocky_otel_encode_scratch_free(struct rocky_otel_encode_scratch *s);

/*
 * Encode `n` spans (pointers, any mix of kinds) with the shared resource
 * and scope. With `scratch` NULL, *out is a new buffer the caller free()s;
 * otherwise *out points into scratch->req's data (not necessarily at its
 * start), valid until the next call with the same scratch or
 * its free. `limit` is OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT (-1: none).
 *
 * Each span is written straight from its record (span_view.h,
 * encode_span.h) into the request, exactly as protobuf-c would pack it.
 * A span whose exact size is larger than rocky_otel_span_view_bound()
 * promised (a bug: a field added without it) is left out of the request,
 * never written past the buffer: the number left out goes to *left_out
 * (may be NULL; 0 normally), for the caller to count as dropped. Returns
 * 0, ROCKY_ENOMEM, or ROCKY_EINTERNAL (the envelope did not frame: nothing
 * to send). Never aborts. Reentrant (one scratch per thread).
 */
int rocky_otel_encode_traces(const struct rocky_otel_resource *res,
                             const struct rocky_otel_span *const *spans,
                             size_t n, int64_t limit,
                             struct rocky_otel_encode_scratch *scratch,
                             uint8_t **out, size_t *out_len, size_t *left_out);

/* As rocky_otel_encode_traces, from the spans' views (span_view.h): the
 * exporter's way, with views straight from the queue's records. The views
 * are only read, during the call. */
int rocky_otel_encode_trace_views(
    const struct rocky_otel_resource *res,
    const struct rocky_otel_span_view *const *views, size_t n, int64_t limit,
    struct rocky_otel_encode_scratch *scratch, uint8_t **out, size_t *out_len,
    size_t *left_out);

#endif
