/*
 * bench_otel_cpu_per_span — process CPU time (all threads: ours, the
 * exporter's, gRPC's) divided by the spans delivered to a local gRPC sink,
 * encoding and transport included. Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

#define CHUNKS    40
#define PER_CHUNK 5000

int main(void)
{
    struct bench_sink sink;
    if (bench_sink_export_to(&sink) != 0)
        return 1;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "8192", 1);
    void *st;
    const struct rocky_plugin *p = bench_plugin_load(&st);
    struct bench_events ev;
    bench_events_init(&ev);
    int64_t cpu0 = bench_cpu_ns(), wall0 = bench_now_ns();
    uint64_t n = 0;
    for (int c = 0; c < CHUNKS; c++) {
        for (int i = 0; i < PER_CHUNK; i++) {
            bench_events_next(&ev, n++);
            p->on_event(st, &ev.start);
            p->on_event(st, &ev.end);
        }
        p->flush(st, bench_now_ns() + 10000000000LL, NULL);
    }
    int64_t cpu = bench_cpu_ns() - cpu0, wall = bench_now_ns() - wall0;
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    bench_plugin_stop(p, st, bench_now_ns() + 10000000000LL, &rep);
    bench_sink_stop(&sink);
    printf("{\"bench\":\"otel_cpu_per_span\",\"spans\":%llu,\"delivered\":%llu,"
           "\"cpu_us_per_span\":%.3f,\"wall_us_per_span\":%.3f,"
           "\"target_cpu_us\":1}\n",
           (unsigned long long)n, (unsigned long long)rep.delivered,
           (double)cpu / 1000.0 / (double)n, (double)wall / 1000.0 / (double)n);
    return 0;
}
