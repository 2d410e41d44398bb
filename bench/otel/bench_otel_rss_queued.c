/*
 * bench_otel_rss_queued — the memory a queued span costs: one run of
 * 100,000 model spans (6 attributes each) plus its run span, offered as
 * fast as the runner thread can, with OTEL_BSP_MAX_QUEUE_SIZE=100016 and
 * batches of 512 to otel_sink. The exporter sends far slower than we
 * queue, so nearly all of them wait in the queue at the peak. Prints peak
 * RSS (VmHWM), the RSS before the plugin was loaded and after its init,
 * and (peak - after init) / spans: what a queued span costs once the
 * plugin's fixed costs (libraries, threads) are paid.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

#define SPANS 100000

int main(void)
{
    struct bench_sink sink;
    if (bench_sink_export_to(&sink) != 0)
        return 1;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100016", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512", 1);
    long before = bench_rss_kb("VmRSS");
    void *st;
    const struct rocky_plugin *p = bench_plugin_load(&st);
    long after_init = bench_rss_kb("VmRSS");
    struct bench_events ev;
    bench_events_init(&ev);
    uint64_t refused = 0;
    for (uint64_t i = 0; i < SPANS; i++) {
        bench_events_next(&ev, i);
        p->on_event(st, &ev.start);
        refused += p->on_event(st, &ev.end) == ROCKY_EAGAIN;
    }
    p->on_event(st, &ev.run_end);
    long queued = bench_rss_kb("VmRSS");
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    bench_plugin_stop(p, st, bench_now_ns() + 60000000000LL, &rep);
    long peak = bench_rss_kb("VmHWM");
    bench_sink_stop(&sink);
    printf("{\"bench\":\"otel_rss_queued\",\"spans\":%d,\"refused\":%llu,"
           "\"delivered\":%llu,\"rss_before_load_kb\":%ld,"
           "\"rss_after_init_kb\":%ld,"
           "\"rss_all_queued_kb\":%ld,\"peak_rss_kb\":%ld,"
           "\"bytes_per_span\":%.0f}\n",
           SPANS, (unsigned long long)refused,
           (unsigned long long)rep.delivered, before, after_init, queued, peak,
           (double)(peak - after_init) * 1024.0 / SPANS);
    return 0;
}
