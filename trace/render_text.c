/* render_text.c — the terminal view of a run's timeline (see render.h). */
#include "render.h"

#include <inttypes.h>
#include <string.h>

#include "format.h"
#include "ids.h"
#include "rocky/error.h"

#define NAME_MAX_COLS    28
#define NAME_MIN_COLS    5
#define BAR_MIN_COLS     10
#define STATUS_COLS      11 /* strlen("interrupted") */
#define SLOWEST_SHOWN    5
#define PATH_NAMES_SHOWN 20
/* Columns besides name and bar: "! " + "  [" + "]" + "  " + "%7.2fs" (8)
 * + "  " + status. */
#define FIXED_COLS (2 + 3 + 1 + 2 + 8 + 2 + STATUS_COLS)

static int failed(const struct rocky_model_exec *m)
{
    return m->status == ROCKY_MODEL_FAILED ||
           m->status == ROCKY_MODEL_INTERRUPTED;
}

void rocky_trace_layout_for_names(size_t width, size_t longest,
                                  struct rocky_trace_layout *layout)
{
    if (width < ROCKY_TRACE_MIN_WIDTH)
        width = ROCKY_TRACE_MIN_WIDTH;
    if (longest > NAME_MAX_COLS)
        longest = NAME_MAX_COLS;
    /* Names give way to the bar first, down to their minimum. */
    size_t room = width > FIXED_COLS + BAR_MIN_COLS
                      ? width - FIXED_COLS - BAR_MIN_COLS
                      : 0;
    size_t name = longest < room ? longest : room;
    if (name < NAME_MIN_COLS)
        name = NAME_MIN_COLS;
    size_t bar = width > FIXED_COLS + name ? width - FIXED_COLS - name : 0;
    if (bar < BAR_MIN_COLS)
        bar = BAR_MIN_COLS;
    layout->width = width;
    layout->name_cols = name;
    layout->bar_cols = bar;
}

void rocky_trace_layout_for(const struct rocky_trace *trace, size_t width,
                            struct rocky_trace_layout *layout)
{
    size_t longest = NAME_MIN_COLS;
    for (size_t i = 0; i < trace->count && longest < NAME_MAX_COLS; i++) {
        size_t w = rocky_utf8_width(trace->entries[i].exec->model_name);
        if (w > longest)
            longest = w;
    }
    rocky_trace_layout_for_names(width, longest, layout);
}

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

int rocky_trace_render_text_header(FILE *out, const struct rocky_trace *trace)
{
    const struct rocky_run *run = &trace->record->run;
    char started[32], finished[32], trace_id[2 * ROCKY_TRACE_ID_SIZE + 1];
    char id[256];
    rocky_format_rfc3339(run->started_wall_ns, started, sizeof started);
    if (run->finished_wall_ns != 0)
        rocky_format_rfc3339(run->finished_wall_ns, finished, sizeof finished);
    else
        snprintf(finished, sizeof finished, "-");
    if (rocky_id_is_zero(run->trace_id, ROCKY_TRACE_ID_SIZE))
        snprintf(trace_id, sizeof trace_id, "-");
    else
        rocky_hex_encode(run->trace_id, ROCKY_TRACE_ID_SIZE, trace_id);
    rocky_utf8_truncate(run->run_id, 60, id, sizeof id);
    fprintf(out, "run:      %s\n", id);
    rocky_utf8_truncate(run->trigger ? run->trigger : "-", 20, id, sizeof id);
    fprintf(out, "status:   %s   trigger: %s   duration: %.2fs\n",
            rocky_run_status_name(run->status), id,
            secs(trace->run_duration_ns));
    if (run->status == ROCKY_RUN_INCOMPLETE)
        fprintf(out,
                "gap:      %zu of %u models are on record; the runner could "
                "not write the other %zu (the timeline shows what is)\n",
                trace->record->model_count, run->models_total,
                run->models_total > trace->record->model_count
                    ? run->models_total - trace->record->model_count
                    : 0);
    fprintf(out, "started:  %s   finished: %s\n", started, finished);
    fprintf(out, "lanes:    %zu   trace id: %s\n", trace->lane_count, trace_id);
    return ferror(out) ? ROCKY_EIO : 0;
}

static void fill_bar(char *bar, const struct rocky_trace *trace,
                     const struct rocky_trace_entry *e, size_t cols)
{
    memset(bar, '.', cols);
    bar[cols] = '\0';
    if (!e->started)
        return;
    double run =
        trace->run_duration_ns > 0 ? (double)trace->run_duration_ns : 1.0;
    size_t from =
        (size_t)((double)e->start_offset_ns / run * (double)cols + 0.5);
    size_t to = (size_t)((double)(e->start_offset_ns + e->duration_ns) / run *
                             (double)cols +
                         0.5);
    if (from >= cols)
        from = cols - 1;
    if (to <= from)
        to = from + 1; /* zero-length models stay visible */
    if (to > cols)
        to = cols;
    char fill = failed(e->exec)                          ? 'X'
                : e->exec->status == ROCKY_MODEL_RUNNING ? '='
                                                         : '#';
    memset(bar + from, fill, to - from);
}

int rocky_trace_render_text_row(FILE *out, const struct rocky_trace *trace,
                                const struct rocky_trace_entry *entry,
                                const struct rocky_trace_layout *layout)
{
    const struct rocky_model_exec *m = entry->exec;
    char name[4 * NAME_MAX_COLS + 8];
    char bar[1024];
    size_t cols =
        layout->bar_cols < sizeof bar ? layout->bar_cols : sizeof bar - 1;
    size_t w = rocky_utf8_truncate(m->model_name, layout->name_cols, name,
                                   sizeof name);
    fill_bar(bar, trace, entry, cols);
    fprintf(out, "%s %s%*s  [%s]  ", failed(m) ? "!" : " ", name,
            (int)(layout->name_cols - w), "", bar);
    if (entry->started)
        fprintf(out, "%7.2fs", secs(entry->duration_ns));
    else
        fputs("       -", out);
    int counters = m->rows_affected >= 0 || m->bytes_written >= 0;
    fprintf(out, "  %-*s", counters ? STATUS_COLS : 0,
            rocky_model_status_name(m->status));
    if (m->rows_affected >= 0)
        fprintf(out, "  rows=%" PRId64, m->rows_affected);
    if (m->bytes_written >= 0)
        fprintf(out, "  bytes=%" PRId64, m->bytes_written);
    fputc('\n', out);
    if (m->error != NULL && m->error[0] != '\0') {
        /* First line of the error, sanitised: it may hold anything. */
        char line[4 * 200 + 8];
        size_t max = layout->width > 16 ? layout->width - 13 : 8;
        if (max > 200)
            max = 200;
        const char *nl = strchr(m->error, '\n');
        char first[4 * 200 + 8];
        size_t len = nl ? (size_t)(nl - m->error) : strlen(m->error);
        if (len >= sizeof first)
            len = sizeof first - 1;
        memcpy(first, m->error, len);
        first[len] = '\0';
        rocky_utf8_truncate(first, max, line, sizeof line);
        fprintf(out, "      error: %s%s\n", line, nl ? " (…)" : "");
    }
    return ferror(out) ? ROCKY_EIO : 0;
}

/* Indices of the `k` longest entries, longest first (O(n k), k small). */
static size_t slowest(const struct rocky_trace *trace, size_t *top, size_t k)
{
    size_t len = 0;
    for (size_t i = 0; i < trace->count; i++) {
        if (!trace->entries[i].started)
            continue;
        int64_t d = trace->entries[i].duration_ns;
        size_t pos = len;
        while (pos > 0 && trace->entries[top[pos - 1]].duration_ns < d)
            pos--;
        if (pos >= k)
            continue;
        size_t last = len < k ? len : k - 1;
        memmove(top + pos + 1, top + pos, (last - pos) * sizeof *top);
        top[pos] = i;
        if (len < k)
            len++;
    }
    return len;
}

int rocky_trace_render_text_summary(FILE *out, const struct rocky_trace *trace)
{
    size_t ok = 0, bad = 0, skipped = 0;
    for (size_t i = 0; i < trace->count; i++) {
        uint32_t s = trace->entries[i].exec->status;
        ok += s == ROCKY_MODEL_SUCCESS;
        bad += failed(trace->entries[i].exec);
        skipped += s == ROCKY_MODEL_SKIPPED;
    }
    fprintf(out,
            "summary:  %zu models (%zu succeeded, %zu failed, %zu skipped), "
            "%zu lanes, busy %.2fs, parallelism %.2f\n",
            trace->count, ok, bad, skipped, trace->lane_count,
            secs(trace->busy_ns), trace->parallelism);
    size_t top[SLOWEST_SHOWN];
    size_t n = slowest(trace, top, SLOWEST_SHOWN);
    char name[4 * NAME_MAX_COLS + 8];
    fputs("slowest: ", out);
    for (size_t k = 0; k < n; k++) {
        const struct rocky_trace_entry *e = &trace->entries[top[k]];
        rocky_utf8_truncate(e->exec->model_name, NAME_MAX_COLS, name,
                            sizeof name);
        fprintf(out, "%s %s %.2fs", k ? "," : "", name, secs(e->duration_ns));
    }
    fputs(n ? "\n" : " -\n", out);
    fprintf(out, "critical path: %.2fs ", secs(trace->critical_ns));
    if (trace->critical_count == 0)
        fputs(" -", out);
    for (size_t k = 0; k < trace->critical_count; k++) {
        if (k == PATH_NAMES_SHOWN) {
            fprintf(out, " → … (%zu more)",
                    trace->critical_count - PATH_NAMES_SHOWN);
            break;
        }
        rocky_utf8_truncate(trace->critical_path[k]->model_name, NAME_MAX_COLS,
                            name, sizeof name);
        fprintf(out, "%s %s", k ? " →" : "", name);
    }
    fputc('\n', out);
    return ferror(out) ? ROCKY_EIO : 0;
}

int rocky_trace_render_text(FILE *out, const struct rocky_trace *trace,
                            size_t width)
{
    struct rocky_trace_layout layout;
    rocky_trace_layout_for(trace, width, &layout);
    int rc = rocky_trace_render_text_header(out, trace);
    if (rc != 0)
        return rc;
    fprintf(out, "\n  %-*s  %-*s  duration  status\n", (int)layout.name_cols,
            "model", (int)layout.bar_cols + 2, "timeline");
    for (size_t i = 0; i < trace->count; i++) {
        rc = rocky_trace_render_text_row(out, trace, &trace->entries[i],
                                         &layout);
        if (rc != 0)
            return rc;
    }
    fputc('\n', out);
    return rocky_trace_render_text_summary(out, trace);
}
