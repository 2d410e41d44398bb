/* log.c — see log.h. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    /* One event, one line: a message must not be able to forge extra lines
     * in the runner's output. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';

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
