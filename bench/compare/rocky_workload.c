/*
 * rocky_workload.c — our side of bench/compare: one run span and N model
 * spans through rocky_otel.so, loaded through the real plugin ABI by a host
 * that owns the exit (bench_common). otelcpp_workload.cc does the same work
 * with opentelemetry-cpp; both take the same argv and print one JSON line.
 *
 *   rocky_workload hot N         ns per span of workload_one_span only
 *   rocky_workload process N     init + N spans + stop: CPU, peak RSS
 *   rocky_workload exit_flush N  N spans produced at full speed, then the
 *                                stop that must deliver them, timed
 *   rocky_workload exit_flush_queued N
 *                                the same with nothing sent before the stop
 *                                (queue and batch 2N+32, a 600 s schedule
 *                                delay): all N+1 spans leave in the stop
 *
 * The exporter goes to OTEL_EXPORTER_OTLP_ENDPOINT when it is set (bench/
 * compare/run starts one otel_sink for both sides), else to an otel_sink
 * this program starts. Queue N+16 and export batch 512 are set here, the
 * schedule delay is the default, as on the otel-cpp side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_common.h"

static const struct rocky_plugin *plugin;
static void *instance;
static struct bench_events ev;
static uint64_t refused;

/* Not static: a local function may be cloned under another name
 * (.constprop, .isra), and callgrind must find this one by name. */
void workload_one_span(uint64_t i);

/* Everything one model costs the runner's thread: fresh ids and times,
 * MODEL_START, MODEL_END. Never inlined, so callgrind can count just this
 * with --toggle-collect=workload_one_span. */
__attribute__((noinline)) void workload_one_span(uint64_t i)
{
    bench_events_next(&ev, i);
    plugin->on_event(instance, &ev.start);
    /* ROCKY_EAGAIN: the queue refused it (full); counted, not retried. */
    refused += plugin->on_event(instance, &ev.end) == ROCKY_EAGAIN;
}

/* queued: keep every span in the queue until the stop (see usage), and
 * pause before the first span as the otel-cpp side must (its worker
 * exports whatever it finds when it first goes to wait). */
static void start(struct bench_sink *sink, uint64_t n, int queued)
{
    sink->pid = 0;
    if (!getenv("OTEL_EXPORTER_OTLP_ENDPOINT") &&
        bench_sink_export_to(sink) != 0)
        exit(1);
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)(n + 16) * (queued + 1));
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", v, 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", queued ? v : "512", 1);
    if (queued)
        setenv("OTEL_BSP_SCHEDULE_DELAY", "600000", 1);
    bench_events_init(&ev);
    ev.run.started_wall_ns = 1700000000000000000LL;
    plugin = bench_plugin_load(&instance);
    struct rocky_event run_start = ev.run_end;
    run_start.type = ROCKY_EVENT_RUN_START;
    run_start.wall_ns = ev.run.started_wall_ns;
    plugin->on_event(instance, &run_start);
    if (queued)
        nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
}

static void end_run(uint64_t n)
{
    ev.run.finished_wall_ns = ev.run.started_wall_ns + (int64_t)n * 1000 + 1000;
    ev.run_end.wall_ns = ev.run.finished_wall_ns;
    plugin->on_event(instance, &ev.run_end);
}

static void produce(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        workload_one_span(i);
}

static double timeval_ns(struct timeval tv)
{
    return (double)tv.tv_sec * 1e9 + (double)tv.tv_usec * 1e3;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rocky_workload "
                        "hot|process|exit_flush|exit_flush_queued N\n");
        return 2;
    }
    const char *mode = argv[1];
    uint64_t n = strtoull(argv[2], NULL, 10);
    if (n == 0) {
        fprintf(stderr, "rocky_workload: N must be > 0\n");
        return 2;
    }
    struct bench_sink sink;
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    const int64_t deadline_ns = 30000000000LL;

    if (strcmp(mode, "hot") == 0) {
        start(&sink, n, 0);
        int64_t c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
        produce(n);
        int64_t t1 = bench_now_ns(), c1 = bench_thread_cpu_ns();
        end_run(n);
        bench_plugin_stop(plugin, instance, bench_now_ns() + deadline_ns, &rep);
        printf("{\"side\":\"ours\",\"mode\":\"hot\",\"n\":%llu,"
               "\"ns_per_span\":%.1f,\"thread_cpu_ns_per_span\":%.1f,"
               "\"delivered\":%llu,\"refused\":%llu}\n",
               (unsigned long long)n, (double)(t1 - t0) / (double)n,
               (double)(c1 - c0) / (double)n, (unsigned long long)rep.delivered,
               (unsigned long long)refused);
    } else if (strcmp(mode, "process") == 0) {
        start(&sink, n, 0);
        produce(n);
        end_run(n);
        bench_plugin_stop(plugin, instance, bench_now_ns() + deadline_ns, &rep);
        /* Measured before the sink (a child) is reaped: RUSAGE_SELF only. */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double cpu_ns = timeval_ns(ru.ru_utime) + timeval_ns(ru.ru_stime);
        printf("{\"side\":\"ours\",\"mode\":\"process\",\"n\":%llu,"
               "\"cpu_ms\":%.1f,\"cpu_ns_per_span\":%.1f,"
               "\"maxrss_kb\":%ld,\"vmhwm_kb\":%ld,\"delivered\":%llu,"
               "\"refused\":%llu}\n",
               (unsigned long long)n, cpu_ns / 1e6, cpu_ns / (double)n,
               ru.ru_maxrss, bench_rss_kb("VmHWM"),
               (unsigned long long)rep.delivered, (unsigned long long)refused);
    } else if (strcmp(mode, "exit_flush") == 0 ||
               strcmp(mode, "exit_flush_queued") == 0) {
        start(&sink, n, strcmp(mode, "exit_flush_queued") == 0);
        produce(n);
        end_run(n);
        int64_t t0 = bench_now_ns();
        int rc = bench_plugin_stop(plugin, instance, t0 + deadline_ns, &rep);
        double ms = (double)(bench_now_ns() - t0) / 1e6;
        printf("{\"side\":\"ours\",\"mode\":\"%s\",\"n\":%llu,"
               "\"spans\":%llu,\"stop_ms\":%.2f,\"stop_rc\":%d,"
               "\"delivered\":%llu,\"dropped\":%llu,\"refused\":%llu}\n",
               mode, (unsigned long long)n, (unsigned long long)n + 1, ms, rc,
               (unsigned long long)rep.delivered,
               (unsigned long long)rep.dropped, (unsigned long long)refused);
    } else {
        fprintf(stderr, "rocky_workload: unknown mode %s\n", mode);
        return 2;
    }
    bench_sink_stop(&sink);
    return 0;
}
