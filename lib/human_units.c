/* human_units.c — numbers for people (see human_units.h). */
#include "human_units.h"

#include <stdio.h>

char *rocky_human_bytes(int64_t bytes, char *buf, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    if (bytes < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (bytes < 1024) {
        snprintf(buf, size, "%lld B", (long long)bytes);
        return buf;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    /* Step up before "%.1f" would round to 1024.0. */
    while (v >= 1023.95 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, size, "%.1f %s", v, units[u]);
    return buf;
}

const char *rocky_plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

char *rocky_human_count(int64_t n, const char *one, const char *many, char *buf,
                        size_t size)
{
    static const char suffix[] = {'k', 'M', 'G'};
    if (n < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (n < 1000) {
        snprintf(buf, size, "%lld %s", (long long)n,
                 rocky_plural(n, one, many));
        return buf;
    }
    double v = (double)n / 1000.0;
    size_t u = 0;
    while (v >= 999.95 && u + 1 < sizeof suffix) {
        v /= 1000.0;
        u++;
    }
    if (v >= 999.95) /* beyond 999.9G: whole thousands of millions */
        snprintf(buf, size, "%.0f%c %s", v, suffix[u], many);
    else
        snprintf(buf, size, "%.1f%c %s", v, suffix[u], many);
    return buf;
}

char *rocky_human_duration(int64_t ns, char *buf, size_t size)
{
    if (ns < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    /* Below a minute: hundredths, as every rocky view always showed. */
    if (ns < 59995000000LL) {
        snprintf(buf, size, "%.2fs", (double)ns / 1e9);
        return buf;
    }
    /* Rounded to the second without ns + 0.5 s, which overflows near
     * INT64_MAX (a store's times can be anything: fuzz_trace_render). */
    int64_t s = ns / 1000000000 + (ns % 1000000000 >= 500000000);
    if (s < 3600)
        snprintf(buf, size, "%lldm%02llds", (long long)(s / 60),
                 (long long)(s % 60));
    else
        snprintf(buf, size, "%lldh%02lldm", (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    return buf;
}
