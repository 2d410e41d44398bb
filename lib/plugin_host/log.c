/* log.c — see log.h. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "term_escape.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static rocky_log_sink_fn log_sink;
static void *log_sink_ctx;
static int log_level = -1; /* -1: not yet read from ROCKY_LOG */

static int level_from_env(void)
{
    const char *v = getenv("ROCKY_LOG");
    if (v == NULL || *v == '\0')
        return ROCKY_LOG_INFO;
    if (strcasecmp(v, "debug") == 0)
        return ROCKY_LOG_DEBUG;
    if (strcasecmp(v, "warn") == 0)
        return ROCKY_LOG_WARN;
    if (strcasecmp(v, "error") == 0)
        return ROCKY_LOG_ERROR;
    return ROCKY_LOG_INFO;
}

void rocky_log_set_sink(rocky_log_sink_fn sink, void *ctx)
{
    pthread_mutex_lock(&log_lock);
    log_sink = sink;
    log_sink_ctx = ctx;
    pthread_mutex_unlock(&log_lock);
}

void rocky_log_set_level(int level)
{
    pthread_mutex_lock(&log_lock);
    log_level = level;
    pthread_mutex_unlock(&log_lock);
}

void rocky_vlog(int level, const char *fmt, va_list ap)
{
    char text[2048];
    vsnprintf(text, sizeof text, fmt, ap);
    /* One event, one line, and nothing a terminal obeys: messages carry
     * SQLite errors, identifiers from SQL, paths from rocky.json and
     * plugins' own text, so every control (newlines included, which would
     * forge lines) shows as a visible escape. */
    char line[ROCKY_TERM_ESCAPED_SIZE(sizeof text)];
    rocky_term_escape(text, 0, line, sizeof line);

    pthread_mutex_lock(&log_lock);
    if (log_level < 0)
        log_level = level_from_env();
    if (level >= log_level) {
        if (log_sink != NULL) {
            log_sink(log_sink_ctx, level, line);
        } else {
            static const char *const names[] = {"debug: ", "",
                                                "warning: ", "error: "};
            const char *tag = level >= 0 && level <= 3 ? names[level] : "";
            fprintf(stderr, "rocky: %s%s\n", tag, line);
        }
    }
    pthread_mutex_unlock(&log_lock);
}

void rocky_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rocky_vlog(level, fmt, ap);
    va_end(ap);
}
