/* compare_html.c — the comparison section of the HTML page (`--format html
 * --compare B`; see compare.h). Inline style only: the page stays
 * self-contained. Every string from the store goes through
 * rocky_trace_html_escape(). Rows are the changed models in the
 * comparison's order (slower first), at most HTML_ROWS of them; the
 * unchanged are counted. */
#include <inttypes.h>

#include "compare.h"
#include "render.h"

#define HTML_ROWS 500

static const char style[] =
    "<style>#compare{margin:10px 0 14px;padding:8px 10px;"
    "border:1px solid #ddd;background:#fcfcfc}"
    "#compare h2{font-size:15px;margin:0 0 6px}"
    "#compare td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "#compare tr.slower td.d{color:#b42318}"
    "#compare tr.faster td.d{color:#1a7f37}"
    "#compare tr.status_changed td.s{color:#b42318;font-weight:600}"
    "#compare tr.added td.s,#compare tr.removed td.s{color:#555}"
    "</style>\n";

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

static void delta_secs(FILE *out, int64_t before, int64_t after)
{
    int defined;
    double p = rocky_compare_pct(before, after, &defined);
    fprintf(out, "%+.3fs", secs(after - before));
    if (defined)
        fprintf(out, " (%+.1f%%)", p);
}

static void path(FILE *out, const char *label,
                 const struct rocky_model_exec *const *m, size_t n)
{
    if (n == 0)
        return;
    fprintf(out, "<br>%s: ", label);
    for (size_t k = 0; k < n; k++) {
        fputs(k ? " &rarr; " : "", out);
        rocky_trace_html_escape(out, m[k]->model_name);
    }
}

static void side(FILE *out, const struct rocky_compare_side *s)
{
    fputs("<td class=\"n\">", out);
    if (s->last == NULL)
        fputs("&ndash;", out);
    else if (s->last->started_wall_ns == 0)
        fputs(rocky_model_status_name(s->last->status), out);
    else
        fprintf(out, "%.3fs", secs(s->duration_ns));
    fputs("</td>", out);
}

static void row(FILE *out, const struct rocky_compare_model *m)
{
    const char *change = rocky_compare_change_name(m->change);
    fprintf(out, "<tr class=\"%s\" data-change=\"%s\" data-model=\"", change,
            change);
    rocky_trace_html_escape(out, m->model_name);
    fputs("\"><td>", out);
    rocky_trace_html_escape(out, m->model_name);
    fputs("</td>", out);
    side(out, &m->before);
    side(out, &m->after);
    fputs("<td class=\"n d\">", out);
    if (m->comparable)
        delta_secs(out, m->before.duration_ns, m->after.duration_ns);
    fputs("</td><td class=\"n\">", out);
    if (m->has_rows_delta)
        fprintf(out, "%+" PRId64, m->rows_delta);
    fputs("</td><td class=\"s\">", out);
    const struct rocky_model_exec *b = m->before.last, *a = m->after.last;
    if (b != NULL && a != NULL && b->status != a->status)
        fprintf(out, "%s &rarr; %s", rocky_model_status_name(b->status),
                rocky_model_status_name(a->status));
    else if (b == NULL || a == NULL)
        fputs(change, out);
    else
        fputs(rocky_model_status_name(a->status), out);
    if (m->before.attempts > 1 || m->after.attempts > 1)
        fprintf(out, " (attempts %u &rarr; %u)", m->before.attempts,
                m->after.attempts);
    fputs("</td></tr>\n", out);
}

void rocky_compare_render_html_section(FILE *out, const void *ctx)
{
    const struct rocky_compare *c = ctx;
    const struct rocky_trace *b = c->before.trace, *a = c->after.trace;
    size_t rows = 0;
    for (size_t i = 0; i < c->count && rows < HTML_ROWS; i++)
        rows += c->models[i].change != ROCKY_COMPARE_SAME ||
                c->model_filter != NULL;
    fputs(style, out);
    fprintf(out, "<section id=\"compare\" data-compare-rows=\"%zu\">\n", rows);
    fputs("<h2>compared with run ", out);
    rocky_trace_html_escape(out, b->record->run.run_id);
    fputs(" (before, the baseline)</h2>\n<div class=\"meta\"><span>duration: ",
          out);
    fprintf(out, "%.2fs &rarr; %.2fs <b>", secs(b->run_duration_ns),
            secs(a->run_duration_ns));
    delta_secs(out, b->run_duration_ns, a->run_duration_ns);
    fprintf(out,
            "</b></span><span>status: %s &rarr; %s</span>"
            "<span>models: %zu &rarr; %zu</span></div>\n",
            rocky_run_status_name(b->record->run.status),
            rocky_run_status_name(a->record->run.status), c->before.model_count,
            c->after.model_count);
    fprintf(out, "<p>critical path: %.2fs &rarr; %.2fs (", secs(b->critical_ns),
            secs(a->critical_ns));
    delta_secs(out, b->critical_ns, a->critical_ns);
    fputs(c->joined_count + c->left_count ? "), changed" : "), same models",
          out);
    path(out, "joined", c->joined, c->joined_count);
    path(out, "left", c->left, c->left_count);
    fprintf(out,
            "</p>\n<p class=\"counts\">%zu slower, %zu faster, %zu status "
            "changed, %zu added, %zu removed, %zu unchanged</p>\n",
            c->counts[ROCKY_COMPARE_SLOWER], c->counts[ROCKY_COMPARE_FASTER],
            c->counts[ROCKY_COMPARE_STATUS], c->counts[ROCKY_COMPARE_ADDED],
            c->counts[ROCKY_COMPARE_REMOVED], c->counts[ROCKY_COMPARE_SAME]);
    fputs("<table class=\"cmp\"><thead><tr><th>model</th><th>before</th>"
          "<th>after</th><th>change</th><th>rows</th><th>status</th></tr>"
          "</thead><tbody>\n",
          out);
    for (size_t i = 0, n = 0; i < c->count && n < rows; i++) {
        if (c->models[i].change == ROCKY_COMPARE_SAME &&
            c->model_filter == NULL)
            continue;
        row(out, &c->models[i]);
        n++;
    }
    fputs("</tbody></table>\n", out);
    size_t changed = c->count - c->counts[ROCKY_COMPARE_SAME];
    if (c->model_filter == NULL && changed > rows)
        fprintf(out, "<p>%zu more changed models: see --json</p>\n",
                changed - rows);
    fputs("</section>\n", out);
}
