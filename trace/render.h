/*
 * render.h — the renderers of a run's timeline (struct rocky_trace).
 *
 * Each writes one complete document to `out` and returns 0, ROCKY_EIO when
 * writing failed (disk full, closed pipe) or ROCKY_ENOMEM. None keeps a
 * reference to the trace. Thread-safe as long as each call has its own trace
 * and stream.
 *
 *   text    the terminal view: header, one Gantt row per model, summary
 *   json    TraceOutput (upstream rocky's field names plus ours), validated
 *           by trace/schema/trace-output.schema.json
 *   chrome  Chrome trace-event JSON (Perfetto, chrome://tracing)
 *   html    one self-contained page: SVG Gantt chart, no network fetches
 */
#ifndef ROCKY_TRACE_RENDER_H
#define ROCKY_TRACE_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "trace.h"

/* The schema version written as TraceOutput's `version`. Bump the major on
 * any incompatible change; fields are only ever added. */
#define ROCKY_TRACE_SCHEMA_VERSION "2.0.0"

/* Smallest useful terminal width; narrower requests are raised to it. */
#define ROCKY_TRACE_MIN_WIDTH 40

/*
 * Column layout of the text rows. Every row — marker, name, bar, duration,
 * status and, when the width has room for them (rows from 72 columns, bytes
 * from 96), the rows and bytes columns in human units — is exactly `width`
 * display columns wide, for every width from ROCKY_TRACE_MIN_WIDTH. Nothing
 * follows it, so a row never wraps. Exact counters are in the JSON view.
 */
struct rocky_trace_layout {
    size_t width;
    size_t name_cols; /* names are truncated/padded to this */
    size_t bar_cols;  /* characters between the brackets */
    int show_rows;    /* the rows column is part of the row */
    int show_bytes;   /* the bytes column is part of the row */
};

/* Compute the layout for `trace` at terminal width `width`. */
void rocky_trace_layout_for(const struct rocky_trace *trace, size_t width,
                            struct rocky_trace_layout *layout);

/* The layout for names up to `longest_name` characters wide (capped at the
 * name column's maximum of 28): rows printed over time with one layout line
 * up even when later names are longer. */
void rocky_trace_layout_for_names(size_t width, size_t longest_name,
                                  struct rocky_trace_layout *layout);

/* The text view's parts (the live view prints them separately). The
 * `_width` forms fit every line in `width` columns (lines of items wrap
 * before an item, indented); the others assume 100 columns. */
int rocky_trace_render_text_header(FILE *out, const struct rocky_trace *trace);
int rocky_trace_render_text_header_width(FILE *out,
                                         const struct rocky_trace *trace,
                                         size_t width);
/* The blank line and the column titles of `layout`. */
void rocky_trace_render_text_titles(FILE *out,
                                    const struct rocky_trace_layout *layout);
int rocky_trace_render_text_row(FILE *out, const struct rocky_trace *trace,
                                const struct rocky_trace_entry *entry,
                                const struct rocky_trace_layout *layout);
int rocky_trace_render_text_summary(FILE *out, const struct rocky_trace *trace);
int rocky_trace_render_text_summary_width(FILE *out,
                                          const struct rocky_trace *trace,
                                          size_t width);

/* The whole text view: header, column titles, every row, summary. */
int rocky_trace_render_text(FILE *out, const struct rocky_trace *trace,
                            size_t width);

int rocky_trace_render_json(FILE *out, const struct rocky_trace *trace);
int rocky_trace_render_chrome(FILE *out, const struct rocky_trace *trace);
int rocky_trace_render_html(FILE *out, const struct rocky_trace *trace);

/* The HTML page with one more section, written by `section(out, ctx)`
 * between the run's header and its chart (`rocky trace A --compare B`
 * adds the comparison there). The section must keep the page
 * self-contained: no external resource. */
typedef void (*rocky_trace_html_section)(FILE *out, const void *ctx);
int rocky_trace_render_html_with(FILE *out, const struct rocky_trace *trace,
                                 rocky_trace_html_section section,
                                 const void *ctx);

/* HTML-escape `s` (NULL: nothing) for element content and quoted
 * attributes alike: what every string from the store goes through. */
void rocky_trace_html_escape(FILE *out, const char *s);

#endif
