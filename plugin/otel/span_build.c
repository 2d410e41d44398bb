/*
 * span_build.c — event -> fixed-size span record (the hot path's copy).
 */
#include "span_build.h"
#include "span_pack.h"

#include <string.h>

#include "utf8.h"

#define COPY(dst, src)                                                         \
    rocky_otel_utf8_sanitize((src), sizeof(dst), (dst), sizeof(dst))

/* Wall time of an end event: the struct's own field when the host set it,
 * else the event's time. */
static int64_t pick(int64_t a, int64_t b)
{
    return a ? a : b;
}

int rocky_otel_span_from_event(const struct rocky_event *ev,
                               struct rocky_otel_span *s)
{
    const struct rocky_run *run = ev->run;
    if (!run)
        return ROCKY_EINVAL;
    s->kind = 0;
    memcpy(s->trace_id, run->trace_id, sizeof s->trace_id);
    COPY(s->run_id, run->run_id);
    COPY(s->adapter, run->adapter);
    s->max_attempts = s->stmt_kind = s->sequence = 0;
    if (ev->type == ROCKY_EVENT_RUN_END) {
        s->kind = ROCKY_OTEL_SPAN_RUN;
        s->start_wall_ns = run->started_wall_ns;
        s->end_wall_ns = pick(run->finished_wall_ns, ev->wall_ns);
        s->status = run->status;
        s->models_total = run->models_total;
        s->models_failed = run->models_failed;
        s->models_succeeded = run->models_succeeded;
        s->models_skipped = run->models_skipped;
        s->rows_affected = s->bytes_written = -1;
        s->attempt = 0;
        memcpy(s->span_id, run->span_id, sizeof s->span_id);
        memcpy(s->parent_span_id, run->parent_span_id,
               sizeof s->parent_span_id);
        COPY(s->project, run->project);
        COPY(s->trigger, run->trigger);
        COPY(s->version, run->rocky_version);
        COPY(s->trace_state, run->trace_state);
        return 0;
    }
    if (ev->type == ROCKY_EVENT_STATEMENT_END) {
        const struct rocky_statement *st =
            ROCKY_STRUCT_HAS(ev, struct rocky_event, statement) ? ev->statement
                                                                : NULL;
        if (!st || !ev->model)
            return ROCKY_EINVAL;
        s->kind = ROCKY_OTEL_SPAN_STATEMENT;
        s->end_wall_ns = pick(st->finished_wall_ns, ev->wall_ns);
        s->start_wall_ns =
            st->started_wall_ns ? st->started_wall_ns : s->end_wall_ns;
        s->status = st->status;
        s->rows_affected = st->rows;
        s->bytes_written = -1;
        s->attempt = st->attempt;
        s->max_attempts = st->max_attempts;
        s->stmt_kind = st->kind;
        s->sequence = st->sequence;
        s->models_total = s->models_failed = 0;
        s->models_succeeded = s->models_skipped = 0;
        memcpy(s->span_id, st->span_id, sizeof s->span_id);
        memcpy(s->parent_span_id, ev->model->span_id, sizeof s->parent_span_id);
        COPY(s->stmt_model, ev->model->model_name);
        COPY(s->target, st->target);
        COPY(s->stmt_error, st->error);
        return 0;
    }
    if (ev->type != ROCKY_EVENT_MODEL_END || !ev->model)
        return ROCKY_EINVAL;
    const struct rocky_model_exec *m = ev->model;
    s->kind = ROCKY_OTEL_SPAN_MODEL;
    /* A model end without a start time gets a zero-length span at its end
     * time, so backends do not draw it from 1970. (Skipped models, which
     * never started, get no span at all: the exporter does not queue
     * them.) */
    s->end_wall_ns = pick(m->finished_wall_ns, ev->wall_ns);
    s->start_wall_ns = m->started_wall_ns ? m->started_wall_ns : s->end_wall_ns;
    s->status = m->status;
    s->rows_affected = m->rows_affected;
    s->bytes_written = m->bytes_written;
    s->attempt = m->attempt;
    s->models_total = s->models_failed = 0;
    s->models_succeeded = s->models_skipped = 0;
    memcpy(s->span_id, m->span_id, sizeof s->span_id);
    memcpy(s->parent_span_id, run->span_id, sizeof s->parent_span_id);
    COPY(s->name, m->model_name);
    COPY(s->sql_hash, m->sql_hash);
    COPY(s->error, m->error);
    return 0;
}

/* ---- packed form ----------------------------------------------------- */

/* A packed string into an array of `cap` bytes: sanitized exactly as
 * COPY would have (the same call on the same bytes). */
static int get_str(const uint8_t **p, const uint8_t *end, char *dst, size_t cap)
{
    uint64_t len;
    if (rocky_otel_get_len(p, end, &len) || len > cap ||
        len > (size_t)(end - *p))
        return -1;
    rocky_otel_utf8_sanitize((const char *)*p, len, dst, cap);
    *p += len;
    return 0;
}

/* The error text: absent (and empty) when the record says so. */
static int get_error(const uint8_t **p, const uint8_t *end, int flags,
                     char *dst, size_t cap)
{
    if (flags & ROCKY_OTEL_PACK_NO_ERROR) {
        dst[0] = '\0';
        return 0;
    }
    return get_str(p, end, dst, cap);
}

/* The run part of a record at *p (flags already read) into `run` when it
 * defines one, else into a scratch copy; `own` says where the record's run
 * part went. */
static int get_run(const uint8_t **p, const uint8_t *end, int flags,
                   struct rocky_otel_span_run *run,
                   struct rocky_otel_span_run *own)
{
    if (flags & ROCKY_OTEL_PACK_REF)
        return run && run->valid ? 0 : -1;
    struct rocky_otel_span_run *r = flags & ROCKY_OTEL_PACK_DEFINE ? run : own;
    if (!r || end - *p < ROCKY_TRACE_ID_SIZE)
        return -1;
    memcpy(r->trace_id, *p, ROCKY_TRACE_ID_SIZE);
    *p += ROCKY_TRACE_ID_SIZE;
    if (flags & ROCKY_OTEL_PACK_DEFINE) {
        if (end - *p < ROCKY_SPAN_ID_SIZE)
            return -1;
        memcpy(r->span_id, *p, ROCKY_SPAN_ID_SIZE);
        *p += ROCKY_SPAN_ID_SIZE;
    }
    if (get_str(p, end, r->run_id, sizeof r->run_id) ||
        get_str(p, end, r->adapter, sizeof r->adapter))
        return -1;
    r->valid = 1;
    return 0;
}

void rocky_otel_span_unpack_run(const uint8_t *rec, uint32_t size,
                                struct rocky_otel_span_run *run)
{
    /* Rare (a DEFINE record released without being peeked): the full
     * unpack, which updates `run` only when the record parses whole. */
    if (size >= 1 && (rec[0] & ROCKY_OTEL_PACK_DEFINE)) {
        struct rocky_otel_span span;
        (void)rocky_otel_span_unpack(rec, size, run, &span);
    }
}

int rocky_otel_span_unpack(const uint8_t *rec, uint32_t size,
                           struct rocky_otel_span_run *run,
                           struct rocky_otel_span *s)
{
    static const char hexd[] = "0123456789abcdef";
    const uint8_t *p = rec, *end = rec + size;
    uint64_t v[ROCKY_OTEL_PACK_NUMS] = {0};
    struct rocky_otel_span_run own;
    if (size < 1)
        return ROCKY_EINVAL;
    int flags = *p++;
    uint32_t kind = (uint32_t)(flags & ROCKY_OTEL_PACK_KIND);
    if (kind != ROCKY_OTEL_SPAN_MODEL && kind != ROCKY_OTEL_SPAN_STATEMENT)
        return ROCKY_EINVAL;
    if ((flags & ROCKY_OTEL_PACK_DEFINE) && (flags & ROCKY_OTEL_PACK_REF))
        return ROCKY_EINVAL;
    /* A DEFINE record's run becomes current only once it parsed whole. */
    struct rocky_otel_span_run next;
    if (flags & ROCKY_OTEL_PACK_DEFINE) {
        if (!run)
            return ROCKY_EINVAL;
        next = *run;
    }
    struct rocky_otel_span_run *use =
        flags & ROCKY_OTEL_PACK_DEFINE ? &next : run;
    if (get_run(&p, end, flags, use, &own) != 0)
        return ROCKY_EINVAL;
    const struct rocky_otel_span_run *r =
        flags & (ROCKY_OTEL_PACK_DEFINE | ROCKY_OTEL_PACK_REF) ? use : &own;
    /* v: status, attempt, rows, x, [y, z,] duration, [delta] */
    uint32_t count = rocky_otel_get_record_nums(&p, end, flags, kind, v);
    if (count == 0)
        return ROCKY_EINVAL;
    uint32_t last = count - 1;
    uint64_t dur = v[(flags & ROCKY_OTEL_PACK_REF) ? last - 1 : last];
    if (flags & ROCKY_OTEL_PACK_REF) {
        s->start_wall_ns = (int64_t)((uint64_t)r->base +
                                     (uint64_t)rocky_otel_unzigzag(v[last]));
    } else {
        if (end - p < 8)
            return ROCKY_EINVAL;
        memcpy(&s->start_wall_ns, p, 8);
        p += 8;
        if (flags & ROCKY_OTEL_PACK_DEFINE)
            next.base = s->start_wall_ns;
    }
    int implied =
        (flags & ROCKY_OTEL_PACK_REF) && kind == ROCKY_OTEL_SPAN_MODEL;
    if (end - p < ROCKY_SPAN_ID_SIZE * (implied ? 1 : 2))
        return ROCKY_EINVAL;
    s->end_wall_ns = (int64_t)((uint64_t)s->start_wall_ns + dur);
    memcpy(s->span_id, p, ROCKY_SPAN_ID_SIZE);
    p += ROCKY_SPAN_ID_SIZE;
    if (implied) {
        memcpy(s->parent_span_id, r->span_id, ROCKY_SPAN_ID_SIZE);
    } else {
        memcpy(s->parent_span_id, p, ROCKY_SPAN_ID_SIZE);
        p += ROCKY_SPAN_ID_SIZE;
    }
    memcpy(s->trace_id, r->trace_id, ROCKY_TRACE_ID_SIZE);
    memcpy(s->run_id, r->run_id, sizeof s->run_id);
    memcpy(s->adapter, r->adapter, sizeof s->adapter);
    s->kind = kind;
    s->status = (uint32_t)v[0];
    s->attempt = (uint32_t)v[1];
    s->rows_affected = rocky_otel_unzigzag(v[2]);
    s->models_total = s->models_failed = 0;
    s->models_succeeded = s->models_skipped = 0;
    if (kind == ROCKY_OTEL_SPAN_STATEMENT) {
        s->bytes_written = -1;
        s->max_attempts = (uint32_t)v[3];
        s->stmt_kind = (uint32_t)v[4];
        s->sequence = (uint32_t)v[5];
        if (get_str(&p, end, s->stmt_model, sizeof s->stmt_model) ||
            get_str(&p, end, s->target, sizeof s->target) ||
            get_error(&p, end, flags, s->stmt_error, sizeof s->stmt_error))
            return ROCKY_EINVAL;
    } else {
        s->bytes_written = rocky_otel_unzigzag(v[3]);
        s->max_attempts = s->stmt_kind = s->sequence = 0;
        if (get_str(&p, end, s->name, sizeof s->name))
            return ROCKY_EINVAL;
        if (flags & ROCKY_OTEL_PACK_HASH_BINARY) {
            if (end - p < 32)
                return ROCKY_EINVAL;
            for (int k = 0; k < 32; k++) {
                s->sql_hash[2 * k] = hexd[p[k] >> 4];
                s->sql_hash[2 * k + 1] = hexd[p[k] & 15];
            }
            s->sql_hash[64] = '\0';
            p += 32;
        } else if (get_str(&p, end, s->sql_hash, sizeof s->sql_hash)) {
            return ROCKY_EINVAL;
        }
        if (get_error(&p, end, flags, s->error, sizeof s->error))
            return ROCKY_EINVAL;
    }
    if (p != end)
        return ROCKY_EINVAL;
    if (flags & ROCKY_OTEL_PACK_DEFINE)
        *run = next;
    return 0;
}
