/*
 * log.h — the runner's logger. Everything the runner, its plugin loader and
 * (through the host services table) its plugins print goes through here, one
 * line at a time, prefixed with "rocky: ".
 */
#ifndef ROCKY_HOST_LOG_H
#define ROCKY_HOST_LOG_H

#include <stdarg.h>

#include "rocky/plugin.h" /* enum rocky_log_level */

/* Where log lines go. `line` has no trailing newline and no control
 * character (escaped, see rocky_log). */
typedef void (*rocky_log_sink_fn)(void *ctx, int level, const char *line);

/* Replace the sink (default: stderr). Pass NULL to restore the default.
 * Not thread-safe with concurrent logging: set it before starting workers
 * (tests use it to capture output). */
void rocky_log_set_sink(rocky_log_sink_fn sink, void *ctx);

/* Lines below `level` are discarded (default ROCKY_LOG_INFO; ROCKY_LOG env
 * var = debug|info|warn|error overrides at first use). */
void rocky_log_set_level(int level);

/* Format and emit one line. Thread-safe: lines never interleave. The
 * formatted text is escaped for the terminal (term_escape.h, newlines
 * included) before any sink sees it: callers pass untrusted text as is. */
void rocky_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rocky_vlog(int level, const char *fmt, va_list ap);

#endif
