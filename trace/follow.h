/*
 * follow.h — the live view: `rocky trace <run> --follow`.
 *
 * Polls the state store (opened read-only; WAL lets it read while the runner
 * writes, and the runner is never blocked by it) every `poll_ms` and shows
 * the run as models finish. On a terminal it redraws the whole text view;
 * otherwise it appends one row per newly finished model, then the summary.
 * Returns when the run is no longer running (finished, interrupted, crashed).
 */
#ifndef ROCKY_TRACE_FOLLOW_H
#define ROCKY_TRACE_FOLLOW_H

#include <stddef.h>
#include <stdio.h>

struct rocky_store;

struct rocky_trace_follow_opts {
    const char *run_id; /* a concrete id (resolve "latest" first) */
    const char *model;  /* or NULL for every model */
    size_t width;       /* terminal columns */
    int redraw;         /* 1: clear and redraw (TTY); 0: append rows */
    int poll_ms;        /* pause between polls */
};

/*
 * Follow the run until it ends, writing to `out`. Returns 0 when the run
 * ended, or a negative ROCKY_E* code with `err` filled (store unreadable,
 * model never appeared in a finished run, output failed).
 */
int rocky_trace_follow(struct rocky_store *store,
                       const struct rocky_trace_follow_opts *opts, FILE *out,
                       char *err, size_t err_size);

#endif
