/* export.c — replay a stored run through plugins (see export.h). */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "rocky/error.h"

/* Replayed events: the original wall times; the original monotonic clock
 * is gone, so mono_ns is 0 (as the ABI says for REPLAY). Paced: a plugin
 * whose queue is full (ROCKY_EAGAIN) is flushed and offered the event
 * again, so a replay never outruns a bounded exporter queue. Returns
 * ROCKY_ETIMEDOUT when a plugin stayed full for `step_timeout_ms`. */
static int emit(struct rocky_plugin_set *set, uint32_t type,
                const struct rocky_run *run,
                const struct rocky_model_exec *model, int64_t wall_ns,
                int64_t step_timeout_ms)
{
    struct rocky_event ev;
    rocky_plugin_event_init(&ev, type, ROCKY_EVENT_FLAG_REPLAY, run, model,
                            wall_ns, 0);
    return rocky_plugin_set_emit_paced(
        set, &ev, rocky_deadline_after_ms(step_timeout_ms));
}

static int started(const struct rocky_model_exec *m)
{
    return m->status != ROCKY_MODEL_SKIPPED &&
           m->status != ROCKY_MODEL_PENDING && m->started_wall_ns > 0;
}

/* The run as the live RUN_END saw it. A crashed run never wrote its end:
 * it ends with its last model, and its counters come from its models (the
 * runs row only gets them at the end). */
static void final_run(const struct rocky_run_record *rec, struct rocky_run *run)
{
    *run = rec->run;
    run->started_mono_ns = run->finished_mono_ns = 0;
    /* INCOMPLETE is the store's word, never an event's (run_model.h): the
     * live RUN_END carried the outcome, which the counters still hold (a
     * model neither succeeded, failed nor skipped was interrupted). */
    if (run->status == ROCKY_RUN_INCOMPLETE) {
        uint32_t ended =
            run->models_succeeded + run->models_failed + run->models_skipped;
        run->status = ended < run->models_total ? ROCKY_RUN_INTERRUPTED
                      : run->models_succeeded == run->models_total
                          ? ROCKY_RUN_SUCCESS
                      : run->models_succeeded > 0 ? ROCKY_RUN_PARTIAL_FAILURE
                                                  : ROCKY_RUN_FAILURE;
    }
    if (run->status != ROCKY_RUN_CRASHED && run->finished_wall_ns > 0)
        return;
    int64_t end = run->started_wall_ns;
    run->models_succeeded = run->models_failed = run->models_skipped = 0;
    for (size_t i = 0; i < rec->model_count; i++) {
        const struct rocky_model_exec *m = &rec->models[i];
        if (m->finished_wall_ns > end)
            end = m->finished_wall_ns;
        if (m->started_wall_ns > end) /* in flight when the runner died */
            end = m->started_wall_ns;
        run->models_succeeded += m->status == ROCKY_MODEL_SUCCESS;
        run->models_failed += m->status == ROCKY_MODEL_FAILED;
        run->models_skipped += m->status == ROCKY_MODEL_SKIPPED;
    }
    run->finished_wall_ns = end;
}

/* Deltas of the set's cumulative report since the previous export. */
static void delta(const struct rocky_delivery_report *now,
                  const struct rocky_delivery_report *before,
                  struct rocky_export_result *out)
{
    out->accepted = now->accepted - before->accepted;
    out->delivered = now->delivered - before->delivered;
    out->dropped = now->dropped - before->dropped;
    out->pending = now->pending;
}

/* Wait for what was emitted so far. 0 when nothing is left pending. */
static int drain(struct rocky_plugin_set *set, int64_t timeout_ms,
                 struct rocky_delivery_report *report)
{
    report->struct_size = sizeof *report;
    rocky_plugin_set_flush(set, rocky_deadline_after_ms(timeout_ms), report);
    return report->pending == 0 ? 0 : ROCKY_ETIMEDOUT;
}

int rocky_export_run(struct rocky_plugin_set *set,
                     const struct rocky_run_record *rec,
                     int64_t step_timeout_ms,
                     struct rocky_export_result *result, char *err,
                     size_t err_size)
{
    memset(result, 0, sizeof *result);
    if (rec->run.status == ROCKY_RUN_RUNNING) {
        snprintf(err, err_size,
                 "run %s is still running (pid %d); export it after it "
                 "ends",
                 rec->run.run_id, rec->owner_pid);
        return ROCKY_EREFUSED;
    }
    /* Where the previous export left the cumulative counters. */
    struct rocky_delivery_report before = {.struct_size = sizeof before};
    rocky_plugin_set_flush(set, rocky_clock_mono_ns(), &before);

    struct rocky_run run;
    final_run(rec, &run);
    /* RUN_START sees the run as it began. */
    struct rocky_run begin = run;
    begin.status = ROCKY_RUN_RUNNING;
    begin.finished_wall_ns = 0;
    begin.models_succeeded = begin.models_failed = begin.models_skipped = 0;
    int stuck = emit(set, ROCKY_EVENT_RUN_START, &begin, NULL,
                     run.started_wall_ns, step_timeout_ms) != 0;
    for (size_t i = 0; i < rec->model_count && !stuck; i++) {
        const struct rocky_model_exec *m = &rec->models[i];
        struct rocky_model_exec live = *m;
        live.started_mono_ns = live.finished_mono_ns = 0;
        if (!started(m)) {
            /* Never started: MODEL_END alone, as in the live run. */
            live.status = ROCKY_MODEL_SKIPPED;
            if (live.error == NULL)
                live.error = "not started";
            stuck = emit(set, ROCKY_EVENT_MODEL_END, &run, &live,
                         run.finished_wall_ns, step_timeout_ms) != 0;
            continue;
        }
        struct rocky_model_exec at_start = live;
        at_start.status = ROCKY_MODEL_RUNNING;
        at_start.finished_wall_ns = 0;
        at_start.rows_affected = at_start.bytes_written = -1;
        at_start.error = NULL;
        stuck = emit(set, ROCKY_EVENT_MODEL_START, &run, &at_start,
                     m->started_wall_ns, step_timeout_ms) != 0;
        /* A model the crash cut short has no end: it ends with the run. */
        if (live.finished_wall_ns == 0)
            live.finished_wall_ns = run.finished_wall_ns;
        if (!stuck)
            stuck = emit(set, ROCKY_EVENT_MODEL_END, &run, &live,
                         live.finished_wall_ns, step_timeout_ms) != 0;
    }
    /* A stuck replay still ends the run, so a plugin never holds a run
     * that has no end; it stays unconfirmed either way. */
    emit(set, ROCKY_EVENT_RUN_END, &run, NULL, run.finished_wall_ns,
         stuck ? 0 : step_timeout_ms);
    struct rocky_delivery_report after = {.struct_size = sizeof after};
    drain(set, stuck ? 0 : step_timeout_ms, &after);
    delta(&after, &before, result);
    result->confirmed = !stuck && result->accepted > 0 &&
                        result->dropped == 0 && result->pending == 0 &&
                        result->delivered >= result->accepted;
    return 0;
}
