/*
 * test_otel_encode_bound.c — a span whose encoding is larger than the size
 * bound the encoder reserved for it is dropped and counted, never written
 * past the buffer, and the plugin goes on.
 *
 * The bound (rocky_otel_span_view_bound) is worst-case for every input the
 * exporter can build today, so no real span exceeds it; this binary wraps
 * the span planner (-Wl,--wrap=rocky_otel_span_plan) to make the span of
 * the model named "huge" report a size a megabyte past its bound, as a
 * future field left out of the bound would. (An encoder that trusted the
 * bound and wrote anyway would write past its buffer.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode_span.h"
#include "encode_trace.h"
#include "exporter.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otel_test_events.h"
#include "otlp_capture.h"

size_t __real_rocky_otel_span_plan(const struct rocky_otel_span_view *v,
                                   int64_t limit,
                                   struct rocky_otel_span_plan *p);
size_t __wrap_rocky_otel_span_plan(const struct rocky_otel_span_view *v,
                                   int64_t limit,
                                   struct rocky_otel_span_plan *p);

/* The span of model "huge" claims a megabyte more than it is. */
size_t __wrap_rocky_otel_span_plan(const struct rocky_otel_span_view *v,
                                   int64_t limit,
                                   struct rocky_otel_span_plan *p)
{
    size_t n = __real_rocky_otel_span_plan(v, limit, p);
    if (v->kind == ROCKY_OTEL_SPAN_MODEL && v->name.len == 4 &&
        memcmp(v->name.p, "huge", 4) == 0) {
        p->size = n + (1u << 20);
        return p->size;
    }
    return n;
}

static struct rocky_otel_config cfg;
static struct rocky_otel_resource res;

static void model_span(struct test_run *t, const char *name, uint8_t id,
                       struct rocky_otel_span *out)
{
    snprintf(t->name, sizeof t->name, "%s", name);
    t->model.span_id[7] = id;
    assert_int_equal(
        rocky_otel_span_from_event(test_event(t, ROCKY_EVENT_MODEL_END), out),
        0);
}

static void test_encoder_leaves_out_a_span_over_its_bound(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.service_name, "svc");
    assert_int_equal(rocky_otel_resource_init(&res, &cfg, "1.2.3"), 0);
    struct test_run t;
    test_run_init(&t);
    struct rocky_otel_span a, huge, b;
    model_span(&t, "a", 1, &a);
    model_span(&t, "huge", 2, &huge);
    model_span(&t, "b", 3, &b);
    const struct rocky_otel_span *spans[] = {&a, &huge, &b};
    struct rocky_otel_encode_scratch scratch = {0};
    for (int round = 0; round < 2; round++) { /* fresh and reused buffer */
        uint8_t *buf = NULL;
        size_t len = 0, left_out = 99;
        assert_int_equal(rocky_otel_encode_traces(&res, spans, 3, -1,
                                                  round ? &scratch : NULL, &buf,
                                                  &len, &left_out),
                         0);
        assert_int_equal(left_out, 1);
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, len, buf);
        assert_non_null(r);
        Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
            r->resource_spans[0]->scope_spans[0];
        assert_int_equal(ss->n_spans, 2);
        assert_int_equal(ss->spans[0]->span_id.data[7], 1);
        assert_int_equal(ss->spans[1]->span_id.data[7], 3);
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            r, NULL);
        if (!round)
            free(buf);
    }
    rocky_otel_encode_scratch_free(&scratch);
    rocky_otel_resource_free(&res);
}

struct lines {
    char text[8192];
    int warnings;
};

static void log_line(void *ctx, int level, const char *msg)
{
    struct lines *l = ctx;
    if (level == ROCKY_LOG_WARN)
        l->warnings += strstr(msg, "larger than their size bound") != NULL;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%s\n", msg);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Through the exporter to a real receiver: the others arrive, the huge one
 * is counted in rocky.otel.spans_dropped{reason=too_large} with one
 * warning, and shutdown reports it as dropped. */
static void test_exporter_drops_and_counts_it_and_goes_on(void **state)
{
    (void)state;
    const char *s = getenv("ROCKY_TEST_TIME_SCALE");
    int64_t scale = s && atoi(s) > 0 ? atoi(s) : 1;
    struct otlp_capture *cap;
    assert_int_equal(otlp_capture_start(&cap), 0);
    const struct rocky_config_entry config[] = {
        {"endpoint", otlp_capture_endpoint(cap)},
        {"bsp_max_export_batch_size", "1"}};
    struct rocky_otel_config_source src = {.config = config, .config_count = 2};
    struct rocky_otel_config c;
    char err[256];
    assert_int_equal(rocky_otel_config_load(&c, &src, err, sizeof err), 0);
    struct lines lines = {.text = "", .warnings = 0};
    struct rocky_otel_exporter *e;
    assert_int_equal(
        rocky_otel_exporter_new(&c, "0", log_line, &lines, &e, err, sizeof err),
        0);
    rocky_otel_config_free(&c);
    struct test_run t;
    test_run_init(&t);
    const char *names[] = {"a", "huge", "b", "huge"};
    rocky_otel_exporter_on_event(e, test_event(&t, ROCKY_EVENT_RUN_START));
    for (size_t i = 0; i < 4; i++) {
        snprintf(t.name, sizeof t.name, "%s", names[i]);
        t.model.span_id[7] = (uint8_t)(i + 1);
        rocky_otel_exporter_on_event(e,
                                     test_event(&t, ROCKY_EVENT_MODEL_START));
        rocky_otel_exporter_on_event(e, test_event(&t, ROCKY_EVENT_MODEL_END));
    }
    rocky_otel_exporter_on_event(e, test_event(&t, ROCKY_EVENT_RUN_END));
    struct rocky_delivery_report r = {.struct_size = sizeof r};
    rocky_otel_exporter_shutdown(e, mono_ns() + 5000000000LL * scale, &r);
    struct rocky_otel_exporter_stats st;
    rocky_otel_exporter_stats(e, &st);
    assert_int_equal(st.dropped[ROCKY_OTEL_DROP_TOO_LARGE], 2);
    assert_int_equal(st.delivered, 3); /* a, b and the run */
    assert_int_equal(r.dropped, 2);
    assert_int_equal(lines.warnings, 1);
    if (!strstr(lines.text, "too_large 2)"))
        fail_msg("the summary names too_large:\n%s", lines.text);
    assert_int_equal(otlp_capture_span_count(cap), 3);
    assert_int_equal(otlp_capture_spans_named(cap, "materialize.table", "huge"),
                     0);
    int64_t v = -1;
    assert_int_equal(otlp_capture_sum(cap, "rocky.otel.spans_dropped", "reason",
                                      "too_large", &v),
                     0);
    assert_int_equal(v, 2);
    rocky_otel_exporter_free(e);
    otlp_capture_stop(cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoder_leaves_out_a_span_over_its_bound),
        cmocka_unit_test(test_exporter_drops_and_counts_it_and_goes_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
