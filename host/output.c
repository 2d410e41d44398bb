/* output.c — terminal lines and the --json document (see output.h). */
#include "output.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "human_units.h"
#include "ids.h"
#include "progress.h"
#include "shell_word.h"
#include "status_words.h"
#include "store.h"
#include "term_escape.h"
#include "time_format.h"

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
        fprintf(o->out, " %7.2fs %10lld %s",
                seconds(m->started_mono_ns, m->finished_mono_ns),
                (long long)m->rows_affected,
                rocky_plural(m->rows_affected, "row", "rows"));
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

void rocky_output_trace_command(FILE *fp, const char *run_id,
                                const char *state_path)
{
    fputs("rocky trace ", fp);
    rocky_shell_word(fp, run_id);
    /* Without --state, `rocky trace` opens ./.rocky/state.db (or
     * $ROCKY_STATE): name the store unless it is that one, so the command
     * works from where `rocky run` was started (`rocky run shop`). */
    const char *env = getenv("ROCKY_STATE");
    int by_default =
        env != NULL && env[0] != '\0'
            ? strcmp(state_path, env) == 0
            : strcmp(state_path, ROCKY_STORE_DEFAULT_FILE) == 0 ||
                  strcmp(state_path, "./" ROCKY_STORE_DEFAULT_FILE) == 0;
    if (!by_default) {
        fputs(" --state ", fp);
        rocky_shell_word(fp, state_path);
    }
}

static void summary(struct rocky_output *o, const struct rocky_run *run,
                    int threads, const char *state_path,
                    const char *raw_state_path, const char *record_problem)
{
    const char *status = rocky_run_status_name(run->status);
    const char *color = run->status == ROCKY_RUN_SUCCESS       ? C_GREEN
                        : run->status == ROCKY_RUN_INTERRUPTED ? C_YELLOW
                                                               : C_RED;
    char took[ROCKY_HUMAN_MAX];
    rocky_human_duration(run->finished_mono_ns >= run->started_mono_ns
                             ? run->finished_mono_ns - run->started_mono_ns
                             : 0,
                         took, sizeof took);
    fprintf(o->out,
            "\n%s%s%s%s: %u succeeded, %u failed, %u skipped of %u %s "
            "in %s on %d %s\n",
            o->color ? C_BOLD : "", o->color ? color : "", status,
            o->color ? C_RESET : "", run->models_succeeded, run->models_failed,
            run->models_skipped, run->models_total,
            rocky_plural(run->models_total, "model", "models"), took, threads,
            rocky_plural(threads, "thread", "threads"));
    /* Never "recorded" unless it is: the store's gap is the last word. */
    if (record_problem != NULL) { /* may quote SQLite and a path */
        fputs(o->color ? C_RED : "", o->out);
        rocky_term_fprintf(o->out, 0, "%s", record_problem);
        fprintf(o->out, "%s\n", o->color ? C_RESET : "");
    } else {
        /* Quoted for the shell from the raw path, then escaped for the
         * terminal like every path we print. */
        char *cmd = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&cmd, &len);
        if (fp != NULL) {
            rocky_output_trace_command(fp, run->run_id, raw_state_path);
            if (fclose(fp) != 0) {
                free(cmd);
                cmd = NULL;
            }
        }
        fprintf(o->out, "%srun %s recorded in %s; see `", o->color ? C_DIM : "",
                run->run_id, state_path);
        if (cmd != NULL)
            rocky_term_fprintf(o->out, 0, "%s", cmd);
        else
            fprintf(o->out, "rocky trace %s", run->run_id);
        fprintf(o->out, "`%s\n", o->color ? C_RESET : "");
        free(cmd);
    }
    check_written(o);
}

/* The document's version: RunOutput, trace/schema/run-output.schema.json.
 * Major on an incompatible change; minor when fields are added. 2.0.0:
 * TraceOutput's field names and units (1: schema_version, name,
 * started_wall_ns, models_total). */
#define RUN_OUTPUT_VERSION "2.0.0"

static void add_int(cJSON *j, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    cJSON_AddRawToObject(j, key, buf);
}

/* rows/bytes: -1 means unknown, null (as in TraceOutput). */
static void add_count(cJSON *j, const char *key, int64_t v)
{
    if (v >= 0)
        add_int(j, key, v);
    else
        cJSON_AddNullToObject(j, key);
}

static void add_id(cJSON *j, const char *key, const uint8_t *id, size_t len)
{
    char hex[2 * 16 + 1];
    if (len > 16 || rocky_id_is_zero(id, len)) {
        cJSON_AddNullToObject(j, key);
        return;
    }
    rocky_hex_encode(id, len, hex);
    cJSON_AddStringToObject(j, key, hex);
}

/* Whole milliseconds between two monotonic times, rounded down like
 * TraceOutput's; 0 when either is unknown. */
static int64_t ms_between(int64_t from, int64_t to)
{
    return from > 0 && to >= from ? (to - from) / 1000000 : 0;
}

static cJSON *model_json(const struct rocky_run *run,
                         const struct rocky_model_exec *m)
{
    cJSON *j = cJSON_CreateObject();
    int started = m->started_mono_ns > 0;
    cJSON_AddStringToObject(j, "model_name", m->model_name);
    cJSON_AddStringToObject(j, "status", rocky_model_status_word(m->status));
    add_int(j, "start_offset_ms",
            started ? ms_between(run->started_mono_ns, m->started_mono_ns) : 0);
    add_int(j, "duration_ms",
            ms_between(m->started_mono_ns, m->finished_mono_ns));
    cJSON_AddStringToObject(j, "sql_hash", m->sql_hash ? m->sql_hash : "");
    add_count(j, "rows_affected", m->rows_affected);
    add_count(j, "bytes_written", m->bytes_written);
    add_id(j, "span_id", m->span_id, sizeof m->span_id);
    if (m->error)
        cJSON_AddStringToObject(j, "error", m->error);
    else
        cJSON_AddNullToObject(j, "error");
    add_int(j, "attempt", m->attempt ? m->attempt : 1);
    cJSON_AddBoolToObject(j, "started", started);
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
    char when[32];
    cJSON_AddStringToObject(j, "version", RUN_OUTPUT_VERSION);
    cJSON_AddStringToObject(j, "command", "run");
    cJSON_AddStringToObject(j, "run_id", run->run_id);
    cJSON_AddStringToObject(j, "status", rocky_run_status_word(run->status));
    cJSON_AddStringToObject(j, "run_status",
                            rocky_run_status_name(run->status));
    cJSON_AddStringToObject(j, "trigger", run->trigger ? run->trigger : "");
    rocky_format_rfc3339(run->started_wall_ns, when, sizeof when);
    cJSON_AddStringToObject(j, "started_at", when);
    rocky_format_rfc3339(run->finished_wall_ns ? run->finished_wall_ns
                                               : run->started_wall_ns,
                         when, sizeof when);
    cJSON_AddStringToObject(j, "finished_at", when);
    add_int(j, "run_duration_ms",
            ms_between(run->started_mono_ns, run->finished_mono_ns));
    add_id(j, "trace_id", run->trace_id, sizeof run->trace_id);
    add_id(j, "span_id", run->span_id, sizeof run->span_id);
    cJSON_AddStringToObject(j, "project", run->project ? run->project : "");
    cJSON_AddNumberToObject(j, "threads", threads);
    cJSON_AddNumberToObject(j, "models_planned", run->models_total);
    cJSON_AddNumberToObject(j, "models_succeeded", run->models_succeeded);
    cJSON_AddNumberToObject(j, "models_failed", run->models_failed);
    cJSON_AddNumberToObject(j, "models_skipped", run->models_skipped);
    cJSON_AddStringToObject(j, "state_path", state_path);
    cJSON_AddStringToObject(j, "target_path", target_path);
    if (record_problem != NULL) {
        cJSON_AddStringToObject(j, "record_problem", record_problem);
        cJSON_AddNullToObject(j, "trace_command");
    } else {
        cJSON_AddNullToObject(j, "record_problem");
        char *cmd = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&cmd, &len);
        if (fp != NULL) {
            rocky_output_trace_command(fp, run->run_id, state_path);
            if (fclose(fp) != 0) {
                free(cmd);
                cmd = NULL;
            }
        }
        if (cmd != NULL)
            cJSON_AddStringToObject(j, "trace_command", cmd);
        else
            cJSON_AddNullToObject(j, "trace_command");
        free(cmd);
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "models");
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(arr, model_json(run, &models[i]));
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
        summary(o, run, threads, shown ? shown : state_path, state_path,
                record_problem);
    pthread_mutex_unlock(&o->mu);
    free(shown);
}
