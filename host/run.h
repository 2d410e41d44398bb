/*
 * run.h — `rocky run`: plan a project, execute it on worker threads, record
 * it in the state store and tell the plugins.
 *
 * Shutdown order (in rocky_run_main, one step each):
 *   1. workers drain (or stop on a stop signal, statements interrupted),
 *   2. never-started models are recorded (each announced as a SKIPPED
 *      MODEL_END), the run is finished in the store — as INCOMPLETE when
 *      model records could not be written (recorder.h),
 *   3. RUN_END is emitted — on every path after RUN_START, the state store
 *      writer failing to start included — then the plugin instances are
 *      stopped (which waits for in-flight emits) and the delivery outcome
 *      recorded; they are destroyed when the plugin set is freed,
 *   4. output, exit status; for a run whose plugins did not confirm
 *      delivery, one last line on stderr (after the instances were
 *      destroyed): what is left and the `rocky trace --export` command
 *      that sends it again,
 *   5. the exit guard is disarmed; a stop signal that arrived since the
 *      watcher last looked ends the process by that signal (never lost,
 *      never a core for SIGQUIT). The stop signals stay blocked when
 *      rocky_run_main returns: one arriving after that is too late to
 *      stop anything and is not acted on (the run is over and recorded).
 */
#ifndef ROCKY_HOST_RUN_H
#define ROCKY_HOST_RUN_H

#include <stddef.h>

struct rocky_run_options {
    const char *project_dir; /* default "." */
    int threads;             /* 0: rocky.json, else the CPU count */
    const char **plugins;    /* --plugin paths, in order */
    size_t nplugins;
    const char *state_path; /* --state; NULL: ROCKY_STATE, rocky.json,
                               <project>/.rocky/state.db */
    char **select;          /* --select selectors (project.h) */
    size_t nselect;
    char **exclude; /* --exclude selectors */
    size_t nexclude;
    const char *trigger; /* default "manual" */
    int json;
    int no_progress; /* --no-progress: no live display even on a terminal */
};

/* Exit status of `rocky run`: 0 success, 1 failure or partial failure (or
 * a project that cannot be planned, or a state store that could not record
 * all of the run: then the last line says what it lacks, never "recorded");
 * 128 + signo after a stop signal: 130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131
 * SIGQUIT (a stop signal usually ends the process inside this call, by the
 * signal). Output that cannot be written (a closed stdout, a reader that
 * went away) changes nothing. Owns the process's signals and exit while it
 * runs (step 5 above). */
int rocky_run_main(const struct rocky_run_options *opt);

#endif
