/* log_capture.c — see log_capture.h. */
#include "log_capture.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *lines[LOG_CAPTURE_MAX];
static int levels[LOG_CAPTURE_MAX];
static int count;

void log_capture_sink(void *ctx, int level, const char *line)
{
    (void)ctx;
    pthread_mutex_lock(&lock);
    if (count < LOG_CAPTURE_MAX) {
        levels[count] = level;
        lines[count++] = strdup(line);
    }
    pthread_mutex_unlock(&lock);
}

void log_capture_start(void)
{
    rocky_log_set_sink(log_capture_sink, NULL);
    rocky_log_set_level(ROCKY_LOG_DEBUG);
}

void log_capture_stop(void)
{
    rocky_log_set_sink(NULL, NULL);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < count; i++)
        free(lines[i]);
    count = 0;
    pthread_mutex_unlock(&lock);
}

int log_capture_count(void)
{
    pthread_mutex_lock(&lock);
    int n = count;
    pthread_mutex_unlock(&lock);
    return n;
}

/* Lines are never changed or freed before log_capture_stop, so a pointer
 * read under the lock stays good after it. */
const char *log_capture_line(int i)
{
    pthread_mutex_lock(&lock);
    const char *line = i >= 0 && i < count ? lines[i] : NULL;
    pthread_mutex_unlock(&lock);
    return line;
}

int log_capture_level(int i)
{
    pthread_mutex_lock(&lock);
    int level = i >= 0 && i < count ? levels[i] : -1;
    pthread_mutex_unlock(&lock);
    return level;
}

int log_capture_matching(const char *needle, ...)
{
    int matches = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < count; i++) {
        va_list ap;
        va_start(ap, needle);
        int all = 1;
        for (const char *n = needle; n != NULL; n = va_arg(ap, const char *))
            if (strstr(lines[i], n) == NULL)
                all = 0;
        va_end(ap);
        matches += all;
    }
    pthread_mutex_unlock(&lock);
    return matches;
}

int log_capture_find(int from, const char *needle)
{
    int found = -1;
    pthread_mutex_lock(&lock);
    for (int i = from < 0 ? 0 : from; i < count && found < 0; i++)
        if (strstr(lines[i], needle) != NULL)
            found = i;
    pthread_mutex_unlock(&lock);
    return found;
}

void log_capture_dump(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < count; i++)
        print_message("  log[%d]: %s\n", levels[i], lines[i]);
    pthread_mutex_unlock(&lock);
}
