/*
 * bench_otel_exit_flush — exit-to-flushed: with 10,000 model spans (and the
 * run span) queued and nothing sent yet, how long the plugin's stop takes
 * to deliver them all to a local gRPC sink. Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

#define SPANS 10000

int main(void)
{
    struct bench_sink sink;
    if (bench_sink_export_to(&sink) != 0)
        return 1;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "16384", 1);
    /* Nothing leaves before the exit: no schedule tick, no full batch. */
    setenv("OTEL_BSP_SCHEDULE_DELAY", "600000", 1);
    /* One batch for all by default; the comparison workload's setting
     * (OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512: 20 requests) when given. */
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16384", 0);
    setenv("OTEL_METRIC_EXPORT_INTERVAL", "600000", 1);
    void *st;
    const struct rocky_plugin *p = bench_plugin_load(&st);
    struct bench_events ev;
    bench_events_init(&ev);
    /* Warm the connection as a run would have (the run start). */
    p->flush(st, bench_now_ns() + 5000000000LL, NULL);
    for (uint64_t i = 0; i < SPANS; i++) {
        bench_events_next(&ev, i);
        p->on_event(st, &ev.start);
        p->on_event(st, &ev.end);
    }
    p->on_event(st, &ev.run_end);
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    int64_t t0 = bench_now_ns();
    int rc = bench_plugin_stop(p, st, t0 + 10000000000LL, &rep);
    double ms = (double)(bench_now_ns() - t0) / 1e6;
    bench_sink_stop(&sink);
    printf("{\"bench\":\"otel_exit_flush\",\"batch\":%s,"
           "\"queued_spans\":%d,"
           "\"delivered\":%llu,\"dropped\":%llu,\"stop_rc\":%d,"
           "\"exit_to_flushed_ms\":%.1f,\"target_ms\":100}\n",
           getenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), SPANS + 1,
           (unsigned long long)rep.delivered, (unsigned long long)rep.dropped,
           rc, ms);
    return 0;
}
