/*
 * encode_trace.c — the trace request: the envelope (ExportTraceServiceRequest
 * > ResourceSpans > resource, ScopeSpans > scope, spans) framed here around
 * spans written by hand from their records (encode_span.h).
 *
 * No message tree, no per-span scratch: each span is planned (exact size)
 * and written straight into the request buffer, which is the memory gRPC
 * sends from (reqbuf.h). The resource and scope are protobuf-c packed once
 * per scratch and copied.
 */
#include "encode_trace.h"

#include <stdlib.h>
#include <string.h>

#include "encode_span.h"
#include "rocky/error.h"
#include "span_view.h"

#define ATTRS_PER_EVENT ROCKY_OTEL_ATTRS_PER_EVENT
#define ATTRS_PER_SPAN  ROCKY_OTEL_ATTRS_PER_SPAN

static size_t varint_len(size_t v)
{
    return rocky_otel_varint_len(v);
}

static size_t field_len(size_t payload)
{
    return 1 + varint_len(payload) + payload;
}

/* Tag (wire type 2) and length of field `number`; returns the end. */
static uint8_t *put_header(uint8_t *w, unsigned number, size_t payload)
{
    *w++ = (uint8_t)(number << 3 | 2);
    return rocky_otel_put_varint(w, payload);
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

/* The part of every span's bound that does not depend on the span: a
 * span no larger than this is within its bound whatever the rest adds. */
#define BOUND_BASE                                                             \
    (1 + 3 + STR_FIELD_MAX(16) + 2 * STR_FIELD_MAX(8) + STR_FIELD_MAX(32) +    \
     2 + 2 * 9 + 11 + (1 + 3 + 11) + ATTRS_PER_SPAN * INT_ATTR_MAX)

static size_t bound_of(const struct rocky_otel_span_view *s)
{
    /* Span header in the request, ids, name, kind, times, dropped count and
     * status code; then every attribute at its worst (ATTRS_PER_SPAN, each
     * as an int or as its string), the trace state and status message. This
     * bound is what the encoder reserves before it writes the span; a span
     * over it is left out (encode_trace.h), so it must never be short. */
    size_t n = BOUND_BASE;
    n += 2 * STR_ATTR_MAX(s->run_id.len); /* rocky.run.id, run_id */
    n += 4 * STR_ATTR_MAX(SHORT_VALUE_MAX) + STR_ATTR_MAX(s->adapter.len);
    if (s->kind == ROCKY_OTEL_SPAN_RUN) {
        n += STR_ATTR_MAX(s->project.len) + STR_ATTR_MAX(s->trigger.len) +
             STR_ATTR_MAX(s->version.len) + STR_ATTR_MAX(STATUS_NAME_MAX);
        n += STR_FIELD_MAX(s->trace_state.len);
        n += STR_FIELD_MAX(STATUS_NAME_MAX); /* status message */
    } else if (s->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        size_t name = s->name.len, err = s->error.len;
        n += STR_ATTR_MAX(name) + STR_ATTR_MAX(s->target.len) +
             STR_ATTR_MAX(STATUS_NAME_MAX);
        n += STR_FIELD_MAX(err + STATUS_NAME_MAX);   /* status message */
        n += EVENT_MAX(STR_ATTR_MAX(s->target.len)); /* statement_retry */
    } else {
        size_t name = s->name.len, err = s->error.len;
        /* rocky.model.name, .fqn ("transformation:" + name), table_ref
         * ("main." + name) */
        n += 3 * STR_ATTR_MAX(name + 16) + STR_ATTR_MAX(s->sql_hash.len) +
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

size_t rocky_otel_span_view_bound(const struct rocky_otel_span_view *view)
{
    return bound_of(view);
}

size_t rocky_otel_span_bound_max(void)
{
    /* Every string at the most its field can hold: the arrays of struct
     * rocky_otel_span less their NUL (what sanitizing and the in-place
     * views never exceed). */
    struct rocky_otel_span s;
    struct rocky_otel_span_view v;
    memset(&v, 0, sizeof v);
#define MAXLEN(field) ((uint32_t)sizeof s.field - 1)
    v.run_id.len = MAXLEN(run_id);
    v.adapter.len = MAXLEN(adapter);
    size_t most = 0, b;
    v.kind = ROCKY_OTEL_SPAN_RUN;
    v.project.len = MAXLEN(project);
    v.trigger.len = MAXLEN(trigger);
    v.version.len = MAXLEN(version);
    v.trace_state.len = MAXLEN(trace_state);
    most = bound_of(&v);
    v.project.len = v.trigger.len = v.version.len = v.trace_state.len = 0;
    v.kind = ROCKY_OTEL_SPAN_MODEL;
    v.name.len = MAXLEN(name);
    v.sql_hash.len = MAXLEN(sql_hash);
    v.error.len = MAXLEN(error);
    if ((b = bound_of(&v)) > most)
        most = b;
    v.kind = ROCKY_OTEL_SPAN_STATEMENT;
    v.sql_hash.len = 0;
    v.name.len = MAXLEN(stmt_model);
    v.target.len = MAXLEN(target);
    v.error.len = MAXLEN(stmt_error);
    if ((b = bound_of(&v)) > most)
        most = b;
#undef MAXLEN
    return most;
}

/* The resource and scope as protobuf-c packs them (they never change, so
 * once per scratch). */
static int pack_envelope(const struct rocky_otel_resource *res, uint8_t **out,
                         size_t *res_len, size_t *scope_len)
{
    *res_len = protobuf_c_message_get_packed_size(&res->resource.base);
    *scope_len = protobuf_c_message_get_packed_size(&res->scope.base);
    uint8_t *b = malloc(*res_len + *scope_len + 1);
    if (!b)
        return ROCKY_ENOMEM;
    protobuf_c_message_pack(&res->resource.base, b);
    protobuf_c_message_pack(&res->scope.base, b + *res_len);
    *out = b;
    return 0;
}

void rocky_otel_encode_scratch_free(struct rocky_otel_encode_scratch *s)
{
    rocky_otel_reqbuf_unref(s->req);
    rocky_otel_bufpool_close(s->pool);
    free(s->packed);
    memset(s, 0, sizeof *s);
}

/* Make room for `need` more bytes after the `used` of the request being
 * written (and a guess at the `left` spans to come). The buffer is still
 * ours alone, so it is simply moved into a larger one. */
static int grow(struct rocky_otel_encode_scratch *scratch,
                struct rocky_otel_reqbuf **rb, uint8_t **buf, size_t *cap,
                size_t used, size_t need, size_t left)
{
    size_t want = *cap * 2;
    if (want < used + need + left * 256)
        want = used + need + left * 256;
    if (!scratch) {
        uint8_t *b = realloc(*buf, want);
        if (!b)
            return ROCKY_ENOMEM;
        *buf = b;
        *cap = want;
        return 0;
    }
    struct rocky_otel_reqbuf *nb = rocky_otel_reqbuf_get(scratch->pool, want);
    if (!nb)
        return ROCKY_ENOMEM;
    memcpy(nb->data, *buf, used);
    rocky_otel_reqbuf_unref(*rb);
    *rb = nb;
    *buf = nb->data;
    *cap = nb->cap;
    return 0;
}

/* Idle request buffers kept: one per request gRPC may still hold plus the
 * one being written. */
#define POOL_KEEP 4

int rocky_otel_encode_traces(const struct rocky_otel_resource *res,
                             const struct rocky_otel_span *const *spans,
                             size_t n, int64_t limit,
                             struct rocky_otel_encode_scratch *scratch,
                             uint8_t **out, size_t *out_len, size_t *left_out)
{
    /* The views, then pointers to them, in one block (a view may point
     * into itself, so each stays where it was made). */
    struct rocky_otel_span_view *views =
        malloc(n ? n * (sizeof *views + sizeof(void *)) : 1);
    if (!views)
        return ROCKY_ENOMEM;
    const struct rocky_otel_span_view **ptrs =
        (const struct rocky_otel_span_view **)(void *)(views + n);
    for (size_t i = 0; i < n; i++) {
        rocky_otel_span_view_of(spans[i], &views[i]);
        ptrs[i] = &views[i];
    }
    int rc = rocky_otel_encode_trace_views(res, ptrs, n, limit, scratch, out,
                                           out_len, left_out);
    free(views);
    return rc;
}

int rocky_otel_encode_trace_views(
    const struct rocky_otel_resource *res,
    const struct rocky_otel_span_view *const *views, size_t n, int64_t limit,
    struct rocky_otel_encode_scratch *scratch, uint8_t **out, size_t *out_len,
    size_t *left_out)
{
    if (left_out)
        *left_out = 0;
    uint8_t *env = NULL;
    size_t res_len, scope_len;
    if (scratch && scratch->packed && scratch->packed_for == res) {
        env = scratch->packed;
        res_len = scratch->res_len;
        scope_len = scratch->scope_len;
    } else {
        if (pack_envelope(res, &env, &res_len, &scope_len) != 0)
            return ROCKY_ENOMEM;
        if (scratch) {
            free(scratch->packed);
            scratch->packed = env;
            scratch->packed_for = res;
            scratch->res_len = res_len;
            scratch->scope_len = scope_len;
        }
    }

    /* Room: the envelope's worst-case framing, then the spans at the size
     * they had last time (a guess: the buffer grows when a span does not
     * fit, before anything else holds it). The spans are written first,
     * after the framing's room; the envelope is framed backwards right
     * before the first span once their total is known. */
    size_t prefix_max = 4 * (1 + 10) + res_len + scope_len;
    size_t per_span = scratch && scratch->span_hint ? scratch->span_hint : 640;
    size_t cap = prefix_max + n * per_span;

    uint8_t *buf;
    struct rocky_otel_reqbuf *rb = NULL;
    if (scratch) {
        if (!scratch->pool)
            scratch->pool = rocky_otel_bufpool_new(POOL_KEEP);
        /* The last request's buffer goes back to the pool (or stays with
         * gRPC until it lets go). */
        rocky_otel_reqbuf_unref(scratch->req);
        scratch->req = NULL;
        rb = scratch->pool ? rocky_otel_reqbuf_get(scratch->pool, cap) : NULL;
        buf = rb ? rb->data : NULL;
        cap = rb ? rb->cap : 0;
    } else {
        buf = malloc(cap);
    }
    if (!buf) {
        if (!scratch)
            free(env);
        return ROCKY_ENOMEM;
    }

    size_t skipped = 0, written = 0;
    int rc = 0;
    size_t at = prefix_max; /* the next span's offset in buf */
    struct rocky_otel_span_plan plan;
    for (size_t i = 0; i < n; i++) { /* ScopeSpans.spans */
        const struct rocky_otel_span_view *view = views[i];
        size_t size = rocky_otel_span_plan(view, limit, &plan);
        size_t need = 1 + varint_len(size) + size;
        /* The bound is meant to be worst-case (the exporter cut the batch
         * with it); if it ever is not (a field added without it), the span
         * is left out here and the plugin goes on. */
        if (need > BOUND_BASE && need > bound_of(view)) {
            skipped++;
            continue;
        }
        if (need > cap - at &&
            grow(scratch, &rb, &buf, &cap, at, need, n - i) != 0) {
            rc = ROCKY_ENOMEM;
            break;
        }
        uint8_t *w = put_header(buf + at, 2, size);
        uint8_t *end = rocky_otel_span_write(&plan, w);
        if ((size_t)(end - w) != size) { /* planner and writer disagree */
            rc = ROCKY_EINTERNAL;
            break;
        }
        at = (size_t)(end - buf);
        written++;
    }
    uint8_t *const first = buf + prefix_max;
    uint8_t *w = buf + at;
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
    memcpy(p, env, res_len);
    p += res_len;
    p = put_header(p, 2, ss_len);    /*   ResourceSpans.scope_spans */
    p = put_header(p, 1, scope_len); /*     ScopeSpans.scope        */
    memcpy(p, env + res_len, scope_len);
    p += scope_len;
    if (!scratch)
        free(env);
    if (rc == 0 && p != first) /* a framing bug: never send it, never abort */
        rc = ROCKY_EINTERNAL;
    if (rc != 0) {
        if (scratch)
            rocky_otel_reqbuf_unref(rb);
        else
            free(buf);
        return rc;
    }
    size_t len = (size_t)(w - start);
    if (!scratch) { /* the caller frees *out */
        memmove(buf, start, len);
        start = buf;
    } else {
        scratch->req = rb;
        /* Next time's guess: a little over this request's average. */
        if (written)
            scratch->span_hint =
                spans_len / written + spans_len / written / 4 + 64;
    }
    *out = start;
    *out_len = len;
    if (left_out)
        *left_out = skipped;
    return 0;
}
