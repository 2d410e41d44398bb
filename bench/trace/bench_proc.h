/*
 * bench_proc.h — what the trace benchmarks share: timing a rocky-trace
 * process (wall and CPU) and printing its figures as one JSON member.
 */
#ifndef ROCKY_BENCH_PROC_H
#define ROCKY_BENCH_PROC_H

/* Run argv (stdout to `out`, or /dev/null when NULL); wall milliseconds,
 * CPU milliseconds in *cpu_ms, or -1 when it failed or exited non-zero. */
double bench_time_run(char *const argv[], double *cpu_ms, const char *out);

/* Run argv `runs` times (at most 64) and print
 * "label":{"ok","best_ms","median_ms","worst_ms","cpu_median_ms","under_1s"}
 * followed by a comma unless `last`. */
void bench_measure(const char *label, char *const argv[], int runs, int last);

/* Remove a flat scratch folder and the files in it. */
void bench_remove_dir(const char *dir);

#endif
