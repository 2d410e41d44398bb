/*
 * bench_otel_hot_path_cg — a small driver for callgrind: one model's
 * MODEL_START + MODEL_END through rocky_otel.so's on_event, exporting live
 * to otel_sink, in a function of its own (one_model) so that
 *   valgrind --tool=callgrind --toggle-collect=one_model bench_otel_hot_path_cg
 * counts exactly the runner thread's cost per model. The queue is flushed
 * between rounds (outside one_model) so no span is refused.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

#define ROUNDS          10
#define PAIRS_PER_ROUND 2000

/* Not static: callgrind finds it by name. */
int one_model(const struct rocky_plugin *p, void *st, struct bench_events *ev);
__attribute__((noinline)) int one_model(const struct rocky_plugin *p, void *st,
                                        struct bench_events *ev)
{
    p->on_event(st, &ev->start);
    return p->on_event(st, &ev->end);
}

int main(void)
{
    struct bench_sink sink;
    if (bench_sink_export_to(&sink) != 0)
        return 1;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4096", 1);
    setenv("OTEL_BSP_SCHEDULE_DELAY", "100", 1);
    void *st;
    const struct rocky_plugin *p = bench_plugin_load(&st);
    struct bench_events ev;
    bench_events_init(&ev);
    uint64_t n = 0, refused = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < PAIRS_PER_ROUND; i++) {
            bench_events_next(&ev, n++);
            refused += one_model(p, st, &ev) == ROCKY_EAGAIN;
        }
        p->flush(st, bench_now_ns() + 10000000000LL, NULL);
    }
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    bench_plugin_stop(p, st, bench_now_ns() + 10000000000LL, &rep);
    bench_sink_stop(&sink);
    printf("{\"bench\":\"otel_hot_path_cg\",\"models\":%llu,"
           "\"delivered\":%llu,\"refused\":%llu}\n",
           (unsigned long long)n, (unsigned long long)rep.delivered,
           (unsigned long long)refused);
    return 0;
}
