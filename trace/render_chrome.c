/* render_chrome.c — Chrome trace-event JSON ("JSON Object Format"): one
 * complete ("X") event per model on thread = lane + 1, the run on thread 0,
 * timestamps in microseconds from the run start. Opens in Perfetto and
 * chrome://tracing. */
#include "render.h"

#include "ids.h"
#include "json_writer.h"
#include "rocky/error.h"

static void meta_event(struct rocky_json *w, const char *what, size_t tid,
                       const char *name)
{
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "name", what);
    rocky_json_kv_string(w, "ph", "M");
    rocky_json_kv_int(w, "pid", 1);
    rocky_json_kv_int(w, "tid", (int64_t)tid);
    rocky_json_key(w, "args");
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "name", name);
    rocky_json_end_object(w);
    rocky_json_end_object(w);
}

/* Opens a complete event and its args object; the caller adds args and
 * closes both. */
static void span_begin(struct rocky_json *w, const char *name, const char *cat,
                       int64_t start_ns, int64_t dur_ns, size_t tid)
{
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "name", name);
    rocky_json_kv_string(w, "cat", cat);
    rocky_json_kv_string(w, "ph", "X");
    rocky_json_key(w, "ts");
    rocky_json_double(w, (double)start_ns / 1000.0, 3);
    rocky_json_key(w, "dur");
    rocky_json_double(w, (double)dur_ns / 1000.0, 3);
    rocky_json_kv_int(w, "pid", 1);
    rocky_json_kv_int(w, "tid", (int64_t)tid);
    rocky_json_key(w, "args");
    rocky_json_begin_object(w);
}

static void span_end(struct rocky_json *w)
{
    rocky_json_end_object(w);
    rocky_json_end_object(w);
}

static void model_event(struct rocky_json *w, const struct rocky_trace_entry *e)
{
    const struct rocky_model_exec *m = e->exec;
    span_begin(w, m->model_name, "model", e->start_offset_ns, e->duration_ns,
               e->lane + 1);
    rocky_json_kv_string(w, "status", rocky_model_status_name(m->status));
    rocky_json_kv_int(w, "attempt", m->attempt);
    if (m->rows_affected >= 0)
        rocky_json_kv_int(w, "rows_affected", m->rows_affected);
    if (m->bytes_written >= 0)
        rocky_json_kv_int(w, "bytes_written", m->bytes_written);
    if (m->sql_hash != NULL)
        rocky_json_kv_string(w, "sql_hash", m->sql_hash);
    if (m->error != NULL)
        rocky_json_kv_string(w, "error", m->error);
    if (!rocky_id_is_zero(m->span_id, ROCKY_SPAN_ID_SIZE)) {
        char span[2 * ROCKY_SPAN_ID_SIZE + 1];
        rocky_hex_encode(m->span_id, ROCKY_SPAN_ID_SIZE, span);
        rocky_json_kv_string(w, "span_id", span);
    }
    rocky_json_key(w, "critical_path");
    rocky_json_bool(w, e->on_critical_path);
    span_end(w);
}

int rocky_trace_render_chrome(FILE *out, const struct rocky_trace *t)
{
    const struct rocky_run *run = &t->record->run;
    struct rocky_json w;
    rocky_json_init(&w, out, 0);
    rocky_json_begin_object(&w);
    rocky_json_key(&w, "traceEvents");
    rocky_json_begin_array(&w);
    char title[300];
    snprintf(title, sizeof title, "rocky run %s", run->run_id);
    meta_event(&w, "process_name", 0, title);
    meta_event(&w, "thread_name", 0, "run");
    for (size_t lane = 0; lane < t->lane_count; lane++) {
        char name[32];
        snprintf(name, sizeof name, "lane %zu", lane);
        meta_event(&w, "thread_name", lane + 1, name);
    }
    span_begin(&w, "run", "run", 0, t->run_duration_ns, 0);
    rocky_json_kv_string(&w, "run_id", run->run_id);
    rocky_json_kv_string(&w, "status", rocky_run_status_name(run->status));
    if (run->trigger != NULL)
        rocky_json_kv_string(&w, "trigger", run->trigger);
    span_end(&w);
    for (size_t i = 0; i < t->count; i++)
        if (t->entries[i].started) /* never ran: nothing to draw */
            model_event(&w, &t->entries[i]);
    rocky_json_end_array(&w);
    rocky_json_kv_string(&w, "displayTimeUnit", "ms");
    rocky_json_end_object(&w);
    fputc('\n', out);
    return ferror(out) ? ROCKY_EIO : 0;
}
