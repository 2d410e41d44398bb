/* render_chrome.c — Chrome trace-event JSON ("JSON Object Format"): one
 * complete ("X") event per model on thread = lane + 1, the run on thread 0,
 * timestamps in microseconds from the run start. Opens in Perfetto and
 * chrome://tracing. */
#include "render.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "ids.h"
#include "rocky/error.h"

static cJSON *meta_event(const char *what, size_t tid, const char *name)
{
    cJSON *e = cJSON_CreateObject();
    cJSON *args = cJSON_CreateObject();
    if (e == NULL || args == NULL ||
        cJSON_AddStringToObject(args, "name", name) == NULL) {
        cJSON_Delete(e);
        cJSON_Delete(args);
        return NULL;
    }
    cJSON_AddItemToObject(e, "args", args);
    if (cJSON_AddStringToObject(e, "name", what) == NULL ||
        cJSON_AddStringToObject(e, "ph", "M") == NULL ||
        cJSON_AddNumberToObject(e, "pid", 1) == NULL ||
        cJSON_AddNumberToObject(e, "tid", (double)tid) == NULL) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

static cJSON *span_event(const char *name, const char *cat, int64_t start_ns,
                         int64_t dur_ns, size_t tid, cJSON *args)
{
    cJSON *e = cJSON_CreateObject();
    if (e == NULL) {
        cJSON_Delete(args);
        return NULL;
    }
    cJSON_AddItemToObject(e, "args", args);
    if (args == NULL || cJSON_AddStringToObject(e, "name", name) == NULL ||
        cJSON_AddStringToObject(e, "cat", cat) == NULL ||
        cJSON_AddStringToObject(e, "ph", "X") == NULL ||
        cJSON_AddNumberToObject(e, "ts", (double)start_ns / 1000.0) == NULL ||
        cJSON_AddNumberToObject(e, "dur", (double)dur_ns / 1000.0) == NULL ||
        cJSON_AddNumberToObject(e, "pid", 1) == NULL ||
        cJSON_AddNumberToObject(e, "tid", (double)tid) == NULL) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

static cJSON *model_args(const struct rocky_trace_entry *entry)
{
    const struct rocky_model_exec *m = entry->exec;
    cJSON *a = cJSON_CreateObject();
    char span[2 * ROCKY_SPAN_ID_SIZE + 1] = "";
    if (a == NULL)
        return NULL;
    if (!rocky_id_is_zero(m->span_id, ROCKY_SPAN_ID_SIZE))
        rocky_hex_encode(m->span_id, ROCKY_SPAN_ID_SIZE, span);
    int ok = cJSON_AddStringToObject(
                 a, "status", rocky_model_status_name(m->status)) != NULL &&
             cJSON_AddNumberToObject(a, "attempt", m->attempt) != NULL &&
             (m->rows_affected < 0 ||
              cJSON_AddNumberToObject(a, "rows_affected",
                                      (double)m->rows_affected) != NULL) &&
             (m->bytes_written < 0 ||
              cJSON_AddNumberToObject(a, "bytes_written",
                                      (double)m->bytes_written) != NULL) &&
             (m->sql_hash == NULL ||
              cJSON_AddStringToObject(a, "sql_hash", m->sql_hash) != NULL) &&
             (m->error == NULL ||
              cJSON_AddStringToObject(a, "error", m->error) != NULL) &&
             (span[0] == '\0' ||
              cJSON_AddStringToObject(a, "span_id", span) != NULL) &&
             cJSON_AddBoolToObject(a, "critical_path",
                                   entry->on_critical_path) != NULL;
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

static int add(cJSON *events, cJSON *e)
{
    return e != NULL && cJSON_AddItemToArray(events, e);
}

static cJSON *chrome_json(const struct rocky_trace *t)
{
    const struct rocky_run *run = &t->record->run;
    cJSON *doc = cJSON_CreateObject();
    cJSON *events = cJSON_CreateArray();
    if (doc == NULL || events == NULL) {
        cJSON_Delete(doc);
        cJSON_Delete(events);
        return NULL;
    }
    cJSON_AddItemToObject(doc, "traceEvents", events);
    char title[300];
    snprintf(title, sizeof title, "rocky run %s", run->run_id);
    int ok = add(events, meta_event("process_name", 0, title)) &&
             add(events, meta_event("thread_name", 0, "run"));
    for (size_t lane = 0; ok && lane < t->lane_count; lane++) {
        char name[32];
        snprintf(name, sizeof name, "lane %zu", lane);
        ok = add(events, meta_event("thread_name", lane + 1, name));
    }
    cJSON *run_args = cJSON_CreateObject();
    if (run_args != NULL) {
        cJSON_AddStringToObject(run_args, "status",
                                rocky_run_status_name(run->status));
        cJSON_AddStringToObject(run_args, "run_id", run->run_id);
        if (run->trigger)
            cJSON_AddStringToObject(run_args, "trigger", run->trigger);
    }
    ok = ok && add(events, span_event("pipeline.run", "run", 0,
                                      t->run_duration_ns, 0, run_args));
    for (size_t i = 0; ok && i < t->count; i++) {
        const struct rocky_trace_entry *e = &t->entries[i];
        if (!e->started)
            continue; /* never ran: nothing to draw */
        ok = add(events,
                 span_event(e->exec->model_name, "model", e->start_offset_ns,
                            e->duration_ns, e->lane + 1, model_args(e)));
    }
    ok = ok && cJSON_AddStringToObject(doc, "displayTimeUnit", "ms") != NULL;
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

int rocky_trace_render_chrome(FILE *out, const struct rocky_trace *trace)
{
    cJSON *doc = chrome_json(trace);
    if (doc == NULL)
        return ROCKY_ENOMEM;
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text == NULL)
        return ROCKY_ENOMEM;
    int rc = fputs(text, out) < 0 || fputc('\n', out) == EOF ? ROCKY_EIO : 0;
    free(text);
    return rc;
}
