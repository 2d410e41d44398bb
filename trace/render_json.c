/* render_json.c — TraceOutput, the machine-readable timeline (see render.h
 * and schema/trace-output.schema.json). Field names follow upstream rocky's
 * `rocky trace --output json`, and every document validates against
 * upstream's own schema too (tests/upstream/): `finished_at` and `trigger`
 * are always strings, and a status a reader should flag as bad contains
 * "fail" or "error" (upstream's editor panel tests /fail|error/i).
 * span_id, error, attempt, started, on_critical_path, critical_path*,
 * busy_ms, parallelism, trace_id, project, models_* and run_status are
 * ours. */
#include "render.h"

#include "format.h"
#include "ids.h"
#include "status_words.h"
#include "json_writer.h"
#include "rocky/error.h"

static void id_value(struct rocky_json *w, const char *key, const uint8_t *id,
                     size_t len)
{
    char hex[2 * ROCKY_TRACE_ID_SIZE + 1];
    rocky_json_key(w, key);
    if (rocky_id_is_zero(id, len)) {
        rocky_json_null(w);
        return;
    }
    rocky_hex_encode(id, len, hex);
    rocky_json_string(w, hex);
}

/* rows/bytes: -1 means unknown, shown as null (upstream's Option). */
static void count_value(struct rocky_json *w, const char *key, int64_t value)
{
    rocky_json_key(w, key);
    if (value >= 0)
        rocky_json_int(w, value);
    else
        rocky_json_null(w);
}

static void model(struct rocky_json *w, const struct rocky_trace_entry *e)
{
    const struct rocky_model_exec *m = e->exec;
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "model_name", m->model_name);
    rocky_json_kv_string(w, "status", rocky_model_status_word(m->status));
    rocky_json_kv_int(w, "start_offset_ms", rocky_trace_ms(e->start_offset_ns));
    rocky_json_kv_int(w, "duration_ms", rocky_trace_ms(e->duration_ns));
    /* Upstream's sql_hash is always a string: "" means unknown. */
    rocky_json_kv_string(w, "sql_hash", m->sql_hash ? m->sql_hash : "");
    rocky_json_kv_int(w, "lane", (int64_t)e->lane);
    count_value(w, "rows_affected", m->rows_affected);
    count_value(w, "bytes_scanned", -1); /* not measured by rocky-otel */
    count_value(w, "bytes_written", m->bytes_written);
    id_value(w, "span_id", m->span_id, ROCKY_SPAN_ID_SIZE);
    rocky_json_kv_string(w, "error", m->error);
    rocky_json_kv_int(w, "attempt", m->attempt);
    rocky_json_key(w, "started");
    rocky_json_bool(w, e->started);
    rocky_json_key(w, "on_critical_path");
    rocky_json_bool(w, e->on_critical_path);
    rocky_json_end_object(w);
}

int rocky_trace_render_json(FILE *out, const struct rocky_trace *t)
{
    const struct rocky_run *run = &t->record->run;
    char started[32], finished[32];
    rocky_format_rfc3339(t->run_start_ns, started, sizeof started);
    /* Upstream requires a string. A run without a recorded finish ends
     * where its timeline ends (trace.h, run_end_ns): "now" while running,
     * the last moment on record for a crashed run. So run_duration_ms is
     * finished_at - started_at for every status. */
    rocky_format_rfc3339(run->finished_wall_ns ? run->finished_wall_ns
                                               : t->run_end_ns,
                         finished, sizeof finished);
    struct rocky_json w;
    rocky_json_init(&w, out, 1);
    rocky_json_begin_object(&w);
    rocky_json_kv_string(&w, "version", ROCKY_TRACE_SCHEMA_VERSION);
    rocky_json_kv_string(&w, "command", "trace");
    rocky_json_kv_string(&w, "run_id", run->run_id);
    rocky_json_kv_string(&w, "status", rocky_run_status_word(run->status));
    rocky_json_kv_string(&w, "trigger", run->trigger ? run->trigger : "");
    rocky_json_kv_string(&w, "started_at", started);
    rocky_json_kv_string(&w, "finished_at", finished);
    rocky_json_kv_int(&w, "run_duration_ms",
                      rocky_trace_ms(t->run_duration_ns));
    rocky_json_kv_int(&w, "lane_count", (int64_t)t->lane_count);
    rocky_json_key(&w, "models");
    rocky_json_begin_array(&w);
    for (size_t i = 0; i < t->count; i++)
        model(&w, &t->entries[i]);
    rocky_json_end_array(&w);
    rocky_json_key(&w, "critical_path");
    rocky_json_begin_array(&w);
    for (size_t k = 0; k < t->critical_count; k++)
        rocky_json_string(&w, t->critical_path[k]->model_name);
    rocky_json_end_array(&w);
    rocky_json_kv_int(&w, "critical_path_ms", rocky_trace_ms(t->critical_ns));
    rocky_json_kv_int(&w, "busy_ms", rocky_trace_ms(t->busy_ns));
    rocky_json_key(&w, "parallelism");
    rocky_json_double(&w, t->parallelism, 4);
    id_value(&w, "trace_id", run->trace_id, ROCKY_TRACE_ID_SIZE);
    rocky_json_kv_string(&w, "project", run->project);
    /* Since schema 1.1 (additive): planned vs on record; they differ when
     * the run is incomplete. */
    rocky_json_kv_int(&w, "models_planned", (int64_t)run->models_total);
    rocky_json_kv_int(&w, "models_recorded", (int64_t)t->record->model_count);
    /* Since 2.0: the stored status word (rocky_run_status_name), for
     * readers of 1.x's `status`. */
    rocky_json_kv_string(&w, "run_status", rocky_run_status_name(run->status));
    rocky_json_end_object(&w);
    return ferror(out) ? ROCKY_EIO : 0;
}
