/* compare_text.c — the terminal view of a comparison (see compare.h).
 *
 * Every line is cut to the width it draws to: free text (ids, paths,
 * names) through rocky_utf8_truncate, and the table's fixed columns drop
 * (rows, then %) before the name column would shrink below its minimum.
 * Numbers are right-aligned. Each kind of change shows its top rows; the
 * rest are counted (the JSON has every model). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "format.h"
#include "render.h"
#include "rocky/error.h"

#define NAME_MIN_COLS 8
#define NAME_MAX_COLS 40
#define NUM_COLS      9 /* each duration cell */
#define PCT_COLS      8
#define ROWS_COLS     10
#define PATH_SHOWN    12 /* names per critical-path line */
#define LINE_BYTES    8192

static const size_t shown[ROCKY_COMPARE_SAME + 1] = {15, 10, 15, 10, 10, 0};

static const char *const section_title[ROCKY_COMPARE_SAME + 1] = {
    "slower", "faster", "status changed", "added", "removed", "unchanged"};

struct layout {
    size_t width;
    size_t name_cols;
    int pct;  /* the % column fits */
    int rows; /* the rows column fits */
};

/* Print one line of at most `width` columns. */
static void line(FILE *out, size_t width, const char *fmt, ...)
{
    char raw[LINE_BYTES], cut[LINE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    size_t cols = width;
    if (4 * cols + 4 > sizeof cut)
        cols = (sizeof cut - 4) / 4;
    rocky_utf8_truncate(raw, cols, cut, sizeof cut);
    size_t len = strlen(cut);
    while (len > 0 && cut[len - 1] == ' ') /* padding of empty cells */
        cut[--len] = '\0';
    fputs(cut, out);
    fputc('\n', out);
}

static void secs(char *buf, size_t size, int64_t ns, int sign)
{
    double s = (double)ns / 1e9;
    const char *fmt = sign ? (s >= 1000 || s <= -1000 ? "%+.0fs" : "%+.2fs")
                           : (s >= 1000 ? "%.0fs" : "%.2fs");
    snprintf(buf, size, fmt, s);
}

static void pct(char *buf, size_t size, int64_t before, int64_t after)
{
    int defined;
    double p = rocky_compare_pct(before, after, &defined);
    if (!defined)
        buf[0] = '\0';
    else if (p >= 10000 || p <= -10000)
        snprintf(buf, size, "%+.0e%%", p);
    else
        snprintf(buf, size, "%+.1f%%", p);
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static void run_lines(FILE *out, const struct rocky_compare *c, size_t width)
{
    const struct rocky_trace *b = c->before.trace, *a = c->after.trace;
    char bd[32], ad[32], dd[32], pc[32];
    line(out, width, "after:    %s  (%s)", a->record->run.run_id,
         rocky_run_status_name(a->record->run.status));
    line(out, width, "before:   %s  (%s, the baseline)", b->record->run.run_id,
         rocky_run_status_name(b->record->run.status));
    secs(bd, sizeof bd, b->run_duration_ns, 0);
    secs(ad, sizeof ad, a->run_duration_ns, 0);
    secs(dd, sizeof dd, a->run_duration_ns - b->run_duration_ns, 1);
    pct(pc, sizeof pc, b->run_duration_ns, a->run_duration_ns);
    line(out, width, "duration: %s → %s  (%s%s%s)", bd, ad, dd,
         pc[0] ? ", " : "", pc);
    if (a->record->run.status != b->record->run.status)
        line(out, width, "status:   %s → %s",
             rocky_run_status_name(b->record->run.status),
             rocky_run_status_name(a->record->run.status));
    else
        line(out, width, "status:   %s (unchanged)",
             rocky_run_status_name(a->record->run.status));
    line(out, width, "models:   %zu → %zu  (%+" PRId64 ")",
         c->before.model_count, c->after.model_count,
         (int64_t)c->after.model_count - (int64_t)c->before.model_count);
}

/* "joined: a → b → c … (+N more)" */
static void path_line(FILE *out, size_t width, const char *label,
                      const struct rocky_model_exec *const *names, size_t n)
{
    char buf[LINE_BYTES];
    size_t used = (size_t)snprintf(buf, sizeof buf, "  %s", label);
    for (size_t k = 0; k < n && k < PATH_SHOWN && used < sizeof buf; k++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s",
                                 k ? " → " : " ", names[k]->model_name);
    if (n > PATH_SHOWN && used < sizeof buf)
        snprintf(buf + used, sizeof buf - used, " … (+%zu more)",
                 n - PATH_SHOWN);
    line(out, width, "%s", buf);
}

static void path_lines(FILE *out, const struct rocky_compare *c, size_t width)
{
    const struct rocky_trace *b = c->before.trace, *a = c->after.trace;
    char bd[32], ad[32], dd[32];
    secs(bd, sizeof bd, b->critical_ns, 0);
    secs(ad, sizeof ad, a->critical_ns, 0);
    secs(dd, sizeof dd, a->critical_ns - b->critical_ns, 1);
    if (c->joined_count == 0 && c->left_count == 0) {
        line(out, width, "critical path: %s → %s  (%s), same %zu model%s", bd,
             ad, dd, a->critical_count, plural(a->critical_count));
        return;
    }
    line(out, width, "critical path: %s → %s  (%s), changed", bd, ad, dd);
    if (c->joined_count)
        path_line(out, width, "joined:", c->joined, c->joined_count);
    if (c->left_count)
        path_line(out, width, "left:  ", c->left, c->left_count);
}

static void layout_for(const struct rocky_compare *c, size_t width,
                       struct layout *l)
{
    if (width < ROCKY_TRACE_MIN_WIDTH)
        width = ROCKY_TRACE_MIN_WIDTH;
    size_t longest = NAME_MIN_COLS;
    for (size_t i = 0; i < c->count && longest < NAME_MAX_COLS; i++) {
        if (shown[c->models[i].change] == 0 && c->model_filter == NULL)
            continue;
        size_t w = rocky_utf8_width(c->models[i].model_name);
        if (w > longest)
            longest = w;
    }
    if (longest > NAME_MAX_COLS)
        longest = NAME_MAX_COLS;
    size_t fixed = 2 + 3 * (1 + NUM_COLS); /* indent, before, after, change */
    /* Optional columns only where they leave the name its width (up to
     * 20) and 20 columns for the note (a status change, attempts). */
    size_t want = (longest < 20 ? longest : 20) + 20;
    l->pct = width >= fixed + 1 + PCT_COLS + want;
    if (l->pct)
        fixed += 1 + PCT_COLS;
    l->rows = l->pct && width >= fixed + 1 + ROWS_COLS + want;
    if (l->rows)
        fixed += 1 + ROWS_COLS;
    size_t room = width > fixed ? width - fixed : 0;
    l->name_cols = longest < room ? longest : room;
    if (l->name_cols < NAME_MIN_COLS)
        l->name_cols = NAME_MIN_COLS;
    l->width = width;
}

/* A signed row count that fits ROWS_COLS. */
static void rows_cell(char *buf, size_t size,
                      const struct rocky_compare_model *m)
{
    if (!m->has_rows_delta)
        buf[0] = '\0';
    else if (m->rows_delta >= -999999999 && m->rows_delta <= 999999999)
        snprintf(buf, size, "%+" PRId64, m->rows_delta);
    else
        snprintf(buf, size, "%+.2e", (double)m->rows_delta);
}

static void side_cell(char *buf, size_t size,
                      const struct rocky_compare_side *s)
{
    if (s->last == NULL)
        snprintf(buf, size, "-");
    else if (s->last->started_wall_ns == 0)
        snprintf(buf, size, "%s", rocky_model_status_name(s->last->status));
    else
        secs(buf, size, s->duration_ns, 0);
}

/* What the numbers do not say: the status change, the attempts. */
static void note_cell(char *buf, size_t size,
                      const struct rocky_compare_model *m)
{
    buf[0] = '\0';
    const struct rocky_model_exec *b = m->before.last, *a = m->after.last;
    size_t used = 0;
    if (b != NULL && a != NULL && b->status != a->status)
        used = (size_t)snprintf(buf, size, "%s → %s",
                                rocky_model_status_name(b->status),
                                rocky_model_status_name(a->status));
    else if (a != NULL && a->status != ROCKY_MODEL_SUCCESS)
        used = (size_t)snprintf(buf, size, "%s",
                                rocky_model_status_name(a->status));
    else if (a == NULL && b != NULL && b->status != ROCKY_MODEL_SUCCESS)
        used = (size_t)snprintf(buf, size, "was %s",
                                rocky_model_status_name(b->status));
    uint32_t ba = m->before.attempts, aa = m->after.attempts;
    if ((ba > 1 || aa > 1) && used < size)
        snprintf(buf + used, size - used, "%sattempts %u → %u",
                 used ? ", " : "", ba, aa);
}

static void row(FILE *out, const struct layout *l,
                const struct rocky_compare_model *m)
{
    char name[4 * NAME_MAX_COLS + 8], b[32], a[32], d[32], p[32], r[32],
        note[128];
    size_t cols =
        rocky_utf8_truncate(m->model_name, l->name_cols, name, sizeof name);
    side_cell(b, sizeof b, &m->before);
    side_cell(a, sizeof a, &m->after);
    d[0] = p[0] = '\0';
    if (m->comparable) {
        secs(d, sizeof d, m->delta_ns, 1);
        pct(p, sizeof p, m->before.duration_ns, m->after.duration_ns);
    }
    rows_cell(r, sizeof r, m);
    note_cell(note, sizeof note, m);
    char buf[LINE_BYTES];
    int used = snprintf(buf, sizeof buf, "  %s%*s %*s %*s %*s", name,
                        (int)(l->name_cols - cols), "", NUM_COLS, b, NUM_COLS,
                        a, NUM_COLS, d);
    if (l->pct)
        used += snprintf(buf + used, sizeof buf - (size_t)used, " %*s",
                         PCT_COLS, p);
    if (l->rows)
        used += snprintf(buf + used, sizeof buf - (size_t)used, " %*s",
                         ROWS_COLS, r);
    if (note[0])
        snprintf(buf + used, sizeof buf - (size_t)used, "  %s", note);
    line(out, l->width, "%s", buf);
}

static void table(FILE *out, const struct rocky_compare *c,
                  const struct layout *l)
{
    char head[LINE_BYTES];
    int used = snprintf(head, sizeof head, "  %-*s %*s %*s %*s",
                        (int)l->name_cols, "model", NUM_COLS, "before",
                        NUM_COLS, "after", NUM_COLS, "change");
    if (l->pct)
        used += snprintf(head + used, sizeof head - (size_t)used, " %*s",
                         PCT_COLS, "%");
    if (l->rows)
        snprintf(head + used, sizeof head - (size_t)used, " %*s", ROWS_COLS,
                 "rows");
    int headed = 0;
    size_t i = 0;
    for (int k = 0; k <= ROCKY_COMPARE_SAME; k++) {
        size_t n = c->counts[k];
        /* --model: the one model asked for, even unchanged */
        size_t limit = c->model_filter != NULL ? 1 : shown[k];
        if (n == 0 || limit == 0) {
            i += n;
            continue;
        }
        if (!headed) {
            fputc('\n', out);
            line(out, l->width, "%s", head);
            headed = 1;
        }
        if (n > limit)
            line(out, l->width, "%s: %zu model%s (top %zu)", section_title[k],
                 n, plural(n), limit);
        else
            line(out, l->width, "%s: %zu model%s", section_title[k], n,
                 plural(n));
        for (size_t j = 0; j < n && j < limit; j++)
            row(out, l, &c->models[i + j]);
        i += n;
    }
}

int rocky_compare_render_text(FILE *out, const struct rocky_compare *c,
                              size_t width)
{
    struct layout l;
    layout_for(c, width, &l);
    run_lines(out, c, l.width);
    path_lines(out, c, l.width);
    if (c->model_filter != NULL)
        line(out, l.width, "model:    %s (only this model)", c->model_filter);
    else {
        line(out, l.width,
             "changes:  %zu slower, %zu faster, %zu status changed",
             c->counts[ROCKY_COMPARE_SLOWER], c->counts[ROCKY_COMPARE_FASTER],
             c->counts[ROCKY_COMPARE_STATUS]);
        line(out, l.width, "          %zu added, %zu removed, %zu unchanged",
             c->counts[ROCKY_COMPARE_ADDED], c->counts[ROCKY_COMPARE_REMOVED],
             c->counts[ROCKY_COMPARE_SAME]);
    }
    table(out, c, &l);
    return ferror(out) ? ROCKY_EIO : 0;
}
