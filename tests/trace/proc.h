/*
 * proc.h — run a program (the real rocky-trace) from a test with a bounded
 * wait, capturing stdout and stderr.
 */
#ifndef ROCKY_TESTS_TRACE_PROC_H
#define ROCKY_TESTS_TRACE_PROC_H

#include <sys/types.h>

struct proc_result {
    int exit_code; /* -1 when killed by a signal or timed out */
    char *out;     /* captured stdout (heap, NUL-terminated) */
    char *err;     /* captured stderr */
};

/* Start argv[0] with stdout/stderr redirected to files in `dir`. Returns the
 * pid or -1. */
pid_t proc_start(char *const argv[], const char *dir);

/* Wait up to `timeout_ms` (times ROCKY_TEST_TIME_SCALE) for `pid`; on
 * timeout kill it (by pid) and report exit_code -1. Reads the captured
 * output from `dir`. */
void proc_wait(pid_t pid, const char *dir, int timeout_ms,
               struct proc_result *res);

/* Start, wait (10 s scaled) and capture in one call. */
void proc_run(char *const argv[], const char *dir, struct proc_result *res);

/* Read the stdout captured so far for a still-running process. Heap. */
char *proc_peek_stdout(const char *dir);

void proc_result_free(struct proc_result *res);

/* ROCKY_TEST_TIME_SCALE (default 1). */
int proc_time_scale(void);

#endif
