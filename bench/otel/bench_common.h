/*
 * bench_common.h — shared by the rocky_otel benchmarks: start the sink,
 * load the plugin with a minimal host, build events (clocks and RSS:
 * bench_measure.h).
 */
#ifndef ROCKY_BENCH_OTEL_COMMON_H
#define ROCKY_BENCH_OTEL_COMMON_H

#include <stdint.h>
#include <sys/types.h>

#include "bench_measure.h"
#include "rocky/plugin.h"

struct bench_sink {
    pid_t pid;
    int port;
};

/* Start otel_sink (ROCKY_OTEL_SINK_PATH) and read its port. 0 or -1. */
int bench_sink_start(struct bench_sink *s);
/* The same with `otel_sink --never-answer`: calls are taken, never answered
 * (a hung collector). */
int bench_sink_start_hung(struct bench_sink *s);
void bench_sink_stop(struct bench_sink *s);
/* Start the sink and point OTEL_EXPORTER_OTLP_ENDPOINT at it; says why on
 * stderr when it cannot. 0 or -1. */
int bench_sink_export_to(struct bench_sink *s);

/* dlopen the plugin (ROCKY_OTEL_PLUGIN_PATH) and create one instance
 * configured by the current environment (no config keys), for a host that
 * owns the exit (ROCKY_HOST_CAP_OWNS_EXIT: the bench stops it itself).
 * Exits on failure. */
const struct rocky_plugin *bench_plugin_load(void **instance);
/* stop (exactly once) then destroy the instance; returns stop's code. */
int bench_plugin_stop(const struct rocky_plugin *p, void *instance,
                      int64_t deadline_mono_ns,
                      struct rocky_delivery_report *report);

struct bench_events {
    struct rocky_run run;
    struct rocky_model_exec model;
    struct rocky_event start, end, run_end;
};
void bench_events_init(struct bench_events *e);
/* Give the model a fresh span id and times (cheap). */
void bench_events_next(struct bench_events *e, uint64_t i);

#endif
