/*
 * encode_metrics.c — the metrics request encoder (protobuf-c).
 *
 * Every message lives in one struct on the heap (struct req) sized for the
 * fixed instrument set, so no per-point allocation is needed.
 */
#include "encode_metrics.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "rocky/error.h"

typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum pb_sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge pb_gauge;
typedef Opentelemetry__Proto__Metrics__V1__Histogram pb_hist;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_ndp;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hdp;

#define MAX_METRICS 24
#define MAX_POINTS  40
#define MAX_HISTS   3

#define TEMP_DELTA                                                             \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define TEMP_CUMULATIVE                                                        \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

struct req {
    pb_metric metrics[MAX_METRICS];
    pb_metric *metric_ptrs[MAX_METRICS];
    pb_sum sums[MAX_METRICS];
    pb_gauge gauges[MAX_METRICS];
    pb_hist hists[MAX_HISTS];
    pb_ndp ndp[MAX_POINTS];
    pb_ndp *ndp_ptrs[MAX_POINTS];
    pb_hdp hdp[MAX_HISTS];
    pb_hdp *hdp_ptrs[MAX_HISTS];
    uint64_t buckets[MAX_HISTS][ROCKY_OTEL_HIST_BUCKETS];
    rocky_otlp_kv kv[MAX_POINTS];
    rocky_otlp_any av[MAX_POINTS];
    rocky_otlp_kv *kv_ptrs[MAX_POINTS];
    size_t nm, np, nh, nkv;
};

static const char *status_name(uint32_t i);

struct ctx {
    struct req *r;
    const struct rocky_otel_metrics_snap *cum, *del;
    const struct rocky_otel_metrics_encode_opts *o;
};

static pb_metric *metric(struct req *r, const char *name, const char *desc,
                         const char *unit)
{
    pb_metric *m = &r->metrics[r->nm];
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = (char *)name;
    m->description = (char *)desc;
    m->unit = (char *)unit;
    r->metric_ptrs[r->nm] = m;
    r->nm++;
    return m;
}

/* A Sum with one point per (attribute value, count) pair; `attr_key` NULL
 * for a single unattributed point. `vals` are picked from the cumulative or
 * delta snapshot by the caller through `off`. */
static void sum(struct ctx *c, const char *name, const char *desc,
                const char *unit, int monotonic, size_t off, size_t count,
                const char *attr_key, const char *(*attr_name)(uint32_t),
                int updown)
{
    struct req *r = c->r;
    int delta = updown ? c->o->delta_updown : c->o->delta_sums;
    const struct rocky_otel_metrics_snap *s = delta ? c->del : c->cum;
    pb_metric *m = metric(r, name, desc, unit);
    pb_sum *sm = &r->sums[r->nm - 1];
    opentelemetry__proto__metrics__v1__sum__init(sm);
    sm->aggregation_temporality = delta ? TEMP_DELTA : TEMP_CUMULATIVE;
    sm->is_monotonic = monotonic;
    sm->data_points = &r->ndp_ptrs[r->np];
    for (size_t i = 0; i < count; i++) {
        const char *base = (const char *)s + off;
        int64_t v = updown ? ((const int64_t *)base)[i]
                           : (int64_t)((const uint64_t *)base)[i];
        /* Statuses that never happened are left out; drop reasons are
         * always sent, a zero is what a health alert wants to see. */
        if (attr_key && v == 0 && attr_name == status_name)
            continue;
        pb_ndp *p = &r->ndp[r->np];
        opentelemetry__proto__metrics__v1__number_data_point__init(p);
        p->start_time_unix_nano =
            (uint64_t)(delta ? c->o->delta_start_wall_ns
                             : c->o->cumulative_start_wall_ns);
        p->time_unix_nano = (uint64_t)c->o->now_wall_ns;
        p->value_case =
            OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        p->as_int = v;
        if (attr_key) {
            rocky_otel_kv_str(&r->kv[r->nkv], &r->av[r->nkv], attr_key,
                              attr_name((uint32_t)i));
            r->kv_ptrs[r->nkv] = &r->kv[r->nkv];
            p->n_attributes = 1;
            p->attributes = &r->kv_ptrs[r->nkv];
            r->nkv++;
        }
        r->ndp_ptrs[r->np++] = p;
        sm->n_data_points++;
    }
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
    m->sum = sm;
}

/* A Gauge with one unattributed point: upstream's per-run figures. An
 * integer when `is_double` is 0, else `dv`. Gauges have no temporality:
 * the same value whatever the temporality preference. */
static void gauge(struct ctx *c, const char *name, const char *desc,
                  const char *unit, uint64_t iv, int is_double, double dv)
{
    struct req *r = c->r;
    pb_metric *m = metric(r, name, desc, unit);
    pb_gauge *g = &r->gauges[r->nm - 1];
    opentelemetry__proto__metrics__v1__gauge__init(g);
    pb_ndp *p = &r->ndp[r->np];
    opentelemetry__proto__metrics__v1__number_data_point__init(p);
    /* Optional for a gauge; set like every other point (the exporter's
     * start), so no consumer sees a point starting in 1970. */
    p->start_time_unix_nano = (uint64_t)c->o->cumulative_start_wall_ns;
    p->time_unix_nano = (uint64_t)c->o->now_wall_ns;
    if (is_double) {
        p->value_case =
            OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
        p->as_double = dv;
    } else {
        p->value_case =
            OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        p->as_int = (int64_t)iv;
    }
    r->ndp_ptrs[r->np++] = p;
    g->n_data_points = 1;
    g->data_points = &r->ndp_ptrs[r->np - 1];
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
    m->gauge = g;
}

static void hist(struct ctx *c, const char *name, const char *desc, size_t off)
{
    struct req *r = c->r;
    int delta = c->o->delta_sums;
    const struct rocky_otel_metrics_snap *s = delta ? c->del : c->cum;
    const struct rocky_otel_hist_snap *h =
        (const struct rocky_otel_hist_snap *)((const char *)s + off);
    pb_metric *m = metric(r, name, desc, "ms");
    pb_hist *hm = &r->hists[r->nh];
    pb_hdp *p = &r->hdp[r->nh];
    opentelemetry__proto__metrics__v1__histogram__init(hm);
    opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
    hm->aggregation_temporality = delta ? TEMP_DELTA : TEMP_CUMULATIVE;
    p->start_time_unix_nano =
        (uint64_t)(delta ? c->o->delta_start_wall_ns
                         : c->o->cumulative_start_wall_ns);
    p->time_unix_nano = (uint64_t)c->o->now_wall_ns;
    memcpy(r->buckets[r->nh], h->buckets, sizeof h->buckets);
    p->count = h->count;
    p->n_bucket_counts = ROCKY_OTEL_HIST_BUCKETS;
    p->bucket_counts = r->buckets[r->nh];
    p->n_explicit_bounds = ROCKY_OTEL_HIST_BOUNDS;
    p->explicit_bounds = (double *)rocky_otel_hist_bounds_ms;
    p->sum_present_case =
        OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
    p->sum = h->sum_ms;
    if (h->has_min_max) {
        p->min_present_case =
            OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MIN_PRESENT_MIN;
        p->min = h->min_ms;
        p->max_present_case =
            OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__MAX_PRESENT_MAX;
        p->max = h->max_ms;
    }
    r->hdp_ptrs[r->nh] = p;
    hm->n_data_points = 1;
    hm->data_points = &r->hdp_ptrs[r->nh];
    r->nh++;
    m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    m->histogram = hm;
}

static const char *status_name(uint32_t i)
{
    return rocky_model_status_name(i);
}

static const char *reason_name(uint32_t i)
{
    return rocky_otel_drop_reason_name((int)i);
}

#define OFF(field) offsetof(struct rocky_otel_metrics_snap, field)

int rocky_otel_encode_metrics(const struct rocky_otel_resource *res,
                              const struct rocky_otel_metrics_snap *cum,
                              const struct rocky_otel_metrics_snap *del,
                              const struct rocky_otel_metrics_encode_opts *o,
                              uint8_t **out, size_t *out_len)
{
    struct req *r = calloc(1, sizeof *r);
    if (!r)
        return ROCKY_ENOMEM;
    struct ctx c = {r, cum, del, o};
    /* Upstream rocky's instruments, same names, types and meaning (its
     * dashboards and alerts read them): gauges of the current run. */
    const struct rocky_otel_run_gauges *g = &cum->run;
    gauge(&c, "rocky.tables_processed", "Total tables processed in this run",
          "", g->tables_processed, 0, 0);
    gauge(&c, "rocky.tables_failed", "Total tables that failed in this run", "",
          g->tables_failed, 0, 0);
    gauge(&c, "rocky.statements_executed", "Total SQL statements executed", "",
          g->statements_executed, 0, 0);
    gauge(&c, "rocky.retries_attempted", "Total retries attempted", "",
          g->retries_attempted, 0, 0);
    gauge(&c, "rocky.retries_succeeded", "Total retries that succeeded", "",
          g->retries_succeeded, 0, 0);
    gauge(&c, "rocky.error_rate_pct", "Error rate as a percentage", "", 0, 1,
          rocky_otel_error_rate_pct(g));
    hist(&c, "rocky.query_duration_ms", "SQL statement duration distribution",
         OFF(query_duration));
    /* Ours. */
    sum(&c, "rocky.model.executions", "Model executions, by final status",
        "{execution}", 1, OFF(executions), ROCKY_OTEL_MODEL_STATUSES,
        "rocky.model.status", status_name, 0);
    sum(&c, "rocky.rows_affected", "Rows in the tables published", "{row}", 1,
        OFF(rows), 1, NULL, NULL, 0);
    sum(&c, "rocky.bytes_written", "Bytes of the tables published", "By", 1,
        OFF(bytes), 1, NULL, NULL, 0);
    sum(&c, "rocky.runs_completed", "Pipeline runs finished", "{run}", 1,
        OFF(runs), 1, NULL, NULL, 0);
    hist(&c, "rocky.table_duration_ms", "Model materialization duration",
         OFF(model_duration));
    hist(&c, "rocky.run_duration_ms", "Pipeline run duration",
         OFF(run_duration));
    sum(&c, "rocky.models_in_flight", "Models being materialized now",
        "{model}", 0, OFF(in_flight), 1, NULL, NULL, 1);
    sum(&c, "rocky.otel.spans_queued", "Spans the exporter took in", "{span}",
        1, OFF(spans_queued), 1, NULL, NULL, 0);
    sum(&c, "rocky.otel.spans_exported", "Spans acknowledged by the collector",
        "{span}", 1, OFF(spans_exported), 1, NULL, NULL, 0);
    sum(&c, "rocky.otel.spans_dropped",
        "Spans given up on, by reason; queue_full: refused because the queue "
        "was full (a replay offers them again)",
        "{span}", 1, OFF(spans_dropped), ROCKY_OTEL_DROP_REASONS, "reason",
        reason_name, 0);
    sum(&c, "rocky.otel.exports_failed", "Export requests that failed",
        "{request}", 1, OFF(exports_failed), 1, NULL, NULL, 0);

    Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm;
    opentelemetry__proto__metrics__v1__scope_metrics__init(&sm);
    sm.scope =
        (Opentelemetry__Proto__Common__V1__InstrumentationScope *)&res->scope;
    sm.n_metrics = r->nm;
    sm.metrics = r->metric_ptrs;
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *smp = &sm;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm;
    opentelemetry__proto__metrics__v1__resource_metrics__init(&rm);
    rm.resource =
        (Opentelemetry__Proto__Resource__V1__Resource *)&res->resource;
    rm.n_scope_metrics = 1;
    rm.scope_metrics = &smp;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rmp = &rm;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest q;
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(
        &q);
    q.n_resource_metrics = 1;
    q.resource_metrics = &rmp;
    size_t len =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(
            &q);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        free(r);
        return ROCKY_ENOMEM;
    }
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(
        &q, buf);
    free(r);
    *out = buf;
    *out_len = len;
    return 0;
}
