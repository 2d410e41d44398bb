/*
 * encode_trace.c — the trace request encoder (protobuf-c).
 *
 * All the message structs of one request come from one allocation, sized
 * up front, and point into the span records themselves for strings; each
 * span is sized and packed by protobuf-c once, inside an envelope framed
 * here.
 */
#include "encode_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "rocky/error.h"

typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;

#define ATTRS_PER_SPAN  16
#define EVENTS_PER_SPAN 2
#define ATTRS_PER_EVENT 5

struct per_event {
    pb_event event;
    rocky_otlp_kv kv[ATTRS_PER_EVENT];
    rocky_otlp_any av[ATTRS_PER_EVENT];
    rocky_otlp_kv *ptrs[ATTRS_PER_EVENT];
};

struct per_span {
    pb_span span;
    pb_status status;
    rocky_otlp_kv kv[ATTRS_PER_SPAN];
    rocky_otlp_any av[ATTRS_PER_SPAN];
    rocky_otlp_kv *ptrs[ATTRS_PER_SPAN];
    struct per_event events[EVENTS_PER_SPAN];
    pb_event *event_ptrs[EVENTS_PER_SPAN];
    char fqn[160];       /* "transformation:<model>"                     */
    char table_ref[144]; /* "main.<model>"                               */
};

static size_t varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Bytes of a length-delimited field with a one-byte tag (field < 16). */
static size_t field_len(size_t payload)
{
    return 1 + varint_len(payload) + payload;
}

/* Tag (wire type 2) and length of field `number`; returns the end. */
static uint8_t *put_header(uint8_t *w, unsigned number, size_t payload)
{
    *w++ = (uint8_t)(number << 3 | 2);
    while (payload >= 0x80) {
        *w++ = (uint8_t)(payload | 0x80);
        payload >>= 7;
    }
    *w++ = (uint8_t)payload;
    return w;
}

/* Worst cases of the encoding, per piece (protobuf wire format): a field
 * tag is 1 byte (field numbers < 16), a length or int64 varint at most 3 / 10
 * bytes (every string here is shorter than 2^21 bytes). */
#define STR_FIELD_MAX(len) (1 + 3 + (len))
#define ATTR_KEY_MAX       32 /* longest key: "rocky.model.materialization" */
#define ATTR_MAX(value)    (1 + 3 + STR_FIELD_MAX(ATTR_KEY_MAX) + 1 + 3 + (value))
#define INT_ATTR_MAX       ATTR_MAX(1 + 10)
#define STR_ATTR_MAX(len)  ATTR_MAX(STR_FIELD_MAX(len))
#define STATUS_NAME_MAX    24 /* longest status name: "partial_failure" */
#define SHORT_VALUE_MAX    24 /* every fixed value: kinds, classes, types  */
/* A span event: header, time, name and its attributes at their worst. */
#define EVENT_MAX(strings)                                                     \
    (1 + 3 + 1 + 8 + STR_FIELD_MAX(SHORT_VALUE_MAX) +                          \
     ATTRS_PER_EVENT * INT_ATTR_MAX + (strings))

size_t rocky_otel_span_size_bound(const struct rocky_otel_span *s)
{
    /* Span header in the request, ids, name, kind, times, dropped count and
     * status code; then every attribute at its worst (ATTRS_PER_SPAN, each
     * as an int or as its string), the trace state and status message. This
     * bound is what the encoder reserves before protobuf-c packs the span:
     * it must never be short. */
    size_t n = 1 + 3 + STR_FIELD_MAX(16) + 2 * STR_FIELD_MAX(8) +
               STR_FIELD_MAX(32) + 2 + 2 * 9 + 11 + (1 + 3 + 11);
    n += ATTRS_PER_SPAN * INT_ATTR_MAX;
    n += 2 * STR_ATTR_MAX(strlen(s->run_id)); /* rocky.run.id, run_id */
    n += 4 * STR_ATTR_MAX(SHORT_VALUE_MAX) + STR_ATTR_MAX(strlen(s->adapter));
    if (s->kind == ROCKY_OTEL_SPAN_RUN) {
        n += STR_ATTR_MAX(strlen(s->project)) +
             STR_ATTR_MAX(strlen(s->trigger)) +
             STR_ATTR_MAX(strlen(s->version)) + STR_ATTR_MAX(STATUS_NAME_MAX);
        n += STR_FIELD_MAX(strlen(s->trace_state));
        n += STR_FIELD_MAX(STATUS_NAME_MAX); /* status message */
    } else if (s->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        size_t name = strlen(s->stmt_model), err = strlen(s->stmt_error);
        n += STR_ATTR_MAX(name) + STR_ATTR_MAX(strlen(s->target)) +
             STR_ATTR_MAX(STATUS_NAME_MAX);
        n += STR_FIELD_MAX(err + STATUS_NAME_MAX);       /* status message */
        n += EVENT_MAX(STR_ATTR_MAX(strlen(s->target))); /* statement_retry */
    } else {
        size_t name = strlen(s->name), err = strlen(s->error);
        /* rocky.model.name, .fqn ("transformation:" + name), table_ref
         * ("main." + name) */
        n += 3 * STR_ATTR_MAX(name + 16) + STR_ATTR_MAX(strlen(s->sql_hash)) +
             STR_ATTR_MAX(STATUS_NAME_MAX);
        /* status message: the error text, or the status name */
        n += STR_FIELD_MAX(err + STATUS_NAME_MAX);
        /* materialize_error (target, error) or materialize_retry (target),
         * and exception (message) */
        n += EVENT_MAX(STR_ATTR_MAX(name) + STR_ATTR_MAX(err + 16));
        n += EVENT_MAX(STR_ATTR_MAX(err + 16));
    }
    return n;
}

/* Start span event `name` at `time_ns` on `p`'s span; its attributes go
 * through `ea` (same length limit and scratch as the span's). */
static pb_event *event_begin(struct per_span *p, struct rocky_otel_attrs *ea,
                             const char *name, int64_t time_ns, int64_t limit,
                             char *scratch, size_t scratch_cap,
                             size_t *scratch_used)
{
    pb_span *sp = &p->span;
    struct per_event *pe = &p->events[sp->n_events];
    opentelemetry__proto__trace__v1__span__event__init(&pe->event);
    pe->event.name = (char *)name;
    pe->event.time_unix_nano = (uint64_t)(time_ns > 0 ? time_ns : 0);
    rocky_otel_attrs_init(ea, pe->kv, pe->av, pe->ptrs, ATTRS_PER_EVENT, limit,
                          scratch + *scratch_used, scratch_cap - *scratch_used);
    p->event_ptrs[sp->n_events++] = &pe->event;
    sp->events = p->event_ptrs;
    return &pe->event;
}

static void event_end(pb_event *e, struct rocky_otel_attrs *ea,
                      size_t *scratch_used)
{
    *scratch_used += ea->scratch_used;
    e->n_attributes = ea->n;
    e->attributes = ea->ptrs;
    e->dropped_attributes_count = ea->dropped;
}

/* Span events of a model execution, upstream's `rocky.event.*` shape
 * (rocky-observe events.rs) plus the OTel `exception` event. */
static void model_events(struct per_span *p, const struct rocky_otel_span *s,
                         int64_t limit, char *scratch, size_t scratch_cap,
                         size_t *scratch_used)
{
    struct rocky_otel_attrs ea;
    pb_event *e;
    if (s->status == ROCKY_MODEL_FAILED) {
        e = event_begin(p, &ea, "materialize_error", s->end_wall_ns, limit,
                        scratch, scratch_cap, scratch_used);
        rocky_otel_attr_str(&ea, "rocky.event.target", s->name);
        rocky_otel_attr_str(&ea, "rocky.event.error", s->error);
        /* The SQL failed: running it again would fail again. */
        rocky_otel_attr_str(&ea, "rocky.event.error_class", "permanent");
        event_end(e, &ea, scratch_used);
        /* OTel semantic conventions: exception.type and .message. */
        e = event_begin(p, &ea, "exception", s->end_wall_ns, limit, scratch,
                        scratch_cap, scratch_used);
        rocky_otel_attr_str(&ea, "exception.type", "rocky.ModelFailed");
        rocky_otel_attr_str(&ea, "exception.message",
                            s->error[0] ? s->error : "failed");
        event_end(e, &ea, scratch_used);
    } else if (s->attempt > 1) {
        e = event_begin(p, &ea, "materialize_retry", s->start_wall_ns, limit,
                        scratch, scratch_cap, scratch_used);
        rocky_otel_attr_str(&ea, "rocky.event.target", s->name);
        rocky_otel_attr_int(&ea, "rocky.event.attempt", s->attempt);
        event_end(e, &ea, scratch_used);
    }
}

static int is_failed_status(uint32_t status)
{
    return status == ROCKY_MODEL_FAILED || status == ROCKY_MODEL_INTERRUPTED;
}

static void build(struct per_span *p, const struct rocky_otel_span *s,
                  int64_t limit, char *scratch, size_t scratch_cap,
                  size_t *scratch_used)
{
    pb_span *sp = &p->span;
    opentelemetry__proto__trace__v1__span__init(sp);
    sp->trace_id.data = (uint8_t *)s->trace_id;
    sp->trace_id.len = sizeof s->trace_id;
    sp->span_id.data = (uint8_t *)s->span_id;
    sp->span_id.len = sizeof s->span_id;
    int has_parent = 0;
    for (size_t i = 0; i < sizeof s->parent_span_id; i++)
        has_parent |= s->parent_span_id[i];
    if (has_parent) {
        sp->parent_span_id.data = (uint8_t *)s->parent_span_id;
        sp->parent_span_id.len = sizeof s->parent_span_id;
    }
    sp->kind =
        OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
    sp->start_time_unix_nano =
        (uint64_t)(s->start_wall_ns > 0 ? s->start_wall_ns : 0);
    sp->end_time_unix_nano =
        (uint64_t)(s->end_wall_ns > 0 ? s->end_wall_ns : 0);
    if (sp->end_time_unix_nano < sp->start_time_unix_nano)
        sp->end_time_unix_nano = sp->start_time_unix_nano;

    struct rocky_otel_attrs a;
    rocky_otel_attrs_init(&a, p->kv, p->av, p->ptrs, ATTRS_PER_SPAN, limit,
                          scratch + *scratch_used, scratch_cap - *scratch_used);
    const char *err_text;
    int error;
    if (s->kind == ROCKY_OTEL_SPAN_RUN) {
        /* Upstream's root span: `run` with `run_id` (rocky-cli run.rs). */
        sp->name = "run";
        sp->trace_state = (char *)s->trace_state;
        rocky_otel_attr_str(&a, "run_id", s->run_id);
        rocky_otel_attr_str(&a, "rocky.run.id", s->run_id);
        rocky_otel_attr_str(&a, "rocky.project", s->project);
        rocky_otel_attr_str(&a, "rocky.run.trigger", s->trigger);
        rocky_otel_attr_str(&a, "rocky.run.status",
                            rocky_run_status_name(s->status));
        rocky_otel_attr_int(&a, "rocky.run.models_total", s->models_total);
        rocky_otel_attr_int(&a, "rocky.run.models_succeeded",
                            s->models_succeeded);
        rocky_otel_attr_int(&a, "rocky.run.models_failed", s->models_failed);
        rocky_otel_attr_int(&a, "rocky.run.models_skipped", s->models_skipped);
        rocky_otel_attr_str(&a, "rocky.version", s->version);
        err_text = rocky_run_status_name(s->status);
        error = s->status != ROCKY_RUN_SUCCESS;
    } else if (s->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        /* Upstream's statement.execute (its warehouse adapters), with the
         * canonical keys of rocky-observe span_attrs.rs. */
        sp->name = "statement.execute";
        rocky_otel_attr_str(&a, "rocky.adapter.name", s->adapter);
        rocky_otel_attr_str(&a, "rocky.statement.kind",
                            rocky_statement_kind_name(s->stmt_kind));
        rocky_otel_attr_int(&a, "rocky.retry.attempt", s->attempt);
        if (s->target[0])
            rocky_otel_attr_str(&a, "rocky.warehouse.table_ref", s->target);
        /* OTel database semantic conventions. */
        rocky_otel_attr_str(&a, "db.system.name", s->adapter);
        /* Ours. */
        rocky_otel_attr_str(&a, "rocky.model.name", s->stmt_model);
        rocky_otel_attr_int(&a, "rocky.statement.sequence", s->sequence);
        rocky_otel_attr_str(&a, "rocky.statement.status",
                            rocky_model_status_name(s->status));
        if (s->rows_affected >= 0)
            rocky_otel_attr_int(&a, "rocky.statement.rows_affected",
                                s->rows_affected);
        rocky_otel_attr_str(&a, "rocky.run.id", s->run_id);
        err_text = s->stmt_error[0] ? s->stmt_error
                                    : rocky_model_status_name(s->status);
        error = is_failed_status(s->status);
    } else {
        sp->name = "materialize.table";
        /* Upstream's (rocky-core dag_executor.rs): the DAG node id
         * "<kind>:<name>" and its kind; a SQL model is a transformation. */
        snprintf(p->fqn, sizeof p->fqn, "transformation:%s", s->name);
        snprintf(p->table_ref, sizeof p->table_ref, "main.%s", s->name);
        rocky_otel_attr_str(&a, "rocky.model.fqn", p->fqn);
        rocky_otel_attr_str(&a, "rocky.model.kind", "transformation");
        rocky_otel_attr_str(&a, "rocky.warehouse.table_ref", p->table_ref);
        /* Ours. */
        rocky_otel_attr_str(&a, "rocky.model.name", s->name);
        rocky_otel_attr_str(&a, "rocky.model.materialization", "table");
        rocky_otel_attr_str(&a, "rocky.model.status",
                            rocky_model_status_name(s->status));
        if (s->rows_affected >= 0)
            rocky_otel_attr_int(&a, "rocky.model.rows_affected",
                                s->rows_affected);
        if (s->bytes_written >= 0)
            rocky_otel_attr_int(&a, "rocky.model.bytes_written",
                                s->bytes_written);
        rocky_otel_attr_str(&a, "rocky.model.sql_hash", s->sql_hash);
        rocky_otel_attr_int(&a, "rocky.model.attempt", s->attempt);
        if (s->adapter[0])
            rocky_otel_attr_str(&a, "rocky.adapter.name", s->adapter);
        rocky_otel_attr_str(&a, "rocky.run.id", s->run_id);
        err_text = s->error[0] ? s->error : rocky_model_status_name(s->status);
        error = is_failed_status(s->status);
    }
    *scratch_used += a.scratch_used;
    sp->n_attributes = a.n;
    sp->attributes = a.ptrs;
    sp->dropped_attributes_count = a.dropped;
    if (s->kind == ROCKY_OTEL_SPAN_MODEL) {
        model_events(p, s, limit, scratch, scratch_cap, scratch_used);
    } else if (s->kind == ROCKY_OTEL_SPAN_STATEMENT && s->attempt > 1) {
        /* Retried after a transient error (SQLite: the schema changed
         * under it): one event for the retries, upstream's shape, with the
         * last attempt and the most the host would make. */
        struct rocky_otel_attrs ea;
        pb_event *e = event_begin(p, &ea, "statement_retry", s->end_wall_ns,
                                  limit, scratch, scratch_cap, scratch_used);
        if (s->target[0])
            rocky_otel_attr_str(&ea, "rocky.event.target", s->target);
        rocky_otel_attr_int(&ea, "rocky.event.attempt", s->attempt);
        rocky_otel_attr_int(&ea, "rocky.event.max_attempts", s->max_attempts);
        rocky_otel_attr_str(&ea, "rocky.event.error_class", "transient");
        event_end(e, &ea, scratch_used);
    }
    opentelemetry__proto__trace__v1__status__init(&p->status);
    if (error) {
        p->status.code =
            OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
        p->status.message = (char *)err_text;
    }
    sp->status = &p->status;
}

/* Grow-only buffer: reused across requests so the exporter thread does
 * not malloc/free a megabyte per batch (glibc would trim the heap each
 * time, and the TLB shootdowns interrupt the runner's threads). */
static void *grow(void **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return *buf;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    void *p = realloc(*buf, n);
    if (!p)
        return NULL;
    *buf = p;
    *cap = n;
    return p;
}

void rocky_otel_encode_scratch_free(struct rocky_otel_encode_scratch *s)
{
    free(s->mem);
    free(s->out);
    s->mem = NULL;
    s->out = NULL;
    s->mem_cap = s->out_cap = 0;
}

int rocky_otel_encode_traces(const struct rocky_otel_resource *res,
                             const struct rocky_otel_span *const *spans,
                             size_t n, int64_t limit,
                             struct rocky_otel_encode_scratch *scratch_bufs,
                             uint8_t **out, size_t *out_len, size_t *left_out)
{
    size_t skipped = 0;
    if (left_out)
        *left_out = 0;
    /* Scratch for values cut by the length limit: never more than the
     * strings themselves. */
    size_t scratch_cap = 0;
    if (limit >= 0)
        for (size_t i = 0; i < n; i++)
            scratch_cap += rocky_otel_span_size_bound(spans[i]);
    size_t bytes = n * (sizeof(struct per_span) + sizeof(pb_span *));
    char *mem = scratch_bufs ? grow(&scratch_bufs->mem, &scratch_bufs->mem_cap,
                                    bytes + scratch_cap + 1)
                             : malloc(bytes + scratch_cap + 1);
    if (!mem)
        return ROCKY_ENOMEM;
    struct per_span *ps = (struct per_span *)mem;
    pb_span **ptrs = (pb_span **)(mem + n * sizeof(struct per_span));
    char *scratch = mem + bytes;
    size_t scratch_used = 0;
    for (size_t i = 0; i < n; i++) {
        build(&ps[i], spans[i], limit, scratch, scratch_cap, &scratch_used);
        ptrs[i] = &ps[i].span;
    }

    /* The buffer is sized from rocky_otel_span_size_bound() (cheap, so the
     * exporter can cut batches before encoding); each span's exact size is
     * asked from protobuf-c before it is written, and a span that would
     * not fit the room its bound reserved is left out and counted
     * (*left_out), never written past the buffer. The three envelope
     * levels (one or two fields each) are framed here once the spans'
     * total is known, right before the first span. Field order and
     * encodings are what protobuf-c itself writes (the unit test compares
     * with a full protobuf-c pack). */
    const ProtobufCMessage *resource = &res->resource.base;
    const ProtobufCMessage *scope = &res->scope.base;
    size_t res_len = protobuf_c_message_get_packed_size(resource);
    size_t scope_len = protobuf_c_message_get_packed_size(scope);
    size_t prefix_max = 4 * (1 + 10) + res_len + scope_len;
    size_t cap = prefix_max;
    for (size_t i = 0; i < n; i++)
        cap += rocky_otel_span_size_bound(spans[i]);

    uint8_t *buf = scratch_bufs
                       ? grow(&scratch_bufs->out, &scratch_bufs->out_cap, cap)
                       : malloc(cap);
    if (!buf) {
        if (!scratch_bufs)
            free(mem);
        return ROCKY_ENOMEM;
    }
    uint8_t *const first = buf + prefix_max;
    uint8_t *w = first;
    for (size_t i = 0; i < n; i++) { /* ScopeSpans.spans */
        size_t bound = rocky_otel_span_size_bound(spans[i]);
        size_t packed = protobuf_c_message_get_packed_size(&ps[i].span.base);
        size_t need = 1 + varint_len(packed) + packed;
        /* The bound is meant to be worst-case; if it ever is not (a field
         * added without it), the span is dropped here, not written past
         * the buffer, and the plugin goes on. */
        if (packed > bound || need > cap - (size_t)(w - buf)) {
            skipped++;
            continue;
        }
        w = put_header(w, 2, packed);
        w += protobuf_c_message_pack(&ps[i].span.base, w);
    }
    size_t spans_len = (size_t)(w - first);
    size_t ss_len = field_len(scope_len) + spans_len;
    size_t rs_len = field_len(res_len) + field_len(ss_len);
    size_t prefix = 1 + varint_len(rs_len) + 1 + varint_len(res_len) + res_len +
                    1 + varint_len(ss_len) + 1 + varint_len(scope_len) +
                    scope_len;
    uint8_t *start = first - prefix;
    uint8_t *p = start;
    p = put_header(p, 1, rs_len);  /* Request.resource_spans      */
    p = put_header(p, 1, res_len); /*   ResourceSpans.resource    */
    p += protobuf_c_message_pack(resource, p);
    p = put_header(p, 2, ss_len);    /*   ResourceSpans.scope_spans */
    p = put_header(p, 1, scope_len); /*     ScopeSpans.scope        */
    p += protobuf_c_message_pack(scope, p);
    if (!scratch_bufs)
        free(mem);
    if (p != first) { /* a framing bug: never send it, never abort */
        if (!scratch_bufs)
            free(buf);
        return ROCKY_EINTERNAL;
    }
    size_t len = (size_t)(w - start);
    if (!scratch_bufs && start != buf) /* the caller frees *out */
        memmove(buf, start, len);
    else
        buf = start;
    *out = buf;
    *out_len = len;
    if (left_out)
        *left_out = skipped;
    return 0;
}
