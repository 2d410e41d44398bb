/*
 * encode_metrics.h — a metrics snapshot -> one serialized
 * ExportMetricsServiceRequest.
 *
 * Instruments (the README's telemetry table says what each means). Upstream
 * rocky's, with its names, types and meaning (gauges of the current run):
 *   rocky.tables_processed      Gauge (int)
 *   rocky.tables_failed         Gauge (int)
 *   rocky.statements_executed   Gauge (int)
 *   rocky.retries_attempted     Gauge (int)
 *   rocky.retries_succeeded     Gauge (int)
 *   rocky.error_rate_pct        Gauge (double)
 *   rocky.table_duration_ms     Histogram       ms
 *   rocky.query_duration_ms     Histogram       ms
 * Ours:
 *   rocky.model.executions      Sum, monotonic  {execution} by
 * rocky.model.status rocky.rows_affected         Sum, monotonic  {row}
 *   rocky.bytes_written         Sum, monotonic  By
 *   rocky.runs_completed        Sum, monotonic  {run}
 *   rocky.run_duration_ms       Histogram       ms
 *   rocky.models_in_flight      Sum, non-monotonic {model}
 *   rocky.otel.spans_queued     Sum, monotonic  {span}
 *   rocky.otel.spans_exported   Sum, monotonic  {span}
 *   rocky.otel.spans_dropped    Sum, monotonic  {span} by reason
 *   rocky.otel.exports_failed   Sum, monotonic  {request}
 */
#ifndef ROCKY_OTEL_ENCODE_METRICS_H
#define ROCKY_OTEL_ENCODE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "resource.h"

/*
 * Encode `snap`. `delta_sums`/`delta_hist` choose the temporality of
 * monotonic sums and histograms, `delta_updown` that of the up-down
 * counter; `start_wall_ns` is the start of the aggregation interval
 * (process start for cumulative, previous export for delta) and
 * `delta_start_wall_ns` the previous export; `now_wall_ns` the point time.
 * *out must be free()d. Returns 0 or ROCKY_ENOMEM.
 */
struct rocky_otel_metrics_encode_opts {
    int delta_sums;
    int delta_updown;
    int64_t cumulative_start_wall_ns;
    int64_t delta_start_wall_ns;
    int64_t now_wall_ns;
};

int rocky_otel_encode_metrics(const struct rocky_otel_resource *res,
                              const struct rocky_otel_metrics_snap *cumulative,
                              const struct rocky_otel_metrics_snap *delta,
                              const struct rocky_otel_metrics_encode_opts *o,
                              uint8_t **out, size_t *out_len);

#endif
