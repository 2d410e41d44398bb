/*
 * bench_otel_hot_path — the cost, on the calling thread, of one model
 * execution's MODEL_START + MODEL_END events in rocky_otel.so:
 *   inert (no endpoint): the plugin returns at once;
 *   live: exporting to a local gRPC sink (the exporter thread sends while
 *   we measure; the queue is flushed between timed rounds so nothing is
 *   dropped), as wall time and as this thread's CPU time (the wall time
 *   also holds what it waited for a core while the exporter and the sink
 *   had both).
 * Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

#define INERT_PAIRS          20000000L
#define LIVE_ROUNDS          100
#define LIVE_PAIRS_PER_ROUND 2000

int main(void)
{
    struct bench_events ev;
    bench_events_init(&ev);
    char endpoint[64];

    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    void *inert_state;
    const struct rocky_plugin *p = bench_plugin_load(&inert_state);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < INERT_PAIRS; i++) {
        p->on_event(inert_state, &ev.start);
        p->on_event(inert_state, &ev.end);
    }
    double inert_ns = (double)(bench_now_ns() - t0) / INERT_PAIRS;
    bench_plugin_stop(p, inert_state, bench_now_ns(), NULL);

    struct bench_sink sink;
    if (bench_sink_start(&sink) != 0) {
        fprintf(stderr, "bench: cannot start otel_sink\n");
        return 1;
    }
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", sink.port);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, 1);
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4096", 1);
    setenv("OTEL_BSP_SCHEDULE_DELAY", "100", 1);
    void *live;
    p = bench_plugin_load(&live);
    int64_t timed = 0, timed_cpu = 0;
    uint64_t n = 0, refused = 0;
    for (int r = 0; r < LIVE_ROUNDS; r++) {
        int64_t ca = bench_thread_cpu_ns(), a = bench_now_ns();
        for (int i = 0; i < LIVE_PAIRS_PER_ROUND; i++) {
            bench_events_next(&ev, n++);
            p->on_event(live, &ev.start);
            /* ROCKY_EAGAIN: refused, queue full (a runner counts it as
             * dropped itself). */
            refused += p->on_event(live, &ev.end) == ROCKY_EAGAIN;
        }
        timed += bench_now_ns() - a;
        timed_cpu += bench_thread_cpu_ns() - ca;
        p->flush(live, bench_now_ns() + 10000000000LL, NULL);
    }
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    bench_plugin_stop(p, live, bench_now_ns() + 10000000000LL, &rep);
    bench_sink_stop(&sink);
    printf("{\"bench\":\"otel_hot_path\",\"inert_ns_per_model\":%.2f,"
           "\"live_ns_per_model\":%.1f,\"live_thread_cpu_ns_per_model\":%.1f,"
           "\"live_models\":%llu,"
           "\"live_delivered\":%llu,\"live_dropped\":%llu,"
           "\"live_refused\":%llu,"
           "\"target_live_ns\":200,\"target_inert_ns\":5}\n",
           inert_ns, (double)timed / (double)n, (double)timed_cpu / (double)n,
           (unsigned long long)n, (unsigned long long)rep.delivered,
           (unsigned long long)rep.dropped, (unsigned long long)refused);
    return 0;
}
