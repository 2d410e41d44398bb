/*
 * trace.h — the timeline of one recorded run: what every renderer (text,
 * JSON, Chrome trace, HTML) draws.
 *
 * rocky_trace_build() derives, from a run record, each model execution's
 * offset from the run start, its duration, its lane (lanes.h) and whether it
 * lies on the critical path (critical_path.h), plus run-level figures:
 * wall time, busy time, lane count and parallelism.
 *
 * Ownership: a `struct rocky_trace` borrows the record it was built from
 * (model names, errors, ...): keep the record alive until
 * rocky_trace_release(). Not thread-safe; one trace per thread.
 */
#ifndef ROCKY_TRACE_TRACE_H
#define ROCKY_TRACE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "run_record.h"

/* One model execution placed on the timeline. */
struct rocky_trace_entry {
    const struct rocky_model_exec *exec; /* borrowed from the record */
    int64_t start_offset_ns; /* from the run start; never negative */
    int64_t duration_ns;     /* never negative; 0 when it never started */
    size_t lane;             /* 0-based row of the Gantt chart */
    int started;             /* 0 for models that never started */
    int on_critical_path;    /* 1 when part of the critical path */
};

struct rocky_trace {
    const struct rocky_run_record *record; /* borrowed */
    struct rocky_trace_entry *entries;     /* by start offset, then record
                                              order; never-started last */
    size_t count;
    size_t lane_count;       /* = peak concurrency of `entries` */
    int64_t run_duration_ns; /* wall time of the run (so far, if running) */
    /* The timeline's ends, wall ns: the recorded start (else the first
     * model's start) and the recorded finish, or, for a run with none,
     * `now_wall_ns` while it runs and the last time on record (the latest
     * model start or end) for a crashed run; never before any model's
     * end. run_duration_ns = run_end_ns - run_start_ns. */
    int64_t run_start_ns;
    int64_t run_end_ns;
    int64_t busy_ns;    /* sum of the entries' durations */
    double parallelism; /* busy / (lanes * wall); 0 when undefined */
    /* The critical path of the whole run (even under a model filter), in
     * execution order; pointers into the record. */
    const struct rocky_model_exec **critical_path;
    size_t critical_count;
    int64_t critical_ns; /* from the run start to the path's last end */
};

/*
 * Build the timeline of `record`. `model_filter` (or NULL for all) keeps only
 * the executions of that model; lanes and parallelism are then computed over
 * what is kept. `now_wall_ns` closes open intervals of a run that is still
 * running (pass rocky_clock_wall_ns()).
 *
 * Returns 0, ROCKY_ENOTFOUND when `model_filter` matches no execution
 * (`err` then names the run and lists some of its models), or ROCKY_ENOMEM.
 * On failure *out is left empty (safe to release).
 */
int rocky_trace_build(const struct rocky_run_record *record,
                      const char *model_filter, int64_t now_wall_ns,
                      struct rocky_trace *out, char *err, size_t err_size);

/* Free what rocky_trace_build allocated (not the record). Idempotent. */
void rocky_trace_release(struct rocky_trace *trace);

/* Milliseconds from nanoseconds, rounded down (for display and JSON). */
static inline int64_t rocky_trace_ms(int64_t ns)
{
    return ns / 1000000;
}

#endif
