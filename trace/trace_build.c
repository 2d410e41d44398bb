/* trace_build.c — derive the timeline of a run record (see trace.h). */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "critical_path.h"
#include "lanes.h"
#include "rocky/error.h"

static int cmp_entry(const void *a, const void *b)
{
    const struct rocky_trace_entry *x = a, *y = b;
    if (x->started != y->started)
        return x->started ? -1 : 1;
    if (x->started && x->start_offset_ns != y->start_offset_ns)
        return x->start_offset_ns < y->start_offset_ns ? -1 : 1;
    /* Record order breaks ties: the models array is contiguous. */
    return x->exec < y->exec ? -1 : (x->exec > y->exec);
}

/* `to - from` when positive, else 0; saturated, since the times come from
 * the store and may be anything (a damaged or hand-made file). */
static int64_t elapsed_ns(int64_t from, int64_t to)
{
    if (to <= from)
        return 0;
    uint64_t d = (uint64_t)to - (uint64_t)from;
    return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
}

static int64_t add_ns(int64_t a, int64_t b) /* both >= 0 */
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* The run's start: its own, or (for a record missing it) its first model. */
static int64_t run_start_ns(const struct rocky_run_record *rec)
{
    if (rec->run.started_wall_ns != 0)
        return rec->run.started_wall_ns;
    int64_t start = 0;
    for (size_t i = 0; i < rec->model_count; i++) {
        int64_t s = rec->models[i].started_wall_ns;
        if (s != 0 && (start == 0 || s < start))
            start = s;
    }
    return start;
}

/* The run's end: its recorded finish; "now" while it runs; otherwise (a
 * crashed run never finished) the last time on record — the latest model
 * end or start: the runner was alive then, and nothing proves it was
 * later. Never before any model's end, so every bar fits the chart. */
static int64_t run_end_ns(const struct rocky_run_record *rec, int64_t start,
                          int64_t now)
{
    int64_t end = rec->run.finished_wall_ns;
    int unfinished = end == 0;
    if (unfinished && rec->run.status == ROCKY_RUN_RUNNING)
        end = now;
    for (size_t i = 0; i < rec->model_count; i++) {
        const struct rocky_model_exec *m = &rec->models[i];
        if (m->finished_wall_ns > end)
            end = m->finished_wall_ns;
        if (unfinished && m->started_wall_ns > end)
            end = m->started_wall_ns;
    }
    return end < start ? start : end;
}

static void not_found(const struct rocky_run_record *rec, const char *model,
                      char *err, size_t err_size)
{
    if (err == NULL || err_size == 0)
        return;
    int len = snprintf(err, err_size,
                       "run '%s' did not execute model '%s'; its models: ",
                       rec->run.run_id ? rec->run.run_id : "?", model);
    size_t used = len < 0 ? 0 : (size_t)len;
    size_t shown = 0;
    for (size_t i = 0; i < rec->model_count && used < err_size; i++) {
        if (shown == 8) {
            snprintf(err + used, err_size - used, ", … (%zu in all)",
                     rec->model_count);
            return;
        }
        len = snprintf(err + used, err_size - used, "%s%s", shown ? ", " : "",
                       rec->models[i].model_name);
        used += len < 0 ? 0 : (size_t)len;
        shown++;
    }
    if (shown == 0 && used < err_size)
        snprintf(err + used, err_size - used, "(none recorded)");
}

/* Lanes over the started entries only: a model that never ran occupies no
 * time and must not raise the lane count. */
static int assign_lanes(struct rocky_trace *t)
{
    size_t started = 0;
    while (started < t->count && t->entries[started].started)
        started++;
    int64_t *start = malloc((started ? started : 1) * sizeof *start);
    int64_t *end = malloc((started ? started : 1) * sizeof *end);
    size_t *lane = malloc((started ? started : 1) * sizeof *lane);
    int rc = ROCKY_ENOMEM;
    if (start != NULL && end != NULL && lane != NULL) {
        for (size_t i = 0; i < started; i++) {
            start[i] = t->entries[i].start_offset_ns;
            end[i] = add_ns(start[i], t->entries[i].duration_ns);
        }
        rc = rocky_lanes_assign(start, end, started, lane, &t->lane_count);
        for (size_t i = 0; rc == 0 && i < started; i++)
            t->entries[i].lane = lane[i];
    }
    free(start);
    free(end);
    free(lane);
    return rc;
}

static int mark_critical_path(struct rocky_trace *t, int64_t run_start)
{
    const struct rocky_run_record *rec = t->record;
    int rc = rocky_critical_path(rec->models, rec->model_count,
                                 &t->critical_path, &t->critical_count);
    if (rc != 0 || t->critical_count == 0)
        return rc;
    unsigned char *on_path = calloc(rec->model_count, 1);
    if (on_path == NULL)
        return ROCKY_ENOMEM;
    for (size_t k = 0; k < t->critical_count; k++)
        on_path[t->critical_path[k] - rec->models] = 1;
    for (size_t i = 0; i < t->count; i++)
        t->entries[i].on_critical_path =
            on_path[t->entries[i].exec - rec->models];
    free(on_path);
    int64_t end = t->critical_path[t->critical_count - 1]->finished_wall_ns;
    t->critical_ns = elapsed_ns(run_start, end);
    return 0;
}

int rocky_trace_build(const struct rocky_run_record *record,
                      const char *model_filter, int64_t now_wall_ns,
                      struct rocky_trace *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    out->record = record;
    int64_t start = run_start_ns(record);
    int64_t end = run_end_ns(record, start, now_wall_ns);
    out->run_duration_ns = elapsed_ns(start, end);
    out->run_start_ns = start;
    out->run_end_ns = end < start ? start : end;

    out->entries = calloc(record->model_count ? record->model_count : 1,
                          sizeof *out->entries);
    if (out->entries == NULL)
        return ROCKY_ENOMEM;
    for (size_t i = 0; i < record->model_count; i++) {
        const struct rocky_model_exec *m = &record->models[i];
        if (model_filter != NULL && strcmp(m->model_name, model_filter) != 0)
            continue;
        struct rocky_trace_entry *e = &out->entries[out->count++];
        e->exec = m;
        e->started = m->started_wall_ns != 0;
        if (!e->started)
            continue;
        e->start_offset_ns = elapsed_ns(start, m->started_wall_ns);
        /* Still running: the bar reaches the run's current end. */
        int64_t fin = m->finished_wall_ns ? m->finished_wall_ns : end;
        e->duration_ns = elapsed_ns(m->started_wall_ns, fin);
        /* Every bar inside the chart, even for a record whose times
         * disagree (a model starting before its run or after its end, in a
         * damaged or hand-made store): renderers scale offset + duration
         * by the run's duration. */
        if (e->start_offset_ns > out->run_duration_ns)
            e->start_offset_ns = out->run_duration_ns;
        if (e->duration_ns > out->run_duration_ns - e->start_offset_ns)
            e->duration_ns = out->run_duration_ns - e->start_offset_ns;
        out->busy_ns = add_ns(out->busy_ns, e->duration_ns);
    }
    if (model_filter != NULL && out->count == 0) {
        not_found(record, model_filter, err, err_size);
        rocky_trace_release(out);
        return ROCKY_ENOTFOUND;
    }
    qsort(out->entries, out->count, sizeof *out->entries, cmp_entry);

    int rc = assign_lanes(out);
    if (rc == 0)
        rc = mark_critical_path(out, start);
    if (rc != 0) {
        snprintf(err, err_size, "out of memory building the timeline");
        rocky_trace_release(out);
        return rc;
    }
    if (out->lane_count > 0 && out->run_duration_ns > 0)
        out->parallelism =
            (double)out->busy_ns /
            ((double)out->lane_count * (double)out->run_duration_ns);
    return 0;
}

void rocky_trace_release(struct rocky_trace *trace)
{
    free(trace->entries);
    free((void *)trace->critical_path);
    trace->entries = NULL;
    trace->critical_path = NULL;
    trace->count = 0;
    trace->critical_count = 0;
}
