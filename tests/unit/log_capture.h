/*
 * log_capture.h — the runner's log lines (lib/plugin_host/log.h), captured
 * for the loader tests: what a user would see on stderr, with levels.
 * Thread-safe: plugin threads may log while a test reads.
 */
#ifndef ROCKY_TESTS_LOG_CAPTURE_H
#define ROCKY_TESTS_LOG_CAPTURE_H

/* Route rocky_log into the capture at debug level / restore stderr and
 * forget every captured line. */
void log_capture_start(void);
void log_capture_stop(void);

/* The sink itself, for hosts of our own that log to the capture too. */
void log_capture_sink(void *ctx, int level, const char *line);

/* How many lines were captured (at most LOG_CAPTURE_MAX are kept). */
#define LOG_CAPTURE_MAX 4096
int log_capture_count(void);

/* Line i (a copy owned by the capture until log_capture_stop) and its
 * level; NULL / -1 past the end. */
const char *log_capture_line(int i);
int log_capture_level(int i);

/* Lines containing every one of the NULL-terminated needles. */
int log_capture_matching(const char *needle, ...);

/* Index of the first line at or after `from` containing `needle`, or -1. */
int log_capture_find(int from, const char *needle);

/* Every line, through cmocka's print_message, for a failing test. */
void log_capture_dump(void);

#endif
