/*
 * progress.h — `rocky run`'s live progress display on a terminal.
 *
 * A few lines at the bottom of the terminal, redrawn in place at most ten
 * times a second: done/total, how many models run, the run's elapsed time
 * and an estimate of the time left (from the previous run's durations of
 * the same models), then the longest-running models and for how long.
 * Finished-model lines (output.c) scroll above it; when the run ends the
 * display is erased, so what stays on the screen is exactly what the run
 * prints off a terminal. Lines are cut to the terminal's width (read at
 * every redraw: a resize is followed), so they never wrap.
 *
 * Only made when stdout is a terminal, unless --no-progress or --json
 * (rocky_progress_wanted); it is the only writer of escape sequences
 * besides colour, so off a terminal nothing changes.
 *
 * Threading and ownership:
 *   - the running-model slots, done count and estimate sums belong to the
 *     display's own mutex `state_mu`: workers take it for a few stores per
 *     model (rocky_progress_started / _finished) and never wait for I/O;
 *   - the screen belongs to the output's mutex (`draw_mu`, given at start):
 *     the ticker thread redraws holding it, and output.c, which prints the
 *     finished-model lines on the recorder thread, erases and redraws
 *     around each line holding it (rocky_progress_erase/_draw). Lock order:
 *     draw_mu, then state_mu.
 */
#ifndef ROCKY_HOST_PROGRESS_H
#define ROCKY_HOST_PROGRESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rocky_progress;
struct rocky_store;

/* 1 when `rocky run` should show the display: `out` is a terminal and
 * neither --json nor --no-progress was given. */
int rocky_progress_wanted(FILE *out, int json, int no_progress);

/* A display of `total` models for `nmodels` model indices (the project's,
 * selected or not) and up to `slots` concurrent models (the worker
 * count). `color` allows SGR colour (NO_COLOR unset). Returns 0 or
 * ROCKY_ENOMEM. */
int rocky_progress_new(FILE *out, size_t total, size_t nmodels, size_t slots,
                       int color, struct rocky_progress **out_progress);

/* Learn each model's expected duration from the latest run on record in
 * `store` (names[i] is model i's name, NULL when not selected). Before
 * rocky_progress_start; a store without history leaves no estimate. */
void rocky_progress_learn(struct rocky_progress *p, struct rocky_store *store,
                          const char *const *names);

/* Start the ticker thread, drawing under `draw_mu` (the output's lock).
 * `run_start_mono_ns` is the run's start. Returns 0 or ROCKY_EIO. */
int rocky_progress_start(struct rocky_progress *p, pthread_mutex_t *draw_mu,
                         int64_t run_start_mono_ns);

/* Model `idx` (named `name`, which outlives the display) started at
 * `mono_ns`. Worker threads; short lock, no I/O. */
void rocky_progress_started(struct rocky_progress *p, size_t idx,
                            const char *name, int64_t mono_ns);

/* Model `idx` reached a final status (ran, or was skipped). Worker threads
 * and the main thread; short lock, no I/O. */
void rocky_progress_finished(struct rocky_progress *p, size_t idx);

/* Erase the display from the screen / draw it again. The caller holds
 * draw_mu (output.c, around a finished-model line). */
void rocky_progress_erase(struct rocky_progress *p);
void rocky_progress_draw(struct rocky_progress *p);

/* Stop the ticker and erase the display, so the summary follows the last
 * model line as off a terminal. Takes draw_mu itself; call without it. */
void rocky_progress_stop(struct rocky_progress *p);

/* Free (stops first). NULL is a no-op. */
void rocky_progress_free(struct rocky_progress *p);

#endif
