/* time_format.c — RFC 3339 timestamps (see time_format.h). */
#include "time_format.h"

#include <stdio.h>
#include <time.h>

void rocky_format_rfc3339(int64_t wall_ns, char *buf, size_t buf_size)
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    int ms = (int)((wall_ns % 1000000000) / 1000000);
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, buf_size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, buf_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ms);
}
