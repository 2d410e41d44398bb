/*
 * runs.h — `rocky runs` / `rocky trace --list`: the run history, one model
 * across runs, and pruning old runs (retention).
 *
 *   runs [--limit N] [--status S] [--since WHEN] [--model NAME]
 *        [--json | -o json|table] [--state PATH] [--width N]
 *   runs --prune [--keep-runs N] [--keep-days D] [--dry-run] [--force]
 *        [--state PATH]
 *
 * Output: a text table fitted to the terminal width, or a versioned JSON
 * document (trace/schema/runs-output.schema.json). Errors go to stderr with
 * a hint. Returns the exit status: 0, 1 (cannot list / prune), 2 (usage).
 * Not thread-safe (reads the environment and the terminal).
 */
#ifndef ROCKY_TRACE_RUNS_H
#define ROCKY_TRACE_RUNS_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "trace_cli.h"

/* Version of the `rocky runs --json` document's schema. */
#define ROCKY_RUNS_SCHEMA_VERSION "1.0.0"

/* What the runner knows before the subcommand. Borrowed; NULL: nothing. */
struct rocky_runs_cli_globals {
    const struct rocky_trace_cli_globals *trace; /* -o, --state-path, -c */
    /* rocky.json's "retention" of the project (-c, else the current
     * directory): --prune's rules when --keep-runs/--keep-days are not
     * given. 0: unset. */
    uint32_t keep_runs, keep_days;
};

/* `argv[0]` is the name to show in messages ("runs", "rocky trace
 * --list"); the rest are the options above. */
int rocky_runs_cli_run(int argc, char **argv,
                       const struct rocky_runs_cli_globals *g);

/* Renderers (render_runs.c). `now_wall_ns` measures a running run;
 * `width` is the text width; `utf8` picks the sparkline's blocks over
 * ASCII. Return 0 or ROCKY_EIO. */
int rocky_runs_render_text(FILE *out, const struct rocky_store_run_summary *r,
                           size_t n, int64_t now_wall_ns, size_t width);
int rocky_runs_render_json(FILE *out, const struct rocky_store_run_summary *r,
                           size_t n, int64_t now_wall_ns);
int rocky_runs_render_history_text(FILE *out, const char *model,
                                   const struct rocky_store_model_history *h,
                                   size_t n, int64_t now_wall_ns, size_t width,
                                   int utf8);
int rocky_runs_render_history_json(FILE *out, const char *model,
                                   const struct rocky_store_model_history *h,
                                   size_t n, int64_t now_wall_ns);

#endif
