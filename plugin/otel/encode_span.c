/*
 * encode_span.c — a span's OTLP bytes from its view, by hand.
 *
 * Wire format facts relied on (protobuf encoding, proto3): a field is a
 * varint key (number << 3 | wire type) — one byte for every field here,
 * numbers < 16 — then a varint (type 0), 8 little-endian bytes (type 1,
 * fixed64) or a varint length and that many bytes (type 2). protobuf-c
 * writes fields in field-number order and leaves out proto3 defaults (0,
 * empty string or bytes, NULL message); a oneof member (AnyValue's value)
 * and a set message field (Span.status, KeyValue.value) are written even
 * when empty. The identity test holds this file to those bytes.
 */
#include "encode_span.h"

#include <string.h>

#include "utf8.h"

/* The small helpers below run a dozen times per span: inlined, so a span
 * costs its bytes rather than its calls. */
#define HOT static inline __attribute__((always_inline))

/* One-byte field keys. */
#define TAG(field, type) ((uint8_t)((field) << 3 | (type)))
enum { VARINT = 0, FIXED64 = 1, LEN = 2 };

HOT size_t cstr_len(const char *s)
{
    return s ? strlen(s) : 0;
}

/* Bytes of a length-delimited field of `payload` bytes, key included. */
HOT size_t ld(size_t payload)
{
    return 1 + rocky_otel_varint_len(payload) + payload;
}

/* ---- planning -------------------------------------------------------- */

struct attrs {
    struct rocky_otel_attr_plan *a;
    uint32_t n, cap, dropped;
    int64_t limit;
};

#define KEY(k) k, sizeof k - 1

HOT void finish(struct rocky_otel_attr_plan *a)
{
    a->kv_len = (uint32_t)(ld(a->key_len) + ld(a->any_len));
}

/* A string attribute `a`+`b` (`a` ASCII, so its bytes are its characters),
 * cut to `limit` characters as OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT asks; an
 * empty value is left out, one past the cap is counted as dropped. */
HOT void attr_str2(struct attrs *l, const char *key, uint32_t key_len,
                   const char *a, uint32_t a_len, const char *b, uint32_t b_len)
{
    if (a_len + b_len == 0)
        return;
    if (l->n == l->cap) {
        l->dropped++;
        return;
    }
    if (l->limit >= 0 && (uint64_t)a_len + b_len > (uint64_t)l->limit) {
        if ((uint64_t)l->limit <= a_len) {
            a_len = (uint32_t)l->limit;
            b_len = 0;
        } else {
            b_len = (uint32_t)rocky_otel_utf8_prefix(b, b_len,
                                                     (size_t)l->limit - a_len);
        }
    }
    struct rocky_otel_attr_plan *p = &l->a[l->n++];
    p->key = key;
    p->key_len = key_len;
    p->is_int = 0;
    p->a = a;
    p->a_len = a_len;
    p->b = b;
    p->b_len = b_len;
    p->any_len = (uint32_t)ld((size_t)a_len + b_len);
    finish(p);
}

HOT void attr_str(struct attrs *l, const char *key, uint32_t key_len,
                  struct rocky_otel_str v)
{
    attr_str2(l, key, key_len, "", 0, v.p, v.len);
}

HOT void attr_cstr(struct attrs *l, const char *key, uint32_t key_len,
                   const char *v)
{
    attr_str2(l, key, key_len, "", 0, v, (uint32_t)cstr_len(v));
}

HOT void attr_int(struct attrs *l, const char *key, uint32_t key_len, int64_t v)
{
    if (l->n == l->cap) {
        l->dropped++;
        return;
    }
    struct rocky_otel_attr_plan *p = &l->a[l->n++];
    p->key = key;
    p->key_len = key_len;
    p->is_int = 1;
    p->int_value = (uint64_t)v;
    p->any_len = (uint32_t)(1 + rocky_otel_varint_len(p->int_value));
    finish(p);
}

static size_t attrs_len(const struct rocky_otel_attr_plan *a, uint32_t n)
{
    size_t len = 0;
    for (uint32_t i = 0; i < n; i++)
        len += ld(a[i].kv_len);
    return len;
}

static uint64_t wall(int64_t ns)
{
    return (uint64_t)(ns > 0 ? ns : 0);
}

static struct attrs event_begin(struct rocky_otel_span_plan *p,
                                const char *name, uint32_t name_len,
                                int64_t time_ns, int64_t limit)
{
    struct rocky_otel_event_plan *e = &p->events[p->n_events];
    e->name = name;
    e->name_len = name_len;
    e->time_ns = wall(time_ns);
    struct attrs l = {e->attrs, 0, ROCKY_OTEL_ATTRS_PER_EVENT, 0, limit};
    return l;
}

static void event_end(struct rocky_otel_span_plan *p, const struct attrs *l)
{
    struct rocky_otel_event_plan *e = &p->events[p->n_events++];
    e->n_attrs = l->n;
    e->dropped = l->dropped;
    size_t len = (e->time_ns ? 9 : 0) + ld(e->name_len) +
                 attrs_len(e->attrs, e->n_attrs);
    if (e->dropped)
        len += 1 + rocky_otel_varint_len(e->dropped);
    e->len = (uint32_t)len;
}

/* Upstream's `rocky.event.*` events of a model execution (rocky-observe
 * events.rs), plus the OTel `exception` event. */
static void model_events(struct rocky_otel_span_plan *p,
                         const struct rocky_otel_span_view *v, int64_t limit)
{
    struct attrs l;
    if (v->status == ROCKY_MODEL_FAILED) {
        l = event_begin(p, KEY("materialize_error"), v->end_wall_ns, limit);
        attr_str(&l, KEY("rocky.event.target"), v->name);
        attr_str(&l, KEY("rocky.event.error"), v->error);
        /* The SQL failed: running it again would fail again. */
        attr_cstr(&l, KEY("rocky.event.error_class"), "permanent");
        event_end(p, &l);
        /* OTel semantic conventions: exception.type and .message. */
        l = event_begin(p, KEY("exception"), v->end_wall_ns, limit);
        attr_cstr(&l, KEY("exception.type"), "rocky.ModelFailed");
        if (v->error.len)
            attr_str(&l, KEY("exception.message"), v->error);
        else
            attr_cstr(&l, KEY("exception.message"), "failed");
        event_end(p, &l);
    } else if (v->attempt > 1) {
        l = event_begin(p, KEY("materialize_retry"), v->start_wall_ns, limit);
        attr_str(&l, KEY("rocky.event.target"), v->name);
        attr_int(&l, KEY("rocky.event.attempt"), v->attempt);
        event_end(p, &l);
    }
}

static int is_failed_status(uint32_t status)
{
    return status == ROCKY_MODEL_FAILED || status == ROCKY_MODEL_INTERRUPTED;
}

static struct rocky_otel_str str_of(const char *s)
{
    struct rocky_otel_str r = {s, (uint32_t)cstr_len(s)};
    return r;
}

size_t rocky_otel_span_plan(const struct rocky_otel_span_view *v, int64_t limit,
                            struct rocky_otel_span_plan *p)
{
    static const char fqn_prefix[] = "transformation:", ref_prefix[] = "main.";
    p->v = v;
    p->n_events = 0;
    p->start_ns = wall(v->start_wall_ns);
    p->end_ns = wall(v->end_wall_ns);
    if (p->end_ns < p->start_ns)
        p->end_ns = p->start_ns;
    struct attrs l = {p->attrs, 0, ROCKY_OTEL_ATTRS_PER_SPAN, 0, limit};
    struct rocky_otel_str err_text;
    int error;
    /* The caller's W3C tracestate belongs to the root span only. */
    p->trace_state = (struct rocky_otel_str){"", 0};
    if (v->kind == ROCKY_OTEL_SPAN_RUN) {
        /* Upstream's root span: `run` with `run_id` (rocky-cli run.rs). */
        p->name = "run";
        p->name_len = 3;
        p->trace_state = v->trace_state;
        attr_str(&l, KEY("run_id"), v->run_id);
        attr_str(&l, KEY("rocky.run.id"), v->run_id);
        attr_str(&l, KEY("rocky.project"), v->project);
        attr_str(&l, KEY("rocky.run.trigger"), v->trigger);
        attr_cstr(&l, KEY("rocky.run.status"),
                  rocky_run_status_name(v->status));
        attr_int(&l, KEY("rocky.run.models_total"), v->models_total);
        attr_int(&l, KEY("rocky.run.models_succeeded"), v->models_succeeded);
        attr_int(&l, KEY("rocky.run.models_failed"), v->models_failed);
        attr_int(&l, KEY("rocky.run.models_skipped"), v->models_skipped);
        attr_str(&l, KEY("rocky.version"), v->version);
        err_text = str_of(rocky_run_status_name(v->status));
        error = v->status != ROCKY_RUN_SUCCESS;
    } else if (v->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        /* Upstream's statement.execute (its warehouse adapters), with the
         * canonical keys of rocky-observe span_attrs.rs. */
        p->name = "statement.execute";
        p->name_len = sizeof "statement.execute" - 1;
        attr_str(&l, KEY("rocky.adapter.name"), v->adapter);
        attr_cstr(&l, KEY("rocky.statement.kind"),
                  rocky_statement_kind_name(v->stmt_kind));
        attr_int(&l, KEY("rocky.retry.attempt"), v->attempt);
        attr_str(&l, KEY("rocky.warehouse.table_ref"), v->target);
        /* OTel database semantic conventions. */
        attr_str(&l, KEY("db.system.name"), v->adapter);
        /* Ours. */
        attr_str(&l, KEY("rocky.model.name"), v->name);
        attr_int(&l, KEY("rocky.statement.sequence"), v->sequence);
        attr_cstr(&l, KEY("rocky.statement.status"),
                  rocky_model_status_name(v->status));
        if (v->rows_affected >= 0)
            attr_int(&l, KEY("rocky.statement.rows_affected"),
                     v->rows_affected);
        attr_str(&l, KEY("rocky.run.id"), v->run_id);
        err_text = v->error.len ? v->error
                                : str_of(rocky_model_status_name(v->status));
        error = is_failed_status(v->status);
    } else {
        p->name = "materialize.table";
        p->name_len = sizeof "materialize.table" - 1;
        /* Upstream's (rocky-core dag_executor.rs): the DAG node id
         * "<kind>:<name>" and its kind; a SQL model is a transformation.
         * Written as two pieces: no formatting, no copy. */
        attr_str2(&l, KEY("rocky.model.fqn"), fqn_prefix, sizeof fqn_prefix - 1,
                  v->name.p, v->name.len);
        attr_cstr(&l, KEY("rocky.model.kind"), "transformation");
        attr_str2(&l, KEY("rocky.warehouse.table_ref"), ref_prefix,
                  sizeof ref_prefix - 1, v->name.p, v->name.len);
        /* Ours. */
        attr_str(&l, KEY("rocky.model.name"), v->name);
        attr_cstr(&l, KEY("rocky.model.materialization"), "table");
        attr_cstr(&l, KEY("rocky.model.status"),
                  rocky_model_status_name(v->status));
        if (v->rows_affected >= 0)
            attr_int(&l, KEY("rocky.model.rows_affected"), v->rows_affected);
        if (v->bytes_written >= 0)
            attr_int(&l, KEY("rocky.model.bytes_written"), v->bytes_written);
        attr_str(&l, KEY("rocky.model.sql_hash"), v->sql_hash);
        attr_int(&l, KEY("rocky.model.attempt"), v->attempt);
        attr_str(&l, KEY("rocky.adapter.name"), v->adapter);
        attr_str(&l, KEY("rocky.run.id"), v->run_id);
        err_text = v->error.len ? v->error
                                : str_of(rocky_model_status_name(v->status));
        error = is_failed_status(v->status);
    }
    p->n_attrs = l.n;
    p->dropped = l.dropped;
    if (v->kind == ROCKY_OTEL_SPAN_RUN) {
        /* no events */
    } else if (v->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        if (v->attempt > 1) {
            /* Retried after a transient error (SQLite: the schema changed
             * under it): one event for the retries, upstream's shape, with
             * the last attempt and the most the host would make. */
            struct attrs e =
                event_begin(p, KEY("statement_retry"), v->end_wall_ns, limit);
            attr_str(&e, KEY("rocky.event.target"), v->target);
            attr_int(&e, KEY("rocky.event.attempt"), v->attempt);
            attr_int(&e, KEY("rocky.event.max_attempts"), v->max_attempts);
            attr_cstr(&e, KEY("rocky.event.error_class"), "transient");
            event_end(p, &e);
        }
    } else {
        model_events(p, v, limit);
    }
    p->status_code = error ? 2 : 0; /* STATUS_CODE_ERROR : UNSET */
    p->status_message = error ? err_text : (struct rocky_otel_str){"", 0};
    p->status_len =
        (uint32_t)((p->status_message.len ? ld(p->status_message.len) : 0) +
                   (p->status_code ? 2 : 0));

    /* The Span message, field by field in number order. */
    size_t n = ld(ROCKY_TRACE_ID_SIZE) + ld(ROCKY_SPAN_ID_SIZE);
    if (p->trace_state.len)
        n += ld(p->trace_state.len);
    if (v->parent_span_id)
        n += ld(ROCKY_SPAN_ID_SIZE);
    n += ld(p->name_len) + 2; /* name; kind INTERNAL */
    n += (p->start_ns ? 9 : 0) + (p->end_ns ? 9 : 0);
    n += attrs_len(p->attrs, p->n_attrs);
    if (p->dropped)
        n += 1 + rocky_otel_varint_len(p->dropped);
    for (uint32_t i = 0; i < p->n_events; i++)
        n += ld(p->events[i].len);
    n += ld(p->status_len);
    p->size = n;
    return n;
}

/* ---- writing --------------------------------------------------------- */

HOT uint8_t *put_ld(uint8_t *w, uint8_t tag, size_t len)
{
    *w++ = tag;
    return rocky_otel_put_varint(w, len);
}

HOT uint8_t *put_bytes(uint8_t *w, uint8_t tag, const void *p, size_t len)
{
    w = put_ld(w, tag, len);
    memcpy(w, p, len);
    return w + len;
}

HOT uint8_t *put_fixed64(uint8_t *w, uint8_t tag, uint64_t v)
{
    *w++ = tag;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(w, &v, 8); /* fixed64 is little-endian: the host's order */
#else
    for (int i = 0; i < 8; i++)
        w[i] = (uint8_t)(v >> (8 * i));
#endif
    return w + 8;
}

/* KeyValue as field `tag` of its parent. */
static uint8_t *put_attrs(uint8_t *w, uint8_t tag,
                          const struct rocky_otel_attr_plan *a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++, a++) {
        w = put_ld(w, tag, a->kv_len);
        w = put_bytes(w, TAG(1, LEN), a->key, a->key_len); /* key */
        w = put_ld(w, TAG(2, LEN), a->any_len);            /* value */
        if (a->is_int) {
            *w++ = TAG(3, VARINT); /* AnyValue.int_value */
            w = rocky_otel_put_varint(w, a->int_value);
        } else {
            /* AnyValue.string_value */
            w = put_ld(w, TAG(1, LEN), (size_t)a->a_len + a->b_len);
            if (a->a_len) /* an empty piece may have a NULL pointer */
                memcpy(w, a->a, a->a_len);
            w += a->a_len;
            if (a->b_len)
                memcpy(w, a->b, a->b_len);
            w += a->b_len;
        }
    }
    return w;
}

uint8_t *rocky_otel_span_write(const struct rocky_otel_span_plan *p, uint8_t *w)
{
    const struct rocky_otel_span_view *v = p->v;
    w = put_bytes(w, TAG(1, LEN), v->trace_id, ROCKY_TRACE_ID_SIZE);
    w = put_bytes(w, TAG(2, LEN), v->span_id, ROCKY_SPAN_ID_SIZE);
    if (p->trace_state.len)
        w = put_bytes(w, TAG(3, LEN), p->trace_state.p, p->trace_state.len);
    if (v->parent_span_id)
        w = put_bytes(w, TAG(4, LEN), v->parent_span_id, ROCKY_SPAN_ID_SIZE);
    w = put_bytes(w, TAG(5, LEN), p->name, p->name_len);
    *w++ = TAG(6, VARINT);
    *w++ = 1; /* SPAN_KIND_INTERNAL */
    if (p->start_ns)
        w = put_fixed64(w, TAG(7, FIXED64), p->start_ns);
    if (p->end_ns)
        w = put_fixed64(w, TAG(8, FIXED64), p->end_ns);
    w = put_attrs(w, TAG(9, LEN), p->attrs, p->n_attrs);
    if (p->dropped) {
        *w++ = TAG(10, VARINT);
        w = rocky_otel_put_varint(w, p->dropped);
    }
    for (uint32_t i = 0; i < p->n_events; i++) {
        const struct rocky_otel_event_plan *e = &p->events[i];
        w = put_ld(w, TAG(11, LEN), e->len);
        if (e->time_ns)
            w = put_fixed64(w, TAG(1, FIXED64), e->time_ns);
        w = put_bytes(w, TAG(2, LEN), e->name, e->name_len);
        w = put_attrs(w, TAG(3, LEN), e->attrs, e->n_attrs);
        if (e->dropped) {
            *w++ = TAG(4, VARINT);
            w = rocky_otel_put_varint(w, e->dropped);
        }
    }
    w = put_ld(w, TAG(15, LEN), p->status_len);
    if (p->status_message.len)
        w = put_bytes(w, TAG(2, LEN), p->status_message.p,
                      p->status_message.len);
    if (p->status_code) {
        *w++ = TAG(3, VARINT);
        *w++ = (uint8_t)p->status_code;
    }
    return w;
}
