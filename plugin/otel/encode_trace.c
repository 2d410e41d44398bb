/*
 * encode_trace.c — the trace request encoder (protobuf-c).
 *
 * All the message structs of one request come from one allocation, sized
 * up front, and point into the span records themselves for strings: one
 * calloc + one pack per request.
 */
#include "encode_trace.h"

#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "rocky/error.h"

typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;

#define ATTRS_PER_SPAN 10

struct per_span {
    pb_span span;
    pb_status status;
    rocky_otlp_kv kv[ATTRS_PER_SPAN];
    rocky_otlp_any av[ATTRS_PER_SPAN];
    rocky_otlp_kv *ptrs[ATTRS_PER_SPAN];
    char status_msg[48];
};

size_t rocky_otel_span_size_bound(const struct rocky_otel_span *s)
{
    /* Fixed part: ids, times, kind, status, 10 keys with tags and lengths
     * and int values; strings added at their length plus 3 length bytes. */
    size_t n = 512 + strlen(s->run_id);
    if (s->kind == ROCKY_OTEL_SPAN_RUN)
        n += strlen(s->project) + strlen(s->trigger) + strlen(s->version) +
             strlen(s->trace_state);
    else /* the error text goes once, as the status message */
        n += strlen(s->name) + strlen(s->sql_hash) + strlen(s->error);
    return n + 8 * 3;
}

static int is_error(const struct rocky_otel_span *s)
{
    if (s->kind == ROCKY_OTEL_SPAN_RUN)
        return s->status != ROCKY_RUN_SUCCESS;
    return s->status == ROCKY_MODEL_FAILED ||
           s->status == ROCKY_MODEL_INTERRUPTED;
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
    if (s->kind == ROCKY_OTEL_SPAN_RUN) {
        sp->name = "pipeline.run";
        sp->trace_state = (char *)s->trace_state;
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
    } else {
        sp->name = "materialize.table";
        rocky_otel_attr_str(&a, "rocky.model.name", s->name);
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
        rocky_otel_attr_str(&a, "rocky.run.id", s->run_id);
        err_text = s->error[0] ? s->error : rocky_model_status_name(s->status);
    }
    *scratch_used += a.scratch_used;
    sp->n_attributes = a.n;
    sp->attributes = a.ptrs;
    sp->dropped_attributes_count = a.dropped;
    opentelemetry__proto__trace__v1__status__init(&p->status);
    if (is_error(s)) {
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
                             uint8_t **out, size_t *out_len)
{
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

    Opentelemetry__Proto__Trace__V1__ScopeSpans ss;
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    ss.scope =
        (Opentelemetry__Proto__Common__V1__InstrumentationScope *)&res->scope;
    ss.n_spans = n;
    ss.spans = ptrs;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs;
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    rs.resource =
        (Opentelemetry__Proto__Resource__V1__Resource *)&res->resource;
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(
        &req);
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;

    size_t len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            &req);
    uint8_t *buf = scratch_bufs ? grow(&scratch_bufs->out,
                                       &scratch_bufs->out_cap, len ? len : 1)
                                : malloc(len ? len : 1);
    if (!buf) {
        if (!scratch_bufs)
            free(mem);
        return ROCKY_ENOMEM;
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
        &req, buf);
    if (!scratch_bufs)
        free(mem);
    *out = buf;
    *out_len = len;
    return 0;
}
