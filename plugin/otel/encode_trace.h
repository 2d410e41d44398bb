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
#include "span_build.h"

/* The largest request a default collector accepts (gRPC's default max
 * receive size); batches are split to stay under it. */
#define ROCKY_OTEL_MAX_REQUEST_BYTES (4u * 1024u * 1024u)

/* An upper bound of the bytes `span` adds to a request: cheap, so batches
 * can be cut before encoding. */
size_t rocky_otel_span_size_bound(const struct rocky_otel_span *span);

/* Reusable encoder memory (zero-initialise; free with _scratch_free). */
struct rocky_otel_encode_scratch {
    void *mem;
    size_t mem_cap;
    void *out; /* the packed request */
    size_t out_cap;
};
void rocky_otel_encode_scratch_free(struct rocky_otel_encode_scratch *s);

/*
 * Encode `n` spans (pointers, any mix of kinds) with the shared resource
 * and scope. With `scratch` NULL, *out is a new buffer the caller free()s;
 * otherwise *out points into scratch->out, valid until the next call with
 * the same scratch. `limit` is OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT (-1:
 * none). A span whose encoding is larger than rocky_otel_span_size_bound()
 * promised is left out of the request, never written past the buffer: the
 * number left out goes to *left_out (may be NULL; 0 normally), for the
 * caller to count as dropped. Returns 0, ROCKY_ENOMEM, or ROCKY_EINTERNAL
 * (the envelope did not frame: nothing to send). Never aborts. Reentrant
 * (one scratch per thread).
 */
int rocky_otel_encode_traces(const struct rocky_otel_resource *res,
                             const struct rocky_otel_span *const *spans,
                             size_t n, int64_t limit,
                             struct rocky_otel_encode_scratch *scratch,
                             uint8_t **out, size_t *out_len, size_t *left_out);

#endif
