/* render_json.c — TraceOutput, the machine-readable timeline (see render.h
 * and schema/trace-output.schema.json). Field names follow upstream rocky's
 * `rocky trace --json`; trace_id, span_id, error, attempt,
 * on_critical_path, critical_path*, busy_ms and parallelism are ours. */
#include "render.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "format.h"
#include "ids.h"
#include "rocky/error.h"

static int add_string_or_null(cJSON *obj, const char *key, const char *value)
{
    cJSON *item = value ? cJSON_CreateString(value) : cJSON_CreateNull();
    return item != NULL && cJSON_AddItemToObject(obj, key, item);
}

static int add_id(cJSON *obj, const char *key, const uint8_t *id, size_t len)
{
    char hex[2 * ROCKY_TRACE_ID_SIZE + 1];
    if (rocky_id_is_zero(id, len))
        return add_string_or_null(obj, key, NULL);
    rocky_hex_encode(id, len, hex);
    return add_string_or_null(obj, key, hex);
}

/* rows/bytes: -1 means unknown, shown as null (upstream's Option). */
static int add_count(cJSON *obj, const char *key, int64_t value)
{
    cJSON *item =
        value >= 0 ? cJSON_CreateNumber((double)value) : cJSON_CreateNull();
    return item != NULL && cJSON_AddItemToObject(obj, key, item);
}

static int add_number(cJSON *obj, const char *key, double value)
{
    return cJSON_AddNumberToObject(obj, key, value) != NULL;
}

static cJSON *model_json(const struct rocky_trace_entry *e)
{
    const struct rocky_model_exec *m = e->exec;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    int ok =
        add_string_or_null(o, "model_name", m->model_name) &&
        add_string_or_null(o, "status", rocky_model_status_name(m->status)) &&
        add_number(o, "start_offset_ms",
                   (double)rocky_trace_ms(e->start_offset_ns)) &&
        add_number(o, "duration_ms", (double)rocky_trace_ms(e->duration_ns)) &&
        /* upstream's sql_hash is always a string: "" = unknown */
        add_string_or_null(o, "sql_hash", m->sql_hash ? m->sql_hash : "") &&
        add_number(o, "lane", (double)e->lane) &&
        add_count(o, "rows_affected", m->rows_affected) &&
        add_count(o, "bytes_scanned", -1) && /* not measured by us */
        add_count(o, "bytes_written", m->bytes_written) &&
        add_id(o, "span_id", m->span_id, ROCKY_SPAN_ID_SIZE) &&
        add_string_or_null(o, "error", m->error) &&
        add_number(o, "attempt", (double)m->attempt) &&
        cJSON_AddBoolToObject(o, "started", e->started) != NULL &&
        cJSON_AddBoolToObject(o, "on_critical_path", e->on_critical_path) !=
            NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *trace_json(const struct rocky_trace *t)
{
    const struct rocky_run *run = &t->record->run;
    char started[32], finished[32];
    rocky_format_rfc3339(run->started_wall_ns, started, sizeof started);
    rocky_format_rfc3339(run->finished_wall_ns, finished, sizeof finished);
    cJSON *doc = cJSON_CreateObject();
    cJSON *models = cJSON_CreateArray();
    cJSON *path = cJSON_CreateArray();
    if (doc == NULL || models == NULL || path == NULL) {
        cJSON_Delete(doc);
        cJSON_Delete(models);
        cJSON_Delete(path);
        return NULL;
    }
    int ok =
        add_string_or_null(doc, "version", ROCKY_TRACE_SCHEMA_VERSION) &&
        add_string_or_null(doc, "command", "trace") &&
        add_string_or_null(doc, "run_id", run->run_id) &&
        add_string_or_null(doc, "status", rocky_run_status_name(run->status)) &&
        add_string_or_null(doc, "trigger", run->trigger) &&
        add_string_or_null(doc, "started_at", started) &&
        add_string_or_null(doc, "finished_at",
                           run->finished_wall_ns ? finished : NULL) &&
        add_number(doc, "run_duration_ms",
                   (double)rocky_trace_ms(t->run_duration_ns)) &&
        add_number(doc, "lane_count", (double)t->lane_count);
    if (!ok || !cJSON_AddItemToObject(doc, "models", models)) {
        cJSON_Delete(models);
        cJSON_Delete(path);
        cJSON_Delete(doc);
        return NULL;
    }
    for (size_t i = 0; ok && i < t->count; i++) {
        cJSON *m = model_json(&t->entries[i]);
        ok = m != NULL && cJSON_AddItemToArray(models, m);
    }
    if (!ok || !cJSON_AddItemToObject(doc, "critical_path", path)) {
        cJSON_Delete(path); /* not attached on either failure */
        cJSON_Delete(doc);
        return NULL;
    }
    for (size_t k = 0; ok && k < t->critical_count; k++) {
        cJSON *name = cJSON_CreateString(t->critical_path[k]->model_name);
        ok = name != NULL && cJSON_AddItemToArray(path, name);
    }
    ok = ok &&
         add_number(doc, "critical_path_ms",
                    (double)rocky_trace_ms(t->critical_ns)) &&
         add_number(doc, "busy_ms", (double)rocky_trace_ms(t->busy_ns)) &&
         add_number(doc, "parallelism", t->parallelism) &&
         add_id(doc, "trace_id", run->trace_id, ROCKY_TRACE_ID_SIZE) &&
         add_string_or_null(doc, "project", run->project);
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

int rocky_trace_render_json(FILE *out, const struct rocky_trace *trace)
{
    cJSON *doc = trace_json(trace);
    if (doc == NULL)
        return ROCKY_ENOMEM;
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (text == NULL)
        return ROCKY_ENOMEM;
    int rc = fputs(text, out) < 0 || fputc('\n', out) == EOF ? ROCKY_EIO : 0;
    free(text);
    return rc;
}
