/* compare_json.c — the TraceCompare document (see compare.h and
 * schema/trace-compare.schema.json). Times in whole milliseconds, rounded
 * down like TraceOutput's; each delta is the difference of the two values
 * the document shows, so a reader can check after − before = delta.
 * Statuses are the stored words (TraceOutput's run_status and the text
 * view's), for runs and models alike. */
#include "compare.h"
#include "format.h"
#include "json_writer.h"
#include "rocky/error.h"

static void pct_value(struct rocky_json *w, const char *key, int64_t before,
                      int64_t after)
{
    int defined;
    double p = rocky_compare_pct(before, after, &defined);
    rocky_json_key(w, key);
    if (defined)
        rocky_json_double(w, p, 2);
    else
        rocky_json_null(w);
}

static void names(struct rocky_json *w, const char *key,
                  const struct rocky_model_exec *const *m, size_t n)
{
    rocky_json_key(w, key);
    rocky_json_begin_array(w);
    for (size_t k = 0; k < n; k++)
        rocky_json_string(w, m[k]->model_name);
    rocky_json_end_array(w);
}

static void run(struct rocky_json *w, const char *key,
                const struct rocky_compare_run *r)
{
    const struct rocky_trace *t = r->trace;
    char started[32];
    rocky_format_rfc3339(t->run_start_ns, started, sizeof started);
    rocky_json_key(w, key);
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "run_id", t->record->run.run_id);
    rocky_json_kv_string(w, "status",
                         rocky_run_status_name(t->record->run.status));
    rocky_json_kv_string(w, "started_at", started);
    rocky_json_kv_int(w, "run_duration_ms", rocky_trace_ms(t->run_duration_ns));
    rocky_json_kv_int(w, "model_count", (int64_t)r->model_count);
    rocky_json_key(w, "critical_path");
    rocky_json_begin_array(w);
    for (size_t k = 0; k < t->critical_count; k++)
        rocky_json_string(w, t->critical_path[k]->model_name);
    rocky_json_end_array(w);
    rocky_json_kv_int(w, "critical_path_ms", rocky_trace_ms(t->critical_ns));
    rocky_json_end_object(w);
}

static void side(struct rocky_json *w, const char *key,
                 const struct rocky_compare_side *s)
{
    rocky_json_key(w, key);
    if (s->last == NULL) {
        rocky_json_null(w);
        return;
    }
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "status", rocky_model_status_name(s->last->status));
    rocky_json_kv_int(w, "duration_ms", rocky_trace_ms(s->duration_ns));
    rocky_json_key(w, "rows_affected");
    if (s->last->rows_affected >= 0)
        rocky_json_int(w, s->last->rows_affected);
    else
        rocky_json_null(w);
    rocky_json_kv_int(w, "attempts", s->attempts);
    rocky_json_key(w, "started");
    rocky_json_bool(w, s->last->started_wall_ns != 0);
    rocky_json_kv_string(w, "error", s->last->error);
    rocky_json_end_object(w);
}

static void model(struct rocky_json *w, const struct rocky_compare_model *m)
{
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "model_name", m->model_name);
    rocky_json_kv_string(w, "change", rocky_compare_change_name(m->change));
    side(w, "before", &m->before);
    side(w, "after", &m->after);
    int64_t b = rocky_trace_ms(m->before.duration_ns);
    int64_t a = rocky_trace_ms(m->after.duration_ns);
    rocky_json_key(w, "duration_delta_ms");
    if (m->comparable)
        rocky_json_int(w, a - b);
    else
        rocky_json_null(w);
    if (m->comparable)
        pct_value(w, "duration_delta_pct", m->before.duration_ns,
                  m->after.duration_ns);
    else {
        rocky_json_key(w, "duration_delta_pct");
        rocky_json_null(w);
    }
    rocky_json_key(w, "rows_delta");
    if (m->has_rows_delta)
        rocky_json_int(w, m->rows_delta);
    else
        rocky_json_null(w);
    rocky_json_key(w, "status_changed");
    rocky_json_bool(w, m->before.last != NULL && m->after.last != NULL &&
                           m->before.last->status != m->after.last->status);
    rocky_json_end_object(w);
}

int rocky_compare_render_json(FILE *out, const struct rocky_compare *c)
{
    const struct rocky_trace *b = c->before.trace, *a = c->after.trace;
    struct rocky_json w;
    rocky_json_init(&w, out, 1);
    rocky_json_begin_object(&w);
    rocky_json_kv_string(&w, "version", ROCKY_COMPARE_SCHEMA_VERSION);
    rocky_json_kv_string(&w, "command", "trace-compare");
    run(&w, "before", &c->before);
    run(&w, "after", &c->after);
    rocky_json_key(&w, "delta");
    rocky_json_begin_object(&w);
    rocky_json_kv_int(&w, "run_duration_ms",
                      rocky_trace_ms(a->run_duration_ns) -
                          rocky_trace_ms(b->run_duration_ns));
    pct_value(&w, "run_duration_pct", b->run_duration_ns, a->run_duration_ns);
    rocky_json_key(&w, "status_changed");
    rocky_json_bool(&w, a->record->run.status != b->record->run.status);
    rocky_json_kv_int(&w, "model_count",
                      (int64_t)c->after.model_count -
                          (int64_t)c->before.model_count);
    rocky_json_kv_int(&w, "critical_path_ms",
                      rocky_trace_ms(a->critical_ns) -
                          rocky_trace_ms(b->critical_ns));
    rocky_json_end_object(&w);
    rocky_json_key(&w, "critical_path");
    rocky_json_begin_object(&w);
    rocky_json_key(&w, "changed");
    rocky_json_bool(&w, c->joined_count + c->left_count > 0);
    names(&w, "joined", c->joined, c->joined_count);
    names(&w, "left", c->left, c->left_count);
    rocky_json_end_object(&w);
    rocky_json_key(&w, "summary");
    rocky_json_begin_object(&w);
    for (int k = 0; k <= ROCKY_COMPARE_SAME; k++)
        rocky_json_kv_int(
            &w, rocky_compare_change_name((enum rocky_compare_change)k),
            (int64_t)c->counts[k]);
    rocky_json_end_object(&w);
    rocky_json_kv_string(&w, "model_filter", c->model_filter);
    rocky_json_key(&w, "models");
    rocky_json_begin_array(&w);
    for (size_t i = 0; i < c->count; i++)
        model(&w, &c->models[i]);
    rocky_json_end_array(&w);
    rocky_json_end_object(&w);
    return ferror(out) ? ROCKY_EIO : 0;
}
