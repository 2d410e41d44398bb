/* output.c — terminal lines and the --json document (see output.h). */
#include "output.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ids.h"
#include "progress.h"
#include "term_escape.h"

#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM    "\033[2m"
#define C_BOLD   "\033[1m"
#define C_RESET  "\033[0m"

void rocky_output_init(struct rocky_output *o, FILE *out, int json,
                       size_t total)
{
    memset(o, 0, sizeof *o);
    o->out = out;
    o->json = json;
    o->total = total;
    const char *no_color = getenv("NO_COLOR");
    o->color = !json && isatty(fileno(out)) &&
               (no_color == NULL || no_color[0] == '\0');
    pthread_mutex_init(&o->mu, NULL);
}

void rocky_output_destroy(struct rocky_output *o)
{
    pthread_mutex_destroy(&o->mu);
}

/* After each line or document (under mu): a failed write — EPIPE, EBADF,
 * ENOSPC — ends the output for good. Retrying would fail the same way on
 * every line, and nobody is there to read an error about it. */
static void check_written(struct rocky_output *o)
{
    if (fflush(o->out) != 0 || ferror(o->out))
        o->broken = 1;
}

static const char *label(uint32_t status, const char **color)
{
    switch (status) {
    case ROCKY_MODEL_SUCCESS: *color = C_GREEN; return "OK";
    case ROCKY_MODEL_FAILED: *color = C_RED; return "FAIL";
    case ROCKY_MODEL_SKIPPED: *color = C_YELLOW; return "SKIP";
    case ROCKY_MODEL_INTERRUPTED: *color = C_YELLOW; return "INTR";
    default: *color = ""; return "?";
    }
}

static double seconds(int64_t from, int64_t to)
{
    return from > 0 && to >= from ? (double)(to - from) / 1e9 : 0.0;
}

void rocky_output_model(struct rocky_output *o,
                        const struct rocky_model_exec *m)
{
    if (o->json)
        return;
    const char *color = "";
    const char *what = label(m->status, &color);
    /* The name and the error (SQLite's text, quoting the model's SQL) are
     * the project's: escaped, so they cannot drive the terminal. */
    char *name = rocky_term_escape_dup(m->model_name, 0);
    char *error = rocky_term_escape_dup(m->error, 0);
    pthread_mutex_lock(&o->mu);
    o->finished++;
    if (o->broken) {
        pthread_mutex_unlock(&o->mu);
        free(name);
        free(error);
        return;
    }
    rocky_progress_erase(o->progress); /* the line scrolls above it */
    int width = o->total >= 1000 ? 5 : o->total >= 100 ? 3 : 2;
    fprintf(o->out, "[%*zu/%zu] %s%-4s%s %-28s", width, o->finished, o->total,
            o->color ? color : "", what, o->color ? C_RESET : "",
            name ? name : "?");
    if (m->status == ROCKY_MODEL_SUCCESS) {
        fprintf(o->out, " %7.2fs %10lld rows",
                seconds(m->started_mono_ns, m->finished_mono_ns),
                (long long)m->rows_affected);
    } else if (m->status == ROCKY_MODEL_SKIPPED) {
        fprintf(o->out, "          %s", error ? error : "");
    } else {
        fprintf(o->out, " %7.2fs %s",
                seconds(m->started_mono_ns, m->finished_mono_ns),
                error ? error : "");
    }
    fputc('\n', o->out);
    rocky_progress_draw(o->progress);
    check_written(o);
    pthread_mutex_unlock(&o->mu);
    free(name);
    free(error);
}

static void summary(struct rocky_output *o, const struct rocky_run *run,
                    int threads, const char *state_path,
                    const char *record_problem)
{
    const char *status = rocky_run_status_name(run->status);
    const char *color = run->status == ROCKY_RUN_SUCCESS       ? C_GREEN
                        : run->status == ROCKY_RUN_INTERRUPTED ? C_YELLOW
                                                               : C_RED;
    fprintf(o->out,
            "\n%s%s%s%s: %u succeeded, %u failed, %u skipped of %u models "
            "in %.2fs on %d threads\n",
            o->color ? C_BOLD : "", o->color ? color : "", status,
            o->color ? C_RESET : "", run->models_succeeded, run->models_failed,
            run->models_skipped, run->models_total,
            seconds(run->started_mono_ns, run->finished_mono_ns), threads);
    /* Never "recorded" unless it is: the store's gap is the last word. */
    if (record_problem != NULL) { /* may quote SQLite and a path */
        fputs(o->color ? C_RED : "", o->out);
        rocky_term_fprintf(o->out, 0, "%s", record_problem);
        fprintf(o->out, "%s\n", o->color ? C_RESET : "");
    }
    else
        fprintf(o->out, "%srun %s recorded in %s; see `rocky trace %s`%s\n",
                o->color ? C_DIM : "", run->run_id, state_path, run->run_id,
                o->color ? C_RESET : "");
    check_written(o);
}

static void add_int(cJSON *j, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    cJSON_AddRawToObject(j, key, buf);
}

static cJSON *model_json(const struct rocky_model_exec *m)
{
    cJSON *j = cJSON_CreateObject();
    char hex[17];
    cJSON_AddStringToObject(j, "name", m->model_name);
    cJSON_AddStringToObject(j, "status", rocky_model_status_name(m->status));
    add_int(j, "started_wall_ns", m->started_wall_ns);
    cJSON_AddNumberToObject(j, "duration_ms",
                            seconds(m->started_mono_ns, m->finished_mono_ns) *
                                1e3);
    add_int(j, "rows_affected", m->rows_affected);
    add_int(j, "bytes_written", m->bytes_written);
    if (m->error)
        cJSON_AddStringToObject(j, "error", m->error);
    else
        cJSON_AddNullToObject(j, "error");
    cJSON_AddStringToObject(j, "sql_hash", m->sql_hash ? m->sql_hash : "");
    if (rocky_id_is_zero(m->span_id, sizeof m->span_id)) {
        cJSON_AddNullToObject(j, "span_id");
    } else {
        rocky_hex_encode(m->span_id, sizeof m->span_id, hex);
        cJSON_AddStringToObject(j, "span_id", hex);
    }
    cJSON *deps = cJSON_AddArrayToObject(j, "dependencies");
    for (uint32_t i = 0; i < m->dependency_count; i++)
        cJSON_AddItemToArray(deps, cJSON_CreateString(m->dependencies[i]));
    return j;
}

static void document(struct rocky_output *o, const struct rocky_run *run,
                     const struct rocky_model_exec *models, size_t count,
                     int threads, const char *state_path,
                     const char *target_path, const char *record_problem)
{
    cJSON *j = cJSON_CreateObject();
    char hex[33];
    cJSON_AddNumberToObject(j, "schema_version", 1);
    cJSON_AddStringToObject(j, "run_id", run->run_id);
    cJSON_AddStringToObject(j, "status", rocky_run_status_name(run->status));
    cJSON_AddStringToObject(j, "project", run->project);
    cJSON_AddStringToObject(j, "trigger", run->trigger);
    rocky_hex_encode(run->trace_id, sizeof run->trace_id, hex);
    cJSON_AddStringToObject(j, "trace_id", hex);
    rocky_hex_encode(run->span_id, sizeof run->span_id, hex);
    cJSON_AddStringToObject(j, "span_id", hex);
    add_int(j, "started_wall_ns", run->started_wall_ns);
    cJSON_AddNumberToObject(
        j, "duration_ms",
        seconds(run->started_mono_ns, run->finished_mono_ns) * 1e3);
    cJSON_AddNumberToObject(j, "threads", threads);
    cJSON_AddNumberToObject(j, "models_total", run->models_total);
    cJSON_AddNumberToObject(j, "models_succeeded", run->models_succeeded);
    cJSON_AddNumberToObject(j, "models_failed", run->models_failed);
    cJSON_AddNumberToObject(j, "models_skipped", run->models_skipped);
    cJSON_AddStringToObject(j, "state_path", state_path);
    cJSON_AddStringToObject(j, "target_path", target_path);
    if (record_problem != NULL)
        cJSON_AddStringToObject(j, "record_problem", record_problem);
    else
        cJSON_AddNullToObject(j, "record_problem");
    cJSON *arr = cJSON_AddArrayToObject(j, "models");
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(arr, model_json(&models[i]));
    char *text = cJSON_Print(j);
    if (text != NULL) {
        fputs(text, o->out);
        fputc('\n', o->out);
        free(text);
    }
    check_written(o);
    cJSON_Delete(j);
}

void rocky_output_finish(struct rocky_output *o, const struct rocky_run *run,
                         const struct rocky_model_exec *models, size_t count,
                         int threads, const char *state_path,
                         const char *target_path, const char *record_problem)
{
    /* The state path may come from rocky.json: escaped for the terminal
     * (the JSON document escapes for itself). */
    char *shown = o->json ? NULL : rocky_term_escape_dup(state_path, 0);
    pthread_mutex_lock(&o->mu);
    if (!o->broken && o->json)
        document(o, run, models, count, threads, state_path, target_path,
                 record_problem);
    else if (!o->broken)
        summary(o, run, threads, shown ? shown : state_path, record_problem);
    pthread_mutex_unlock(&o->mu);
    free(shown);
}
