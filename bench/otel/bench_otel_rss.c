/*
 * bench_otel_rss — resident memory added by rocky_otel.so while exporting
 * 500,000 model spans to a local gRPC sink with the default queue (2048):
 * peak RSS (VmHWM) minus the RSS before the plugin was loaded. The queue is
 * bounded, so this does not grow with the run. Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

#define SPANS 500000

int main(void)
{
    struct bench_sink sink;
    if (bench_sink_export_to(&sink) != 0)
        return 1;
    setenv("OTEL_BSP_SCHEDULE_DELAY", "50", 1);
    long before = bench_rss_kb("VmRSS");
    void *st;
    const struct rocky_plugin *p = bench_plugin_load(&st);
    long after_init = bench_rss_kb("VmRSS");
    struct bench_events ev;
    bench_events_init(&ev);
    long at_half = 0;
    for (uint64_t i = 0; i < SPANS; i++) {
        bench_events_next(&ev, i);
        p->on_event(st, &ev.start);
        p->on_event(st, &ev.end);
        if (i % 1024 == 1023) /* pace like a runner: let the exporter keep up */
            p->flush(st, bench_now_ns() + 10000000000LL, NULL);
        if (i == SPANS / 2)
            at_half = bench_rss_kb("VmRSS");
    }
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    bench_plugin_stop(p, st, bench_now_ns() + 10000000000LL, &rep);
    long peak = bench_rss_kb("VmHWM");
    long at_end = bench_rss_kb("VmRSS");
    bench_sink_stop(&sink);
    printf("{\"bench\":\"otel_rss\",\"spans\":%d,\"delivered\":%llu,"
           "\"rss_before_kb\":%ld,\"added_after_init_kb\":%ld,"
           "\"added_at_half_kb\":%ld,\"added_peak_kb\":%ld,"
           "\"added_at_end_kb\":%ld,\"target_added_mb\":15}\n",
           SPANS, (unsigned long long)rep.delivered, before,
           after_init - before, at_half - before, peak - before,
           at_end - before);
    return 0;
}
