/*
 * span_view.h — what the trace encoder reads of one span: numbers, ids and
 * (pointer, length) strings that point into the span they were made from:
 * a struct rocky_otel_span (run spans, and records that need repair), or
 * the packed record itself where it lies in the queue's ring (span_pack.h;
 * nearly every model and statement span), so a span is written into the
 * request with no further copy or message tree.
 *
 * The span's layout is free to change: only rocky_otel_span_view_of()
 * knows it. The encoder (encode_trace.h) knows only this struct.
 *
 * Strings are valid UTF-8 (sanitized by the time the queue hands the span
 * out), need not be
 * NUL-terminated, and len 0 means absent. Which strings are meaningful
 * follows `kind`:
 *   RUN        run_id, adapter, project, trigger, version, trace_state
 *   MODEL      run_id, adapter, name, sql_hash, error
 *   STATEMENT  run_id, adapter, name (its model's), target, error
 */
#ifndef ROCKY_OTEL_SPAN_VIEW_H
#define ROCKY_OTEL_SPAN_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "span_build.h"

struct rocky_otel_str {
    const char *p;
    uint32_t len;
};

struct rocky_otel_span_view {
    uint32_t kind;         /* enum rocky_otel_span_kind                     */
    uint32_t status;       /* rocky_run_status or rocky_model_status        */
    uint32_t attempt;      /* model, statement                              */
    uint32_t max_attempts; /* statement                                     */
    uint32_t stmt_kind;    /* statement: enum rocky_statement_kind          */
    uint32_t sequence;     /* statement                                     */
    uint32_t models_total; /* run                                           */
    uint32_t models_failed;
    uint32_t models_succeeded;
    uint32_t models_skipped;
    int64_t start_wall_ns;
    int64_t end_wall_ns;
    int64_t rows_affected;   /* model, statement: -1 unknown                  */
    int64_t bytes_written;   /* model: -1 unknown                             */
    const uint8_t *trace_id; /* ROCKY_TRACE_ID_SIZE bytes             */
    const uint8_t *span_id;  /* ROCKY_SPAN_ID_SIZE bytes              */
    const uint8_t *parent_span_id; /* ROCKY_SPAN_ID_SIZE bytes, or NULL     */
    struct rocky_otel_str run_id, adapter;
    struct rocky_otel_str name, sql_hash, error, target;
    struct rocky_otel_str project, trigger, version, trace_state;
    /* Room the view may use when the record keeps a string in another form
     * (a hash kept as binary is written back here as lowercase hex). */
    char hex[64];
};

/*
 * Fill `v` from the queued record `s`; `v` points into `s` (and into its own
 * `hex`), so it is valid while `s` is and must not be copied by value if
 * sql_hash points into `hex`. Exporter thread; no allocation.
 */
void rocky_otel_span_view_of(const struct rocky_otel_span *s,
                             struct rocky_otel_span_view *v);

/* The current run as REF records' views read it: a copy of the consumer's
 * struct rocky_otel_span_run (the last DEFINE record's), with the lengths
 * and the parent a model span implies. Views of REF records point into
 * it, so whoever hands those views out keeps it unchanged until they are
 * gone (the queue: one per run met in a batch, until release). */
struct rocky_otel_span_view_run {
    struct rocky_otel_span_run run;
    struct rocky_otel_str run_id, adapter; /* into `run` */
    const uint8_t *parent; /* run.span_id, or NULL when it is all zero */
};

/* Fill `r` from `run` (a valid current run). */
void rocky_otel_span_view_run_of(const struct rocky_otel_span_run *run,
                                 struct rocky_otel_span_view_run *r);

/*
 * Fill `v` straight from the packed REF record `rec` (`size` bytes,
 * span_pack.h) of the current run `r`, without unpacking it: the view's
 * strings and ids point into `rec` (and into `r` and `v->hex`), so it is
 * valid while the record stays in place and `r` unchanged (the queue: until
 * release). Only for what needs no repair: returns 0 with `v` exactly what
 * rocky_otel_span_unpack + rocky_otel_span_view_of would give (same
 * numbers, same string bytes and lengths); 1 when the record is not a REF
 * record or one of its strings would be changed by sanitizing (not plain
 * ASCII, a NUL, or as long as its field: COPY would cut it), in which case
 * the caller unpacks it; ROCKY_EINVAL when the bytes do not parse. Any
 * thread; no allocation.
 */
int rocky_otel_span_view_of_record(const uint8_t *rec, uint32_t size,
                                   const struct rocky_otel_span_view_run *r,
                                   struct rocky_otel_span_view *v);

#endif
