/* render_text.c — the terminal view of a run's timeline (see render.h). */
#include "render.h"

#include <inttypes.h>
#include <string.h>

#include "format.h"
#include "human_units.h"
#include "ids.h"
#include "rocky/error.h"

#define NAME_MAX_COLS    28
#define NAME_MIN_COLS    5
#define BAR_MIN_COLS     6
#define STATUS_COLS      11 /* strlen("interrupted") */
#define DURATION_COLS    8  /* "59.99s", "59m59s", "9999h59m" */
#define ROWS_COLS        11 /* "999.9k rows" */
#define BYTES_COLS       10 /* "1023.9 MiB" */
#define SLOWEST_SHOWN    5
#define PATH_NAMES_SHOWN 20
/* Columns besides name, bar and counters: "! " + "  [" + "]" + "  " +
 * duration + "  " + status. */
#define FIXED_COLS (2 + 3 + 1 + 2 + DURATION_COLS + 2 + STATUS_COLS)
/* The counter columns, each with its two-space gap, and the widths from
 * which they are shown: below, the bar and the names need the room more. */
#define ROWS_GAP_COLS    (2 + ROWS_COLS)
#define BYTES_GAP_COLS   (2 + BYTES_COLS)
#define ROWS_FROM_WIDTH  72
#define BYTES_FROM_WIDTH 96

static int failed(const struct rocky_model_exec *m)
{
    return m->status == ROCKY_MODEL_FAILED ||
           m->status == ROCKY_MODEL_INTERRUPTED;
}

static void layout_with(size_t width, size_t longest, int counters,
                        struct rocky_trace_layout *layout)
{
    if (width < ROCKY_TRACE_MIN_WIDTH)
        width = ROCKY_TRACE_MIN_WIDTH;
    if (longest > NAME_MAX_COLS)
        longest = NAME_MAX_COLS;
    layout->show_rows = counters && width >= ROWS_FROM_WIDTH;
    layout->show_bytes = counters && width >= BYTES_FROM_WIDTH;
    size_t fixed = FIXED_COLS + (layout->show_rows ? ROWS_GAP_COLS : 0) +
                   (layout->show_bytes ? BYTES_GAP_COLS : 0);
    /* Names give way to the bar first, down to their minimum. */
    size_t room =
        width > fixed + BAR_MIN_COLS ? width - fixed - BAR_MIN_COLS : 0;
    size_t name = longest < room ? longest : room;
    if (name < NAME_MIN_COLS)
        name = NAME_MIN_COLS;
    size_t bar = width > fixed + name ? width - fixed - name : 0;
    if (bar < BAR_MIN_COLS)
        bar = BAR_MIN_COLS;
    layout->width = width;
    layout->name_cols = name;
    layout->bar_cols = bar;
}

void rocky_trace_layout_for_names(size_t width, size_t longest,
                                  struct rocky_trace_layout *layout)
{
    /* Rows printed over time may bring counters later: keep their room. */
    layout_with(width, longest, 1, layout);
}

void rocky_trace_layout_for(const struct rocky_trace *trace, size_t width,
                            struct rocky_trace_layout *layout)
{
    size_t longest = NAME_MIN_COLS;
    int counters = 0;
    for (size_t i = 0; i < trace->count; i++) {
        const struct rocky_model_exec *m = trace->entries[i].exec;
        counters |= m->rows_affected >= 0 || m->bytes_written >= 0;
        if (longest < NAME_MAX_COLS) {
            size_t w = rocky_utf8_width(m->model_name);
            if (w > longest)
                longest = w;
        }
    }
    /* No counter columns when no model has counters. */
    layout_with(width, longest, counters, layout);
}

/* Items laid out on lines of at most `width` columns: an item that does not
 * fit on the current line starts the next one, indented; an item wider than
 * a whole line is cut (with "…"). Items are already sanitised text. */
struct flow {
    FILE *out;
    size_t width;
    size_t col;
    size_t indent;
};

static void flow_start(struct flow *f, FILE *out, size_t width,
                       const char *label, size_t indent)
{
    f->out = out;
    f->width = width;
    f->indent = indent;
    fputs(label, out);
    f->col = rocky_utf8_width(label);
}

static void flow_put(struct flow *f, const char *sep, const char *item)
{
    size_t sw = f->col > f->indent ? strlen(sep) : 0;
    size_t w = rocky_utf8_width(item);
    if (f->col > f->indent && f->col + sw + w > f->width) {
        fprintf(f->out, "\n%*s", (int)f->indent, "");
        f->col = f->indent;
        sw = 0;
    }
    if (sw)
        fputs(sep, f->out);
    f->col += sw;
    size_t room = f->width > f->col ? f->width - f->col : 1;
    if (w > room) {
        char cut[4 * 256 + 8];
        f->col +=
            rocky_utf8_truncate(item, room < 256 ? room : 256, cut, sizeof cut);
        fputs(cut, f->out);
    } else {
        fputs(item, f->out);
        f->col += w;
    }
}

static void flow_end(struct flow *f)
{
    fputc('\n', f->out);
}

int rocky_trace_render_text_header(FILE *out, const struct rocky_trace *trace)
{
    return rocky_trace_render_text_header_width(out, trace, 100);
}

int rocky_trace_render_text_header_width(FILE *out,
                                         const struct rocky_trace *trace,
                                         size_t width)
{
    const struct rocky_run *run = &trace->record->run;
    char started[32], finished[32], trace_id[2 * ROCKY_TRACE_ID_SIZE + 1];
    char id[256], item[512], dur[ROCKY_HUMAN_MAX];
    struct flow f;
    if (width < ROCKY_TRACE_MIN_WIDTH)
        width = ROCKY_TRACE_MIN_WIDTH;
    rocky_format_rfc3339(run->started_wall_ns, started, sizeof started);
    if (run->finished_wall_ns != 0)
        rocky_format_rfc3339(run->finished_wall_ns, finished, sizeof finished);
    else
        snprintf(finished, sizeof finished, "-");
    if (rocky_id_is_zero(run->trace_id, ROCKY_TRACE_ID_SIZE))
        snprintf(trace_id, sizeof trace_id, "-");
    else
        rocky_hex_encode(run->trace_id, ROCKY_TRACE_ID_SIZE, trace_id);
    flow_start(&f, out, width, "run:      ", 10);
    rocky_utf8_truncate(run->run_id, 60, id, sizeof id);
    flow_put(&f, "", id);
    flow_end(&f);
    flow_start(&f, out, width, "status:   ", 10);
    flow_put(&f, "", rocky_run_status_name(run->status));
    rocky_utf8_truncate(run->trigger ? run->trigger : "-", 20, id, sizeof id);
    snprintf(item, sizeof item, "trigger: %s", id);
    flow_put(&f, "   ", item);
    snprintf(item, sizeof item, "duration: %s",
             rocky_human_duration(trace->run_duration_ns, dur, sizeof dur));
    flow_put(&f, "   ", item);
    flow_end(&f);
    if (run->status == ROCKY_RUN_INCOMPLETE) {
        size_t lost = run->models_total > trace->record->model_count
                          ? run->models_total - trace->record->model_count
                          : 0;
        flow_start(&f, out, width, "gap:      ", 10);
        snprintf(item, sizeof item, "%zu of %u %s are on record;",
                 trace->record->model_count, run->models_total,
                 rocky_plural(run->models_total, "model", "models"));
        flow_put(&f, "", item);
        snprintf(item, sizeof item, "the runner could not write the other %zu",
                 lost);
        flow_put(&f, " ", item);
        flow_put(&f, " ", "(the timeline shows what is)");
        flow_end(&f);
    }
    flow_start(&f, out, width, "started:  ", 10);
    flow_put(&f, "", started);
    snprintf(item, sizeof item, "finished: %s", finished);
    flow_put(&f, "   ", item);
    flow_end(&f);
    flow_start(&f, out, width, "lanes:    ", 10);
    snprintf(item, sizeof item, "%zu", trace->lane_count);
    flow_put(&f, "", item);
    snprintf(item, sizeof item, "trace id: %s", trace_id);
    flow_put(&f, "   ", item);
    flow_end(&f);
    return ferror(out) ? ROCKY_EIO : 0;
}

void rocky_trace_render_text_titles(FILE *out,
                                    const struct rocky_trace_layout *layout)
{
    fprintf(out, "\n  %-*s  %-*s  %*s  %-*s", (int)layout->name_cols, "model",
            (int)layout->bar_cols + 2, "timeline", DURATION_COLS, "duration",
            STATUS_COLS, "status");
    if (layout->show_rows)
        fprintf(out, "  %*s", ROWS_COLS, "rows");
    if (layout->show_bytes)
        fprintf(out, "  %*s", BYTES_COLS, "bytes");
    fputc('\n', out);
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
    char dur[ROCKY_HUMAN_MAX], rows[ROCKY_HUMAN_MAX], bytes[ROCKY_HUMAN_MAX];
    if (entry->started)
        rocky_human_duration(entry->duration_ns, dur, sizeof dur);
    else
        snprintf(dur, sizeof dur, "-");
    fprintf(out, "%s %s%*s  [%s]  %*s  %-*s", failed(m) ? "!" : " ", name,
            (int)(layout->name_cols - w), "", bar, DURATION_COLS, dur,
            STATUS_COLS, rocky_model_status_name(m->status));
    if (layout->show_rows)
        fprintf(out, "  %*s", ROWS_COLS,
                m->rows_affected >= 0
                    ? rocky_human_count(m->rows_affected, "row", "rows", rows,
                                        sizeof rows)
                    : "");
    if (layout->show_bytes)
        fprintf(out, "  %*s", BYTES_COLS,
                m->bytes_written >= 0
                    ? rocky_human_bytes(m->bytes_written, bytes, sizeof bytes)
                    : "");
    fputc('\n', out);
    if (m->error != NULL && m->error[0] != '\0') {
        /* First line of the error, sanitised: it may hold anything. */
        char line[4 * 200 + 8];
        const char *nl = strchr(m->error, '\n');
        /* "      error: " (13) + the line + " (…)" (4) within the width. */
        size_t max = layout->width > 13 + 4 + 8 ? layout->width - 13 - 4 : 8;
        if (max > 200)
            max = 200;
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
    return rocky_trace_render_text_summary_width(out, trace, 100);
}

int rocky_trace_render_text_summary_width(FILE *out,
                                          const struct rocky_trace *trace,
                                          size_t width)
{
    size_t ok = 0, bad = 0, skipped = 0;
    char item[4 * NAME_MAX_COLS + 64], dur[ROCKY_HUMAN_MAX];
    struct flow f;
    if (width < ROCKY_TRACE_MIN_WIDTH)
        width = ROCKY_TRACE_MIN_WIDTH;
    for (size_t i = 0; i < trace->count; i++) {
        uint32_t s = trace->entries[i].exec->status;
        ok += s == ROCKY_MODEL_SUCCESS;
        bad += failed(trace->entries[i].exec);
        skipped += s == ROCKY_MODEL_SKIPPED;
    }
    flow_start(&f, out, width, "summary:  ", 10);
    snprintf(item, sizeof item, "%zu %s", trace->count,
             rocky_plural((int64_t)trace->count, "model", "models"));
    flow_put(&f, "", item);
    snprintf(item, sizeof item, "(%zu succeeded, %zu failed, %zu skipped),", ok,
             bad, skipped);
    flow_put(&f, " ", item);
    snprintf(item, sizeof item, "%zu %s,", trace->lane_count,
             rocky_plural((int64_t)trace->lane_count, "lane", "lanes"));
    flow_put(&f, " ", item);
    snprintf(item, sizeof item, "busy %s,",
             rocky_human_duration(trace->busy_ns, dur, sizeof dur));
    flow_put(&f, " ", item);
    snprintf(item, sizeof item, "parallelism %.2f", trace->parallelism);
    flow_put(&f, " ", item);
    flow_end(&f);

    size_t top[SLOWEST_SHOWN];
    size_t n = slowest(trace, top, SLOWEST_SHOWN);
    char name[4 * NAME_MAX_COLS + 8];
    flow_start(&f, out, width, "slowest:  ", 10);
    for (size_t k = 0; k < n; k++) {
        const struct rocky_trace_entry *e = &trace->entries[top[k]];
        rocky_human_duration(e->duration_ns, dur, sizeof dur);
        /* Cut the name, never the duration: the item fits a line. */
        size_t room = width - 10 - strlen(dur) - 2;
        rocky_utf8_truncate(e->exec->model_name,
                            room < NAME_MAX_COLS ? room : NAME_MAX_COLS, name,
                            sizeof name);
        snprintf(item, sizeof item, "%s %s%s", name, dur, k + 1 < n ? "," : "");
        flow_put(&f, " ", item);
    }
    if (n == 0)
        flow_put(&f, "", "-");
    flow_end(&f);

    snprintf(item, sizeof item, "critical path: %s ",
             rocky_human_duration(trace->critical_ns, dur, sizeof dur));
    flow_start(&f, out, width, item, 10);
    if (trace->critical_count == 0)
        flow_put(&f, " ", "-");
    for (size_t k = 0; k < trace->critical_count; k++) {
        if (k == PATH_NAMES_SHOWN) {
            snprintf(item, sizeof item, "… (%zu more)",
                     trace->critical_count - PATH_NAMES_SHOWN);
            flow_put(&f, " ", item);
            break;
        }
        rocky_utf8_truncate(trace->critical_path[k]->model_name, NAME_MAX_COLS,
                            name, sizeof name);
        snprintf(item, sizeof item, "%s%s", name,
                 k + 1 < trace->critical_count ? " →" : "");
        flow_put(&f, " ", item);
    }
    flow_end(&f);
    return ferror(out) ? ROCKY_EIO : 0;
}

int rocky_trace_render_text(FILE *out, const struct rocky_trace *trace,
                            size_t width)
{
    struct rocky_trace_layout layout;
    rocky_trace_layout_for(trace, width, &layout);
    int rc = rocky_trace_render_text_header_width(out, trace, layout.width);
    if (rc != 0)
        return rc;
    rocky_trace_render_text_titles(out, &layout);
    for (size_t i = 0; i < trace->count; i++) {
        rc = rocky_trace_render_text_row(out, trace, &trace->entries[i],
                                         &layout);
        if (rc != 0)
            return rc;
    }
    fputc('\n', out);
    return rocky_trace_render_text_summary_width(out, trace, layout.width);
}
