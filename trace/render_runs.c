/* render_runs.c — the run history as a text table and as the versioned
 * `rocky runs --json` document (see runs.h). */
#include "runs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "json_writer.h"
#include "human_units.h"
#include "rocky/error.h"
#include "status_words.h"
#include "rocky/run_model.h"
#include "term_escape.h"

#define NS_PER_MS INT64_C(1000000)
#define CELL      96
#define GAP       2

static const char *telemetry_word(int delivery_confirmed)
{
    return delivery_confirmed > 0    ? "delivered"
           : delivery_confirmed == 0 ? "pending"
                                     : "none";
}

/* The one duration format of every rocky text view (lib/human_units). */
static void fmt_duration(int64_t ms, char *buf, size_t size)
{
    int64_t ns = ms < 0                       ? 0
                 : ms > INT64_MAX / NS_PER_MS ? INT64_MAX
                                              : ms * NS_PER_MS;
    rocky_human_duration(ns, buf, size);
}

/* "2025-11-25 06:00:00" in UTC, or "-" for 0. */
static void fmt_start(int64_t wall_ns, char *buf, size_t size)
{
    if (wall_ns <= 0) {
        snprintf(buf, size, "-");
        return;
    }
    time_t t = (time_t)(wall_ns / INT64_C(1000000000));
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

/* From start to finish, or to `now` while running (now = 0: unknown, as
 * for a crashed run that recorded no end). -1 when it never started. */
static int64_t span_ms(int64_t start, int64_t finish, int64_t now)
{
    if (finish <= 0 && now == 0)
        return -1;
    if (start <= 0)
        return -1;
    int64_t end = finish > 0 ? finish : now;
    return end > start ? (end - start) / NS_PER_MS : 0;
}

/* A table of `ncols` columns; columns whose `drop` rank is set go, highest
 * rank first, until the rows fit `width`. */
struct table {
    size_t ncols, nrows;
    const char *const *heads;
    const int *drop; /* 0: never dropped */
    char (*cells)[8][CELL];
    size_t widths[8];
    int shown[8];
};

static size_t table_width(const struct table *t)
{
    size_t total = 0, n = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        if (!t->shown[c])
            continue;
        total += t->widths[c];
        n++;
    }
    return n ? total + GAP * (n - 1) : 0;
}

static void table_fit(struct table *t, size_t width)
{
    for (size_t c = 0; c < t->ncols; c++) {
        t->shown[c] = 1;
        t->widths[c] = rocky_utf8_width(t->heads[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t w = rocky_utf8_width(t->cells[r][c]);
            if (w > t->widths[c])
                t->widths[c] = w;
        }
    }
    for (int rank = 9; rank > 0 && table_width(t) > width; rank--)
        for (size_t c = 0; c < t->ncols; c++)
            if (t->drop[c] == rank)
                t->shown[c] = 0;
}

static void put_cell(FILE *out, const char *s, size_t width, int last)
{
    /* Cells are escaped already (rocky_utf8_truncate): no control bytes. */
    fputs(s, out);
    if (last)
        return;
    for (size_t w = rocky_utf8_width(s); w < width + GAP; w++)
        fputc(' ', out);
}

static void table_print(FILE *out, const struct table *t)
{
    size_t last = 0;
    for (size_t c = 0; c < t->ncols; c++)
        if (t->shown[c])
            last = c;
    for (size_t c = 0; c < t->ncols; c++)
        if (t->shown[c])
            put_cell(out, t->heads[c], t->widths[c], c == last);
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++)
            if (t->shown[c])
                put_cell(out, t->cells[r][c], t->widths[c], c == last);
        fputc('\n', out);
    }
}

static void short_id(const char *id, size_t len, char *buf, size_t size)
{
    snprintf(buf, size, "%.*s", (int)len, id);
}

int rocky_runs_render_text(FILE *out, const struct rocky_store_run_summary *r,
                           size_t n, int64_t now, size_t width)
{
    static const char *const heads[] = {
        "RUN",     "START (UTC)",  "DURATION", "STATUS",
        "TRIGGER", "OK/FAIL/SKIP", "TELEMETRY"};
    static const int drop[] = {0, 4, 2, 0, 5, 1, 3};
    struct table t = {.ncols = 7, .nrows = n, .heads = heads, .drop = drop};
    t.cells = calloc(n ? n : 1, sizeof *t.cells);
    if (t.cells == NULL)
        return ROCKY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char(*c)[CELL] = t.cells[i];
        char id[CELL];
        short_id(r[i].run_id, r[i].short_len, id, sizeof id);
        rocky_utf8_truncate(id, 20, c[0], CELL);
        fmt_start(r[i].started_wall_ns, c[1], CELL);
        int64_t ms = span_ms(r[i].started_wall_ns, r[i].finished_wall_ns,
                             r[i].status == ROCKY_RUN_RUNNING ? now : 0);
        if (ms < 0)
            snprintf(c[2], CELL, "-");
        else
            fmt_duration(ms, c[2], CELL);
        snprintf(c[3], CELL, "%s", rocky_run_status_name(r[i].status));
        rocky_utf8_truncate(r[i].trigger, 12, c[4], CELL);
        snprintf(c[5], CELL, "%u/%u/%u", r[i].models_succeeded,
                 r[i].models_failed, r[i].models_skipped);
        snprintf(c[6], CELL, "%s", telemetry_word(r[i].delivery_confirmed));
    }
    table_fit(&t, width);
    table_print(out, &t);
    free(t.cells);
    return ferror(out) ? ROCKY_EIO : 0;
}

static const char *const blocks[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char ascii_levels[] = "_.-=+*#@";

/* "trend ▁▃█  0.30s..1.20s, oldest to newest": the listed executions'
 * durations, oldest → newest (the history is newest first), scaled between
 * their shortest and longest; as many of the newest as fit `width`. */
static void sparkline(FILE *out, const struct rocky_store_model_history *h,
                      size_t n, int64_t now, size_t width, int utf8)
{
    int64_t lo = INT64_MAX, hi = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t ms = span_ms(h[i].started_wall_ns, h[i].finished_wall_ns, now);
        if (ms < 0)
            continue;
        lo = ms < lo ? ms : lo;
        hi = ms > hi ? ms : hi;
    }
    if (hi < 0)
        return;
    char a[32], b[32], range[96];
    fmt_duration(lo, a, sizeof a);
    fmt_duration(hi, b, sizeof b);
    snprintf(range, sizeof range, "  %s..%s, oldest to newest", a, b);
    if (width < strlen("trend ") + strlen(range) + 8)
        snprintf(range, sizeof range, "  %s..%s", a, b);
    size_t fixed = strlen("trend ") + strlen(range);
    size_t max = width > fixed + 1 ? width - fixed : 1;
    /* `end`: one past the oldest of the `max` newest; walk back from it. */
    size_t taken = 0, end = 0;
    for (; end < n && taken < max; end++)
        if (span_ms(h[end].started_wall_ns, h[end].finished_wall_ns, now) >= 0)
            taken++;
    fputs("trend ", out);
    for (size_t k = end; k-- > 0;) {
        int64_t ms = span_ms(h[k].started_wall_ns, h[k].finished_wall_ns, now);
        if (ms < 0)
            continue;
        int level = hi > lo ? (int)((ms - lo) * 7 / (hi - lo)) : 3;
        if (utf8)
            fputs(blocks[level], out);
        else
            fputc(ascii_levels[level], out);
    }
    fprintf(out, "%s\n", range);
}

int rocky_runs_render_history_text(FILE *out, const char *model,
                                   const struct rocky_store_model_history *h,
                                   size_t n, int64_t now, size_t width,
                                   int utf8)
{
    static const char *const heads[] = {"RUN", "START (UTC)", "DURATION",
                                        "ROWS", "STATUS"};
    static const int drop[] = {0, 2, 0, 1, 0};
    struct table t = {.ncols = 5, .nrows = n, .heads = heads, .drop = drop};
    t.cells = calloc(n ? n : 1, sizeof *t.cells);
    if (t.cells == NULL)
        return ROCKY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char(*c)[CELL] = t.cells[i];
        char id[CELL];
        short_id(h[i].run_id, h[i].short_len, id, sizeof id);
        rocky_utf8_truncate(id, 20, c[0], CELL);
        fmt_start(h[i].started_wall_ns, c[1], CELL);
        int64_t ms = span_ms(h[i].started_wall_ns, h[i].finished_wall_ns, now);
        if (ms < 0)
            snprintf(c[2], CELL, "-");
        else
            fmt_duration(ms, c[2], CELL);
        if (h[i].rows_affected < 0)
            snprintf(c[3], CELL, "-");
        else
            snprintf(c[3], CELL, "%lld", (long long)h[i].rows_affected);
        snprintf(c[4], CELL, "%s", rocky_model_status_name(h[i].status));
    }
    char name[4 * 60 + 8];
    /* "model " + name + ": 1000000 executions, newest first" */
    rocky_utf8_truncate(model, width > 100 ? 60 : width - 40, name,
                        sizeof name);
    fprintf(out, "model %s: %zu execution%s, newest first\n", name, n,
            n == 1 ? "" : "s");
    table_fit(&t, width);
    table_print(out, &t);
    sparkline(out, h, n, now, width, utf8);
    free(t.cells);
    return ferror(out) ? ROCKY_EIO : 0;
}

static void kv_time(struct rocky_json *w, const char *key, int64_t wall_ns)
{
    if (wall_ns <= 0) {
        rocky_json_key(w, key);
        rocky_json_null(w);
        return;
    }
    char buf[40];
    rocky_format_rfc3339(wall_ns, buf, sizeof buf);
    rocky_json_kv_string(w, key, buf);
}

static void kv_ms(struct rocky_json *w, const char *key, int64_t ms)
{
    rocky_json_key(w, key);
    if (ms < 0)
        rocky_json_null(w);
    else
        rocky_json_int(w, ms);
}

static void head(struct rocky_json *w, const char *kind)
{
    rocky_json_begin_object(w);
    rocky_json_kv_string(w, "version", ROCKY_RUNS_SCHEMA_VERSION);
    rocky_json_kv_string(w, "command", "runs");
    rocky_json_kv_string(w, "kind", kind);
}

int rocky_runs_render_json(FILE *out, const struct rocky_store_run_summary *r,
                           size_t n, int64_t now)
{
    struct rocky_json w;
    rocky_json_init(&w, out, 1);
    head(&w, "runs");
    rocky_json_key(&w, "runs");
    rocky_json_begin_array(&w);
    for (size_t i = 0; i < n; i++) {
        char id[CELL];
        short_id(r[i].run_id, r[i].short_len, id, sizeof id);
        rocky_json_begin_object(&w);
        rocky_json_kv_string(&w, "run_id", r[i].run_id);
        rocky_json_kv_string(&w, "short_id", id);
        rocky_json_kv_string(&w, "status", rocky_run_status_word(r[i].status));
        rocky_json_kv_string(&w, "run_status",
                             rocky_run_status_name(r[i].status));
        rocky_json_kv_string(&w, "trigger", r[i].trigger);
        kv_time(&w, "started_at", r[i].started_wall_ns);
        kv_time(&w, "finished_at", r[i].finished_wall_ns);
        kv_ms(&w, "run_duration_ms",
              span_ms(r[i].started_wall_ns, r[i].finished_wall_ns,
                      r[i].status == ROCKY_RUN_RUNNING ? now : 0));
        rocky_json_kv_int(&w, "models_planned", r[i].models_total);
        rocky_json_kv_int(&w, "models_succeeded", r[i].models_succeeded);
        rocky_json_kv_int(&w, "models_failed", r[i].models_failed);
        rocky_json_kv_int(&w, "models_skipped", r[i].models_skipped);
        rocky_json_kv_string(&w, "telemetry",
                             telemetry_word(r[i].delivery_confirmed));
        rocky_json_end_object(&w);
    }
    rocky_json_end_array(&w);
    rocky_json_end_object(&w);
    fputc('\n', out);
    return ferror(out) ? ROCKY_EIO : 0;
}

int rocky_runs_render_history_json(FILE *out, const char *model,
                                   const struct rocky_store_model_history *h,
                                   size_t n, int64_t now)
{
    struct rocky_json w;
    rocky_json_init(&w, out, 1);
    head(&w, "model_history");
    rocky_json_kv_string(&w, "model_name", model);
    rocky_json_key(&w, "executions");
    rocky_json_begin_array(&w);
    for (size_t i = 0; i < n; i++) {
        char id[CELL];
        short_id(h[i].run_id, h[i].short_len, id, sizeof id);
        rocky_json_begin_object(&w);
        rocky_json_kv_string(&w, "run_id", h[i].run_id);
        rocky_json_kv_string(&w, "short_id", id);
        rocky_json_kv_string(&w, "run_status",
                             rocky_run_status_word(h[i].run_status));
        rocky_json_kv_string(&w, "status",
                             rocky_model_status_word(h[i].status));
        kv_time(&w, "started_at", h[i].started_wall_ns);
        kv_time(&w, "finished_at", h[i].finished_wall_ns);
        kv_ms(&w, "duration_ms",
              span_ms(h[i].started_wall_ns, h[i].finished_wall_ns, now));
        rocky_json_key(&w, "rows_affected");
        if (h[i].rows_affected < 0)
            rocky_json_null(&w);
        else
            rocky_json_int(&w, h[i].rows_affected);
        rocky_json_end_object(&w);
    }
    rocky_json_end_array(&w);
    rocky_json_end_object(&w);
    fputc('\n', out);
    return ferror(out) ? ROCKY_EIO : 0;
}
