/* run_id.c — run ids that sort by start time and do not collide. */
#include "run_id.h"

#include <stdio.h>
#include <time.h>

#include "ids.h"

void rocky_run_id_make(int64_t wall_ns, char out[ROCKY_RUN_ID_SIZE])
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    int ms = (int)((wall_ns / 1000000) % 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    uint8_t rnd[3] = {0};
    rocky_random_id(rnd, sizeof rnd);
    char hex[7];
    rocky_hex_encode(rnd, sizeof rnd, hex);
    snprintf(out, ROCKY_RUN_ID_SIZE, "%04d%02d%02dT%02d%02d%02d.%03dZ-%s",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ms, hex);
}
