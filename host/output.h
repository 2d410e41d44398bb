/*
 * output.h — what `rocky run` prints: a line per model as it finishes and a
 * summary, or (with --json) one result document at the end.
 *
 * Colour only when stdout is a terminal and NO_COLOR is unset (any value,
 * per no-color.org). Lines from several workers never interleave.
 *
 * Output is best effort: once a write fails (a reader that went away —
 * `rocky run | head -1`, EPIPE with SIGPIPE ignored — or a closed stdout,
 * EBADF), nothing more is written, quietly. The run goes on and is recorded
 * as usual; what the terminal missed is in the state store (`rocky trace`).
 */
#ifndef ROCKY_HOST_OUTPUT_H
#define ROCKY_HOST_OUTPUT_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "rocky/run_model.h"

struct rocky_output {
    FILE *out;
    int color;
    int json; /* print nothing per model; one document at the end */
    size_t total;
    size_t finished;
    int broken; /* a write failed: write nothing more (guarded by mu) */
    pthread_mutex_t mu;
    /* The live display (progress.h) or NULL; set before the first model
     * line. Each model line erases it and draws it again, under mu. */
    struct rocky_progress *progress;
};

void rocky_output_init(struct rocky_output *o, FILE *out, int json,
                       size_t total);
void rocky_output_destroy(struct rocky_output *o);

/* One line for a model that reached a final status. Thread-safe. */
void rocky_output_model(struct rocky_output *o,
                        const struct rocky_model_exec *m);

/* The end of the run: a summary, or the JSON document. `models` are all
 * selected models in plan order. `record_problem` is NULL when the run is
 * fully recorded in the state store, else what the store lacks: it then
 * replaces the "run ... recorded in" line (and is the document's
 * "record_problem"). */
void rocky_output_finish(struct rocky_output *o, const struct rocky_run *run,
                         const struct rocky_model_exec *models, size_t count,
                         int threads, const char *state_path,
                         const char *target_path, const char *record_problem);

/* `rocky trace RUN_ID [--state PATH]`, each word quoted for a POSIX shell
 * when it needs it: the command that shows the run from where rocky was
 * started. --state unless `rocky trace` would open `state_path` by default
 * ($ROCKY_STATE, else .rocky/state.db). */
void rocky_output_trace_command(FILE *fp, const char *run_id,
                                const char *state_path);

#endif
