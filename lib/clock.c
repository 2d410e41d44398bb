/* clock.c — see clock.h. */
#include "clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t rocky_clock_wall_ns(void)
{
    return read_clock(CLOCK_REALTIME);
}

int64_t rocky_clock_mono_ns(void)
{
    return read_clock(CLOCK_MONOTONIC);
}

int64_t rocky_deadline_after_ms(int64_t timeout_ms)
{
    const int64_t now = rocky_clock_mono_ns();
    if (timeout_ms <= 0)
        return now;
    if (timeout_ms > (INT64_MAX - now) / 1000000)
        return INT64_MAX;
    return now + timeout_ms * 1000000;
}
