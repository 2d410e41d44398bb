/*
 * compare.h — what changed between two recorded runs (`rocky trace A
 * --compare B`): run duration, status and model count; per model the
 * duration, rows and status; models added and removed; the critical path.
 *
 * Direction: `before` is the baseline (B, the --compare argument) and
 * `after` the run shown (A). Every delta is after − before, so a positive
 * duration delta is a regression (the model got slower).
 *
 * Per model, a run's executions of the same name (retries) are folded into
 * one side: its duration is the sum of its executions' durations (what the
 * model cost that run), its status, rows and bytes are those of its final
 * execution (highest attempt, then latest start), and `attempts` counts
 * them. A duration is only compared when both final executions succeeded:
 * a failed, skipped or interrupted model's time says nothing about the
 * model's speed, so its row reports the status change instead.
 *
 * Models are matched by name through a hash index (name_index.h): building
 * a comparison is O(n log n) in the models of both runs (the sort); loading
 * two 100,000-model runs from the store costs far more (bench_trace).
 *
 * Ownership: a `struct rocky_compare` borrows both traces and, through
 * them, their records (model names, statuses): keep them alive until
 * rocky_compare_release(). Not thread-safe; one comparison per thread.
 */
#ifndef ROCKY_TRACE_COMPARE_H
#define ROCKY_TRACE_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace.h"

/* The TraceCompare document's `version` (trace/schema/
 * trace-compare.schema.json): the major changes on any incompatible
 * change, the minor when fields are added. */
#define ROCKY_COMPARE_SCHEMA_VERSION "1.0.0"

/* How one model changed, in the order the rows are sorted. */
enum rocky_compare_change {
    ROCKY_COMPARE_SLOWER = 0, /* both succeeded, after took longer      */
    ROCKY_COMPARE_FASTER,     /* both succeeded, after took less time   */
    ROCKY_COMPARE_STATUS,     /* the final status differs               */
    ROCKY_COMPARE_ADDED,      /* only in after                          */
    ROCKY_COMPARE_REMOVED,    /* only in before                         */
    ROCKY_COMPARE_SAME        /* same status, same duration (or both not
                                 successful: no duration to compare)     */
};

/* "slower", "faster", "status_changed", "added", "removed", "unchanged". */
const char *rocky_compare_change_name(enum rocky_compare_change change);

/* One model in one run; `last` is NULL when the run did not have it. */
struct rocky_compare_side {
    const struct rocky_model_exec *last; /* final execution, borrowed */
    int64_t duration_ns;                 /* sum over its executions   */
    uint32_t attempts;                   /* executions on record      */
};

struct rocky_compare_model {
    const char *model_name; /* borrowed from a record */
    enum rocky_compare_change change;
    struct rocky_compare_side before, after;
    /* after − before when `comparable` (both final executions succeeded),
     * else 0. */
    int comparable;
    int64_t delta_ns;
    /* after − before rows when both are known (`has_rows_delta`). */
    int has_rows_delta;
    int64_t rows_delta;
};

/* The run-level figures of one side. */
struct rocky_compare_run {
    const struct rocky_trace *trace; /* borrowed */
    size_t model_count;              /* distinct model names */
};

struct rocky_compare {
    struct rocky_compare_run before, after;
    /* Sorted: slower (largest increase first), faster (largest decrease
     * first), status changes, added, removed, unchanged; ties by name. */
    struct rocky_compare_model *models;
    size_t count;
    size_t counts[ROCKY_COMPARE_SAME + 1]; /* rows per change */
    /* Critical-path change, by model name: on after's path but not
     * before's (`joined`), and the reverse (`left`), each in its path's
     * order; pointers into the records. */
    const struct rocky_model_exec **joined;
    size_t joined_count;
    const struct rocky_model_exec **left;
    size_t left_count;
    const char *model_filter; /* borrowed; NULL for all models */
};

/*
 * Compare `after` with its baseline `before` (both built without a model
 * filter: run figures and critical paths are always the whole run's).
 * `model_filter` (or NULL) keeps only that model's row.
 *
 * Returns 0; ROCKY_ENOTFOUND when `model_filter` is in neither run (`err`
 * says so); ROCKY_ENOMEM. On failure *out is left empty (safe to release).
 */
int rocky_compare_build(const struct rocky_trace *before,
                        const struct rocky_trace *after,
                        const char *model_filter, struct rocky_compare *out,
                        char *err, size_t err_size);

/* Free what rocky_compare_build allocated. Idempotent. */
void rocky_compare_release(struct rocky_compare *cmp);

/* after − before as a percentage of before; 0 (and *defined = 0) when
 * before is 0. */
double rocky_compare_pct(int64_t before, int64_t after, int *defined);

/*
 * Renderers; each writes one complete document and returns 0, ROCKY_EIO
 * when writing failed or ROCKY_ENOMEM.
 *
 *   text  a compact table for the terminal: every line at most `width`
 *         columns (>= ROCKY_TRACE_MIN_WIDTH); the top rows of each kind,
 *         the rest counted
 *   json  the TraceCompare document, every model
 *   html  the comparison section of the HTML page (rocky_trace_render_html
 *         _with): `ctx` is the struct rocky_compare
 */
int rocky_compare_render_text(FILE *out, const struct rocky_compare *cmp,
                              size_t width);
int rocky_compare_render_json(FILE *out, const struct rocky_compare *cmp);
void rocky_compare_render_html_section(FILE *out, const void *ctx);

#endif
