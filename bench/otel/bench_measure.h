/*
 * bench_measure.h — the clocks and the RSS reading every benchmark reports
 * with. Header-only, in the C both languages share, so that the
 * opentelemetry-cpp workload (bench/compare/otelcpp_workload.cc, C++ built
 * outside CMake) measures with the very same code as ours.
 */
#ifndef ROCKY_BENCH_MEASURE_H
#define ROCKY_BENCH_MEASURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int64_t bench_clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t bench_now_ns(void)
{
    return bench_clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the whole process. */
static inline int64_t bench_cpu_ns(void)
{
    return bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* CPU time of the calling thread: what a hot path costs the thread
 * itself, without the time it waited for a core while the exporter and
 * the sink had them. */
static inline int64_t bench_thread_cpu_ns(void)
{
    return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* A /proc/self/status field in kB ("VmRSS", "VmHWM"); -1 when unreadable. */
static inline long bench_rss_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

#endif
