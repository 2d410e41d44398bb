/*
 * span_view.c — the encoder's view of a queued span record.
 */
#include "span_view.h"

#include <string.h>

static struct rocky_otel_str str_of(const char *s)
{
    struct rocky_otel_str r = {s, (uint32_t)strlen(s)};
    return r;
}

static int all_zero(const uint8_t *b, size_t n)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= b[i];
    return any == 0;
}

void rocky_otel_span_view_of(const struct rocky_otel_span *s,
                             struct rocky_otel_span_view *v)
{
    static const struct rocky_otel_str none = {"", 0};
    v->kind = s->kind;
    v->status = s->status;
    v->attempt = s->attempt;
    v->max_attempts = s->max_attempts;
    v->stmt_kind = s->stmt_kind;
    v->sequence = s->sequence;
    v->models_total = s->models_total;
    v->models_failed = s->models_failed;
    v->models_succeeded = s->models_succeeded;
    v->models_skipped = s->models_skipped;
    v->start_wall_ns = s->start_wall_ns;
    v->end_wall_ns = s->end_wall_ns;
    v->rows_affected = s->rows_affected;
    v->bytes_written = s->bytes_written;
    v->trace_id = s->trace_id;
    v->span_id = s->span_id;
    v->parent_span_id = all_zero(s->parent_span_id, sizeof s->parent_span_id)
                            ? NULL
                            : s->parent_span_id;
    v->run_id = str_of(s->run_id);
    v->adapter = str_of(s->adapter);
    v->name = v->sql_hash = v->error = v->target = none;
    v->project = v->trigger = v->version = v->trace_state = none;
    switch (s->kind) {
    case ROCKY_OTEL_SPAN_RUN:
        v->project = str_of(s->project);
        v->trigger = str_of(s->trigger);
        v->version = str_of(s->version);
        v->trace_state = str_of(s->trace_state);
        break;
    case ROCKY_OTEL_SPAN_STATEMENT:
        v->name = str_of(s->stmt_model);
        v->target = str_of(s->target);
        v->error = str_of(s->stmt_error);
        break;
    default:
        v->name = str_of(s->name);
        v->sql_hash = str_of(s->sql_hash);
        v->error = str_of(s->error);
        break;
    }
}
