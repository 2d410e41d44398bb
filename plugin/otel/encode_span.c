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
 *
 * One description of the span, describe(), runs twice: sizing (it adds up
 * bytes and keeps the two event lengths the header needs) and writing.
 * It is inlined into each with `write` constant, so each pass is straight
 * code: the sizing pass only adds, and every attribute key is a constant
 * the compiler copies inline. What is written can never differ from what
 * was sized: it is the same code.
 */
#include "encode_span.h"

#include <string.h>

#include "utf8.h"

#define HOT static inline __attribute__((always_inline))

/* One-byte field keys. */
#define TAG(field, type) ((uint8_t)((field) << 3 | (type)))
enum { VARINT = 0, FIXED64 = 1, LEN = 2 };

/* Where a pass is: the running size (sizing) or the cursor (writing), and
 * the attribute list being filled (its field tag, count, cap, dropped). */
struct emit {
    size_t n;
    uint8_t *w;
    int64_t limit;
    uint8_t tag;
    uint32_t n_attrs, cap, dropped;
    struct rocky_otel_span_plan *p;
};

HOT size_t ld(size_t payload)
{
    return 1 + rocky_otel_varint_len(payload) + payload;
}

HOT void put_ld(struct emit *o, uint8_t tag, size_t len)
{
    *o->w++ = tag;
    o->w = rocky_otel_put_varint(o->w, len);
}

/* Copy `len` bytes, touching no byte outside [d, d + len) or [s, s + len):
 * the strings here are short (names, ids, a 64-char hash), where libc's
 * memcpy costs more in its call and dispatch than in copying. Overlapping
 * pairs of loads cover every length of a size class with two moves.
 * gcc, inlining it where the source is a short literal (a status name, a
 * prefix), warns about the wider branches its length can never take: not
 * a real access. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
HOT void copy_short(uint8_t *d, const uint8_t *s, size_t len)
{
    uint64_t a, b;
    if (len >= 16) {
        if (len > 32) {
            memcpy(d, s, len);
            return;
        }
        uint64_t c, e; /* 16 from the start, 16 up to the end */
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        memcpy(&c, s + len - 16, 8);
        memcpy(&e, s + len - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + 8, &b, 8);
        memcpy(d + len - 16, &c, 8);
        memcpy(d + len - 8, &e, 8);
    } else if (len >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + len - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + len - 8, &b, 8);
    } else if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + len - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + len - 4, &y, 4);
    } else if (len) { /* 1..3: first, middle, last */
        uint8_t x = s[0], y = s[len / 2], z = s[len - 1];
        d[0] = x;
        d[len / 2] = y;
        d[len - 1] = z;
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

HOT void put_raw(struct emit *o, const void *p, size_t len)
{
    /* A constant length (keys, fixed values, ids): memcpy, which the
     * compiler inlines. (An empty piece may have a NULL pointer: nothing
     * is read then.) */
    if (__builtin_constant_p(len))
        memcpy(o->w, p, len);
    else
        copy_short(o->w, p, len);
    o->w += len;
}

/* A length-delimited field (bytes, string), written even when empty: the
 * callers leave out the proto3 defaults. */
HOT void bytes_field(struct emit *o, const int write, uint8_t tag,
                     const void *p, size_t len)
{
    if (!write) {
        o->n += ld(len);
        return;
    }
    put_ld(o, tag, len);
    put_raw(o, p, len);
}

/* fixed64 and varint fields: left out when 0 (proto3). */
HOT void fixed64_field(struct emit *o, const int write, uint8_t tag, uint64_t v)
{
    if (!v)
        return;
    if (!write) {
        o->n += 9;
        return;
    }
    *o->w++ = tag;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(o->w, &v, 8); /* fixed64 is little-endian: the host's order */
#else
    for (int i = 0; i < 8; i++)
        o->w[i] = (uint8_t)(v >> (8 * i));
#endif
    o->w += 8;
}

HOT void varint_field(struct emit *o, const int write, uint8_t tag, uint64_t v)
{
    if (!v)
        return;
    if (!write) {
        o->n += 1 + rocky_otel_varint_len(v);
        return;
    }
    *o->w++ = tag;
    o->w = rocky_otel_put_varint(o->w, v);
}

/* ---- attributes ------------------------------------------------------ */

/* Room for one more attribute in the list, or count it dropped. */
HOT int attr_room(struct emit *o)
{
    if (o->n_attrs == o->cap) {
        o->dropped++;
        return 0;
    }
    o->n_attrs++;
    return 1;
}

/* KeyValue{key, AnyValue{string_value = a + b}}: `a` is ASCII (its bytes
 * are its characters); the value is cut to `limit` characters as
 * OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT asks; an empty value is left out. Keys
 * are shorter than 128 bytes (one-byte length). */
HOT void attr_str2(struct emit *o, const int write, const char *key,
                   size_t key_len, const char *a, size_t a_len, const char *b,
                   size_t b_len)
{
    if (a_len + b_len == 0 || !attr_room(o))
        return;
    if (o->limit >= 0 && (uint64_t)(a_len + b_len) > (uint64_t)o->limit) {
        if ((uint64_t)o->limit <= a_len) {
            a_len = (size_t)o->limit;
            b_len = 0;
        } else {
            b_len = rocky_otel_utf8_prefix(b, b_len, (size_t)o->limit - a_len);
        }
    }
    size_t s_len = a_len + b_len;
    if (s_len + key_len < 122) {
        /* Nearly every attribute: the KeyValue is under 128 bytes, so its
         * three lengths are one byte each (kv = 6 + key + value < 128)
         * and the sizes are plain sums. Same bytes as below. */
        if (!write) {
            o->n += 8 + key_len + s_len;
            return;
        }
        uint8_t *w = o->w;
        w[0] = o->tag;
        w[1] = (uint8_t)(6 + key_len + s_len);
        w[2] = TAG(1, LEN); /* KeyValue.key */
        w[3] = (uint8_t)key_len;
        memcpy(w + 4, key, key_len);
        w += 4 + key_len;
        w[0] = TAG(2, LEN); /* KeyValue.value */
        w[1] = (uint8_t)(2 + s_len);
        w[2] = TAG(1, LEN); /* AnyValue.string_value */
        w[3] = (uint8_t)s_len;
        o->w = w + 4;
        put_raw(o, a, a_len);
        put_raw(o, b, b_len);
        return;
    }
    size_t any = ld(s_len);
    size_t kv = 2 + key_len + ld(any);
    if (!write) {
        o->n += ld(kv);
        return;
    }
    put_ld(o, o->tag, kv);
    *o->w++ = TAG(1, LEN); /* KeyValue.key */
    *o->w++ = (uint8_t)key_len;
    memcpy(o->w, key, key_len);
    o->w += key_len;
    put_ld(o, TAG(2, LEN), any);   /* KeyValue.value */
    put_ld(o, TAG(1, LEN), s_len); /* AnyValue.string_value */
    put_raw(o, a, a_len);
    put_raw(o, b, b_len);
}

HOT void attr_int(struct emit *o, const int write, const char *key,
                  size_t key_len, int64_t value)
{
    if (!attr_room(o))
        return;
    uint64_t v = (uint64_t)value; /* int64: two's complement varint */
    size_t any = 1 + rocky_otel_varint_len(v);
    size_t kv = 2 + key_len + ld(any);
    if (!write) {
        /* any <= 11: with a key under 112 bytes (every key here, so the
         * test folds away) the KeyValue's length is one byte. */
        o->n += key_len < 112 ? 2 + kv : ld(kv);
        return;
    }
    put_ld(o, o->tag, kv);
    *o->w++ = TAG(1, LEN);
    *o->w++ = (uint8_t)key_len;
    memcpy(o->w, key, key_len);
    o->w += key_len;
    put_ld(o, TAG(2, LEN), any);
    *o->w++ = TAG(3, VARINT); /* AnyValue.int_value */
    o->w = rocky_otel_put_varint(o->w, v);
}

/* Keys are string literals: their length is a constant. */
#define STR(key, s)                                                            \
    attr_str2(o, write, key, sizeof key - 1, "", 0, (s).p, (s).len)
#define CSTR(key, s)                                                           \
    attr_str2(o, write, key, sizeof key - 1, "", 0, s, strlen(s))
#define INT(key, v) attr_int(o, write, key, sizeof key - 1, v)
#define CAT(key, a, s)                                                         \
    attr_str2(o, write, key, sizeof key - 1, a, sizeof a - 1, (s).p, (s).len)

HOT void attrs_begin(struct emit *o, uint8_t tag, uint32_t cap)
{
    o->tag = tag;
    o->n_attrs = 0;
    o->dropped = 0;
    o->cap = cap;
}

/* ---- events ---------------------------------------------------------- */

/* Span.events[i]: its header needs its length, which the sizing pass
 * keeps in the plan for the writing pass. Returns the running size the
 * event started at (sizing). */
HOT size_t event_begin(struct emit *o, const int write, unsigned i,
                       const char *name, size_t name_len, int64_t time_ns)
{
    size_t at = o->n;
    if (!write)
        o->n = 0;
    else
        put_ld(o, TAG(11, LEN), o->p->event_len[i]);
    fixed64_field(o, write, TAG(1, FIXED64),
                  (uint64_t)(time_ns > 0 ? time_ns : 0));
    bytes_field(o, write, TAG(2, LEN), name, name_len);
    attrs_begin(o, TAG(3, LEN), ROCKY_OTEL_ATTRS_PER_EVENT);
    return at;
}

HOT void event_end(struct emit *o, const int write, unsigned i, size_t at)
{
    varint_field(o, write, TAG(4, VARINT), o->dropped);
    if (!write) {
        o->p->event_len[i] = o->n;
        o->n = at + ld(o->n);
    }
}

#define EVENT_BEGIN(i, name, t)                                                \
    size_t at##i = event_begin(o, write, i, name, sizeof name - 1, t)

/* A status name measured once: it is both an attribute and, on error, the
 * status message. */
HOT struct rocky_otel_str name_str(const char *s)
{
    return (struct rocky_otel_str){s, (uint32_t)strlen(s)};
}

static int is_failed_status(uint32_t status)
{
    return status == ROCKY_MODEL_FAILED || status == ROCKY_MODEL_INTERRUPTED;
}

HOT uint64_t wall(int64_t ns)
{
    return (uint64_t)(ns > 0 ? ns : 0);
}

/* ---- the span -------------------------------------------------------- */

HOT void describe(struct emit *o, const struct rocky_otel_span_view *v,
                  const int write)
{
    bytes_field(o, write, TAG(1, LEN), v->trace_id, ROCKY_TRACE_ID_SIZE);
    bytes_field(o, write, TAG(2, LEN), v->span_id, ROCKY_SPAN_ID_SIZE);
    /* The caller's W3C tracestate belongs to the root span only. */
    if (v->kind == ROCKY_OTEL_SPAN_RUN && v->trace_state.len)
        bytes_field(o, write, TAG(3, LEN), v->trace_state.p,
                    v->trace_state.len);
    if (v->parent_span_id)
        bytes_field(o, write, TAG(4, LEN), v->parent_span_id,
                    ROCKY_SPAN_ID_SIZE);
    if (v->kind == ROCKY_OTEL_SPAN_RUN)
        bytes_field(o, write, TAG(5, LEN), "run", 3);
    else if (v->kind == ROCKY_OTEL_SPAN_STATEMENT)
        bytes_field(o, write, TAG(5, LEN), "statement.execute", 17);
    else
        bytes_field(o, write, TAG(5, LEN), "materialize.table", 17);
    varint_field(o, write, TAG(6, VARINT), 1); /* SPAN_KIND_INTERNAL */
    uint64_t start = wall(v->start_wall_ns), end = wall(v->end_wall_ns);
    fixed64_field(o, write, TAG(7, FIXED64), start);
    fixed64_field(o, write, TAG(8, FIXED64), end < start ? start : end);

    attrs_begin(o, TAG(9, LEN), ROCKY_OTEL_ATTRS_PER_SPAN);
    struct rocky_otel_str err_text;
    int error;
    if (v->kind == ROCKY_OTEL_SPAN_RUN) {
        /* Upstream's root span: `run` with `run_id` (rocky-cli run.rs). */
        const struct rocky_otel_str status =
            name_str(rocky_run_status_name(v->status));
        STR("run_id", v->run_id);
        STR("rocky.run.id", v->run_id);
        STR("rocky.project", v->project);
        STR("rocky.run.trigger", v->trigger);
        STR("rocky.run.status", status);
        INT("rocky.run.models_total", v->models_total);
        INT("rocky.run.models_succeeded", v->models_succeeded);
        INT("rocky.run.models_failed", v->models_failed);
        INT("rocky.run.models_skipped", v->models_skipped);
        STR("rocky.version", v->version);
        err_text = status;
        error = v->status != ROCKY_RUN_SUCCESS;
    } else if (v->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        /* Upstream's statement.execute (its warehouse adapters), with the
         * canonical keys of rocky-observe span_attrs.rs. */
        const struct rocky_otel_str status =
            name_str(rocky_model_status_name(v->status));
        STR("rocky.adapter.name", v->adapter);
        CSTR("rocky.statement.kind", rocky_statement_kind_name(v->stmt_kind));
        INT("rocky.retry.attempt", v->attempt);
        STR("rocky.warehouse.table_ref", v->target);
        /* OTel database semantic conventions. */
        STR("db.system.name", v->adapter);
        /* Ours. */
        STR("rocky.model.name", v->name);
        INT("rocky.statement.sequence", v->sequence);
        STR("rocky.statement.status", status);
        if (v->rows_affected >= 0)
            INT("rocky.statement.rows_affected", v->rows_affected);
        STR("rocky.run.id", v->run_id);
        err_text = v->error.len ? v->error : status;
        error = is_failed_status(v->status);
    } else {
        const struct rocky_otel_str status =
            name_str(rocky_model_status_name(v->status));
        /* Upstream's (rocky-core dag_executor.rs): the DAG node id
         * "<kind>:<name>" and its kind; a SQL model is a transformation.
         * Written as two pieces: no formatting, no copy. */
        CAT("rocky.model.fqn", "transformation:", v->name);
        CSTR("rocky.model.kind", "transformation");
        CAT("rocky.warehouse.table_ref", "main.", v->name);
        /* Ours. */
        STR("rocky.model.name", v->name);
        CSTR("rocky.model.materialization", "table");
        STR("rocky.model.status", status);
        if (v->rows_affected >= 0)
            INT("rocky.model.rows_affected", v->rows_affected);
        if (v->bytes_written >= 0)
            INT("rocky.model.bytes_written", v->bytes_written);
        STR("rocky.model.sql_hash", v->sql_hash);
        INT("rocky.model.attempt", v->attempt);
        STR("rocky.adapter.name", v->adapter);
        STR("rocky.run.id", v->run_id);
        err_text = v->error.len ? v->error : status;
        error = is_failed_status(v->status);
    }
    varint_field(o, write, TAG(10, VARINT), o->dropped);

    if (v->kind == ROCKY_OTEL_SPAN_RUN) {
        /* no events */
    } else if (v->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        if (v->attempt > 1) {
            /* Retried after a transient error (SQLite: the schema changed
             * under it): one event for the retries, upstream's shape, with
             * the last attempt and the most the host would make. */
            EVENT_BEGIN(0, "statement_retry", v->end_wall_ns);
            STR("rocky.event.target", v->target);
            INT("rocky.event.attempt", v->attempt);
            INT("rocky.event.max_attempts", v->max_attempts);
            CSTR("rocky.event.error_class", "transient");
            event_end(o, write, 0, at0);
        }
    } else if (v->status == ROCKY_MODEL_FAILED) {
        /* Upstream's `rocky.event.*` events of a model execution
         * (rocky-observe events.rs), plus the OTel `exception` event. */
        EVENT_BEGIN(0, "materialize_error", v->end_wall_ns);
        STR("rocky.event.target", v->name);
        STR("rocky.event.error", v->error);
        /* The SQL failed: running it again would fail again. */
        CSTR("rocky.event.error_class", "permanent");
        event_end(o, write, 0, at0);
        /* OTel semantic conventions: exception.type and .message. */
        EVENT_BEGIN(1, "exception", v->end_wall_ns);
        CSTR("exception.type", "rocky.ModelFailed");
        if (v->error.len)
            STR("exception.message", v->error);
        else
            CSTR("exception.message", "failed");
        event_end(o, write, 1, at1);
    } else if (v->attempt > 1) {
        EVENT_BEGIN(0, "materialize_retry", v->start_wall_ns);
        STR("rocky.event.target", v->name);
        INT("rocky.event.attempt", v->attempt);
        event_end(o, write, 0, at0);
    }

    /* Span.status: always there (protobuf-c packs a set message even when
     * empty); ERROR with its message, or UNSET and empty. */
    size_t msg = error ? err_text.len : 0;
    size_t status_len = (msg ? ld(msg) : 0) + (error ? 2 : 0);
    if (!write) {
        o->n += ld(status_len);
        return;
    }
    put_ld(o, TAG(15, LEN), status_len);
    if (msg) {
        put_ld(o, TAG(2, LEN), msg);
        put_raw(o, err_text.p, msg);
    }
    if (error) {
        *o->w++ = TAG(3, VARINT);
        *o->w++ = 2; /* STATUS_CODE_ERROR */
    }
}

size_t rocky_otel_span_plan(const struct rocky_otel_span_view *v, int64_t limit,
                            struct rocky_otel_span_plan *p)
{
    struct emit o = {.n = 0, .w = NULL, .limit = limit, .p = p};
    p->v = v;
    p->limit = limit;
    /* No limit (the default) as its own copy: the compiler then drops the
     * cut's test from every attribute. */
    if (limit < 0) {
        o.limit = -1;
        describe(&o, v, 0);
    } else {
        describe(&o, v, 0);
    }
    p->size = o.n;
    return o.n;
}

uint8_t *rocky_otel_span_write(const struct rocky_otel_span_plan *p, uint8_t *w)
{
    /* The writing pass only reads the plan (event lengths). */
    struct emit o = {.n = 0,
                     .w = w,
                     .limit = p->limit,
                     .p = (struct rocky_otel_span_plan *)p};
    if (p->limit < 0) { /* as in plan */
        o.limit = -1;
        describe(&o, p->v, 1);
    } else {
        describe(&o, p->v, 1);
    }
    return o.w;
}
