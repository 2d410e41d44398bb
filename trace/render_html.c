/* render_html.c — one self-contained HTML page with the run's Gantt chart
 * as static SVG (one rect.bar per model, lanes as rows, colour by status,
 * critical path outlined, details on hover) and a table of the models.
 * No external resource of any kind: it must work offline and from file://.
 * Every string that came from the store goes through esc(). */
#include "render.h"

#include <inttypes.h>
#include <string.h>

#include "format.h"
#include "ids.h"
#include "rocky/error.h"

#define CHART_LEFT  80 /* room for lane labels */
#define CHART_WIDTH 1000
#define ROW_HEIGHT  22
#define BAR_HEIGHT  16
#define AXIS_HEIGHT 24

/* HTML-escape `s` for element content and quoted attributes alike. */
static void esc(FILE *out, const char *s)
{
    if (s == NULL)
        return;
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

static const char style[] =
    "body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}"
    "h1{font-size:17px;margin:0 0 6px}"
    ".meta span{margin-right:14px}"
    "svg{background:#fafafa;border:1px solid #ddd}"
    "rect.bar{stroke:none}"
    "rect.success{fill:#3c9a5f}rect.failed{fill:#d64545}"
    "rect.interrupted{fill:#e08a2e}rect.skipped{fill:#9aa0a6}"
    "rect.running{fill:#3b82f6}rect.pending{fill:#c0c0c0}"
    "rect.unknown{fill:#777}"
    "rect.crit{stroke:#111;stroke-width:2}"
    "rect.bar:hover{opacity:.75}"
    "text{font-size:11px;fill:#555}"
    "text.lbl{fill:#fff;pointer-events:none}"
    "#tip{position:fixed;display:none;background:#222;color:#fff;"
    "padding:6px 8px;border-radius:4px;white-space:pre;pointer-events:none;"
    "font-size:12px}"
    "table{border-collapse:collapse;margin-top:14px}"
    "td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}"
    ".legend span{display:inline-block;margin-right:12px}"
    ".legend i{display:inline-block;width:10px;height:10px;margin-right:4px}";

/* Tooltips from each bar's <title>; data-bars proves the DOM holds them. */
static const char script[] =
    "(function(){var tip=document.getElementById('tip');"
    "var bars=document.querySelectorAll('rect.bar');"
    "document.body.setAttribute('data-bars',String(bars.length));"
    "bars.forEach(function(b){var t=b.querySelector('title');"
    "b.addEventListener('mousemove',function(e){tip.textContent="
    "t?t.textContent:'';tip.style.display='block';"
    "tip.style.left=(e.clientX+12)+'px';tip.style.top=(e.clientY+12)+'px';});"
    "b.addEventListener('mouseleave',function(){tip.style.display='none';});"
    "});})();";

static void header(FILE *out, const struct rocky_trace *t)
{
    const struct rocky_run *run = &t->record->run;
    char started[32];
    rocky_format_rfc3339(run->started_wall_ns, started, sizeof started);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
          "<title>rocky trace ",
          out);
    esc(out, run->run_id);
    fprintf(out, "</title><style>%s</style></head><body>\n<h1>rocky run ",
            style);
    esc(out, run->run_id);
    fputs("</h1>\n<div class=\"meta\"><span>status: <b>", out);
    esc(out, rocky_run_status_name(run->status));
    fputs("</b></span><span>trigger: ", out);
    esc(out, run->trigger);
    fprintf(out,
            "</span><span>started: %s</span><span>duration: %.2fs</span>"
            "<span>lanes: %zu</span><span>parallelism: %.2f</span>"
            "<span>models: %zu</span></div>\n",
            started, secs(t->run_duration_ns), t->lane_count, t->parallelism,
            t->count);
    fprintf(out, "<p>critical path (%.2fs): ", secs(t->critical_ns));
    for (size_t k = 0; k < t->critical_count; k++) {
        fputs(k ? " &rarr; " : "", out);
        esc(out, t->critical_path[k]->model_name);
    }
    fputs(t->critical_count ? "</p>\n" : "-</p>\n", out);
    fputs("<div class=\"legend\">", out);
    static const char *const statuses[] = {"success", "failed", "interrupted",
                                           "skipped", "running"};
    static const char *const colours[] = {"#3c9a5f", "#d64545", "#e08a2e",
                                          "#9aa0a6", "#3b82f6"};
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
        fprintf(out, "<span><i style=\"background:%s\"></i>%s</span>",
                colours[i], statuses[i]);
    fputs("<span><i style=\"outline:2px solid #111\"></i>critical path</span>"
          "</div>\n",
          out);
}

static void bar(FILE *out, const struct rocky_trace *t,
                const struct rocky_trace_entry *e, size_t row)
{
    const struct rocky_model_exec *m = e->exec;
    double run = t->run_duration_ns > 0 ? (double)t->run_duration_ns : 1.0;
    double x = CHART_LEFT + (double)e->start_offset_ns / run * CHART_WIDTH;
    double w = (double)e->duration_ns / run * CHART_WIDTH;
    if (w < 1.0)
        w = 1.0; /* zero-length models stay visible */
    fprintf(out,
            "<rect class=\"bar %s%s\" x=\"%.2f\" y=\"%zu\" "
            "width=\"%.2f\" height=\"%d\" data-model=\"",
            rocky_model_status_name(m->status),
            e->on_critical_path ? " crit" : "", x,
            AXIS_HEIGHT + row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2, w,
            BAR_HEIGHT);
    esc(out, m->model_name);
    fputs("\"><title>", out);
    esc(out, m->model_name);
    fprintf(out, "\n%s · %.3fs · starts +%.3fs · lane %zu · attempt %u",
            rocky_model_status_name(m->status), secs(e->duration_ns),
            secs(e->start_offset_ns), e->lane, m->attempt);
    if (m->rows_affected >= 0)
        fprintf(out, "\nrows: %" PRId64, m->rows_affected);
    if (m->bytes_written >= 0)
        fprintf(out, "\nbytes written: %" PRId64, m->bytes_written);
    if (e->on_critical_path)
        fputs("\non the critical path", out);
    if (m->error != NULL) {
        fputs("\nerror: ", out);
        esc(out, m->error);
    }
    fputs("</title></rect>\n", out);
    /* Label the bars wide enough to hold their name (~7 px a character). */
    if (w > 7.0 * (double)rocky_utf8_width(m->model_name) + 8.0) {
        fprintf(out, "<text class=\"lbl\" x=\"%.2f\" y=\"%zu\">", x + 4,
                AXIS_HEIGHT + row * ROW_HEIGHT + 15);
        esc(out, m->model_name);
        fputs("</text>\n", out);
    }
}

static void chart(FILE *out, const struct rocky_trace *t)
{
    int unstarted = t->count > 0 && !t->entries[t->count - 1].started;
    size_t rows = t->lane_count + (unstarted ? 1 : 0);
    if (rows == 0)
        rows = 1;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%zu\" role=\"img\" aria-label=\"run timeline\">\n",
            CHART_LEFT + CHART_WIDTH + 20, AXIS_HEIGHT + rows * ROW_HEIGHT + 4);
    for (int tick = 0; tick <= 5; tick++) {
        double x = CHART_LEFT + CHART_WIDTH * tick / 5.0;
        fprintf(out,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%zu\" "
                "stroke=\"#e3e3e3\"/><text x=\"%.1f\" y=\"14\">%.2fs</text>\n",
                x, x, AXIS_HEIGHT - 4, AXIS_HEIGHT + rows * ROW_HEIGHT, x - 10,
                secs(t->run_duration_ns) * tick / 5.0);
    }
    for (size_t lane = 0; lane < t->lane_count; lane++)
        fprintf(out, "<text x=\"4\" y=\"%zu\">lane %zu</text>\n",
                AXIS_HEIGHT + lane * ROW_HEIGHT + 15, lane);
    if (unstarted)
        fprintf(out, "<text x=\"4\" y=\"%zu\">not run</text>\n",
                AXIS_HEIGHT + t->lane_count * ROW_HEIGHT + 15);
    for (size_t i = 0; i < t->count; i++) {
        const struct rocky_trace_entry *e = &t->entries[i];
        bar(out, t, e, e->started ? e->lane : t->lane_count);
    }
    fputs("</svg>\n", out);
}

static void table(FILE *out, const struct rocky_trace *t)
{
    fputs("<table><thead><tr><th>model</th><th>status</th><th>start</th>"
          "<th>duration</th><th>lane</th><th>rows</th><th>error</th></tr>"
          "</thead><tbody>\n",
          out);
    for (size_t i = 0; i < t->count; i++) {
        const struct rocky_trace_entry *e = &t->entries[i];
        const struct rocky_model_exec *m = e->exec;
        fputs("<tr><td>", out);
        esc(out, m->model_name);
        fprintf(out,
                "</td><td>%s</td><td>+%.3fs</td><td>%.3fs</td>"
                "<td>%zu</td><td>",
                rocky_model_status_name(m->status), secs(e->start_offset_ns),
                secs(e->duration_ns), e->lane);
        if (m->rows_affected >= 0)
            fprintf(out, "%" PRId64, m->rows_affected);
        fputs("</td><td>", out);
        esc(out, m->error);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

void rocky_trace_html_escape(FILE *out, const char *s)
{
    esc(out, s);
}

int rocky_trace_render_html(FILE *out, const struct rocky_trace *trace)
{
    return rocky_trace_render_html_with(out, trace, NULL, NULL);
}

int rocky_trace_render_html_with(FILE *out, const struct rocky_trace *trace,
                                 rocky_trace_html_section section,
                                 const void *ctx)
{
    header(out, trace);
    if (section != NULL)
        section(out, ctx);
    chart(out, trace);
    table(out, trace);
    fprintf(out,
            "<div id=\"tip\"></div>\n<script>%s</script>\n"
            "</body></html>\n",
            script);
    return ferror(out) ? ROCKY_EIO : 0;
}
