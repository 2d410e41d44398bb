/*
 * span_build.c — event -> fixed-size span record (the hot path's copy).
 */
#include "span_build.h"

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
